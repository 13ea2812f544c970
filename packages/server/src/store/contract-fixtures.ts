/** Row builders for the store contract suite (contract.ts). Each call makes fresh ids. */
import {
  newId,
  type Account,
  type AgentRow,
  type ApiKeyRow,
  type CredentialBindingRow,
  type IdempotencyRecord,
  type JournalEvent,
  type PersonalAccessTokenRow,
  type RefreshTokenRow,
  type RegistrationTicketRow,
  type ServerSigningKeyRow,
  type Store,
  type TenantRow,
  type Transfer,
  type TreeNode,
  type UserRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "@bursar/core";

/** 2026-01-01T00:00:00Z: a fixed base time so ids made at `baseMs + i` sort by i. */
export const baseMs = Date.UTC(2026, 0, 1);

export function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

export function tenantRow(overrides: Partial<TenantRow> = {}): TenantRow {
  return {
    id: newId("ten"),
    name: "Acme",
    journalPrivateKeyPkcs8: Uint8Array.from({ length: 48 }, (_, index) => index),
    journalPublicKey: bytes(32, 7),
    journalSize: 0,
    createdAtMs: baseMs,
    ...overrides,
  };
}

export function userRow(tenantId: string, overrides: Partial<UserRow> = {}): UserRow {
  return { id: newId("usr"), tenantId, email: "owner@example.com", name: "Owner", role: "owner", createdAtMs: baseMs, removedAtMs: null, ...overrides };
}

export function tokenRow(tenantId: string, userId: string, overrides: Partial<PersonalAccessTokenRow> = {}): PersonalAccessTokenRow {
  return {
    id: newId("pat"),
    tenantId,
    userId,
    tokenHash: newId("req").toLowerCase(),
    name: "ci",
    scopes: ["transfers:write", "accounts:read"],
    createdAtMs: baseMs,
    expiresAtMs: baseMs + 1000,
    revokedAtMs: null,
    ...overrides,
  };
}

export function accountRow(tenantId: string, overrides: Partial<Account> = {}): Account {
  return {
    id: newId("acc"),
    tenantId,
    currency: "USD",
    kind: "wallet",
    name: "Wallet",
    debitsMustNotExceedCredits: true,
    debitsPendingMinor: 0,
    debitsPostedMinor: 0,
    creditsPendingMinor: 0,
    creditsPostedMinor: 0,
    metadata: { team: "growth" },
    createdAtMs: baseMs,
    ...overrides,
  };
}

export function transferRow(tenantId: string, debitAccountId: string, creditAccountId: string, overrides: Partial<Transfer> = {}): Transfer {
  return {
    id: newId("tr"),
    tenantId,
    debitAccountId,
    creditAccountId,
    currency: "USD",
    amountMinor: 500,
    status: "posted",
    postedAmountMinor: 500,
    expiresAtMs: null,
    reference: "invoice 42",
    metadata: null,
    batchId: null,
    fingerprint: "f".repeat(64),
    createdAtMs: baseMs,
    updatedAtMs: baseMs,
    ...overrides,
  };
}

export function eventRow(tenantId: string, seq: number, overrides: Partial<JournalEvent> = {}): JournalEvent {
  return {
    id: newId("evt"),
    seq,
    type: "transfer.created",
    tenant_id: tenantId,
    agent_id: null,
    created_at: "2026-01-01T00:00:00.000Z",
    actor: { type: "system", id: "test" },
    data: { amount: 500, nested: { b: [1, "two", null], a: true } },
    ...overrides,
  };
}

export function treeNode(level: number, index: number): TreeNode {
  return { level, index, hash: bytes(32, (level * 31 + index) % 256) };
}

export function idempotencyRecord(tenantId: string, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    tenantId,
    principalId: "usr_1",
    method: "POST",
    route: "/v1/transfers",
    key: newId("req"),
    fingerprint: "a".repeat(64),
    state: "in_progress",
    responseStatus: null,
    responseBody: null,
    createdAtMs: baseMs,
    expiresAtMs: baseMs + 86_400_000,
    ...overrides,
  };
}

/** A fresh random 64-hex-digit stand-in for a SHA-256 token hash. */
export function tokenHash(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}

export function agentRow(tenantId: string, walletAccountId: string, overrides: Partial<AgentRow> = {}): AgentRow {
  return {
    id: newId("agt"),
    tenantId,
    name: "Shopper",
    description: "buys things",
    walletAccountId,
    status: "active",
    metadata: { team: "growth" },
    createdAtMs: baseMs,
    updatedAtMs: baseMs,
    teamId: null,
    parentAgentId: null,
    spawnDepth: 0,
    ...overrides,
  };
}

