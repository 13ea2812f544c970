/**
 * Agents (SPEC 1): an AI agent of a tenant, with a wallet account. Deleting an agent disables it
 * and revokes every credential it has; its wallet and history stay (the books never forget).
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { createAccount } from "../ledger/ledger.js";
import { pageLimitMax } from "../limits.js";
import type { AgentRow } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { agentView } from "./views.js";

/** Currency of an agent's wallet when the request names none. */
export const defaultWalletCurrency = "GBP";

export interface CreateAgentInput {
  name: string;
  description?: string | null;
  currency?: string;
  metadata?: Record<string, string> | null;
  /** A spawned agent's lineage and team (governance/spawn.ts). */
  parentAgentId?: string | null;
  spawnDepth?: number;
  teamId?: string | null;
}

/** Creates an agent and its wallet (an account of kind `wallet`). Events: `account.created`, `agent.created`. */
export async function createAgent(context: WriteContext, input: CreateAgentInput): Promise<Result<AgentRow>> {
  const agentId = newId("agt", context.nowMs);
  const wallet = await createAccount(context, { currency: input.currency ?? defaultWalletCurrency, kind: "wallet", name: `${input.name} wallet`, metadata: { agent_id: agentId } });
  if (!wallet.ok) return wallet;
  const row: AgentRow = {
    id: agentId,
    tenantId: context.tenantId,
    name: input.name,
    description: input.description ?? null,
    walletAccountId: wallet.value.id,
    status: "active",
    metadata: input.metadata ?? null,
    createdAtMs: context.nowMs,
    updatedAtMs: context.nowMs,
    teamId: input.teamId ?? null,
    parentAgentId: input.parentAgentId ?? null,
    spawnDepth: input.spawnDepth ?? 0,
  };
  await context.tx.insertAgent(row);
  await appendEvent(context, "agent.created", { agent: agentView(row) }, row.id);
  return ok(row);
}

/** Changes name, description or metadata (`null` clears). Event: `agent.updated`. */
export async function updateAgent(
  context: WriteContext,
  agentId: string,
  changes: { name?: string; description?: string | null; metadata?: Record<string, string> | null },
): Promise<Result<AgentRow>> {
  const existing = await context.tx.getAgent(context.tenantId, agentId);
  if (!existing) return fail("not_found", `agent ${agentId} not found`);
  if (existing.status !== "active") return fail("agent_disabled", `agent ${agentId} is disabled`);
  const row: AgentRow = {
    ...existing,
    name: changes.name ?? existing.name,
    description: changes.description === undefined ? existing.description : changes.description,
    metadata: changes.metadata === undefined ? existing.metadata : changes.metadata,
    updatedAtMs: context.nowMs,
  };
  await context.tx.updateAgent(row);
  await appendEvent(context, "agent.updated", { agent: agentView(row) }, row.id);
  return ok(row);
}

/**
 * Disables an agent and revokes its credential bindings (with their refresh tokens) and API keys,
 * so none of its credentials works on the next request. Disabling twice is a no-op. Events:
 * `credential_binding.revoked` and `api_key.revoked` for each, then `agent.disabled`.
 */
export async function disableAgent(context: WriteContext, agentId: string): Promise<Result<AgentRow>> {
  const { tx, tenantId, nowMs } = context;
  const existing = await tx.getAgent(tenantId, agentId);
  if (!existing) return fail("not_found", `agent ${agentId} not found`);
  if (existing.status === "disabled") return ok(existing);
  for (let beforeId: string | undefined; ; ) {
    const bindings = await tx.listCredentialBindings(tenantId, { limit: pageLimitMax, beforeId, agentId });
    for (const binding of bindings) {
      if (binding.revokedAtMs !== null) continue;
      await tx.revokeCredentialBinding(tenantId, binding.id, nowMs);
      await tx.revokeRefreshTokensOfBinding(tenantId, binding.id, nowMs);
      await appendEvent(context, "credential_binding.revoked", { credential_binding: { id: binding.id, agent_id: agentId, reason: "agent_disabled" } }, agentId);
    }
    if (bindings.length < pageLimitMax) break;
    beforeId = bindings[bindings.length - 1]!.id;
  }
  for (let beforeId: string | undefined; ; ) {
    const keys = await tx.listApiKeys(tenantId, { limit: pageLimitMax, beforeId });
    for (const key of keys) {
      if (key.agentId !== agentId || key.revokedAtMs !== null) continue;
      await tx.updateApiKeyLifecycle(tenantId, key.id, key.expiresAtMs, nowMs);
      await appendEvent(context, "api_key.revoked", { api_key: { id: key.id, agent_id: agentId, reason: "agent_disabled" } }, agentId);
    }
    if (keys.length < pageLimitMax) break;
    beforeId = keys[keys.length - 1]!.id;
  }
  const row: AgentRow = { ...existing, status: "disabled", updatedAtMs: nowMs };
  await tx.updateAgent(row);
  await appendEvent(context, "agent.disabled", { agent: agentView(row) }, agentId);
  return ok(row);
}
