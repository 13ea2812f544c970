/**
 * Row mapping shared by both adapters. The two dialects hand back slightly different JS values
 * for the same column (SQLite: numbers, 0/1, JSON text; PostgreSQL: BIGINT as strings, booleans,
 * parsed JSONB), so every reader goes through these converters and both stores return identical
 * domain objects. Column names are the same in both schemas, so the column lists are shared too.
 */
import {
  invariant,
  type Account,
  type AccountKind,
  type AgentRow,
  type ApiKeyRow,
  type CredentialBindingRow,
  type IdempotencyRecord,
  type JournalEvent,
  type OwnerRole,
  type PersonalAccessTokenRow,
  type RefreshTokenRow,
  type RegistrationTicketRow,
  type ServerSigningKeyRow,
  type TenantRow,
  type Transfer,
  type TransferStatus,
  type UserRow,
  type DeliveryAttempt,
  type DeliveryStatus,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "@bursar/core";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/**
 * Rows one query may return or keys one batched read may ask for. Every caller has a far lower
 * bound of its own (pageLimitMax, journalEntriesPageMax, holdExpirySweepCountMax, proof sizes);
 * this catches a caller that forgot to apply it before it turns into an unbounded read.
 */
export const rowsPerQueryMax = 10_000;

/**
 * `LIMIT` with a bound value. On SQLite a bare `LIMIT ?` lets the planner use the bound value, so
 * every bind expires the statement and the next step prepares it again (measured: ~13 µs instead of
 * ~2 µs for an indexed lookup that finds nothing); hidden in a cast, the statement stays prepared.
 */
export function limitClause(dialect: "sqlite" | "postgres", placeholder: string): string {
  return dialect === "sqlite" ? `LIMIT CAST(${placeholder} AS INTEGER)` : `LIMIT ${placeholder}`;
}

/** `LIMIT ?` for a SQLite statement text (see `limitClause`). */
export const sqliteLimit = limitClause("sqlite", "?");

/** Asserts a query limit is a whole number within `rowsPerQueryMax`. */
export function checkLimit(limit: number): number {
  invariant(Number.isSafeInteger(limit) && limit >= 0 && limit <= rowsPerQueryMax, `query limit ${limit} out of range`);
  return limit;
}

export const tenantColumns =
  "id, name, journal_private_key_pkcs8, journal_public_key, journal_size, created_at_ms";
export const userColumns = "tenant_id, id, email, name, role, created_at_ms, removed_at_ms";
export const personalAccessTokenColumns =
  "tenant_id, id, user_id, token_hash, name, scopes, created_at_ms, expires_at_ms, revoked_at_ms";
export const accountColumns =
  "tenant_id, id, currency, kind, name, debits_must_not_exceed_credits, debits_pending_minor, " +
  "debits_posted_minor, credits_pending_minor, credits_posted_minor, metadata, created_at_ms";
export const transferColumns =
  "tenant_id, id, debit_account_id, credit_account_id, currency, amount_minor, status, " +
  "posted_amount_minor, expires_at_ms, reference, metadata, batch_id, fingerprint, created_at_ms, updated_at_ms";
export const idempotencyColumns =
  "tenant_id, principal_id, method, route, idempotency_key, fingerprint, state, response_status, " +
  "response_body, created_at_ms, expires_at_ms";

export const webhookEndpointColumns =
  "tenant_id, id, url, description, event_types, enabled, disabled_reason, secret, previous_secret, " +
  "previous_secret_expires_at_ms, ed25519_private_key_pkcs8, ed25519_public_key, created_at_ms, updated_at_ms, task_ids";
export const webhookDeliveryColumns =
  "tenant_id, id, endpoint_id, event_id, event_seq, event_type, status, attempt_count, next_attempt_at_ms, " +
  "last_attempt_at_ms, attempts, created_at_ms, updated_at_ms";

export const agentColumns =
  "tenant_id, id, name, description, wallet_account_id, status, metadata, created_at_ms, updated_at_ms, team_id, parent_agent_id, spawn_depth";
export const registrationTicketColumns =
  "tenant_id, id, agent_id, token_hash, scope_ceiling, created_by_user_id, created_at_ms, expires_at_ms, consumed_at_ms, binding_id";
export const credentialBindingColumns =
  "tenant_id, id, agent_id, public_key_jwk, thumbprint, algorithm, scopes, client_metadata, created_at_ms, revoked_at_ms";
export const refreshTokenColumns =
  "tenant_id, id, binding_id, family_id, token_hash, scopes, created_at_ms, expires_at_ms, used_at_ms, revoked_at_ms";
export const apiKeyColumns =
  "tenant_id, id, agent_id, name, token_hash, scopes, rate_limit_per_minute, created_at_ms, expires_at_ms, revoked_at_ms, " +
  "rotated_from_id, last_used_at_ms, accepted_count, denied_counts";
export const serverSigningKeyColumns = "id, private_key_pkcs8, public_key, created_at_ms";

/**
 * A 64-bit integer column as a JS number. Money is bounded by `balanceMinorMax` (2^53 - 1), so
 * a value outside the safe range means the database holds something Bursar never wrote.
 */
export function integerFrom(value: unknown, column: string): number {
  const number = typeof value === "number" ? value : typeof value === "string" || typeof value === "bigint" ? Number(value) : NaN;
  invariant(Number.isSafeInteger(number), `column ${column} holds ${String(value)}, not a safe integer`);
  return number;
}

export function nullableIntegerFrom(value: unknown, column: string): number | null {
  return value === null || value === undefined ? null : integerFrom(value, column);
}

export function textFrom(value: unknown, column: string): string {
  invariant(typeof value === "string", `column ${column} is not text`);
  return value;
}

export function nullableTextFrom(value: unknown, column: string): string | null {
  return value === null || value === undefined ? null : textFrom(value, column);
}

/** A BLOB/BYTEA column as a plain Uint8Array view (no copy) of the driver's Buffer. */
export function bytesFrom(value: unknown, column: string): Uint8Array {
  invariant(value instanceof Uint8Array, `column ${column} is not bytes`);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function booleanFrom(value: unknown, column: string): boolean {
  invariant(value === true || value === false || value === 0 || value === 1, `column ${column} is not a boolean`);
  return value === true || value === 1;
}

/** A JSON column: SQLite gives the text, PostgreSQL's JSONB arrives parsed. */
function jsonFrom(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function metadataFrom(value: unknown): Record<string, string> | null {
  if (value === null || value === undefined) return null;
  const parsed = jsonFrom(value);
  invariant(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), "metadata is not an object");
  return parsed as Record<string, string>;
}

function objectFrom(value: unknown, column: string): Record<string, unknown> {
  const parsed = jsonFrom(value);
  invariant(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), `column ${column} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function stringListFrom(value: unknown, column: string): string[] {
  const parsed = jsonFrom(value);
  invariant(Array.isArray(parsed) && parsed.every((item) => typeof item === "string"), `column ${column} is not a string list`);
  return parsed as string[];
}

function stringMapFrom(value: unknown, column: string): Record<string, string> {
  const parsed = objectFrom(value, column);
  invariant(Object.values(parsed).every((item) => typeof item === "string"), `column ${column} is not a map of strings`);
  return parsed as Record<string, string>;
}

/** Denials by reason: every count a safe non-negative integer. */
function countsFrom(value: unknown, column: string): Record<string, number> {
  const parsed = objectFrom(value, column);
  const counts: Record<string, number> = {};
  for (const [reason, count] of Object.entries(parsed)) {
    const number = integerFrom(count, `${column}.${reason}`);
    invariant(number >= 0, `column ${column} holds a negative count for ${reason}`);
    counts[reason] = number;
  }
  return counts;
}

/** Checks usage counts before they reach SQL: whole, non-negative, safe integers. */
export function checkCounts(accepted: number, denied: Record<string, number>): void {
  invariant(Number.isSafeInteger(accepted) && accepted >= 0, `accepted count ${accepted} out of range`);
  for (const [reason, count] of Object.entries(denied)) {
    invariant(Number.isSafeInteger(count) && count >= 0, `denied count ${count} for ${reason} out of range`);
  }
}

/** JSON text for a metadata column (both dialects accept text; PostgreSQL casts it to JSONB). */
/** A transfer's values in `transferColumns` order: the parameters of both stores' insert. */
export function transferParams(row: Transfer): unknown[] {
  return [
    row.tenantId, row.id, row.debitAccountId, row.creditAccountId, row.currency, row.amountMinor, row.status,
    row.postedAmountMinor, row.expiresAtMs, row.reference, metadataTo(row.metadata), row.batchId, row.fingerprint,
    row.createdAtMs, row.updatedAtMs,
  ];
}

export function metadataTo(metadata: Record<string, string> | null): string | null {
  return metadata === null ? null : JSON.stringify(metadata);
}

export function tenantFrom(row: Row): TenantRow {
  return {
    id: textFrom(row.id, "tenants.id"),
    name: textFrom(row.name, "tenants.name"),
    journalPrivateKeyPkcs8: bytesFrom(row.journal_private_key_pkcs8, "tenants.journal_private_key_pkcs8"),
    journalPublicKey: bytesFrom(row.journal_public_key, "tenants.journal_public_key"),
    journalSize: integerFrom(row.journal_size, "tenants.journal_size"),
    createdAtMs: integerFrom(row.created_at_ms, "tenants.created_at_ms"),
  };
}

export function userFrom(row: Row): UserRow {
  return {
    id: textFrom(row.id, "users.id"),
    tenantId: textFrom(row.tenant_id, "users.tenant_id"),
    email: nullableTextFrom(row.email, "users.email"),
    name: textFrom(row.name, "users.name"),
    role: textFrom(row.role, "users.role") as OwnerRole,
    createdAtMs: integerFrom(row.created_at_ms, "users.created_at_ms"),
    removedAtMs: nullableIntegerFrom(row.removed_at_ms, "users.removed_at_ms"),
  };
}

export function personalAccessTokenFrom(row: Row): PersonalAccessTokenRow {
  const scopes = jsonFrom(row.scopes);
  invariant(Array.isArray(scopes) && scopes.every((scope) => typeof scope === "string"), "scopes is not a string list");
  return {
    id: textFrom(row.id, "personal_access_tokens.id"),
    tenantId: textFrom(row.tenant_id, "personal_access_tokens.tenant_id"),
    userId: textFrom(row.user_id, "personal_access_tokens.user_id"),
    tokenHash: textFrom(row.token_hash, "personal_access_tokens.token_hash"),
    name: textFrom(row.name, "personal_access_tokens.name"),
    scopes: scopes as string[],
    createdAtMs: integerFrom(row.created_at_ms, "personal_access_tokens.created_at_ms"),
    expiresAtMs: nullableIntegerFrom(row.expires_at_ms, "personal_access_tokens.expires_at_ms"),
    revokedAtMs: nullableIntegerFrom(row.revoked_at_ms, "personal_access_tokens.revoked_at_ms"),
  };
}

export function accountFrom(row: Row): Account {
  return {
    id: textFrom(row.id, "accounts.id"),
    tenantId: textFrom(row.tenant_id, "accounts.tenant_id"),
    currency: textFrom(row.currency, "accounts.currency"),
    kind: textFrom(row.kind, "accounts.kind") as AccountKind,
    name: nullableTextFrom(row.name, "accounts.name"),
    debitsMustNotExceedCredits: booleanFrom(row.debits_must_not_exceed_credits, "accounts.debits_must_not_exceed_credits"),
    debitsPendingMinor: integerFrom(row.debits_pending_minor, "accounts.debits_pending_minor"),
    debitsPostedMinor: integerFrom(row.debits_posted_minor, "accounts.debits_posted_minor"),
    creditsPendingMinor: integerFrom(row.credits_pending_minor, "accounts.credits_pending_minor"),
    creditsPostedMinor: integerFrom(row.credits_posted_minor, "accounts.credits_posted_minor"),
    metadata: metadataFrom(row.metadata),
    createdAtMs: integerFrom(row.created_at_ms, "accounts.created_at_ms"),
  };
}

export function transferFrom(row: Row): Transfer {
  return {
    id: textFrom(row.id, "transfers.id"),
    tenantId: textFrom(row.tenant_id, "transfers.tenant_id"),
    debitAccountId: textFrom(row.debit_account_id, "transfers.debit_account_id"),
    creditAccountId: textFrom(row.credit_account_id, "transfers.credit_account_id"),
    currency: textFrom(row.currency, "transfers.currency"),
    amountMinor: integerFrom(row.amount_minor, "transfers.amount_minor"),
    status: textFrom(row.status, "transfers.status") as TransferStatus,
    postedAmountMinor: integerFrom(row.posted_amount_minor, "transfers.posted_amount_minor"),
    expiresAtMs: nullableIntegerFrom(row.expires_at_ms, "transfers.expires_at_ms"),
    reference: nullableTextFrom(row.reference, "transfers.reference"),
    metadata: metadataFrom(row.metadata),
    batchId: nullableTextFrom(row.batch_id, "transfers.batch_id"),
    fingerprint: textFrom(row.fingerprint, "transfers.fingerprint"),
    createdAtMs: integerFrom(row.created_at_ms, "transfers.created_at_ms"),
    updatedAtMs: integerFrom(row.updated_at_ms, "transfers.updated_at_ms"),
  };
}

/** The stored canonical body, parsed; its seq and tenant must match the row's key. */
export function eventFrom(row: Row): JournalEvent {
  const event = JSON.parse(textFrom(row.body, "events.body")) as JournalEvent;
  invariant(event.seq === integerFrom(row.seq, "events.seq"), "event body seq differs from its row");
  invariant(event.tenant_id === row.tenant_id, "event body tenant differs from its row");
  return event;
}

export function idempotencyRecordFrom(row: Row): IdempotencyRecord {
  const state = textFrom(row.state, "idempotency_keys.state");
  invariant(state === "in_progress" || state === "completed", `unknown idempotency state ${state}`);
  return {
    tenantId: textFrom(row.tenant_id, "idempotency_keys.tenant_id"),
    principalId: textFrom(row.principal_id, "idempotency_keys.principal_id"),
    method: textFrom(row.method, "idempotency_keys.method"),
    route: textFrom(row.route, "idempotency_keys.route"),
    key: textFrom(row.idempotency_key, "idempotency_keys.idempotency_key"),
    fingerprint: textFrom(row.fingerprint, "idempotency_keys.fingerprint"),
    state,
    responseStatus: nullableIntegerFrom(row.response_status, "idempotency_keys.response_status"),
    responseBody: nullableTextFrom(row.response_body, "idempotency_keys.response_body"),
    createdAtMs: integerFrom(row.created_at_ms, "idempotency_keys.created_at_ms"),
    expiresAtMs: integerFrom(row.expires_at_ms, "idempotency_keys.expires_at_ms"),
  };
}

export function agentFrom(row: Row): AgentRow {
  const status = textFrom(row.status, "agents.status");
  invariant(status === "active" || status === "disabled", `unknown agent status ${status}`);
  return {
    id: textFrom(row.id, "agents.id"),
    tenantId: textFrom(row.tenant_id, "agents.tenant_id"),
    name: textFrom(row.name, "agents.name"),
    description: nullableTextFrom(row.description, "agents.description"),
    walletAccountId: textFrom(row.wallet_account_id, "agents.wallet_account_id"),
    status,
    metadata: metadataFrom(row.metadata),
    createdAtMs: integerFrom(row.created_at_ms, "agents.created_at_ms"),
    updatedAtMs: integerFrom(row.updated_at_ms, "agents.updated_at_ms"),
    teamId: nullableTextFrom(row.team_id, "agents.team_id"),
    parentAgentId: nullableTextFrom(row.parent_agent_id, "agents.parent_agent_id"),
    spawnDepth: integerFrom(row.spawn_depth, "agents.spawn_depth"),
  };
}

export function registrationTicketFrom(row: Row): RegistrationTicketRow {
  return {
    id: textFrom(row.id, "registration_tickets.id"),
    tenantId: textFrom(row.tenant_id, "registration_tickets.tenant_id"),
    agentId: textFrom(row.agent_id, "registration_tickets.agent_id"),
    tokenHash: textFrom(row.token_hash, "registration_tickets.token_hash"),
    scopeCeiling: stringListFrom(row.scope_ceiling, "registration_tickets.scope_ceiling"),
    createdByUserId: textFrom(row.created_by_user_id, "registration_tickets.created_by_user_id"),
    createdAtMs: integerFrom(row.created_at_ms, "registration_tickets.created_at_ms"),
    expiresAtMs: integerFrom(row.expires_at_ms, "registration_tickets.expires_at_ms"),
    consumedAtMs: nullableIntegerFrom(row.consumed_at_ms, "registration_tickets.consumed_at_ms"),
    bindingId: nullableTextFrom(row.binding_id, "registration_tickets.binding_id"),
  };
}

export function credentialBindingFrom(row: Row): CredentialBindingRow {
  const algorithm = textFrom(row.algorithm, "credential_bindings.algorithm");
  invariant(algorithm === "ES256" || algorithm === "EdDSA", `unknown binding algorithm ${algorithm}`);
  return {
    id: textFrom(row.id, "credential_bindings.id"),
    tenantId: textFrom(row.tenant_id, "credential_bindings.tenant_id"),
    agentId: textFrom(row.agent_id, "credential_bindings.agent_id"),
    publicKeyJwk: stringMapFrom(row.public_key_jwk, "credential_bindings.public_key_jwk"),
    thumbprint: textFrom(row.thumbprint, "credential_bindings.thumbprint"),
    algorithm,
    scopes: stringListFrom(row.scopes, "credential_bindings.scopes"),
    clientMetadata:
      row.client_metadata === null || row.client_metadata === undefined
        ? null
        : objectFrom(row.client_metadata, "credential_bindings.client_metadata"),
    createdAtMs: integerFrom(row.created_at_ms, "credential_bindings.created_at_ms"),
    revokedAtMs: nullableIntegerFrom(row.revoked_at_ms, "credential_bindings.revoked_at_ms"),
  };
}

export function refreshTokenFrom(row: Row): RefreshTokenRow {
  return {
    id: textFrom(row.id, "refresh_tokens.id"),
    tenantId: textFrom(row.tenant_id, "refresh_tokens.tenant_id"),
    bindingId: textFrom(row.binding_id, "refresh_tokens.binding_id"),
    familyId: textFrom(row.family_id, "refresh_tokens.family_id"),
    tokenHash: textFrom(row.token_hash, "refresh_tokens.token_hash"),
    scopes: stringListFrom(row.scopes, "refresh_tokens.scopes"),
    createdAtMs: integerFrom(row.created_at_ms, "refresh_tokens.created_at_ms"),
    expiresAtMs: integerFrom(row.expires_at_ms, "refresh_tokens.expires_at_ms"),
    usedAtMs: nullableIntegerFrom(row.used_at_ms, "refresh_tokens.used_at_ms"),
    revokedAtMs: nullableIntegerFrom(row.revoked_at_ms, "refresh_tokens.revoked_at_ms"),
  };
}

export function apiKeyFrom(row: Row): ApiKeyRow {
  return {
    id: textFrom(row.id, "api_keys.id"),
    tenantId: textFrom(row.tenant_id, "api_keys.tenant_id"),
    agentId: nullableTextFrom(row.agent_id, "api_keys.agent_id"),
    name: textFrom(row.name, "api_keys.name"),
    tokenHash: textFrom(row.token_hash, "api_keys.token_hash"),
    scopes: stringListFrom(row.scopes, "api_keys.scopes"),
    rateLimitPerMinute: integerFrom(row.rate_limit_per_minute, "api_keys.rate_limit_per_minute"),
    createdAtMs: integerFrom(row.created_at_ms, "api_keys.created_at_ms"),
    expiresAtMs: nullableIntegerFrom(row.expires_at_ms, "api_keys.expires_at_ms"),
    revokedAtMs: nullableIntegerFrom(row.revoked_at_ms, "api_keys.revoked_at_ms"),
    rotatedFromId: nullableTextFrom(row.rotated_from_id, "api_keys.rotated_from_id"),
    lastUsedAtMs: nullableIntegerFrom(row.last_used_at_ms, "api_keys.last_used_at_ms"),
    acceptedCount: integerFrom(row.accepted_count, "api_keys.accepted_count"),
    deniedCounts: countsFrom(row.denied_counts, "api_keys.denied_counts"),
  };
}

export function serverSigningKeyFrom(row: Row): ServerSigningKeyRow {
  return {
    id: textFrom(row.id, "server_signing_keys.id"),
    privateKeyPkcs8: bytesFrom(row.private_key_pkcs8, "server_signing_keys.private_key_pkcs8"),
    publicKey: bytesFrom(row.public_key, "server_signing_keys.public_key"),
    createdAtMs: integerFrom(row.created_at_ms, "server_signing_keys.created_at_ms"),
  };
}

/** Sums of one currency's balance fields (`sumBalances`). */
export function balanceSumFrom(row: Row): {
  currency: string;
  debitsPostedMinor: number;
  creditsPostedMinor: number;
  debitsPendingMinor: number;
  creditsPendingMinor: number;
} {
  return {
    currency: textFrom(row.currency, "currency"),
    debitsPostedMinor: integerFrom(row.debits_posted_minor, "sum(debits_posted_minor)"),
    creditsPostedMinor: integerFrom(row.credits_posted_minor, "sum(credits_posted_minor)"),
    debitsPendingMinor: integerFrom(row.debits_pending_minor, "sum(debits_pending_minor)"),
    creditsPendingMinor: integerFrom(row.credits_pending_minor, "sum(credits_pending_minor)"),
  };
}

/** Key of a tree node in maps (level and index are small exact integers). */
export function treeNodeKeyText(level: number, index: number): string {
  return `${level}:${index}`;
}

function nullableBytesFrom(value: unknown, column: string): Uint8Array | null {
  return value === null || value === undefined ? null : bytesFrom(value, column);
}

export function webhookEndpointFrom(row: Row): WebhookEndpointRow {
  const eventTypes = jsonFrom(row.event_types);
  invariant(Array.isArray(eventTypes) && eventTypes.every((type) => typeof type === "string"), "event_types is not a string list");
  const taskIds = row.task_ids === null || row.task_ids === undefined ? null : jsonFrom(row.task_ids);
  invariant(taskIds === null || (Array.isArray(taskIds) && taskIds.every((id) => typeof id === "string")), "task_ids is not a string list");
  return {
    id: textFrom(row.id, "webhook_endpoints.id"),
    tenantId: textFrom(row.tenant_id, "webhook_endpoints.tenant_id"),
    url: textFrom(row.url, "webhook_endpoints.url"),
    description: nullableTextFrom(row.description, "webhook_endpoints.description"),
    eventTypes: eventTypes as string[],
    taskIds: taskIds as string[] | null,
    enabled: booleanFrom(row.enabled, "webhook_endpoints.enabled"),
    disabledReason: nullableTextFrom(row.disabled_reason, "webhook_endpoints.disabled_reason"),
    secret: textFrom(row.secret, "webhook_endpoints.secret"),
    previousSecret: nullableTextFrom(row.previous_secret, "webhook_endpoints.previous_secret"),
    previousSecretExpiresAtMs: nullableIntegerFrom(row.previous_secret_expires_at_ms, "webhook_endpoints.previous_secret_expires_at_ms"),
    ed25519PrivateKeyPkcs8: nullableBytesFrom(row.ed25519_private_key_pkcs8, "webhook_endpoints.ed25519_private_key_pkcs8"),
    ed25519PublicKey: nullableBytesFrom(row.ed25519_public_key, "webhook_endpoints.ed25519_public_key"),
    createdAtMs: integerFrom(row.created_at_ms, "webhook_endpoints.created_at_ms"),
    updatedAtMs: integerFrom(row.updated_at_ms, "webhook_endpoints.updated_at_ms"),
  };
}

export function webhookDeliveryFrom(row: Row): WebhookDeliveryRow {
  const status = textFrom(row.status, "webhook_deliveries.status");
  invariant(status === "pending" || status === "delivered" || status === "failed", `unknown delivery status ${status}`);
  const attempts = jsonFrom(row.attempts);
  invariant(Array.isArray(attempts), "webhook_deliveries.attempts is not a list");
  return {
    id: textFrom(row.id, "webhook_deliveries.id"),
    tenantId: textFrom(row.tenant_id, "webhook_deliveries.tenant_id"),
    endpointId: textFrom(row.endpoint_id, "webhook_deliveries.endpoint_id"),
    eventId: textFrom(row.event_id, "webhook_deliveries.event_id"),
    eventSeq: integerFrom(row.event_seq, "webhook_deliveries.event_seq"),
    eventType: textFrom(row.event_type, "webhook_deliveries.event_type"),
    status: status as DeliveryStatus,
    attemptCount: integerFrom(row.attempt_count, "webhook_deliveries.attempt_count"),
    nextAttemptAtMs: integerFrom(row.next_attempt_at_ms, "webhook_deliveries.next_attempt_at_ms"),
    lastAttemptAtMs: nullableIntegerFrom(row.last_attempt_at_ms, "webhook_deliveries.last_attempt_at_ms"),
    attempts: attempts as DeliveryAttempt[],
    createdAtMs: integerFrom(row.created_at_ms, "webhook_deliveries.created_at_ms"),
    updatedAtMs: integerFrom(row.updated_at_ms, "webhook_deliveries.updated_at_ms"),
  };
}

/** Parameters of an endpoint row, in `webhookEndpointColumns` order (booleans as the dialect wants). */
export function webhookEndpointParams(row: WebhookEndpointRow, booleanValue: (value: boolean) => unknown, bytes: (value: Uint8Array) => unknown): unknown[] {
  return [
    row.tenantId, row.id, row.url, row.description, JSON.stringify(row.eventTypes), booleanValue(row.enabled), row.disabledReason,
    row.secret, row.previousSecret, row.previousSecretExpiresAtMs,
    row.ed25519PrivateKeyPkcs8 === null ? null : bytes(row.ed25519PrivateKeyPkcs8),
    row.ed25519PublicKey === null ? null : bytes(row.ed25519PublicKey),
    row.createdAtMs, row.updatedAtMs, row.taskIds === null ? null : JSON.stringify(row.taskIds),
  ];
}

/** Parameters of a delivery row, in `webhookDeliveryColumns` order. */
export function webhookDeliveryParams(row: WebhookDeliveryRow): unknown[] {
  return [
    row.tenantId, row.id, row.endpointId, row.eventId, row.eventSeq, row.eventType, row.status, row.attemptCount,
    row.nextAttemptAtMs, row.lastAttemptAtMs, JSON.stringify(row.attempts), row.createdAtMs, row.updatedAtMs,
  ];
}
