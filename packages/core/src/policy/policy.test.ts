import { afterEach, describe, expect, it, vi } from "vitest";
import { decide, operationLimitPatterns, periodsInUse, windowStartMs, sumSpends, type Decision, type Policy, type PolicyAction, type Spend } from "./policy.js";

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

/** A spend authorization of `operation`; `operationSpent` as the store sums it per limit pattern. */
const spend = (amountMinor: number, operation: string, more: Partial<PolicyAction> & { history?: Spend[] } = {}): PolicyAction => {
  const { history = [], ...rest } = more;
  const action: PolicyAction = { kind: "spend_authorization", amountMinor, currency: "GBP", operation, spent: {}, payeePaidBefore: false, nowMs, ...rest };
  return { ...action, spent: rest.spent ?? sumSpends(history, "GBP", action.nowMs) };
};
const opSpent = (pattern: string, amountMinor: number) => ({ operationSpent: { [pattern]: { amountMinor, count: 1 } } });
const limits = (perCallMaxMinor: number | null, dailyMaxMinor: number | null) => ({ perCallMaxMinor, dailyMaxMinor });

// prettier-ignore
const spendScenarios: Scenario[] = [
  { name: "any operation when no allow-list",                policy: {}, action: spend(100, "openai.chat"), decision: "allow", reasons: [], actions: [] },
  { name: "allow-list: prefix pattern matches deeper names",  policy: { allowedOperations: ["openai.*"] }, action: spend(100, "openai.chat.stream"), decision: "allow", reasons: [] },
  { name: "allow-list: prefix pattern is not the bare word",  policy: { allowedOperations: ["openai.*"] }, action: spend(100, "openai"), decision: "deny", reasons: ["operation_not_allowed"], actions: ["choose_allowed_operation"] },
  { name: "allow-list: prefix is a word, not a string prefix", policy: { allowedOperations: ["openai.*"] }, action: spend(100, "openaix.chat"), decision: "deny", reasons: ["operation_not_allowed"] },
  { name: "allow-list: exact name",                           policy: { allowedOperations: ["stripe.charges.create"] }, action: spend(100, "stripe.charges.create"), decision: "allow", reasons: [] },
  { name: "allow-list: exact name is not a prefix",           policy: { allowedOperations: ["stripe.charges"] }, action: spend(100, "stripe.charges.create"), decision: "deny", reasons: ["operation_not_allowed"] },
  { name: "allow-list: star allows everything",               policy: { allowedOperations: ["*"] }, action: spend(100, "x402.fetch"), decision: "allow", reasons: [] },
  { name: "allow-list: empty allows nothing",                 policy: { allowedOperations: [] }, action: spend(100, "x402.fetch"), decision: "deny", reasons: ["operation_not_allowed"] },
  { name: "block-list wins over the allow-list",              policy: { allowedOperations: ["openai.*"], blockedOperations: ["openai.images"] }, action: spend(100, "openai.images"), decision: "deny", reasons: ["operation_blocked"], actions: ["choose_allowed_operation"] },
  { name: "blocked prefix",                                   policy: { blockedOperations: ["crypto.*"] }, action: spend(100, "crypto.swap.eth"), decision: "deny", reasons: ["operation_blocked"] },
  { name: "vendor blocked",                                   policy: { blockedVendors: ["shady"] }, action: spend(100, "tools.x", { vendor: "shady" }), decision: "deny", reasons: ["vendor_blocked"], actions: ["choose_allowed_vendor"] },
  { name: "vendor not on the allow-list",                     policy: { allowedVendors: ["openai"] }, action: spend(100, "tools.x", { vendor: "acme" }), decision: "deny", reasons: ["vendor_not_allowed"] },
  { name: "vendor on the allow-list",                         policy: { allowedVendors: ["openai"] }, action: spend(100, "openai.chat", { vendor: "openai" }), decision: "allow", reasons: [] },
  { name: "vendor lists apply to payments that name a vendor", policy: { blockedVendors: ["shady"] }, action: pay(100, { vendor: "shady" }), decision: "deny", reasons: ["vendor_blocked"] },
  { name: "operation rules never touch payments",             policy: { allowedOperations: [], operationLimits: { "*": limits(1, 1) } }, action: pay(100), decision: "allow", reasons: [] },
  { name: "operation rules never touch service requests",     policy: { allowedOperations: [] }, action: { ...pay(5), kind: "service_request", service: "sandbox", operation: "echo" }, decision: "allow", reasons: [] },
  { name: "allowed services do not govern authorizations",    policy: { allowedServices: ["sandbox"] }, action: spend(100, "openai.chat"), decision: "allow", reasons: [] },
  { name: "per-call max: at the max",                         policy: { operationLimits: { "openai.*": limits(500, null) } }, action: spend(500, "openai.chat"), decision: "allow", reasons: [], remaining: { operation_per_call: 0 } },
  { name: "per-call max: one over",                           policy: { operationLimits: { "openai.*": limits(500, null) } }, action: spend(501, "openai.chat"), decision: "deny", reasons: ["amount_exceeds_operation_max"], actions: ["lower_amount"] },
  { name: "per-call max of a pattern that does not match",    policy: { operationLimits: { "openai.*": limits(500, null) } }, action: spend(501, "anthropic.messages"), decision: "allow", reasons: [] },
  { name: "operation daily: reaches the limit exactly",       policy: { operationLimits: { "openai.*": limits(null, 1000) } }, action: spend(400, "openai.chat", opSpent("openai.*", 600)), decision: "allow", reasons: [], remaining: { operation_daily: 0 } },
  { name: "operation daily: one over",                        policy: { operationLimits: { "openai.*": limits(null, 1000) } }, action: spend(401, "openai.chat", opSpent("openai.*", 600)), decision: "deny", reasons: ["operation_daily_limit_exceeded"], actions: ["lower_amount", "retry_after_window"] },
  { name: "operation daily: other patterns' sums do not count", policy: { operationLimits: { "openai.*": limits(null, 1000) } }, action: spend(1000, "openai.chat", opSpent("anthropic.*", 900)), decision: "allow", reasons: [] },
  { name: "every matching pattern applies; the tightest remains", policy: { operationLimits: { "openai.*": limits(900, 5000), "openai.chat": limits(300, null), "*": limits(null, 2000) } },
    action: spend(400, "openai.chat", { operationSpent: { "openai.*": { amountMinor: 100, count: 1 }, "*": { amountMinor: 1500, count: 3 } } }), decision: "deny",
    reasons: ["amount_exceeds_operation_max"], remaining: { operation_per_call: -100, operation_daily: 100 } },
  { name: "shared windows: prior payments and services count against the daily limit", policy: { amountMaxMinor: { daily: 1000 } }, action: spend(401, "openai.chat", { history: [spent(300, 1), spent(300, 2)] }), decision: "deny", reasons: ["daily_amount_limit_exceeded"], remaining: { daily: -1 } },
  { name: "shared windows: the count limit counts authorizations", policy: { countMax: { daily: 2 } }, action: spend(1, "openai.chat", { history: [spent(1, 1), spent(1, 2)] }), decision: "deny", reasons: ["daily_count_limit_exceeded"] },
  { name: "shared budgets",                                   policy: {}, action: spend(500, "openai.chat", { history: [spent(600, 1)], budgets: [{ period: "daily", amountMinor: 1000 }] }), decision: "deny", reasons: ["budget_exceeded"] },
  { name: "approval threshold applies to authorizations",     policy: { approvalThresholdMinor: 1000 }, action: spend(1000, "openai.chat"), decision: "approval_required", reasons: ["approval_threshold_reached"], actions: ["request_approval"] },
  { name: "capability waives the threshold",                  policy: { approvalThresholdMinor: 1000 }, action: spend(1000, "openai.chat", { preApproved: true }), decision: "allow", reasons: [], actions: [] },
  { name: "capability waives new-payee approval",             policy: { newPayeeRequiresApproval: true }, action: spend(10, "tools.pay", { payeeId: "pay_new", preApproved: true }), decision: "allow", reasons: [] },
  { name: "capability never waives a hard limit",             policy: { approvalThresholdMinor: 100, perTransactionMaxMinor: 500 }, action: spend(501, "openai.chat", { preApproved: true }), decision: "deny", reasons: ["amount_exceeds_transaction_max"] },
  { name: "capability never waives the operation rules",      policy: { blockedOperations: ["openai.*"] }, action: spend(1, "openai.chat", { preApproved: true }), decision: "deny", reasons: ["operation_blocked"] },
  { name: "capability never waives a window",                 policy: { amountMaxMinor: { daily: 1000 }, approvalThresholdMinor: 1 }, action: spend(500, "openai.chat", { history: [spent(600, 1)], preApproved: true }), decision: "deny", reasons: ["daily_amount_limit_exceeded"] },
  { name: "a named payee meets the payee rules",              policy: { blockedPayeeIds: ["pay_a"] }, action: spend(10, "tools.pay", { payeeId: "pay_a" }), decision: "deny", reasons: ["payee_blocked"] },
  { name: "no payee named: the payee allow-list does not apply", policy: { allowedPayeeIds: ["pay_b"] }, action: spend(10, "openai.chat"), decision: "allow", reasons: [] },
];

