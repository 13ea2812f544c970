/**
 * The policy engine: pure and deterministic. It never reads the clock (only `action.nowMs`) and
 * never touches a store; the caller passes the agent's prior spending as data.
 *
 * Decisions:
 * - Amount limits and budgets are in `policy.currency`. An action in another currency is refused
 *   unless listed in `allowedCurrencies`; if allowed, amount limits still count only spends in
 *   `policy.currency` (no conversion), while count limits count every spend.
 * - Windows are trailing from `nowMs`: daily 24 h, weekly 7 d, monthly 30 d. A spend is inside a
 *   window when `nowMs - atMs < windowMs` (`atMs > windowStartMs(period, nowMs)`); a spend exactly
 *   24 h old has left the daily window. The caller sums prior spends per window (`spent`): the
 *   store does it in SQL, `sumSpends` below does it in memory; both use `windowStartMs`.
 * - At the limit is allowed: a payment that brings a window total to exactly the limit passes;
 *   one minor unit more is denied.
 * - Approval threshold: `amountMinor >= approvalThresholdMinor` needs approval.
 * - Deny wins over approval_required wins over allow; every reason is collected, in `reasonOrder`.
 * - Spend authorizations (`kind: "spend_authorization"`) also meet the operation rules: allowed
 *   and blocked operation patterns, and per-operation limits (`operationLimits`, keyed by
 *   pattern: every entry whose pattern matches the operation applies, its daily sum counting the
 *   spends of operations that pattern matches, passed in as `operationSpent`). Vendor lists apply
 *   to any action that names a vendor. Payments and service requests carry no operation, so the
 *   operation rules never touch them, while all three share the amount and count windows.
 * - A capability (an owner's pre-approval, checked by the caller) waives the approval reasons
 *   (`preApproved`); it never waives a deny.
 * - Shared windows (`action.sharedWindows`, issue 15): limits the agent shares with others, decided
 *   here with its own so nothing checks them separately — its team's pools
 *   (`team_pool_exceeded`) and the limits of the agents that spawned it, which count their
 *   descendants' spends (`parent_budget_exceeded`). Each is an amount in one currency; the action
 *   counts against it only in that currency. The caller sums each window's prior spending.
 */
import { matchesAnyDottedPattern, matchesDottedPattern } from "../dotted-names.js";
import { isCurrency, isValidAmountMinor } from "../money.js";
import { policyListEntriesMax } from "../limits.js";

export const periods = ["daily", "weekly", "monthly", "all_time"] as const;
export type Period = (typeof periods)[number];

const dayMs = 86_400_000;
/** Trailing window length per period; all_time has none. */
export const periodWindowMs: Readonly<Record<Period, number>> = {
  daily: dayMs,
  weekly: 7 * dayMs,
  monthly: 30 * dayMs,
  all_time: Number.POSITIVE_INFINITY,
};

/** Spending rules for one agent. `null` / absent means unlimited or unrestricted. */
export interface Policy {
  currency: string;
  perTransactionMaxMinor: number | null;
  amountMaxMinor: Partial<Record<Period, number>>;
  countMax: Partial<Record<Period, number>>;
  allowedPayeeIds: readonly string[] | null;
  blockedPayeeIds: readonly string[];
  /** Currencies the agent may use; `null` means only `currency`. */
  allowedCurrencies: readonly string[] | null;
  /** Entries `service` (every operation) or `service.operation`; `null` means every service. */
  allowedServices: readonly string[] | null;
  approvalThresholdMinor: number | null;
  newPayeeRequiresApproval: boolean;
  approvalExpirySeconds: number;
  /** Operation patterns a spend authorization may name; `null` means any operation. */
  allowedOperations: readonly string[] | null;
  blockedOperations: readonly string[];
  /** Limits per operation pattern (`openai.*`), applied to every operation the pattern matches. */
  operationLimits: Readonly<Record<string, OperationLimit>>;
  /** Vendors an action may name; `null` means any vendor. */
  allowedVendors: readonly string[] | null;
  blockedVendors: readonly string[];
}

export interface OperationLimit {
  perCallMaxMinor: number | null;
  dailyMaxMinor: number | null;
}

export interface Spend {
  amountMinor: number;
  currency: string;
  atMs: number;
}

/** Prior spending inside one window: amount in the policy currency, count in every currency. */
export interface WindowSpend {
  amountMinor: number;
  count: number;
}

export interface Budget {
  period: Period;
  amountMinor: number;
}

/**
 * A limit the agent shares with other agents, over one trailing window: its team's pool, or a
 * parent's limit over the parent and all its descendants (`spentMinor` sums all of them).
 */
