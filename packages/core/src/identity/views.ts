/** Wire forms of identity objects, shared by API responses and journal events. */
import type { AgentRow, ApiKeyRow, CredentialBindingRow } from "../ports.js";
import { toRfc3339 } from "../time.js";
import type { AgentView, ApiKeyView, CredentialBindingView } from "../wire/identity.js";

const time = (ms: number | null) => (ms === null ? null : toRfc3339(ms));

/** The API form of an agent. */
export function agentView(row: AgentRow): AgentView {
  return {
    id: row.id,
    object: "agent",
    name: row.name,
    description: row.description,
    status: row.status,
    wallet_account_id: row.walletAccountId,
    metadata: row.metadata,
    team_id: row.teamId,
    parent_agent_id: row.parentAgentId,
    spawn_depth: row.spawnDepth,
    created_at: toRfc3339(row.createdAtMs),
    updated_at: toRfc3339(row.updatedAtMs),
  };
}

/** The API form of a credential binding (its public key is public; nothing here is secret). */
export function credentialBindingView(row: CredentialBindingRow): CredentialBindingView {
  return {
    id: row.id,
    object: "credential_binding",
    agent_id: row.agentId,
    fingerprint: row.thumbprint,
    algorithm: row.algorithm,
    public_key_jwk: row.publicKeyJwk,
    scopes: row.scopes,
    client_metadata: row.clientMetadata,
    status: row.revokedAtMs === null ? "active" : "revoked",
    created_at: toRfc3339(row.createdAtMs),
    revoked_at: time(row.revokedAtMs),
  };
}

/** An API key's status at `nowMs`: `expiring` is an old key inside its rotation grace period. */
export function apiKeyStatus(row: ApiKeyRow, nowMs: number): ApiKeyView["status"] {
  if (row.revokedAtMs !== null && row.revokedAtMs <= nowMs) return "revoked";
  if (row.expiresAtMs !== null) return row.expiresAtMs <= nowMs ? "expired" : "expiring";
  return "active";
}

/** The API form of an API key, without its secret. */
export function apiKeyView(row: ApiKeyRow, nowMs: number): ApiKeyView {
  return {
    id: row.id,
    object: "api_key",
    name: row.name,
    agent_id: row.agentId,
    scopes: row.scopes,
    rate_limit_per_minute: row.rateLimitPerMinute,
    status: apiKeyStatus(row, nowMs),
    created_at: toRfc3339(row.createdAtMs),
    expires_at: time(row.expiresAtMs),
    revoked_at: time(row.revokedAtMs),
    rotated_from_id: row.rotatedFromId,
    last_used_at: time(row.lastUsedAtMs),
  };
}
