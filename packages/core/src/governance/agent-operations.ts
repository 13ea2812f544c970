/**
 * What an owner does with an agent beyond create and disable (issue 15 item 7):
 *
 * - `cloneAgent`: a new agent with the source's policy, budgets and team — through the same
 *   `createAgent`, `setPolicy`, `setBudgets` and `addTeamMember` an owner would call, so the copy
 *   is journaled like any other agent. Not its team allocations (shares of the pool: a copy
 *   would claim the pool twice), nor its parent (a clone is the owner's agent). No credential is copied: the clone has no binding,
 *   key or ticket until an owner mints one, and its wallet starts empty (money is never copied).
 * - `agentHealth`: one read of what can stop an agent: its status, whether any credential still
 *   works, its wallet, limits near exhaustion, approvals waiting.
 * - the agent's activity is its events (`listEvents` by agent), read by the route.
 */
import { appendEvent, type WriteContext } from "../journal/events.js";
import { agentHealthLimitFractionNear, agentHealthScanMax, teamMembersMax } from "../limits.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { formatMinor } from "../money.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { createAgent } from "../identity/agents.js";
import { apiKeyIsDead } from "../identity/api-keys.js";
import { agentView } from "../identity/views.js";
import { loadBudgets, loadPolicy, setBudgets, setPolicy } from "./policies.js";
import { checkSpend } from "./spending.js";
import { addTeamMember } from "./teams.js";

/** A step after the clone's first write that was checked not to fail: failing now is a bug, and throwing rolls the write back. */
function orThrow<T>(result: Result<T>): T {
  invariant(result.ok, `cloning an agent: ${result.ok ? "" : `${result.code}: ${result.detail}`}`);
  return result.value;
}

export interface CloneAgentInput {
  name?: string;
  description?: string | null;
}

/**
 * Clones agent `sourceId`: same wallet currency, metadata, policy (when it has its own) and
 * active budgets. Events: those of `createAgent`, `setPolicy` and `setBudgets`, then
 * `agent.cloned` naming the source.
 */
export async function cloneAgent(context: WriteContext, sourceId: string, input: CloneAgentInput): Promise<Result<AgentRow>> {
  const source = await context.tx.getAgent(context.tenantId, sourceId);
  if (!source) return fail("not_found", `agent ${sourceId} not found`);
  const wallet = await context.tx.getAccount(context.tenantId, source.walletAccountId);
  if (!wallet) return fail("not_found", `agent ${sourceId} has no wallet`);
  // Everything that can refuse is checked before the first write: a refusal writes nothing.
  if (source.teamId !== null && (await context.tx.listTeamAgents(context.tenantId, source.teamId, teamMembersMax)).length >= teamMembersMax) {
    return fail("limit_exceeded", `team ${source.teamId} has ${teamMembersMax} agents, the most a team may have`);
  }
  const created = await createAgent(context, {
    name: input.name ?? `${source.name} (copy)`,
    description: input.description === undefined ? source.description : input.description,
    currency: wallet.currency,
    metadata: source.metadata,
  });
  if (!created.ok) return created;
  let clone = created.value;
  const policy = await loadPolicy(context.tx, context.tenantId, source.id, wallet.currency);
  if (policy.id !== null) orThrow(await setPolicy(context, clone.id, policy.policy));
  const budgets = await loadBudgets(context.tx, context.tenantId, source.id);
  if (budgets.length > 0) orThrow(await setBudgets(context, clone.id, budgets.map((budget) => ({ period: budget.body.period, amount: budget.body.amount, currency: budget.body.currency }))));
  // The team, not its allocations: an allocation is a share of the pool, and a copy would claim it twice.
  if (source.teamId !== null) clone = orThrow(await addTeamMember(context, source.teamId, clone.id));
  await appendEvent(context, "agent.cloned", { agent: agentView(clone), cloned_from: source.id }, clone.id);
  return ok(clone);
}