export function ticketRow(tenantId: string, agentId: string, userId: string, overrides: Partial<RegistrationTicketRow> = {}): RegistrationTicketRow {
  return {
    id: newId("tkt"),
    tenantId,
    agentId,
    tokenHash: tokenHash(),
    scopeCeiling: ["transfers:write", "balance:read"],
    createdByUserId: userId,
    createdAtMs: baseMs,
    expiresAtMs: baseMs + 600_000,
    consumedAtMs: null,
    bindingId: null,
    ...overrides,
  };
}

export function bindingRow(tenantId: string, agentId: string, overrides: Partial<CredentialBindingRow> = {}): CredentialBindingRow {
  const thumbprint = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  return {
    id: newId("cb"),
    tenantId,
    agentId,
    publicKeyJwk: { kty: "OKP", crv: "Ed25519", x: thumbprint },
    thumbprint,
    algorithm: "EdDSA",
    scopes: ["transfers:write"],
    clientMetadata: { software_id: "shopper", version: 3, tags: ["a", "b"], nested: { on: true } },
    createdAtMs: baseMs,
    revokedAtMs: null,
    ...overrides,
  };
}

export function refreshTokenRow(tenantId: string, bindingId: string, overrides: Partial<RefreshTokenRow> = {}): RefreshTokenRow {
  return {
    id: newId("rft"),
    tenantId,
    bindingId,
    familyId: newId("rff"),
    tokenHash: tokenHash(),
    scopes: ["transfers:write"],
    createdAtMs: baseMs,
    expiresAtMs: baseMs + 86_400_000,
    usedAtMs: null,
    revokedAtMs: null,
    ...overrides,
  };
}

export function apiKeyRow(tenantId: string, agentId: string | null, overrides: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return {
    id: newId("key"),
    tenantId,
    agentId,
    name: "checkout",
    tokenHash: tokenHash(),
    scopes: ["balance:read"],
    rateLimitPerMinute: 600,
    createdAtMs: baseMs,
    expiresAtMs: null,
    revokedAtMs: null,
    rotatedFromId: null,
    lastUsedAtMs: null,
    acceptedCount: 0,
    deniedCounts: {},
    ...overrides,
  };
}

export function signingKeyRow(fill: number): ServerSigningKeyRow {
  return { id: `kid-${fill}-${newId("req")}`, privateKeyPkcs8: bytes(48, fill), publicKey: bytes(32, fill), createdAtMs: baseMs + fill };
}

/** A tenant with an owner and two accounts (funding and wallet), committed. */
export async function seedTenant(store: Store): Promise<{ tenant: TenantRow; user: UserRow; funding: Account; wallet: Account }> {
  const tenant = tenantRow();
  const user = userRow(tenant.id);
  const funding = accountRow(tenant.id, { kind: "funding", name: null, debitsMustNotExceedCredits: false, metadata: null });
  const wallet = accountRow(tenant.id);
  await store.write(null, async (tx) => {
    await tx.insertTenant(tenant);
    await tx.insertUser(user);
    await tx.insertAccount(funding);
    await tx.insertAccount(wallet);
  });
  return { tenant, user, funding, wallet };
}

export function webhookEndpointRow(tenantId: string, overrides: Partial<WebhookEndpointRow> = {}): WebhookEndpointRow {
  return {
    id: newId("whe"),
    tenantId,
    url: "https://example.com/hook",
    description: "books",
    eventTypes: ["transfer.*", "account.created"],
    enabled: true,
    disabledReason: null,
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    previousSecret: null,
    previousSecretExpiresAtMs: null,
    ed25519PrivateKeyPkcs8: bytes(48, 3),
    ed25519PublicKey: bytes(32, 4),
    createdAtMs: baseMs,
    updatedAtMs: baseMs,
    ...overrides,
  };
}

export function webhookDeliveryRow(tenantId: string, endpointId: string, overrides: Partial<WebhookDeliveryRow> = {}): WebhookDeliveryRow {
  return {
    id: newId("whd"),
    tenantId,
    endpointId,
    eventId: newId("evt"),
    eventSeq: 1,
    eventType: "transfer.created",
    status: "pending",
    attemptCount: 0,
    nextAttemptAtMs: baseMs,
    lastAttemptAtMs: null,
    attempts: [],
    createdAtMs: baseMs,
    updatedAtMs: baseMs,
    ...overrides,
  };
}

/** `seedTenant` plus an agent on its wallet, committed. */
export async function seedAgent(store: Store): Promise<Awaited<ReturnType<typeof seedTenant>> & { agent: AgentRow }> {
  const seeded = await seedTenant(store);
  const agent = agentRow(seeded.tenant.id, seeded.wallet.id);
  await store.write(seeded.tenant.id, (tx) => tx.insertAgent(agent));
  return { ...seeded, agent };
}
