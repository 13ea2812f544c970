/**
 * Budget requests (SPEC 1 `breq_`, issue 15): an agent asks for more budget (`amount` more per
 * `period`, a `reason`, optionally the blocked action it wants to retry); a manager of its team or
 * an owner approves (all of it or less) or rejects. Statuses: `pending` → `approved` / `rejected`.
 *
 * Approval raises, in the same write, what limits the agent in that period and currency:
 * - its team allocation there, if it has one (within the pool: `allocation_exceeds_pool`);
 * - else its budget there, if it has one;
 * - else it gets a budget of what its subtree spent in the window so far plus the approved
 *   amount (so "more" means more than it has spent, not a new, lower ceiling it did not have).
 * It never raises a policy limit or a pool: those stay an owner's explicit edits. Denials whose
 * reason is the agent's budget or its team's pool offer `request_budget` (policy/policy.ts).
 */
import type { Actor } from "../journal/types.js";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { budgetRequestsPendingPerAgentMax } from "../limits.js";
import { formatMinor } from "../money.js";
import { windowStartMs, type Period } from "../policy/policy.js";
import type { AgentRow } from "../ports.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { canDecideApprovals } from "./approvals.js";
import { subtreeIds, sumSpendsOfSet } from "./lineage.js";
import { loadBudgets, loadPolicy, setBudgets } from "./policies.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";
import { loadTeam, setAllocation } from "./teams.js";

export interface BlockedAction {
  kind: "payment" | "service_request" | "spend_authorization";
  amount: number;
  currency: string;
  payee?: string;
  service?: string;
  operation?: string;
  request_id?: string;
}

export interface BudgetRequestBody {
  agent_id: string;
  team_id: string | null;
  amount: number;
  currency: string;
  period: Period;
  reason: string;
  action: BlockedAction | null;
  status: "pending" | "approved" | "rejected";
  approved_amount: number | null;
  raised: "allocation" | "budget" | null;
  decided_by: Actor | null;
  decided_at: string | null;
  note: string | null;
}
export type BudgetRequestRecord = StoredRecord<BudgetRequestBody>;

export function budgetRequestView(request: BudgetRequestRecord) {
  return { object: "budget_request" as const, ...recordStamp(request, toRfc3339), ...request.body, amount_display: formatMinor(request.body.amount, request.body.currency) };
}

export interface BudgetRequestInput {
  amount: number;
  currency?: string;
  period: Period;
  reason: string;
  action?: BlockedAction;
}

/** Opens a request for `agent`. Event: `budget_request.created`. */
export async function createBudgetRequest(context: WriteContext, agent: AgentRow, input: BudgetRequestInput): Promise<Result<BudgetRequestRecord>> {
  const { tx, tenantId, nowMs } = context;
  if (agent.status !== "active") return fail("agent_disabled", `agent ${agent.id} is disabled`);
  if ((await tx.countRecords(tenantId, { kind: "budget_request", agentId: agent.id, status: "pending" }, budgetRequestsPendingPerAgentMax)) >= budgetRequestsPendingPerAgentMax) {
    return fail("limit_exceeded", `agent ${agent.id} has ${budgetRequestsPendingPerAgentMax} budget requests waiting already`);
  }
  const wallet = await tx.getAccount(tenantId, agent.walletAccountId);
  invariant(wallet, `agent ${agent.id} has its wallet`);
  const currency = input.currency ?? (await loadPolicy(tx, tenantId, agent.id, wallet.currency)).policy.currency;
  const request: BudgetRequestRecord = {
    tenantId, kind: "budget_request", id: newId("breq", nowMs), agentId: agent.id, status: "pending", refId: agent.teamId, dueAtMs: null, createdAtMs: nowMs, updatedAtMs: nowMs,
    body: {
      agent_id: agent.id, team_id: agent.teamId, amount: input.amount, currency, period: input.period, reason: input.reason, action: input.action ?? null,
      status: "pending", approved_amount: null, raised: null, decided_by: null, decided_at: null, note: null,
    },
  };
  await saveRecord(tx, request, true);
  await appendEvent(context, "budget_request.created", { budget_request: budgetRequestView(request) }, agent.id);
  return ok(request);
}