export interface SharedWindow {
  reason: "team_pool_exceeded" | "parent_budget_exceeded";
  /** The `remaining` key (`team_pool_daily`, `parent_monthly`); windows of one key keep the least left. */
  key: string;
  period: Period;
  currency: string;
  limitMinor: number;
  spentMinor: number;
}

export interface PolicyAction {
  kind: "payment" | "service_request" | "spend_authorization";
  amountMinor: number;
  currency: string;
  payeeId?: string;
  service?: string;
  /** A service's operation (service requests), or a spend authorization's dotted operation name. */
  operation?: string;
  /** Who is paid outside Bursar (spend authorizations), matched against the vendor lists. */
  vendor?: string;
  /**
   * Prior spending in the daily window of each `operationLimits` pattern that matches
   * `operation` (see `operationLimitPatterns`); a pattern left out counts as nothing spent.
   */
  operationSpent?: Readonly<Record<string, WindowSpend>>;
  /** A capability covers this action: approval reasons are waived (denies are not). */
  preApproved?: boolean;
  /** Prior spending per window; a period left out counts as nothing spent (see `periodsInUse`). */
  spent: Partial<Record<Period, WindowSpend>>;
  /** Whether the agent has paid `payeeId` before (for `newPayeeRequiresApproval`). */
  payeePaidBefore: boolean;
  budgets?: readonly Budget[];
  /** Limits shared with other agents (team pools, parents' limits), decided with the agent's own. */
  sharedWindows?: readonly SharedWindow[];
  nowMs: number;
}

export type DecisionKind = "allow" | "approval_required" | "deny";

export interface Decision {
  decision: DecisionKind;
  reason_codes: string[];
  /** Amount or count still available after this action; null when unlimited. */
  remaining: Record<string, number | null>;
  available_actions: AvailableAction[];
}

/** Stable order of reason codes; the first group denies, the last two ask for approval. */
export const reasonOrder = [
  "currency_not_allowed",
  "payee_blocked",
  "payee_not_allowed",
  "service_not_allowed",
  "operation_blocked",
  "operation_not_allowed",
  "vendor_blocked",
  "vendor_not_allowed",
  "amount_exceeds_transaction_max",
  "amount_exceeds_operation_max",
  "daily_amount_limit_exceeded",
  "weekly_amount_limit_exceeded",
  "monthly_amount_limit_exceeded",
  "all_time_amount_limit_exceeded",
  "daily_count_limit_exceeded",
  "weekly_count_limit_exceeded",
  "monthly_count_limit_exceeded",
  "all_time_count_limit_exceeded",
  "operation_daily_limit_exceeded",
  "budget_exceeded",
  "team_pool_exceeded",
  "parent_budget_exceeded",
  "approval_threshold_reached",
  "new_payee_requires_approval",
] as const;
export type ReasonCode = (typeof reasonOrder)[number];

/**
 * Every `available_actions` value, in the order they are listed: what a caller can do about a
 * decision. `fund_wallet` comes from the ledger hold, not from the policy. `request_budget`: ask a
 * team manager or owner for more (`POST /v1/budget-requests`, governance/budget-requests.ts).
 */
export const availableActionNames = [
  "request_approval",
  "lower_amount",
  "choose_allowed_payee",
  "choose_allowed_currency",
  "choose_allowed_service",
  "choose_allowed_operation",
  "choose_allowed_vendor",
  "retry_after_window",
  "request_budget",
  "fund_wallet",
] as const;
export type AvailableAction = (typeof availableActionNames)[number];

/** Every `available_actions` value a policy decision can carry, in the order they are listed. */
export const availableActionOrder = availableActionNames.filter((action) => action !== "fund_wallet");
const approvalReasons: ReadonlySet<string> = new Set(["approval_threshold_reached", "new_payee_requires_approval"]);

function validate(policy: Policy, action: PolicyAction): void {
  const amountOk = (value: number | null | undefined): boolean => value == null || (Number.isSafeInteger(value) && value >= 0);
  if (!isValidAmountMinor(action.amountMinor)) throw new RangeError("action.amountMinor must be a positive safe integer");
  if (!Number.isSafeInteger(action.nowMs) || action.nowMs < 0) throw new RangeError("action.nowMs must be a non-negative integer");
  if (!isCurrency(action.currency) || !isCurrency(policy.currency)) throw new RangeError("unknown currency");
  for (const window of Object.values(action.spent)) {
    if (!amountOk(window.amountMinor) || !amountOk(window.count)) throw new RangeError("invalid spent window");
  }
  for (const value of [policy.perTransactionMaxMinor, policy.approvalThresholdMinor, ...Object.values(policy.amountMaxMinor), ...Object.values(policy.countMax), ...(action.budgets ?? []).map((b) => b.amountMinor)]) {
    if (!amountOk(value)) throw new RangeError("policy amounts must be non-negative safe integers");
  }
  for (const limit of Object.values(policy.operationLimits)) {
    if (!amountOk(limit.perCallMaxMinor) || !amountOk(limit.dailyMaxMinor)) throw new RangeError("operation limits must be non-negative safe integers");
  }
  for (const window of action.sharedWindows ?? []) {
    if (!amountOk(window.limitMinor) || !amountOk(window.spentMinor) || !isCurrency(window.currency)) throw new RangeError("invalid shared window");
  }
  for (const window of Object.values(action.operationSpent ?? {})) {
    if (!amountOk(window.amountMinor) || !amountOk(window.count)) throw new RangeError("invalid operation spent window");
  }
  if (Object.keys(policy.operationLimits).length > policyListEntriesMax) throw new RangeError("too many operation limits");
  for (const list of [policy.allowedPayeeIds, policy.blockedPayeeIds, policy.allowedCurrencies, policy.allowedServices, policy.allowedOperations, policy.blockedOperations, policy.allowedVendors, policy.blockedVendors]) {
    if (list && list.length > policyListEntriesMax) throw new RangeError("policy list too long");
  }
}

