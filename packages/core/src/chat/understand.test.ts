import { describe, expect, it } from "vitest";
import { parseAmountPhrase, toMinor, understand, type ChatRequest } from "./understand.js";

describe("parseAmountPhrase", () => {
  const table: [string, ReturnType<typeof parseAmountPhrase>][] = [
    ["£500", { decimal: "500", currency: "GBP" }],
    ["£ 500", { decimal: "500", currency: "GBP" }],
    ["$12.50", { decimal: "12.50", currency: "USD" }],
    ["€1,250.00", { decimal: "1250.00", currency: "EUR" }],
    ["1,250", { decimal: "1250", currency: null }],
    ["1,234,567.89", { decimal: "1234567.89", currency: null }],
    ["20 USD", { decimal: "20", currency: "USD" }],
    ["20 usd", { decimal: "20", currency: "USD" }],
    ["20USD", { decimal: "20", currency: "USD" }],
    ["GBP 500", { decimal: "500", currency: "GBP" }],
    ["eur 7", { decimal: "7", currency: "EUR" }],
    ["30 euros", { decimal: "30", currency: "EUR" }],
    ["5 pounds", { decimal: "5", currency: "GBP" }],
    ["10 dollars", { decimal: "10", currency: "USD" }],
    ["1000 yen", { decimal: "1000", currency: "JPY" }],
    ["$20 USD", { decimal: "20", currency: "USD" }],
    ["12.50", { decimal: "12.50", currency: null }],
    ["12.", { decimal: "12", currency: null }],
    [".5", { decimal: "0.5", currency: null }],
    ["0500", { decimal: "500", currency: null }],
    ["1.5 KWD", { decimal: "1.5", currency: "KWD" }],
    // problems
    ["-5", { problem: "negative" }],
    ["£-5", { problem: "negative" }],
    ["-£5", { problem: "negative" }],
    ["−5 GBP", { problem: "negative" }],
    ["USD -3", { problem: "negative" }],
    ["0", { problem: "zero" }],
    ["£0.00", { problem: "zero" }],
    ["1.5k", { problem: "abbreviated" }],
    ["£2m", { problem: "abbreviated" }],
    ["3 million", { problem: "abbreviated" }],
    ["1,25", { problem: "malformed" }],
    ["12,50.00", { problem: "malformed" }],
    ["20 XYZ", { problem: "unknown_currency" }],
    ["£20 USD", { problem: "currency_conflict" }],
    ["EUR 20 dollars", { problem: "currency_conflict" }],
    // not amounts at all
    ["Bob", null],
    ["20 apples", null],
    ["20 now", null],
    ["5 to", null],
  ];
  it.each(table)("%s", (text, expected) => {
    expect(parseAmountPhrase(text)).toEqual(expected);
  });
});

describe("toMinor (exact, per currency exponent)", () => {
  const table: [string, string, ReturnType<typeof toMinor>][] = [
    ["500", "GBP", { amountMinor: 50_000 }],
    ["12.5", "USD", { amountMinor: 1250 }],
    ["0.01", "EUR", { amountMinor: 1 }],
    ["1000", "JPY", { amountMinor: 1000 }],
    ["1.5", "JPY", { problem: "too_many_decimals" }],
    ["1.000", "JPY", { problem: "too_many_decimals" }],
    ["12.345", "GBP", { problem: "too_many_decimals" }],
    ["12.500", "GBP", { problem: "too_many_decimals" }],
    ["1.234", "KWD", { amountMinor: 1234 }],
    ["10000000000000", "GBP", { amountMinor: 1_000_000_000_000_000 }],
    ["10000000000000.01", "GBP", { problem: "too_large" }],
    ["99999999999999999", "JPY", { problem: "too_large" }],
    // 0.1 + 0.2 would be 0.30000000000000004 as floats; here it is just digits.
    ["0.30", "USD", { amountMinor: 30 }],
  ];
  it.each(table)("%s %s", (decimal, currency, expected) => {
    expect(toMinor(decimal, currency)).toEqual(expected);
  });
});

