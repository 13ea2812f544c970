import { afterEach, describe, expect, it, vi } from "vitest";
import { decide, periodsInUse, windowStartMs, sumSpends, type Decision, type Policy, type PolicyAction, type Spend } from "./policy.js";

const dayMs = 86_400_000;
const nowMs = 100 * dayMs;

const open: Policy = {
  currency: "GBP",
  perTransactionMaxMinor: null,
  amountMaxMinor: {},
  countMax: {},
  allowedPayeeIds: null,
  blockedPayeeIds: [],
  allowedCurrencies: null,
  allowedServices: null,
  approvalThresholdMinor: null,
  newPayeeRequiresApproval: false,
  approvalExpirySeconds: 3600,
  allowedOperations: null,
  blockedOperations: [],
  operationLimits: {},
  allowedVendors: null,
  blockedVendors: [],
};
/** A payment action; `history` (raw spends) is summed per window as the store would. */
const pay = (amountMinor: number, more: Partial<PolicyAction> & { history?: Spend[]; paidPayeeIds?: string[] } = {}): PolicyAction => {
  const { history = [], paidPayeeIds = ["pay_a"], ...rest } = more;
  const action: PolicyAction = { kind: "payment", amountMinor, currency: "GBP", payeeId: "pay_a", spent: {}, payeePaidBefore: false, nowMs, ...rest };
  return { ...action, spent: rest.spent ?? sumSpends(history, "GBP", action.nowMs), payeePaidBefore: paidPayeeIds.includes(action.payeeId ?? "") };
};
const spent = (amountMinor: number, ageMs: number, currency = "GBP"): Spend => ({ amountMinor, currency, atMs: nowMs - ageMs });

interface Scenario {
  name: string;
  policy: Partial<Policy>;
  action: PolicyAction;
  decision: Decision["decision"];
  reasons: string[];
  remaining?: Record<string, number | null>;
  actions?: string[];
}

