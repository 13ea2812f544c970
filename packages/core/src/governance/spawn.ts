/**
 * Agents that spawn agents (issue 15, `POST /v1/agents/{id}/spawn`, scope `agents:spawn`). A
 * parent creates a child that can never do more than the parent:
 *
 * - depth: an owner's agent is depth 0; a child is its parent's depth + 1, at most
 *   `spawnDepthMax` (`spawn_depth_exceeded`);
 * - scopes: a subset of the calling credential's scopes, agent scopes only (`spawn_scope_exceeds_parent`);
 * - policy: no looser than the parent's in any field (`policyLoosenings`; `spawn_policy_looser_than_parent`
 *   with every looser field named in `errors`);
 * - budgets: each at most what the parent has left in that period now (`spawn_budget_exceeds_parent`).
 *   A child's spend also counts against every parent's limits afterwards (lineage.ts), so a
 *   parent and its children together never pass the parent's budget, however they race;
 * - the child joins the parent's team, gets its own wallet (optionally funded from the parent's)
 *   and a one-time registration ticket: its key is made on its own host, so no secret passes
 *   through the parent except that ticket.
 *
 * `planSpawn` is the dry run (`/spawn/estimate`); `spawnAgent` writes the same plan.
 */
import { appendEvent, type WriteContext } from "../journal/events.js";
import { createTransfers } from "../ledger/ledger.js";
import { agentDescendantsMax, spawnDepthMax, teamMembersMax } from "../limits.js";
import { periods, windowStartMs, type Period } from "../policy/policy.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { fail, invariant, ok, type FieldError, type Result, type ResultCode } from "../result.js";
import { agentScopes } from "../scopes.js";
import { createAgent } from "../identity/agents.js";
import { createRegistrationTicket } from "../identity/registration.js";
import { agentView } from "../identity/views.js";
import type { PolicyWire } from "../wire/policy.js";
import { agentLimits, amountCeilings, ancestorsOf, subtreeIds, sumSpendsOfSet } from "./lineage.js";
import { setBudgets, setPolicy } from "./policies.js";

/** `prefix.*` / exact / `*`: true when every name `child` matches, `parent` matches too. */
export function patternCovers(parent: string, child: string): boolean {
  if (parent === "*") return true;
  if (child === "*") return false;
  if (!parent.endsWith(".*")) return parent === child;
  // `x.*` covers `x.a`, `x.a.*` and `x.*`; never `x` or `xy.a`.
  return (child.endsWith(".*") ? child.slice(0, -1) : child).startsWith(parent.slice(0, -1));
}

/** A `service` entry covers itself and its `service.operation` entries. */
function serviceCovers(parent: string, child: string): boolean {
  return parent === child || (!parent.includes(".") && child.startsWith(`${parent}.`));
}

/**
 * Every field in which `child` is looser than `parent`, as field errors (`policy.<field>`):
 * a limit higher or absent where the parent has one, an allow-list wider or absent where the
 * parent has one, a block-list missing one of the parent's entries, an approval rule weaker.
 */
export function policyLoosenings(parent: PolicyWire, child: PolicyWire): FieldError[] {
  const errors: FieldError[] = [];
  const looser = (path: string, detail: string) => errors.push({ path: `policy.${path}`, code: "spawn_policy_looser_than_parent", detail });
  const limit = (path: string, parentValue: number | null | undefined, childValue: number | null | undefined) => {
    if (parentValue === null || parentValue === undefined) return;
    if (childValue === null || childValue === undefined) looser(path, `the parent's limit is ${parentValue}; the child must have one, at most that`);
    else if (childValue > parentValue) looser(path, `${childValue} is above the parent's ${parentValue}`);
  };
  const allowList = (path: string, parentList: readonly string[] | null, childList: readonly string[] | null, covers: (p: string, c: string) => boolean) => {
    if (parentList === null) return;
    if (childList === null) return looser(path, "the parent allows only a list; the child must too, within it");
    const outside = childList.filter((entry) => !parentList.some((p) => covers(p, entry)));
    if (outside.length > 0) looser(path, `not allowed to the parent: ${outside.slice(0, 5).join(", ")}`);
  };
  const blockList = (path: string, parentList: readonly string[], childList: readonly string[], covers: (p: string, c: string) => boolean) => {
    const missing = parentList.filter((entry) => !childList.some((c) => covers(c, entry)));
    if (missing.length > 0) looser(path, `the child must block what the parent blocks: ${missing.slice(0, 5).join(", ")}`);
  };
  const exact = (p: string, c: string) => p === c;

  if (child.currency !== parent.currency) looser("currency", `the child's limits must be in the parent's currency, ${parent.currency}`);
  limit("per_transaction_max_minor", parent.per_transaction_max_minor, child.per_transaction_max_minor);
  for (const period of periods) {
    limit(`amount_max_minor.${period}`, parent.amount_max_minor[period], child.amount_max_minor[period]);
    limit(`count_max.${period}`, parent.count_max[period], child.count_max[period]);
  }
  allowList("allowed_payee_ids", parent.allowed_payee_ids, child.allowed_payee_ids, exact);
  blockList("blocked_payee_ids", parent.blocked_payee_ids, child.blocked_payee_ids, exact);
  // A null currency list means "only the policy's currency".
  allowList("allowed_currencies", parent.allowed_currencies ?? [parent.currency], child.allowed_currencies ?? [child.currency], exact);
  allowList("allowed_services", parent.allowed_services, child.allowed_services, serviceCovers);
  limit("approval_threshold_minor", parent.approval_threshold_minor, child.approval_threshold_minor);
  if (parent.new_payee_requires_approval && !child.new_payee_requires_approval) looser("new_payee_requires_approval", "the parent needs approval for a new payee; so must the child");
  if (child.approval_expiry_seconds > parent.approval_expiry_seconds) looser("approval_expiry_seconds", `${child.approval_expiry_seconds} s is longer than the parent's ${parent.approval_expiry_seconds} s`);
  allowList("allowed_operations", parent.allowed_operations, child.allowed_operations, patternCovers);
  blockList("blocked_operations", parent.blocked_operations, child.blocked_operations, patternCovers);
  for (const [pattern, parentLimit] of Object.entries(parent.operation_limits)) {
    const childLimit = child.operation_limits[pattern];
    limit(`operation_limits.${pattern}.per_call_max_minor`, parentLimit.per_call_max_minor, childLimit?.per_call_max_minor);
    limit(`operation_limits.${pattern}.daily_max_minor`, parentLimit.daily_max_minor, childLimit?.daily_max_minor);
  }
  allowList("allowed_vendors", parent.allowed_vendors, child.allowed_vendors, exact);
  blockList("blocked_vendors", parent.blocked_vendors, child.blocked_vendors, exact);
  return errors;
}