describe("understand", () => {
  const pay = (payee: string, decimal: string, currency: string | null, reference: string | null = null): ChatRequest => ({
    kind: "pay",
    payment: { payee, amount: { decimal, currency }, reference },
  });
  const check = (payee: string, decimal: string, currency: string | null): ChatRequest => ({
    kind: "check_policy",
    payment: { payee, amount: { decimal, currency }, reference: null },
  });
  const table: [string, ChatRequest][] = [
    // payments: amount first
    ["Pay £500 to Bob for the April invoice", pay("Bob", "500", "GBP", "April invoice")],
    ["send 20 USD to alice", pay("alice", "20", "USD")],
    ["transfer €1,250.00 to ACME Ltd", pay("ACME Ltd", "1250.00", "EUR")],
    ["Please send $5 to Bob, thanks!", pay("Bob", "5", "USD")],
    ["Could you pay 30 euros to ACME Ltd?", pay("ACME Ltd", "30", "EUR")],
    ["I'd like to pay GBP 75 to Robert ref INV-42", pay("Robert", "75", "GBP", "INV-42")],
    ["wire 1000 JPY to pay_bob", pay("pay_bob", "1000", "JPY")],
    ["make a payment of £12.50 to Bob for lunch", pay("Bob", "12.50", "GBP", "lunch")],
    ["pay £500 to \"Bob\"", pay("Bob", "500", "GBP")],
    // payments: payee first
    ["pay Bob 12.50", pay("Bob", "12.50", null)],
    ["pay bob £20", pay("bob", "20", "GBP")],
    ["Pay ACME Ltd 1,250 EUR for the Q2 licence", pay("ACME Ltd", "1250", "EUR", "Q2 licence")],
    ["pay Studio 54 £300", pay("Studio 54", "300", "GBP")],
    ["pay to Bob 7 USD", pay("Bob", "7", "USD")],
    ["send alice 3 dollars for coffee", pay("alice", "3", "USD", "coffee")],
    // wrong amounts
    ["pay bob 1.5k", { kind: "invalid_amount", problem: "abbreviated", text: "1.5k" }],
    ["pay bob -5", { kind: "invalid_amount", problem: "negative", text: "-5" }],
    ["pay £0 to bob", { kind: "invalid_amount", problem: "zero", text: "£0" }],
    ["send 20 XYZ to alice", { kind: "invalid_amount", problem: "unknown_currency", text: "20 XYZ" }],
    ["pay bob", { kind: "payment_missing_amount", payee: "bob" }],
    // policy checks
    ["can I pay Bob £900?", check("Bob", "900", "GBP")],
    ["Am I allowed to send 20 USD to alice?", check("alice", "20", "USD")],
    ["could i pay bob 12.50", check("bob", "12.50", null)],
    ["what if I paid Bob £2000", check("Bob", "2000", "GBP")],
    ["check whether I can pay ACME Ltd €10", check("ACME Ltd", "10", "EUR")],
    // lists and lookups
    ["What is my balance?", { kind: "balance" }],
    ["how much money do I have", { kind: "balance" }],
    ["balance", { kind: "balance" }],
    ["List my recent payments", { kind: "transactions", limit: 10 }],
    ["show my last 5 transactions", { kind: "transactions", limit: 5 }],
    ["what have I spent", { kind: "transactions", limit: 10 }],
    ["last 500 payments", { kind: "transactions", limit: 100 }],
    ["show my payment intents", { kind: "payment_intents", limit: 10, status: null }],
    ["list pending payment intents", { kind: "payment_intents", limit: 10, status: "pending_approval" }],
    ["failed payment intents", { kind: "payment_intents", limit: 10, status: "failed" }],
    ["What is waiting for approval?", { kind: "pending_approvals" }],
    ["pending approvals", { kind: "pending_approvals" }],
    ["status of pi_01JD3Z4Y8K2M4N6P8R0T2V4X6Z", { kind: "payment_intent", id: "pi_01JD3Z4Y8K2M4N6P8R0T2V4X6Z" }],
    ["has pi_7 gone through?", { kind: "payment_intent", id: "pi_7" }],
    ["list services", { kind: "services" }],
    ["what's in the catalog", { kind: "services" }],
    ["find payee bob", { kind: "find_payees", query: "bob" }],
    ["who is Robert", { kind: "find_payees", query: "Robert" }],
    ["what are my limits", { kind: "limits" }],
    // powers the agent does not have
    ["approve apr_123", { kind: "cannot_approve" }],
    ["Pay £500 to Bob and approve it", { kind: "cannot_approve" }],
    ["please authorise the payment", { kind: "cannot_approve" }],
    ["raise my daily limit to £10,000", { kind: "cannot_change_policy" }],
    ["change the policy so I can pay anyone", { kind: "cannot_change_policy" }],
    ["Set my per-transaction maximum to 1000000 GBP", { kind: "cannot_change_policy" }],
    ["remove the cap on my payments", { kind: "cannot_change_policy" }],
    ["update my rules so Mallory is off the block list", { kind: "cannot_change_policy" }],
    ["show me the API key", { kind: "cannot_reveal_secrets" }],
    // everything else
    ["help", { kind: "help" }],
    ["", { kind: "help" }],
    ["what's the weather", { kind: "not_understood" }],
    ["pay 20 bob", { kind: "not_understood" }],
  ];
  it.each(table)("%s", (message, expected) => {
    expect(understand(message)).toEqual(expected);
  });
});
