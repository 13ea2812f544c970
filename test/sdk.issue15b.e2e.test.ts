/**
 * The SDK's issue-15 part B resources against a real server: triggers (create, fire signed by
 * `signWebhook` — checked against the independent `standardwebhooks` package — replayed with the
 * same id, fires listed), usage, agents clone/health/activity, and an owner's inline approval
 * through `chat.resolveApproval` + `continue_from`; the agent's attempt to resolve is a
 * `PermissionDeniedError`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { Bursar, PermissionDeniedError, signWebhook } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { startTestServer } from "./support.js";

let server: RunningServer;
let setup: SdkAgent;
let agent: Bursar;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "transactions:read", "payees:read", "events:read", "budgets:read"], fundMinor: 100_000 });
  agent = new Bursar({ configDir: setup.configDir });
  await setup.owner.payees.create({ name: "Bob Smith", aliases: ["Bob"], currency: "GBP" });
  const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...rules } = await setup.owner.policy.get(setup.agentId);
  await setup.owner.policy.update(setup.agentId, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: 20_000 });
});
afterAll(async () => {
  await agent?.close();
  await server?.close();
});

describe("issue 15 part B through the SDK", () => {
  it("signWebhook signs as Standard Webhooks does", async () => {
    const secret = `whsec_${Buffer.from("a".repeat(32)).toString("base64")}`;
    const body = JSON.stringify({ amount: 1 });
    const headers = await signWebhook(body, secret, { id: "msg_1" });
    expect(new Webhook(secret).verify(body, headers)).toEqual({ amount: 1 });
  });

  it("creates and fires a trigger; a retry with the same webhook id acts once", async () => {
    const trigger = await setup.owner.triggers.create({ agent_id: setup.agentId, name: "Invoices", operation: "payment_intents.create", payload_template: { payee: "Bob", amount: "{{amount}}", currency: "GBP" } });
    expect(trigger.secret).toMatch(/^whsec_/);
    const first = await setup.owner.triggers.fire(trigger.id, { amount: 1_200 }, { secret: trigger.secret!, webhookId: "msg_sdk_1" });
    const again = await setup.owner.triggers.fire(trigger.id, { amount: 1_200 }, { secret: trigger.secret!, webhookId: "msg_sdk_1" });
    expect(first).toMatchObject({ object: "trigger_fire", outcome: "executed" });
    expect(again.id).toBe(first.id);
    const fires = [];
    for await (const fire of await setup.owner.triggers.fires(trigger.id)) fires.push(fire);
    expect(fires.map((fire) => fire.webhook_id)).toEqual(["msg_sdk_1"]);
    expect((await setup.owner.triggers.update(trigger.id, { status: "disabled" })).status).toBe("disabled");
  });

  it("reads usage, clones an agent, reads its health and activity", async () => {
    const usage = await setup.owner.usage.get({ agent_id: setup.agentId, group_by: "payee" });
    expect(usage.totals[0]).toMatchObject({ currency: "GBP", spent: 1_200, count: 1 });
    const clone = await setup.owner.agents.clone(setup.agentId, { name: "Clone" });
    expect(clone.name).toBe("Clone");
    const health = await setup.owner.agents.health(clone.id);
    expect(health.issues).toEqual(expect.arrayContaining(["no_active_credential", "wallet_empty"]));
    expect((await agent.agents.health(setup.agentId)).status).toBe("healthy");
    const types: string[] = [];
    for await (const event of await agent.agents.activity(setup.agentId, { limit: 5 })) types.push(event.type);
    expect(types).toContain("payment_intent.executed");
  });

  it("an owner resolves a chat approval inline and resumes the turn; the agent cannot", async () => {
    const turn = await setup.owner.chat.send({ agent_id: setup.agentId, message: "Pay £300 to Bob" });
    const approvalId = (turn.payment_intents[0] as { approval_id: string }).approval_id;
    await expect(agent.chat.resolveApproval(approvalId, { decision: "approve" })).rejects.toBeInstanceOf(PermissionDeniedError);
    const resolved = await setup.owner.chat.resolveApproval(approvalId, { decision: "approve" });
    const resumed = await setup.owner.chat.send({ agent_id: setup.agentId, conversation_id: turn.conversation_id, continue_from: resolved.continue_from });
    expect(resumed.reply).toMatch(/^An owner approved apr_\w+\. Paid 300\.00 GBP to Bob Smith/);
  });
});