// prettier-ignore
const scenarios: Scenario[] = [
  { name: "open policy allows",                 policy: {}, action: pay(500), decision: "allow", reasons: [], remaining: { per_transaction: null, daily: null, daily_count: null }, actions: [] },
  { name: "per-transaction max: at max allowed", policy: { perTransactionMaxMinor: 500 }, action: pay(500), decision: "allow", reasons: [], remaining: { per_transaction: 0 } },
  { name: "per-transaction max: one over denied", policy: { perTransactionMaxMinor: 500 }, action: pay(501), decision: "deny", reasons: ["amount_exceeds_transaction_max"], remaining: { per_transaction: -1 }, actions: ["lower_amount"] },
  { name: "daily amount: brings total to exactly limit", policy: { amountMaxMinor: { daily: 1000 } }, action: pay(400, { history: [spent(600, 1)] }), decision: "allow", reasons: [], remaining: { daily: 0 } },
  { name: "daily amount: one over", policy: { amountMaxMinor: { daily: 1000 } }, action: pay(401, { history: [spent(600, 1)] }), decision: "deny", reasons: ["daily_amount_limit_exceeded"], remaining: { daily: -1 }, actions: ["lower_amount", "retry_after_window"] },
  { name: "daily window: spend exactly 24 h old is out", policy: { amountMaxMinor: { daily: 1000 } }, action: pay(1000, { history: [spent(600, dayMs)] }), decision: "allow", reasons: [], remaining: { daily: 0 } },
  { name: "daily window: spend 24 h - 1 ms old is in", policy: { amountMaxMinor: { daily: 1000 } }, action: pay(1000, { history: [spent(600, dayMs - 1)] }), decision: "deny", reasons: ["daily_amount_limit_exceeded"] },
  { name: "weekly amount: 6 days ago counts", policy: { amountMaxMinor: { weekly: 1000 } }, action: pay(500, { history: [spent(600, 6 * dayMs)] }), decision: "deny", reasons: ["weekly_amount_limit_exceeded"], remaining: { weekly: -100 } },
  { name: "weekly window: exactly 7 d old is out", policy: { amountMaxMinor: { weekly: 1000 } }, action: pay(500, { history: [spent(600, 7 * dayMs)] }), decision: "allow", reasons: [] },
  { name: "monthly amount: 29 days ago counts", policy: { amountMaxMinor: { monthly: 1000 } }, action: pay(500, { history: [spent(600, 29 * dayMs)] }), decision: "deny", reasons: ["monthly_amount_limit_exceeded"] },
  { name: "monthly window: exactly 30 d old is out", policy: { amountMaxMinor: { monthly: 1000 } }, action: pay(500, { history: [spent(600, 30 * dayMs)] }), decision: "allow", reasons: [] },
  { name: "all-time amount never forgets", policy: { amountMaxMinor: { all_time: 1000 } }, action: pay(500, { history: [spent(600, 90 * dayMs)] }), decision: "deny", reasons: ["all_time_amount_limit_exceeded"], actions: ["lower_amount"] },
  { name: "daily count: last allowed", policy: { countMax: { daily: 2 } }, action: pay(1, { history: [spent(1, 1)] }), decision: "allow", reasons: [], remaining: { daily_count: 0 } },
  { name: "daily count: one too many", policy: { countMax: { daily: 2 } }, action: pay(1, { history: [spent(1, 1), spent(1, 2)] }), decision: "deny", reasons: ["daily_count_limit_exceeded"], actions: ["retry_after_window"] },
  { name: "weekly count", policy: { countMax: { weekly: 1 } }, action: pay(1, { history: [spent(1, 3 * dayMs)] }), decision: "deny", reasons: ["weekly_count_limit_exceeded"] },
  { name: "monthly count", policy: { countMax: { monthly: 1 } }, action: pay(1, { history: [spent(1, 20 * dayMs)] }), decision: "deny", reasons: ["monthly_count_limit_exceeded"] },
  { name: "all-time count", policy: { countMax: { all_time: 1 } }, action: pay(1, { history: [spent(1, 99 * dayMs)] }), decision: "deny", reasons: ["all_time_count_limit_exceeded"], actions: [] },
  { name: "other-currency spends do not count toward amounts", policy: { amountMaxMinor: { daily: 1000 } }, action: pay(1000, { history: [spent(900, 1, "EUR")] }), decision: "allow", reasons: [], remaining: { daily: 0 } },
  { name: "blocked payee", policy: { blockedPayeeIds: ["pay_a"] }, action: pay(1), decision: "deny", reasons: ["payee_blocked"], actions: ["choose_allowed_payee"] },
  { name: "payee not on allow-list", policy: { allowedPayeeIds: ["pay_b"] }, action: pay(1), decision: "deny", reasons: ["payee_not_allowed"] },
  { name: "payee on allow-list", policy: { allowedPayeeIds: ["pay_a"] }, action: pay(1), decision: "allow", reasons: [] },
  { name: "currency not allowed", policy: {}, action: pay(1, { currency: "EUR" }), decision: "deny", reasons: ["currency_not_allowed"], actions: ["choose_allowed_currency"] },
  { name: "other currency allowed, amount limits skip it", policy: { allowedCurrencies: ["GBP", "EUR"], perTransactionMaxMinor: 10 }, action: pay(500, { currency: "EUR" }), decision: "allow", reasons: [] },
  { name: "service allowed by name", policy: { allowedServices: ["search"] }, action: { ...pay(5), kind: "service_request", service: "search", operation: "web" }, decision: "allow", reasons: [] },
  { name: "service allowed by operation", policy: { allowedServices: ["search.web"] }, action: { ...pay(5), kind: "service_request", service: "search", operation: "web" }, decision: "allow", reasons: [] },
  { name: "service operation not allowed", policy: { allowedServices: ["search.news"] }, action: { ...pay(5), kind: "service_request", service: "search", operation: "web" }, decision: "deny", reasons: ["service_not_allowed"], actions: ["choose_allowed_service"] },
  { name: "approval threshold: below allows", policy: { approvalThresholdMinor: 1000 }, action: pay(999), decision: "allow", reasons: [] },
  { name: "approval threshold: at threshold needs approval", policy: { approvalThresholdMinor: 1000 }, action: pay(1000), decision: "approval_required", reasons: ["approval_threshold_reached"], actions: ["request_approval"] },
  { name: "new payee needs approval", policy: { newPayeeRequiresApproval: true }, action: pay(1, { paidPayeeIds: [] }), decision: "approval_required", reasons: ["new_payee_requires_approval"] },
  { name: "known payee passes", policy: { newPayeeRequiresApproval: true }, action: pay(1), decision: "allow", reasons: [] },
  { name: "budget at exactly its amount", policy: {}, action: pay(400, { history: [spent(600, 1)], budgets: [{ period: "weekly", amountMinor: 1000 }] }), decision: "allow", reasons: [], remaining: { budget_weekly: 0 } },
  { name: "budget exceeded", policy: {}, action: pay(401, { history: [spent(600, 1)], budgets: [{ period: "weekly", amountMinor: 1000 }] }), decision: "deny", reasons: ["budget_exceeded"], remaining: { budget_weekly: -1 } },
  { name: "deny wins over approval; all reasons in stable order", policy: { blockedPayeeIds: ["pay_n"], perTransactionMaxMinor: 100, approvalThresholdMinor: 50, newPayeeRequiresApproval: true, amountMaxMinor: { daily: 100 } },
    action: pay(200, { payeeId: "pay_n", paidPayeeIds: [] }), decision: "deny",
    reasons: ["payee_blocked", "amount_exceeds_transaction_max", "daily_amount_limit_exceeded", "approval_threshold_reached", "new_payee_requires_approval"],
    actions: ["lower_amount", "choose_allowed_payee", "retry_after_window"] },
  { name: "two approval reasons together", policy: { approvalThresholdMinor: 10, newPayeeRequiresApproval: true }, action: pay(10, { paidPayeeIds: [] }), decision: "approval_required", reasons: ["approval_threshold_reached", "new_payee_requires_approval"] },
];