/** Why an agent may not work now (`issues` of its health). */
export type AgentHealthIssue = "agent_disabled" | "no_active_credential" | "wallet_empty" | "limit_near_exhaustion" | "approvals_pending";

/** A limit with little left: a rolling amount or count limit, a budget, the per-payment maximum. */
interface LimitLeft {
  limit: string;
  max: number;
  remaining: number;
}

/**
 * The health of `agent` at `nowMs`. Limits come from the same decision a payment gets (a
 * zero-amount payment checked against the policy, budgets and spending so far): a limit is near
 * exhaustion when at most `agentHealthLimitFractionNear` of it is left.
 */
export async function agentHealth(reader: StoreReader, agent: AgentRow, nowMs: number) {
  const tenantId = agent.tenantId;
  const issues: AgentHealthIssue[] = [];
  if (agent.status !== "active") issues.push("agent_disabled");

  const bindings = (await reader.listCredentialBindings(tenantId, { agentId: agent.id, limit: agentHealthScanMax })).filter((binding) => binding.revokedAtMs === null);
  const keys = (await reader.listApiKeys(tenantId, { limit: agentHealthScanMax })).filter((key) => key.agentId === agent.id && !apiKeyIsDead(key, nowMs));
  if (bindings.length === 0 && keys.length === 0) issues.push("no_active_credential");

  const wallet = await reader.getAccount(tenantId, agent.walletAccountId);
  const balance = wallet ? wallet.creditsPostedMinor - wallet.debitsPostedMinor : 0;
  const available = wallet ? balance - wallet.debitsPendingMinor : 0;
  const currency = wallet?.currency ?? "GBP";
  if (available <= 0) issues.push("wallet_empty");

  const { decision, policy } = await checkSpend(reader, agent, currency, { kind: "payment", amountMinor: 1, currency }, nowMs);
  const budgets = await loadBudgets(reader, tenantId, agent.id);
  const maxOf = (key: string): number | null => {
    if (key === "per_transaction") return policy.policy.per_transaction_max_minor ?? null;
    if (key.startsWith("budget_")) {
      const amounts = budgets.filter((budget) => `budget_${budget.body.period}` === key && budget.body.currency === currency).map((budget) => budget.body.amount);
      return amounts.length === 0 ? null : Math.min(...amounts);
    }
    if (key.endsWith("_count")) return (policy.policy.count_max as Record<string, number | undefined>)[key.slice(0, -"_count".length)] ?? null;
    return (policy.policy.amount_max_minor as Record<string, number | undefined>)[key] ?? null;
  };
  const limits: LimitLeft[] = [];
  for (const [key, left] of Object.entries(decision.remaining)) {
    const max = maxOf(key);
    if (left === null || max === null || max <= 0) continue;
    // What is left counts the checked payment itself (one unit, or one payment): added back.
    const remaining = left + 1;
    limits.push({ limit: key, max, remaining });
  }
  const near = limits.filter((limit) => limit.limit !== "per_transaction" && limit.remaining <= limit.max * agentHealthLimitFractionNear);
  if (near.length > 0) issues.push("limit_near_exhaustion");

  const pending = await reader.countRecords(tenantId, { kind: "approval", agentId: agent.id, status: "pending" }, agentHealthScanMax);
  if (pending > 0) issues.push("approvals_pending");

  const blocking = issues.some((issue) => issue === "agent_disabled" || issue === "no_active_credential" || issue === "wallet_empty");
  const money = (amount: number) => formatMinor(amount, currency);
  return {
    object: "agent_health" as const,
    agent_id: agent.id,
    status: agent.status !== "active" ? ("disabled" as const) : blocking || issues.length > 0 ? ("attention" as const) : ("healthy" as const),
    issues,
    checked_at: toRfc3339(nowMs),
    credential: { active_bindings: bindings.length, active_api_keys: keys.length },
    wallet: { account_id: agent.walletAccountId, currency, balance, balance_display: money(balance), available, available_display: money(available) },
    limits: limits.map((limit) => ({ ...limit, near_exhaustion: near.includes(limit) })),
    approvals: { pending },
  };
}
