/**
 * Tenants, owners and personal access tokens: the bootstrap of a tenant (`bursar init`, and the
 * demo tenant of `bursar serve`).
 */
import { newId, newSecret } from "./ids.js";
import { appendEvent, type WriteContext } from "./journal/events.js";
import { generateJournalKeyPair } from "./journal/checkpoint.js";
import type { OwnerRole, PersonalAccessTokenRow, StoreTx, TenantRow, UserRow } from "./ports.js";
import { allScopes, type Scope } from "./scopes.js";
import { sha256Hex } from "./hash.js";
import { toRfc3339 } from "./time.js";

/** The prefix of personal access tokens. */
export const personalAccessTokenPrefix = "bpat";

export interface CreatedTenant {
  tenant: TenantRow;
  owner: UserRow;
  /** The owner's first personal access token, shown once. */
  ownerToken: string;
  tokenRow: PersonalAccessTokenRow;
}

/**
 * Creates a tenant with a fresh Ed25519 journal key, its first owner and a personal access token
 * holding every scope. Journal events: `tenant.created`, `user.created`,
 * `personal_access_token.created` (the token itself is never journaled or stored).
 */
export async function createTenant(
  tx: StoreTx,
  input: { name: string; ownerName: string; ownerEmail?: string | null; nowMs: number },
): Promise<CreatedTenant> {
  const keys = generateJournalKeyPair();
  const tenant: TenantRow = {
    id: newId("ten", input.nowMs),
    name: input.name,
    journalPrivateKeyPkcs8: keys.privateKeyPkcs8,
    journalPublicKey: keys.publicKey,
    journalSize: 0,
    createdAtMs: input.nowMs,
  };
  await tx.insertTenant(tenant);
  const owner: UserRow = {
    id: newId("usr", input.nowMs),
    tenantId: tenant.id,
    email: input.ownerEmail ?? null,
    name: input.ownerName,
    role: "owner" satisfies OwnerRole,
    createdAtMs: input.nowMs,
    removedAtMs: null,
  };
  await tx.insertUser(owner);
  const context: WriteContext = { tx, tenantId: tenant.id, nowMs: input.nowMs, actor: { type: "system", id: "bootstrap" } };
  await appendEvent(context, "tenant.created", { tenant: { id: tenant.id, name: tenant.name, created_at: toRfc3339(tenant.createdAtMs) } });
  await appendEvent(context, "user.created", { user: { id: owner.id, name: owner.name, email: owner.email, role: owner.role } });
  const { token, row } = await createPersonalAccessToken(
    { ...context, actor: { type: "user", id: owner.id } },
    { userId: owner.id, name: "first owner token", scopes: [...allScopes] },
  );
  return { tenant, owner, ownerToken: token, tokenRow: row };
}

/** Mints a personal access token (`bpat_…`); only its SHA-256 is stored. */
export async function createPersonalAccessToken(
  context: WriteContext,
  input: { userId: string; name: string; scopes: Scope[]; expiresAtMs?: number | null },
): Promise<{ token: string; row: PersonalAccessTokenRow }> {
  const token = newSecret(personalAccessTokenPrefix);
  const row: PersonalAccessTokenRow = {
    id: newId("pat", context.nowMs),
    tenantId: context.tenantId,
    userId: input.userId,
    tokenHash: sha256Hex(token),
    name: input.name,
    scopes: input.scopes,
    createdAtMs: context.nowMs,
    expiresAtMs: input.expiresAtMs ?? null,
    revokedAtMs: null,
  };
  await context.tx.insertPersonalAccessToken(row);
  await appendEvent(context, "personal_access_token.created", {
    personal_access_token: { id: row.id, user_id: row.userId, name: row.name, scopes: row.scopes, expires_at: row.expiresAtMs === null ? null : toRfc3339(row.expiresAtMs) },
  });
  return { token, row };
}