describe("policy scenarios", () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const result = decide({ ...open, ...s.policy }, s.action);
      expect(result.decision).toBe(s.decision);
      expect(result.reason_codes).toEqual(s.reasons);
      if (s.remaining) expect(result.remaining).toMatchObject(s.remaining);
      if (s.actions) expect(result.available_actions).toEqual(s.actions);
    });
  }
});

describe("policy engine properties", () => {
  afterEach(() => vi.useRealTimers());

  it("is deterministic: same input, same output", () => {
    const policy = { ...open, amountMaxMinor: { daily: 1000 }, countMax: { weekly: 3 }, approvalThresholdMinor: 500 };
    const action = pay(600, { history: [spent(300, 5)] });
    expect(decide(policy, action)).toEqual(decide(policy, action));
  });

  it("never reads the clock: only action.nowMs moves the windows", () => {
    const policy = { ...open, amountMaxMinor: { daily: 1000 } };
    const action = pay(1000, { history: [spent(600, dayMs - 1)] });
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const early = decide(policy, action);
    vi.setSystemTime(nowMs + 10 * dayMs);
    expect(decide(policy, action)).toEqual(early);
    expect(early.decision).toBe("deny");
    expect(decide(policy, pay(1000, { history: [spent(600, dayMs - 1)], nowMs: nowMs + 1 })).decision).toBe("allow");
  });

  it.each([0, -1, 1.5, Number.NaN])("rejects amount %s with RangeError", (amountMinor) => {
    expect(() => decide(open, pay(amountMinor))).toThrow(RangeError);
  });

  it("rejects a negative limit and a negative spent window", () => {
    expect(() => decide({ ...open, perTransactionMaxMinor: -1 }, pay(1))).toThrow(RangeError);
    expect(() => decide(open, pay(1, { spent: { daily: { amountMinor: -1, count: 0 } } }))).toThrow(RangeError);
  });
});

describe("spending windows", () => {
  it("sums spends strictly inside each trailing window; count in every currency, amount in one", () => {
    const spends: Spend[] = [spent(100, 1), spent(200, dayMs), spent(400, 6 * dayMs, "EUR"), spent(800, 29 * dayMs), spent(1600, 30 * dayMs)];
    expect(sumSpends(spends, "GBP", nowMs)).toEqual({
      daily: { amountMinor: 100, count: 1 },
      weekly: { amountMinor: 300, count: 3 },
      monthly: { amountMinor: 1100, count: 4 },
      all_time: { amountMinor: 2700, count: 5 },
    });
    expect(windowStartMs("daily", nowMs)).toBe(nowMs - dayMs);
    expect(windowStartMs("all_time", nowMs)).toBe(Number.MIN_SAFE_INTEGER);
  });

  it("only the periods a policy or budget looks at are summed", () => {
    expect(periodsInUse(open)).toEqual([]);
    expect(periodsInUse({ ...open, amountMaxMinor: { monthly: 1 }, countMax: { daily: 1 } }, [{ period: "all_time", amountMinor: 5 }])).toEqual(["daily", "monthly", "all_time"]);
  });
});
