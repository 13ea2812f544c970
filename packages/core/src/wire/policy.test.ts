import { describe, expect, it } from "vitest";
import { policy } from "./policy.js";

const valid = {
  currency: "GBP", per_transaction_max_minor: 50_000, amount_max_minor: { daily: 100_000 }, count_max: { all_time: 10 },
  allowed_payee_ids: null, blocked_payee_ids: ["pay_x"], allowed_currencies: ["GBP"], allowed_services: ["search.web"],
  approval_threshold_minor: 20_000, new_payee_requires_approval: true, approval_expiry_seconds: 3600,
};

describe("wire.policy", () => {
  it("accepts a full policy", () => expect(policy.safeParse(valid).success).toBe(true));
  it.each([
    ["negative limit", { ...valid, per_transaction_max_minor: -1 }],
    ["unknown period", { ...valid, amount_max_minor: { hourly: 1 } }],
    ["unknown field", { ...valid, extra: 1 }],
    ["fractional amount", { ...valid, approval_threshold_minor: 1.5 }],
  ])("rejects %s", (_name, body) => expect(policy.safeParse(body).success).toBe(false));
});