export async function loadBudgetRequest(context: WriteContext, requestId: string): Promise<BudgetRequestRecord | null> {
  return loadRecord<BudgetRequestBody>(context.tx, context.tenantId, "budget_request", requestId);
}

/** Raises the agent's allocation or budget by `amount` (see the module comment). */
async function raise(context: WriteContext, request: BudgetRequestRecord, amount: number): Promise<Result<"allocation" | "budget">> {
  const { tx, tenantId, nowMs } = context;
  const { agent_id: agentId, period, currency } = request.body;
  const agent = await tx.getAgent(tenantId, agentId);
  invariant(agent, `budget request ${request.id}'s agent exists`);
  const team = agent.teamId === null ? null : await loadTeam(tx, tenantId, agent.teamId);
  const allocation = team?.body.allocations.find((a) => a.agent_id === agentId && a.period === period && a.currency === currency);
  if (team && allocation) {
    const raised = await setAllocation(context, team.id, { ...allocation, amount: allocation.amount + amount });
    return raised.ok ? ok("allocation") : raised;
  }
  const budgets = (await loadBudgets(tx, tenantId, agentId)).map((b) => ({ period: b.body.period, amount: b.body.amount, currency: b.body.currency }));
  const existing = budgets.find((b) => b.period === period && b.currency === currency);
  if (existing) existing.amount += amount;
  else {
    const spent = await sumSpendsOfSet(tx, tenantId, await subtreeIds(tx, tenantId, agentId), currency, windowStartMs(period, nowMs));
    budgets.push({ period, currency, amount: spent.amountMinor + amount });
  }
  const saved = await setBudgets(context, agentId, budgets);
  return saved.ok ? ok("budget") : saved;
}

/**
 * Approves (`amount` defaults to the whole request, at most it) or rejects a pending request as
 * `context.actor`; who may decide is the caller's check (route), and an agent's credential never
 * may (`approver_not_allowed`). Events: the raise's own (`team.allocation_set` or
 * `budget.updated`), then `budget_request.approved` / `.rejected`.
 */
export async function decideBudgetRequest(
  context: WriteContext,
  requestId: string,
  verdict: "approve" | "reject",
  options: { amount?: number; note?: string | null },
  actorAgentId: string | null,
): Promise<Result<BudgetRequestRecord>> {
  if (!canDecideApprovals(context.actor, actorAgentId)) return fail("approver_not_allowed", "an agent's credential can never decide a budget request");
  const request = await loadBudgetRequest(context, requestId);
  if (!request) return fail("not_found", `budget request ${requestId} not found`);
  if (request.body.status !== "pending") return fail("budget_request_not_pending", `budget request ${requestId} is ${request.body.status}`);
  const decided = { decided_by: context.actor, decided_at: toRfc3339(context.nowMs), note: options.note ?? null };
  if (verdict === "reject") {
    const closed: BudgetRequestRecord = { ...request, status: "rejected", updatedAtMs: context.nowMs, body: { ...request.body, ...decided, status: "rejected" } };
    await saveRecord(context.tx, closed, false);
    await appendEvent(context, "budget_request.rejected", { budget_request: budgetRequestView(closed) }, request.agentId);
    return ok(closed);
  }
  const amount = options.amount ?? request.body.amount;
  if (amount > request.body.amount) return fail("validation_failed", `approve at most the ${request.body.amount} requested`, [{ path: "amount", code: "validation_failed", detail: `at most ${request.body.amount}` }]);
  const raised = await raise(context, request, amount);
  if (!raised.ok) return raised;
  const closed: BudgetRequestRecord = { ...request, status: "approved", updatedAtMs: context.nowMs, body: { ...request.body, ...decided, status: "approved", approved_amount: amount, raised: raised.value } };
  await saveRecord(context.tx, closed, false);
  await appendEvent(context, "budget_request.approved", { budget_request: budgetRequestView(closed) }, request.agentId);
  return ok(closed);
}