export interface SpawnInput {
  name: string;
  description?: string | null;
  policy?: PolicyWire;
  budgets: ReadonlyArray<{ period: Period; amount: number }>;
  scopes?: readonly string[];
  funding?: number;
  ticketExpiresInSeconds?: number;
}

export interface SpawnPlan {
  parent: AgentRow;
  spawnDepth: number;
  scopes: string[];
  policy: PolicyWire;
  budgets: Array<{ period: Period; amount: number; currency: string }>;
  /** What the parent has left per period now (null: no limit in that period). */
  parentRemaining: Record<string, number | null>;
  funding: number;
}

export interface SpawnRefusal {
  code: ResultCode;
  detail: string;
  errors: FieldError[];
}

/**
 * Checks a spawn against the parent as it is now (`callerScopes`: the scopes of the credential
 * asking). No side effects: the plan, or the refusal with every refused field named.
 */
export async function planSpawn(reader: StoreReader, parent: AgentRow, callerScopes: readonly string[], input: SpawnInput, nowMs: number): Promise<{ plan: SpawnPlan; refusal: SpawnRefusal | null }> {
  const limits = await agentLimits(reader, parent);
  const parentPolicy = limits.policy.policy;
  const policy = input.policy ?? structuredClone(parentPolicy);
  const scopes = [...new Set(input.scopes ?? callerScopes.filter((scope) => (agentScopes as readonly string[]).includes(scope)))];
  const ceilings = amountCeilings(limits);
  const subtree = await subtreeIds(reader, parent.tenantId, parent.id);
  const parentRemaining: Record<string, number | null> = {};
  for (const period of periods) {
    const ceiling = ceilings[period];
    if (ceiling === undefined) {
      parentRemaining[period] = null;
      continue;
    }
    const spent = await sumSpendsOfSet(reader, parent.tenantId, subtree, parentPolicy.currency, windowStartMs(period, nowMs));
    parentRemaining[period] = ceiling - spent.amountMinor;
  }
  const plan: SpawnPlan = {
    parent, spawnDepth: parent.spawnDepth + 1, scopes, policy, parentRemaining, funding: input.funding ?? 0,
    budgets: input.budgets.map((budget) => ({ ...budget, currency: parentPolicy.currency })),
  };
  const refuse = (code: ResultCode, detail: string, errors: FieldError[] = []) => ({ plan, refusal: { code, detail, errors } });

  if (parent.status !== "active") return refuse("agent_disabled", `agent ${parent.id} is disabled`);
  if (plan.spawnDepth > spawnDepthMax) return refuse("spawn_depth_exceeded", `agent ${parent.id} is at depth ${parent.spawnDepth}; agents spawn at most ${spawnDepthMax} levels deep`);
  // Every parent's subtree stays within agentDescendantsMax (their windows sum it on each decision).
  for (const ancestor of [parent, ...(await ancestorsOf(reader, parent))]) {
    const below = (await subtreeIds(reader, parent.tenantId, ancestor.id)).length - 1;
    if (below >= agentDescendantsMax) return refuse("limit_exceeded", `agent ${ancestor.id} has ${agentDescendantsMax} descendants already`);
  }
  const scopeErrors = scopes.flatMap((scope, index) =>
    callerScopes.includes(scope) && (agentScopes as readonly string[]).includes(scope) ? [] : [{ path: `scopes.${index}`, code: "spawn_scope_exceeds_parent" as const, detail: `${scope} is not a scope of the parent's credential` }],
  );
  if (scopeErrors.length > 0) return refuse("spawn_scope_exceeds_parent", `the child may hold only scopes the parent holds: ${scopeErrors.map((e) => e.detail).join("; ")}`, scopeErrors);
  const loosenings = policyLoosenings(parentPolicy, policy);
  if (loosenings.length > 0) return refuse("spawn_policy_looser_than_parent", `the child's policy is looser than the parent's in ${loosenings.map((e) => e.path).join(", ")}`, loosenings);
  const seen = new Set<Period>();
  const budgetErrors: FieldError[] = [];
  for (const [index, budget] of input.budgets.entries()) {
    if (seen.has(budget.period)) return refuse("validation_failed", `budgets.${index}: two budgets for ${budget.period}`, [{ path: `budgets.${index}.period`, code: "validation_failed", detail: "one budget per period" }]);
    seen.add(budget.period);
    const left = parentRemaining[budget.period];
    if (left !== null && left !== undefined && budget.amount > Math.max(left, 0)) {
      budgetErrors.push({ path: `budgets.${index}.amount`, code: "spawn_budget_exceeds_parent", detail: `${budget.amount} is more than the ${Math.max(left, 0)} the parent has left ${budget.period === "all_time" ? "in all" : `this ${budget.period} window`}` });
    }
  }
  if (budgetErrors.length > 0) return refuse("spawn_budget_exceeds_parent", budgetErrors.map((e) => e.detail).join("; "), budgetErrors);
  // Checked here, not left to the transfer: a spawn that fails must have written nothing.
  if (plan.funding > 0) {
    const wallet = await reader.getAccount(parent.tenantId, parent.walletAccountId);
    invariant(wallet, `agent ${parent.id} has its wallet`);
    const available = wallet.creditsPostedMinor - wallet.debitsPostedMinor - wallet.debitsPendingMinor;
    if (available < plan.funding) return refuse("insufficient_funds", `the parent's wallet has ${available} available, less than the ${plan.funding} to fund the child`, [{ path: "funding", code: "insufficient_funds", detail: `at most ${available}` }]);
  }
  if (parent.teamId !== null && (await reader.listTeamAgents(parent.tenantId, parent.teamId, teamMembersMax)).length >= teamMembersMax) {
    return refuse("limit_exceeded", `the parent's team has ${teamMembersMax} agents already`);
  }
  return { plan, refusal: null };
}