/** Spends strictly after this moment are inside the period's window. */
export function windowStartMs(period: Period, nowMs: number): number {
  return period === "all_time" ? Number.MIN_SAFE_INTEGER : nowMs - periodWindowMs[period];
}

/** The periods whose spending the policy or budgets look at: the only sums worth computing. */
export function periodsInUse(policy: Policy, budgets: readonly Budget[] = []): Period[] {
  return periods.filter((period) => policy.amountMaxMinor[period] !== undefined || policy.countMax[period] !== undefined || budgets.some((budget) => budget.period === period));
}

/** The `operationLimits` patterns that apply to `operation`: the only operation sums worth computing. */
export function operationLimitPatterns(policy: Policy, operation: string | undefined): string[] {
  if (operation === undefined) return [];
  return Object.keys(policy.operationLimits).filter((pattern) => matchesDottedPattern(pattern, operation));
}

/** In-memory sums of `spends` per window (what the store computes in SQL). */
export function sumSpends(spends: readonly Spend[], currency: string, nowMs: number): Record<Period, WindowSpend> {
  const sums = {} as Record<Period, WindowSpend>;
  for (const period of periods) {
    const inside = spends.filter((spend) => spend.atMs > windowStartMs(period, nowMs));
    sums[period] = { amountMinor: inside.filter((spend) => spend.currency === currency).reduce((sum, spend) => sum + spend.amountMinor, 0), count: inside.length };
  }
  return sums;
}

/**
 * Decides what happens to `action` under `policy`.
 * @example decide(policy, { kind: "payment", amountMinor: 500, currency: "GBP", payeeId: "pay_1", spent: {}, payeePaidBefore: true, nowMs: 0 })
 */