describe.each([
  ["policy scenarios", scenarios],
  ["spend authorization scenarios", spendScenarios],
])("%s", (_title, table) => {
  for (const s of table) {
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
    expect(() => decide({ ...open, operationLimits: { "a.*": limits(-1, null) } }, spend(1, "a.b"))).toThrow(RangeError);
    expect(() => decide(open, spend(1, "a.b", opSpent("a.*", -5)))).toThrow(RangeError);
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

  it("only the operation patterns that match are summed", () => {
    const policy = { ...open, operationLimits: { "openai.*": limits(1, 1), "openai.chat": limits(1, 1), "anthropic.*": limits(1, 1), "*": limits(1, 1) } };
    expect(operationLimitPatterns(policy, "openai.chat")).toEqual(["openai.*", "openai.chat", "*"]);
    expect(operationLimitPatterns(policy, "x402.fetch")).toEqual(["*"]);
    expect(operationLimitPatterns(policy, undefined)).toEqual([]);
  });

  it("only the periods a policy or budget looks at are summed", () => {
    expect(periodsInUse(open)).toEqual([]);
    expect(periodsInUse({ ...open, amountMaxMinor: { monthly: 1 }, countMax: { daily: 1 } }, [{ period: "all_time", amountMinor: 5 }])).toEqual(["daily", "monthly", "all_time"]);
  });
});
