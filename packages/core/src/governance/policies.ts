/**
 * Where an agent's policy and budgets live. A policy is stored as a new record on every change
 * (the newest is in force, older ones are its history); budgets are replaced as a set, the old
 * ones kept with status `replaced`. An agent with no policy gets `defaultPolicy`: spend-limited
 * (at most 100.00 a payment and 250.00 a rolling day in its wallet's currency) until an owner sets
 * one, so a new agent cannot empty a funded wallet before anyone has decided what it may do
 * (docs/concepts.md "The default policy").
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { approvalExpirySecondsDefault, budgetsPerAgentMax, defaultPolicyDailyAmountMaxMajor, defaultPolicyTransactionAmountMaxMajor } from "../limits.js";
import { currencyExponent, formatMinor } from "../money.js";
import type { StoreReader } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { PolicyWire } from "../wire/policy.js";
import type { Budget, Period, Policy } from "../policy/policy.js";
import type { StoredRecord } from "./records.js";
import { listRecordsOf, recordStamp, saveRecord } from "./store.js";

export type PolicyRecord = StoredRecord<PolicyWire>;

export interface BudgetBody {
  period: Period;
  amount: number;
  currency: string;
  status: "active" | "replaced";
}
export type BudgetRecord = StoredRecord<BudgetBody>;

export function defaultPolicy(currency: string): PolicyWire {
  const minorPerMajor = 10 ** currencyExponent(currency);
  return {
    currency,
    per_transaction_max_minor: defaultPolicyTransactionAmountMaxMajor * minorPerMajor,
    amount_max_minor: { daily: defaultPolicyDailyAmountMaxMajor * minorPerMajor },
    count_max: {},
    allowed_payee_ids: null,
    blocked_payee_ids: [],
    allowed_currencies: null,
    allowed_services: null,
    approval_threshold_minor: null,
    new_payee_requires_approval: false,
    approval_expiry_seconds: approvalExpirySecondsDefault,
    allowed_operations: null,
    blocked_operations: [],
    operation_limits: {},
    allowed_vendors: null,
    blocked_vendors: [],
  };
}

/** The engine's form of a wire policy. */
export function enginePolicy(wire: PolicyWire): Policy {
  return {
    currency: wire.currency,
    perTransactionMaxMinor: wire.per_transaction_max_minor,
    amountMaxMinor: wire.amount_max_minor,
    countMax: wire.count_max,
    allowedPayeeIds: wire.allowed_payee_ids,
    blockedPayeeIds: wire.blocked_payee_ids,
    allowedCurrencies: wire.allowed_currencies,
    allowedServices: wire.allowed_services,
    approvalThresholdMinor: wire.approval_threshold_minor,
    newPayeeRequiresApproval: wire.new_payee_requires_approval,
    approvalExpirySeconds: wire.approval_expiry_seconds,
    allowedOperations: wire.allowed_operations,
    blockedOperations: wire.blocked_operations,
    operationLimits: Object.fromEntries(
      Object.entries(wire.operation_limits).map(([pattern, limit]) => [pattern, { perCallMaxMinor: limit.per_call_max_minor, dailyMaxMinor: limit.daily_max_minor }]),
    ),
    allowedVendors: wire.allowed_vendors,
    blockedVendors: wire.blocked_vendors,
  };
}

export interface AgentPolicy {
  /** Null while the agent runs on the default policy. */
  id: string | null;
  policy: PolicyWire;
  updatedAtMs: number | null;
}

/** The policy in force for an agent whose wallet is in `walletCurrency`. */
export async function loadPolicy(reader: StoreReader, tenantId: string, agentId: string, walletCurrency: string): Promise<AgentPolicy> {
  const [newest] = await listRecordsOf<PolicyWire>(reader, tenantId, { kind: "policy", agentId, limit: 1 });
  // A policy stored before a field existed gets that field's default (the wire schema's too).
  return newest
    ? { id: newest.id, policy: { ...defaultPolicy(walletCurrency), ...newest.body }, updatedAtMs: newest.updatedAtMs }
    : { id: null, policy: defaultPolicy(walletCurrency), updatedAtMs: null };
}

export function policyView(agentId: string, agentPolicy: AgentPolicy) {
  return {
    object: "policy" as const,
    id: agentPolicy.id,
    agent_id: agentId,
    is_default: agentPolicy.id === null,
    updated_at: agentPolicy.updatedAtMs === null ? null : toRfc3339(agentPolicy.updatedAtMs),
    ...agentPolicy.policy,
  };
}

/** Puts a new policy in force. Event: `policy.updated` with the whole policy. */
export async function setPolicy(context: WriteContext, agentId: string, policy: PolicyWire): Promise<Result<AgentPolicy>> {
  const record: PolicyRecord = {
    tenantId: context.tenantId, kind: "policy", id: newId("pol", context.nowMs), agentId, status: "active", refId: null, dueAtMs: null,
    createdAtMs: context.nowMs, updatedAtMs: context.nowMs, body: policy,
  };
  await saveRecord(context.tx, record, true);
  const agentPolicy = { id: record.id, policy, updatedAtMs: context.nowMs };
  await appendEvent(context, "policy.updated", { policy: policyView(agentId, agentPolicy) }, agentId);
  return ok(agentPolicy);
}

export async function loadBudgets(reader: StoreReader, tenantId: string, agentId: string): Promise<BudgetRecord[]> {
  return listRecordsOf<BudgetBody>(reader, tenantId, { kind: "budget", agentId, status: "active", limit: budgetsPerAgentMax });
}

/** The engine's form of the budgets in one currency. */
export function engineBudgets(budgets: readonly BudgetRecord[], currency: string): Budget[] {
  return budgets.filter((budget) => budget.body.currency === currency).map((budget) => ({ period: budget.body.period, amountMinor: budget.body.amount }));
}

export function budgetView(budget: BudgetRecord) {
  const { period, amount, currency, status } = budget.body;
  return { object: "budget" as const, ...recordStamp(budget, toRfc3339), agent_id: budget.agentId, period, amount, amount_display: formatMinor(amount, currency), currency, status };
}

/** Replaces an agent's budgets with `budgets`. Event: `budget.updated` with the new set. */
export async function setBudgets(
  context: WriteContext,
  agentId: string,
  budgets: ReadonlyArray<{ period: Period; amount: number; currency: string }>,
): Promise<Result<BudgetRecord[]>> {
  if (budgets.length > budgetsPerAgentMax) return fail("limit_exceeded", `at most ${budgetsPerAgentMax} budgets per agent`);
  const seen = new Set<string>();
  for (const budget of budgets) {
    const key = `${budget.period}/${budget.currency}`;
    if (seen.has(key)) return fail("validation_failed", `two budgets for ${budget.period} in ${budget.currency}`);
    seen.add(key);
  }
  for (const old of await loadBudgets(context.tx, context.tenantId, agentId)) {
    await saveRecord(context.tx, { ...old, status: "replaced", updatedAtMs: context.nowMs, body: { ...old.body, status: "replaced" } }, false);
  }
  const created: BudgetRecord[] = [];
  for (const budget of budgets) {
    const record: BudgetRecord = {
      tenantId: context.tenantId, kind: "budget", id: newId("bud", context.nowMs), agentId, status: "active", refId: null, dueAtMs: null,
      createdAtMs: context.nowMs, updatedAtMs: context.nowMs, body: { ...budget, status: "active" },
    };
    await saveRecord(context.tx, record, true);
    created.push(record);
  }
  await appendEvent(context, "budget.updated", { agent_id: agentId, budgets: created.map(budgetView) }, agentId);
  return ok(created);
}