export function decide(policy: Policy, action: PolicyAction): Decision {
  validate(policy, action);
  const reasons = new Set<ReasonCode>();
  const remaining: Record<string, number | null> = {};
  const amount = action.amountMinor;

  const currencies = policy.allowedCurrencies ?? [policy.currency];
  if (!currencies.includes(action.currency)) reasons.add("currency_not_allowed");
  const inPolicyCurrency = action.currency === policy.currency;

  if (action.kind === "payment") {
    const payee = action.payeeId ?? "";
    if (policy.blockedPayeeIds.includes(payee)) reasons.add("payee_blocked");
    if (policy.allowedPayeeIds && !policy.allowedPayeeIds.includes(payee)) reasons.add("payee_not_allowed");
    if (policy.newPayeeRequiresApproval && !action.payeePaidBefore) reasons.add("new_payee_requires_approval");
  } else if (action.kind === "service_request" && policy.allowedServices) {
    const service = action.service ?? "";
    const full = `${service}.${action.operation ?? ""}`;
    if (!policy.allowedServices.includes(service) && !policy.allowedServices.includes(full)) reasons.add("service_not_allowed");
  } else if (action.kind === "spend_authorization") {
    const operation = action.operation ?? "";
    if (matchesAnyDottedPattern(policy.blockedOperations, operation)) reasons.add("operation_blocked");
    if (policy.allowedOperations && !matchesAnyDottedPattern(policy.allowedOperations, operation)) reasons.add("operation_not_allowed");
    if (action.payeeId !== undefined) {
      if (policy.blockedPayeeIds.includes(action.payeeId)) reasons.add("payee_blocked");
      if (policy.allowedPayeeIds && !policy.allowedPayeeIds.includes(action.payeeId)) reasons.add("payee_not_allowed");
      if (policy.newPayeeRequiresApproval && !action.payeePaidBefore) reasons.add("new_payee_requires_approval");
    }
  }
  if (action.vendor !== undefined) {
    if (policy.blockedVendors.includes(action.vendor)) reasons.add("vendor_blocked");
    if (policy.allowedVendors && !policy.allowedVendors.includes(action.vendor)) reasons.add("vendor_not_allowed");
  }

  const ownAmount = inPolicyCurrency ? amount : 0;
  if (policy.perTransactionMaxMinor === null) remaining.per_transaction = null;
  else {
    remaining.per_transaction = policy.perTransactionMaxMinor - ownAmount;
    if (inPolicyCurrency && amount > policy.perTransactionMaxMinor) reasons.add("amount_exceeds_transaction_max");
  }

  for (const period of periods) {
    const { amountMinor: spent, count } = action.spent[period] ?? { amountMinor: 0, count: 0 };
    const amountMax = policy.amountMaxMinor[period];
    remaining[period] = amountMax === undefined ? null : amountMax - spent - ownAmount;
    if (amountMax !== undefined && spent + ownAmount > amountMax) reasons.add(`${period}_amount_limit_exceeded`);
    const countMax = policy.countMax[period];
    remaining[`${period}_count`] = countMax === undefined ? null : countMax - count - 1;
    if (countMax !== undefined && count + 1 > countMax) reasons.add(`${period}_count_limit_exceeded`);
    for (const budget of action.budgets ?? []) {
      if (budget.period !== period) continue;
      const left = budget.amountMinor - spent - ownAmount;
      const key = `budget_${period}`;
      remaining[key] = Math.min(remaining[key] ?? left, left);
      if (left < 0) reasons.add("budget_exceeded");
    }
  }

  for (const window of action.sharedWindows ?? []) {
    const left = window.limitMinor - window.spentMinor - (action.currency === window.currency ? amount : 0);
    remaining[window.key] = Math.min(remaining[window.key] ?? left, left);
    if (left < 0) reasons.add(window.reason);
  }

  if (action.kind === "spend_authorization") {
    for (const pattern of operationLimitPatterns(policy, action.operation)) {
      const limit = policy.operationLimits[pattern]!;
      if (limit.perCallMaxMinor !== null) {
        const left = limit.perCallMaxMinor - ownAmount;
        remaining.operation_per_call = Math.min(remaining.operation_per_call ?? left, left);
        if (left < 0) reasons.add("amount_exceeds_operation_max");
      }
      if (limit.dailyMaxMinor !== null) {
        const left = limit.dailyMaxMinor - (action.operationSpent?.[pattern]?.amountMinor ?? 0) - ownAmount;
        remaining.operation_daily = Math.min(remaining.operation_daily ?? left, left);
        if (left < 0) reasons.add("operation_daily_limit_exceeded");
      }
    }
  }

  if (policy.approvalThresholdMinor !== null && inPolicyCurrency && amount >= policy.approvalThresholdMinor) {
    reasons.add("approval_threshold_reached");
  }
  if (action.preApproved) for (const code of approvalReasons) reasons.delete(code as ReasonCode);

  const reason_codes = reasonOrder.filter((code) => reasons.has(code));
  const denies = reason_codes.some((code) => !approvalReasons.has(code));
  const decision: DecisionKind = denies ? "deny" : reason_codes.length > 0 ? "approval_required" : "allow";
  return { decision, reason_codes, remaining, available_actions: availableActions(decision, reason_codes) };
}

function availableActions(decision: DecisionKind, codes: readonly string[]): AvailableAction[] {
  const actions = new Set<AvailableAction>();
  if (decision === "approval_required") actions.add("request_approval");
  for (const code of codes) {
    const budgetCode = code === "budget_exceeded" || code === "team_pool_exceeded" || code === "parent_budget_exceeded";
    if (code === "amount_exceeds_transaction_max" || code === "amount_exceeds_operation_max" || code.endsWith("_amount_limit_exceeded") || code === "operation_daily_limit_exceeded" || budgetCode) actions.add("lower_amount");
    if (code.endsWith("_limit_exceeded") && !code.startsWith("all_time") || budgetCode) actions.add("retry_after_window");
    // The agent's own budget or its team's pool: a manager or owner can raise it (a parent's limit is the parent's to keep).
    if (code === "budget_exceeded" || code === "team_pool_exceeded") actions.add("request_budget");
    if (code === "payee_blocked" || code === "payee_not_allowed") actions.add("choose_allowed_payee");
    if (code === "currency_not_allowed") actions.add("choose_allowed_currency");
    if (code === "service_not_allowed") actions.add("choose_allowed_service");
    if (code === "operation_blocked" || code === "operation_not_allowed") actions.add("choose_allowed_operation");
    if (code === "vendor_blocked" || code === "vendor_not_allowed") actions.add("choose_allowed_vendor");
  }
  return availableActionOrder.filter((a) => actions.has(a));
}
