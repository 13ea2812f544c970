import { describe, expect, it } from "vitest";
import { describeIntent, intentStatus } from "./replies.js";

/** A payment intent as the server's `paymentIntentView` shows it (the fields replies read). */
const intent = (overrides: Record<string, unknown>, leg: Record<string, unknown> = {}) => ({
  id: "pi_1", amount: 50_000, currency: "GBP", amount_display: "500.00", approval_id: null, reason_codes: [], available_actions: [],
  approval_status: "auto_approved", execution_status: "completed", decision: "allow",
  legs: [{ payee_id: "pay_bob", payee_name: "Bob Smith", status: "completed", decision: "allow", reason_codes: [], transaction_id: "txn_1", ...leg }],
  ...overrides,
});

describe("describeIntent: every outcome the server reports, said precisely", () => {
  it.each([
    ["executed", intent({}), "Paid 500.00 GBP to Bob Smith (pi_1); transaction txn_1."],
    [
      "denied by policy (decision deny, execution failed, approval untouched)",
      intent({ execution_status: "failed", decision: "deny", reason_codes: ["payee_blocked"], available_actions: ["choose_allowed_payee"] }, { status: "denied", decision: "deny", reason_codes: ["payee_blocked"], transaction_id: null }),
      "The payment of 500.00 GBP to Bob Smith (pi_1) was refused: this payee is blocked. Nothing was paid. You can pay an allowed payee.",
    ],
    [
      "denied for lack of funds",
      intent({ execution_status: "failed", decision: "deny", reason_codes: ["insufficient_funds"] }, { status: "denied", decision: "deny", transaction_id: null }),
      "The payment of 500.00 GBP to Bob Smith (pi_1) was refused: not enough money in the wallet. Nothing was paid.",
    ],
    [
      "rejected by an owner",
      intent({ approval_status: "rejected", execution_status: "cancelled", approval_id: "apr_1" }, { status: "cancelled", transaction_id: null }),
      "The payment of 500.00 GBP to Bob Smith (pi_1) was rejected by an owner; nothing was paid.",
    ],
    [
      "failed on the rail",
      intent({ execution_status: "failed" }, { status: "failed", reason_codes: [] }),
      "The payment of 500.00 GBP to Bob Smith (pi_1) failed on the payment rail; nothing was paid.",
    ],
  ])("%s", (_name, value, expected) => {
    expect(describeIntent(value)).toBe(expected);
  });

  it("lists a denied intent as refused and a rejected one as rejected", () => {
    expect(intentStatus(intent({ execution_status: "failed", decision: "deny", reason_codes: ["payee_blocked"] }, { status: "denied", decision: "deny" }))).toBe("refused (this payee is blocked)");
    expect(intentStatus(intent({ approval_status: "rejected", execution_status: "cancelled" }, { status: "cancelled" }))).toBe("rejected by an owner");
    expect(intentStatus(intent({ execution_status: "failed" }, { status: "failed" }))).toBe("failed");
  });
});
