import { describe, expect, it } from "vitest";
import { chatToolDefinitions, chatToolNames, validateToolCall } from "./tools.js";

describe("chat tools", () => {
  it("are exactly the eleven governed operations: adding one is a reviewed change", () => {
    expect(chatToolNames).toEqual([
      "get_balance",
      "list_transactions",
      "list_payment_intents",
      "get_payment_intent",
      "find_payees",
      "check_policy",
      "create_payment_intent",
      "list_pending_approvals",
      "list_services",
      "create_service_request",
      "get_service_request",
    ]);
    // No tool approves, rejects, edits policy or limits, or touches credentials.
    for (const name of chatToolNames) expect(name).not.toMatch(/approve|reject|policy_|update|set_|limit|budget|secret|key|token|delete/);
  });

  it("describe every tool to an LLM as a strict JSON Schema object", () => {
    for (const tool of chatToolDefinitions) {
      expect(tool.description.length).toBeGreaterThan(20);
      expect(tool.parameters).toMatchObject({ type: "object", additionalProperties: false });
      expect(tool.parameters).not.toHaveProperty("$schema");
    }
    const pay = chatToolDefinitions.find((tool) => tool.name === "create_payment_intent")!;
    expect(pay.parameters).toMatchObject({
      required: ["payee", "amount", "currency"],
      properties: { amount: { type: "string" }, currency: { type: "string", pattern: "^[A-Z]{3}$" }, reference: { type: "string", maxLength: 512 } },
    });
  });

  const table: [string, string | Record<string, unknown>, { ok: true; arguments: Record<string, unknown> } | { ok: false; code: string; message?: string }][] = [
    ["get_balance", "", { ok: true, arguments: {} }],
    ["get_balance", "{}", { ok: true, arguments: {} }],
    ["get_balance", { all: true }, { ok: false, code: "invalid_arguments", message: "Unrecognized key" }],
    ["list_transactions", { limit: 5 }, { ok: true, arguments: { limit: 5 } }],
    ["list_transactions", { limit: 101 }, { ok: false, code: "invalid_arguments", message: "limit" }],
    ["list_transactions", { limit: 2.5 }, { ok: false, code: "invalid_arguments" }],
    ["list_payment_intents", { status: "pending_approval" }, { ok: true, arguments: { status: "pending_approval" } }],
    ["list_payment_intents", { status: "executing" }, { ok: true, arguments: { status: "executing" } }],
    ["list_payment_intents", { status: "approved" }, { ok: false, code: "invalid_arguments", message: "status" }],
    ["get_payment_intent", { payment_intent_id: "pi_01ABC" }, { ok: true, arguments: { payment_intent_id: "pi_01ABC" } }],
    ["get_payment_intent", { payment_intent_id: "apr_1" }, { ok: false, code: "invalid_arguments", message: "pi_" }],
    ["find_payees", { query: "  Bob " }, { ok: true, arguments: { query: "Bob" } }],
    ["find_payees", { query: "" }, { ok: false, code: "invalid_arguments" }],
    ["check_policy", { payee: "Bob", amount: "900", currency: "GBP" }, { ok: true, arguments: { payee: "Bob", amount: "900", currency: "GBP" } }],
    ["check_policy", { payee: "Bob", amount: "900", currency: "gbp" }, { ok: false, code: "invalid_arguments", message: "currency" }],
    ["create_payment_intent", { payee: "pay_1", amount: "1.234", currency: "KWD" }, { ok: true, arguments: { payee: "pay_1", amount: "1.234", currency: "KWD" } }],
    ["create_payment_intent", { payee: "pay_1", amount: "1,000", currency: "GBP" }, { ok: false, code: "invalid_arguments", message: "amount" }],
    ["create_payment_intent", { payee: "pay_1", amount: "1e3", currency: "GBP" }, { ok: false, code: "invalid_arguments", message: "amount" }],
    ["create_payment_intent", { payee: "pay_1", amount: "5", currency: "GBP", reference: "" }, { ok: false, code: "invalid_arguments", message: "reference" }],
    ["create_service_request", { service: "translate", operation: "run", payload: { text: "hi" } }, { ok: true, arguments: { service: "translate", operation: "run", payload: { text: "hi" } } }],
    ["create_service_request", { service: "translate", operation: "run", payload: [] }, { ok: false, code: "invalid_arguments", message: "payload" }],
    ["approve_approval", { approval_id: "apr_1" }, { ok: false, code: "unknown_tool", message: 'There is no tool named "approve_approval"' }],
    ["__proto__", {}, { ok: false, code: "unknown_tool" }],
    ["toString", {}, { ok: false, code: "unknown_tool" }],
    ["get_balance", "[1,", { ok: false, code: "invalid_arguments", message: "not valid JSON" }],
    ["get_balance", "null", { ok: false, code: "invalid_arguments" }],
  ];
  it.each(table)("validateToolCall(%s, %j)", (name, args, expected) => {
    const result = validateToolCall(name, args);
    if (expected.ok) {
      expect(result).toEqual({ ok: true, name, arguments: expected.arguments });
    } else {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe(expected.code);
        if (expected.message) expect(result.error.message).toContain(expected.message);
      }
    }
  });
});