export interface Spawned {
  plan: SpawnPlan;
  child: AgentRow;
  ticket: string;
  ticketId: string;
  ticketExpiresAtMs: number;
}

/**
 * Spawns the child as planned, in the caller's write (so the checks and the writes see one
 * state). Events: the child's `account.created`, `agent.created`, `policy.updated`,
 * `budget.updated`, the funding `transfer.created` when funded, `registration_ticket.created`,
 * then `agent.spawned`.
 */
export async function spawnAgent(context: WriteContext, parent: AgentRow, callerScopes: readonly string[], input: SpawnInput): Promise<Result<Spawned>> {
  const { plan, refusal } = await planSpawn(context.tx, parent, callerScopes, input, context.nowMs);
  if (refusal) return fail(refusal.code, refusal.detail, refusal.errors.length > 0 ? refusal.errors : undefined);
  const wallet = await context.tx.getAccount(context.tenantId, parent.walletAccountId);
  invariant(wallet, `agent ${parent.id} has its wallet`);
  const child = await createAgent(context, {
    name: input.name, description: input.description ?? null, currency: wallet.currency, metadata: null,
    parentAgentId: parent.id, spawnDepth: plan.spawnDepth, teamId: parent.teamId,
  });
  if (!child.ok) return child;
  await setPolicy(context, child.value.id, plan.policy);
  const budgets = await setBudgets(context, child.value.id, plan.budgets);
  if (!budgets.ok) return budgets;
  if (plan.funding > 0) {
    const moved = await createTransfers(context, [{
      debitAccountId: wallet.id, creditAccountId: child.value.walletAccountId, amountMinor: plan.funding, currency: wallet.currency,
      pending: false, reference: `spawn funding for ${child.value.id}`, metadata: { parent_agent_id: parent.id, agent_id: child.value.id },
    }]);
    invariant(moved.ok, `funding checked by planSpawn: ${moved.ok ? "" : moved.detail}`);
  }
  const ticket = await createRegistrationTicket(context, { agentId: child.value.id, scopes: plan.scopes, expiresInSeconds: input.ticketExpiresInSeconds, createdByUserId: parent.id });
  if (!ticket.ok) return ticket;
  await appendEvent(context, "agent.spawned", { agent: agentView(child.value), parent_agent_id: parent.id, spawn_depth: plan.spawnDepth, scopes: plan.scopes, registration_ticket_id: ticket.value.row.id }, child.value.id);
  return ok({ plan, child: child.value, ticket: ticket.value.ticket, ticketId: ticket.value.row.id, ticketExpiresAtMs: ticket.value.row.expiresAtMs });
}
