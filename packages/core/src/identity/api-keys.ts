/**
 * API keys (`bsk_…`, id `key_…`): scoped, rate-limited bearer keys for an agent or a service
 * account. Only the SHA-256 of a key is stored. Rotation mints a new key and lets the old one
 * work for a grace period the caller chooses (default 0: it stops at once).
 */
import { sha256Hex } from "../hash.js";
import { newId, newSecret } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { apiKeyRateLimitPerMinuteDefault } from "../limits.js";
import type { ApiKeyRow } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import type { Scope } from "../scopes.js";
import { checkAgentScopes } from "./scopes.js";
import { apiKeyView } from "./views.js";

/** The prefix of API keys. */
export const apiKeyPrefix = "bsk";

export interface CreateApiKeyInput {
  name: string;
  agentId: string | null;
  scopes: Scope[];
  rateLimitPerMinute?: number;
}

function newKeyRow(context: WriteContext, input: Required<CreateApiKeyInput>, rotatedFromId: string | null): { key: string; row: ApiKeyRow } {
  const key = newSecret(apiKeyPrefix);
  const row: ApiKeyRow = {
    id: newId("key", context.nowMs),
    tenantId: context.tenantId,
    agentId: input.agentId,
    name: input.name,
    tokenHash: sha256Hex(key),
    scopes: input.scopes,
    rateLimitPerMinute: input.rateLimitPerMinute,
    createdAtMs: context.nowMs,
    expiresAtMs: null,
    revokedAtMs: null,
    rotatedFromId,
    lastUsedAtMs: null,
    acceptedCount: 0,
    deniedCounts: {},
  };
  return { key, row };
}

/**
 * Creates a key. A key for an agent acts as that agent and can never hold an owner-only scope;
 * the caller checks that a key never holds a scope its creator lacks. Event: `api_key.created`.
 */
export async function createApiKey(context: WriteContext, input: CreateApiKeyInput): Promise<Result<{ key: string; row: ApiKeyRow }>> {
  if (input.agentId !== null) {
    const scopes = checkAgentScopes(input.scopes);
    if (!scopes.ok) return scopes;
    const agent = await context.tx.getAgent(context.tenantId, input.agentId);
    if (!agent) return fail("not_found", `agent ${input.agentId} not found`);
    if (agent.status !== "active") return fail("agent_disabled", `agent ${input.agentId} is disabled`);
  }
  const created = newKeyRow(context, { ...input, scopes: [...new Set(input.scopes)], rateLimitPerMinute: input.rateLimitPerMinute ?? apiKeyRateLimitPerMinuteDefault }, null);
  await context.tx.insertApiKey(created.row);
  await appendEvent(context, "api_key.created", { api_key: apiKeyView(created.row, context.nowMs) }, input.agentId);
  return ok(created);
}

/** True when the key can no longer authenticate at `nowMs`. */
export function apiKeyIsDead(row: ApiKeyRow, nowMs: number): boolean {
  return (row.revokedAtMs !== null && row.revokedAtMs <= nowMs) || (row.expiresAtMs !== null && row.expiresAtMs <= nowMs);
}

/**
 * Rotates a key: a new key with the same name, agent, scopes and limit; the old one stops after
 * `graceSeconds` (at once when 0). A key already past its end cannot be rotated. Event:
 * `api_key.rotated`.
 */
export async function rotateApiKey(context: WriteContext, keyId: string, graceSeconds: number): Promise<Result<{ key: string; row: ApiKeyRow; old: ApiKeyRow }>> {
  const { tx, tenantId, nowMs } = context;
  const old = await tx.getApiKey(tenantId, keyId);
  if (!old) return fail("not_found", `API key ${keyId} not found`);
  if (apiKeyIsDead(old, nowMs)) return fail("api_key_revoked", `API key ${keyId} is revoked or expired; create a new key`);
  const created = newKeyRow(context, { name: old.name, agentId: old.agentId, scopes: old.scopes as Scope[], rateLimitPerMinute: old.rateLimitPerMinute }, old.id);
  const graceEndMs = nowMs + graceSeconds * 1000;
  const expiresAtMs = old.expiresAtMs === null ? graceEndMs : Math.min(old.expiresAtMs, graceEndMs);
  await tx.insertApiKey(created.row);
  await tx.updateApiKeyLifecycle(tenantId, old.id, expiresAtMs, old.revokedAtMs);
  const oldAfter = { ...old, expiresAtMs };
  await appendEvent(context, "api_key.rotated", { api_key: apiKeyView(created.row, nowMs), rotated_from: apiKeyView(oldAfter, nowMs) }, old.agentId);
  return ok({ ...created, old: oldAfter });
}

/** Revokes a key at once; revoking twice is a no-op. Event: `api_key.revoked`. */
export async function revokeApiKey(context: WriteContext, keyId: string): Promise<Result<ApiKeyRow>> {
  const { tx, tenantId, nowMs } = context;
  const existing = await tx.getApiKey(tenantId, keyId);
  if (!existing) return fail("not_found", `API key ${keyId} not found`);
  if (existing.revokedAtMs !== null) return ok(existing);
  await tx.updateApiKeyLifecycle(tenantId, keyId, existing.expiresAtMs, nowMs);
  const revoked = { ...existing, revokedAtMs: nowMs };
  await appendEvent(context, "api_key.revoked", { api_key: apiKeyView(revoked, nowMs) }, existing.agentId);
  return ok(revoked);
}
