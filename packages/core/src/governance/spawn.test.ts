/**
 * Spawn narrowing as a table (issue 15): a child's policy looser than its parent's in any field is
 * refused with that field named; equal or tighter passes. One row per way of loosening.
 */
import { describe, expect, it } from "vitest";
import type { PolicyWire } from "../wire/policy.js";
import { patternCovers, policyLoosenings } from "./spawn.js";

const parent: PolicyWire = {
  currency: "GBP",
  per_transaction_max_minor: 5_000,
  amount_max_minor: { daily: 20_000, monthly: 100_000 },
  count_max: { daily: 10 },
  allowed_payee_ids: ["pay_a", "pay_b"],
  blocked_payee_ids: ["pay_x"],
  allowed_currencies: ["GBP", "EUR"],
  allowed_services: ["sandbox", "search.query"],
  approval_threshold_minor: 3_000,
  new_payee_requires_approval: true,
  approval_expiry_seconds: 3_600,
  allowed_operations: ["openai.*", "stripe.charges.create"],
  blocked_operations: ["openai.images.*"],
  operation_limits: { "openai.*": { per_call_max_minor: 500, daily_max_minor: 2_000 } },
  allowed_vendors: ["openai", "stripe"],
  blocked_vendors: ["shady"],
};

const loosened: Array<[string, Partial<PolicyWire>, string[]]> = [
  ["another currency", { currency: "EUR" }, ["policy.currency"]],
  ["a higher per-transaction maximum", { per_transaction_max_minor: 5_001 }, ["policy.per_transaction_max_minor"]],
  ["no per-transaction maximum", { per_transaction_max_minor: null }, ["policy.per_transaction_max_minor"]],
  ["a higher daily amount", { amount_max_minor: { daily: 20_001, monthly: 100_000 } }, ["policy.amount_max_minor.daily"]],
  ["a period limit dropped", { amount_max_minor: { daily: 20_000 } }, ["policy.amount_max_minor.monthly"]],
  ["a higher daily count", { count_max: { daily: 11 } }, ["policy.count_max.daily"]],
  ["a count limit dropped", { count_max: {} }, ["policy.count_max.daily"]],
  ["a payee outside the allow-list", { allowed_payee_ids: ["pay_a", "pay_c"] }, ["policy.allowed_payee_ids"]],
  ["no payee allow-list", { allowed_payee_ids: null }, ["policy.allowed_payee_ids"]],
  ["a blocked payee unblocked", { blocked_payee_ids: [] }, ["policy.blocked_payee_ids"]],
  ["a currency outside the parent's", { allowed_currencies: ["GBP", "USD"] }, ["policy.allowed_currencies"]],
  ["a service outside the parent's", { allowed_services: ["sandbox", "search"] }, ["policy.allowed_services"]],
  ["every service", { allowed_services: null }, ["policy.allowed_services"]],
  ["a higher approval threshold", { approval_threshold_minor: 3_001 }, ["policy.approval_threshold_minor"]],
  ["no approval threshold", { approval_threshold_minor: null }, ["policy.approval_threshold_minor"]],
  ["new payees without approval", { new_payee_requires_approval: false }, ["policy.new_payee_requires_approval"]],
  ["a longer approval expiry", { approval_expiry_seconds: 3_601 }, ["policy.approval_expiry_seconds"]],
  ["an operation outside the parent's", { allowed_operations: ["openai.*", "stripe.*"] }, ["policy.allowed_operations"]],
  ["every operation", { allowed_operations: ["*"] }, ["policy.allowed_operations"]],
  ["no operation allow-list", { allowed_operations: null }, ["policy.allowed_operations"]],
  ["a blocked operation pattern narrowed", { blocked_operations: ["openai.images.create"] }, ["policy.blocked_operations"]],
  ["a higher per-call operation limit", { operation_limits: { "openai.*": { per_call_max_minor: 501, daily_max_minor: 2_000 } } }, ["policy.operation_limits.openai.*.per_call_max_minor"]],
  ["an operation limit dropped", { operation_limits: {} }, ["policy.operation_limits.openai.*.per_call_max_minor", "policy.operation_limits.openai.*.daily_max_minor"]],
  ["a vendor outside the parent's", { allowed_vendors: ["openai", "anthropic"] }, ["policy.allowed_vendors"]],
  ["a blocked vendor unblocked", { blocked_vendors: [] }, ["policy.blocked_vendors"]],
  ["several fields at once", { per_transaction_max_minor: 9_000, approval_threshold_minor: null, blocked_vendors: [] }, ["policy.per_transaction_max_minor", "policy.approval_threshold_minor", "policy.blocked_vendors"]],
];

const tightened: Array<[string, Partial<PolicyWire>]> = [
  ["the same policy", {}],
  ["lower limits everywhere", { per_transaction_max_minor: 1, amount_max_minor: { daily: 1, monthly: 1, weekly: 1 }, count_max: { daily: 1, all_time: 5 }, approval_threshold_minor: 0, approval_expiry_seconds: 60 }],
  ["narrower lists", { allowed_payee_ids: ["pay_a"], allowed_currencies: ["GBP"], allowed_services: ["sandbox.echo", "search.query"], allowed_operations: ["openai.chat", "openai.embeddings.*"], allowed_vendors: [] }],
  ["more blocked", { blocked_payee_ids: ["pay_x", "pay_y"], blocked_operations: ["openai.*"], blocked_vendors: ["shady", "worse"] }],
  ["tighter operation limits and more of them", { operation_limits: { "openai.*": { per_call_max_minor: 100, daily_max_minor: 1_000 }, "stripe.*": { per_call_max_minor: 1, daily_max_minor: null } } }],
];

describe("a child's policy against its parent's", () => {
  it.each(loosened)("looser: %s is refused, the field named", (_name, change, paths) => {
    const errors = policyLoosenings(parent, { ...parent, ...change });
    expect(errors.map((error) => error.path)).toEqual(paths);
    for (const error of errors) expect(error.code).toBe("spawn_policy_looser_than_parent");
  });

  it.each(tightened)("no looser: %s passes", (_name, change) => {
    expect(policyLoosenings(parent, { ...parent, ...change })).toEqual([]);
  });

  // Currencies are never unlimited: null means the policy's own currency only (policy.ts), so the
  // open parent keeps its currency list.
  it("a parent without limits lets the child choose any", () => {
    const open: PolicyWire = { ...parent, per_transaction_max_minor: null, amount_max_minor: {}, count_max: {}, allowed_payee_ids: null, blocked_payee_ids: [], allowed_currencies: parent.allowed_currencies, allowed_services: null, approval_threshold_minor: null, new_payee_requires_approval: false, allowed_operations: null, blocked_operations: [], operation_limits: {}, allowed_vendors: null, blocked_vendors: [] };
    expect(policyLoosenings(open, { ...parent, approval_expiry_seconds: open.approval_expiry_seconds })).toEqual([]);
  });
});

describe("operation pattern coverage", () => {
  it.each([
    ["*", "anything.at.all", true],
    ["*", "*", true],
    ["openai.*", "openai.chat", true],
    ["openai.*", "openai.chat.*", true],
    ["openai.*", "openai.*", true],
    ["openai.*", "openai", false],
    ["openai.*", "openaix.chat", false],
    ["openai.*", "*", false],
    ["openai.chat", "openai.chat", true],
    ["openai.chat", "openai.chat.*", false],
    ["openai.chat", "openai.*", false],
  ] as const)("%s covers %s: %s", (parentPattern, childPattern, covers) => {
    expect(patternCovers(parentPattern, childPattern)).toBe(covers);
  });
});
