/**
 * The SDK's governed-spending resources against a real server: an agent registered with
 * `register()` pays through `paymentIntents.create`, an owner client approves, transactions page
 * with `for await`, the dry run and the error classes carry the server's codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar, PermissionDeniedError, ValidationError } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { startTestServer } from "./support.js";

let server: RunningServer;
let setup: SdkAgent;
let agent: Bursar;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "transactions:read", "payees:read"], fundMinor: 100_000 });
  agent = new Bursar({ configDir: setup.configDir });
  await setup.owner.payees.create({ name: "Bob Smith", aliases: ["Bob"], currency: "GBP" });
  const current = await setup.owner.policy.get(setup.agentId);
  const { object, id, agent_id, is_default, updated_at, ...rules } = current;
  expect({ object, id, agent_id, is_default, updated_at }).toMatchObject({ object: "policy", id: null, is_default: true });
  // The default policy is spend-limited (docs/concepts.md); this agent's owner lifts the limits.
  await setup.owner.policy.update(setup.agentId, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: 20_000 });
});
afterAll(async () => {
  await agent?.close();
  await server?.close();
});

describe("governed payments through the SDK", () => {
  it("pays, waits for an owner's approval, and pages transactions with for await", async () => {
    const check = await agent.policy.check({ amount: 50_000, currency: "GBP", payee: "Bob" });
    expect(check).toMatchObject({ decision: "approval_required", reason_codes: ["approval_threshold_reached"] });

    const small = await agent.paymentIntents.create({ payee: "bob", amount: 1_500, currency: "GBP", reference: "Coffee" });
    expect(small).toMatchObject({ execution_status: "completed", approval_status: "auto_approved" });
    const large = await agent.paymentIntents.create({ payee: "Bob", amount: 50_000, currency: "GBP", reference: "April invoice" });
    expect(large).toMatchObject({ approval_status: "pending_approval", execution_status: "pending" });

    await expect(agent.approvals.approve(large.approval_id!)).rejects.toBeInstanceOf(PermissionDeniedError);
    const pending = [];
    for await (const approval of await setup.owner.approvals.list({ status: "pending" })) pending.push(approval.id);
    expect(pending).toEqual([large.approval_id]);
    expect(await setup.owner.approvals.approve(large.approval_id!, { note: "invoice checked" })).toMatchObject({ status: "approved" });
    expect((await agent.paymentIntents.get(large.id)).execution_status).toBe("completed");

    for (let i = 0; i < 5; i++) await agent.paymentIntents.create({ payee: "Bob", amount: 100 + i, currency: "GBP" });
    const seen = [];
    for await (const transaction of await agent.transactions.list({ limit: 2 })) seen.push(transaction);
    expect(seen).toHaveLength(7);
    expect(seen.every((transaction) => transaction.status === "completed" && transaction.agent_id === setup.agentId)).toBe(true);
    expect(new Set(seen.map((transaction) => transaction.id)).size).toBe(7);
    expect((await agent.balance.get()).balance).toBe(100_000 - 1_500 - 50_000 - (100 + 101 + 102 + 103 + 104));
  });

  it("turns refusals into typed errors with the server's code", async () => {
    const error = await agent.paymentIntents.create({ payee: "Nobody", amount: 1, currency: "GBP" }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 422, code: "payee_not_found" });
    await expect(agent.paymentIntents.create({ payee: "Bob", amount: -5, currency: "GBP" })).rejects.toBeInstanceOf(ValidationError);
    const denied = await agent.paymentIntents.create({ payee: "Bob", amount: 1_000_000, currency: "GBP" });
    expect(denied).toMatchObject({ decision: "deny", execution_status: "failed" });
    expect(denied.available_actions).toContain("fund_wallet");
  });

  it("chats with the payment agent, sync and streamed, and keeps the conversation", async () => {
    const balance = await agent.chat.send({ message: "What is my balance?" });
    expect(balance.reply).toMatch(/479\.90 GBP/);
    const events = [];
    for await (const event of agent.chat.stream({ message: "Pay £300 to Bob for the May invoice", conversation_id: balance.conversation_id })) events.push(event);
    expect(events[0]).toMatchObject({ type: "conversation", conversation_id: balance.conversation_id });
    expect(events.at(-1)).toMatchObject({ type: "done" });
    const needed = events.find((event) => event.type === "approval_required");
    expect(needed).toMatchObject({ type: "approval_required", amount: 30_000, currency: "GBP" });
    if (needed?.type !== "approval_required") throw new Error("no approval_required event");
    await setup.owner.approvals.approve(needed.approval_id);
    const status = await agent.chat.send({ message: `What is the status of ${needed.payment_intent_id}?`, conversation_id: balance.conversation_id });
    expect(status.reply).toMatch(/Paid 300\.00 GBP to Bob Smith/);
    const kept = await agent.conversations.get(balance.conversation_id);
    expect(kept.messages.filter((message) => message.role === "user")).toHaveLength(3);
    const listed = [];
    for await (const conversation of await agent.conversations.list()) listed.push(conversation.id);
    expect(listed).toContain(balance.conversation_id);
  });

  it("buys a priced service operation and waits for a slow one", async () => {
    const catalog = await agent.services.list();
    const sandbox = catalog.find((service) => service.name === "sandbox")!;
    expect(sandbox.operations.map((operation) => operation.name)).toEqual(expect.arrayContaining(["echo", "slow"]));
    const before = (await agent.balance.get()).balance;
    const echo = await agent.serviceRequests.createAndWait({ service: "sandbox", operation: "echo", payload: { text: "hi" } });
    expect(echo).toMatchObject({ status: "executed", result: { echo: { text: "hi" } } });
    const slow = await agent.serviceRequests.createAndWait({ service: "sandbox", operation: "slow", payload: {} }, { pollMs: 20 });
    expect(slow.status).toBe("executed");
    expect((await agent.balance.get()).balance).toBe(before - echo.amount - slow.amount);
    const invalid = await agent.serviceRequests.create({ service: "sandbox", operation: "nope" }).catch((caught: unknown) => caught);
    expect(invalid).toMatchObject({ status: 422, code: "service_not_found" });
  });

  it("owners manage payees and budgets", async () => {
    const payee = await setup.owner.payees.create({ name: "Carol", currency: "GBP" });
    expect((await setup.owner.payees.update(payee.id, { aliases: ["C"] })).aliases).toEqual(["C"]);
    const found = [];
    for await (const match of await agent.payees.list({ q: "c" })) found.push(match.id);
    expect(found).toEqual([payee.id]);
    const budgets = await setup.owner.budgets.set(setup.agentId, { budgets: [{ period: "daily", amount: 500, currency: "GBP" }] });
    expect(budgets.data).toHaveLength(1);
    const over = await agent.paymentIntents.create({ payee: payee.id, amount: 501, currency: "GBP" });
    expect(over.reason_codes).toContain("budget_exceeded");
  });
});
