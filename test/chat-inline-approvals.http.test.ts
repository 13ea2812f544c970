/**
 * Owners chat too, and decide inline (issue 15 item 6): an owner (PAT) chats on behalf of one of
 * their agents; the turn stops on `approval_required`; the owner resolves that approval through
 * `POST /v1/chat/approvals/{id}/resolve` and resumes the turn with `continue_from`, and the reply
 * reports that the payment executed. The agent's own credential calling the resolve route is 403,
 * and resuming from an approval that is not the conversation's is not found. Runs with the
 * deterministic planner, and with the LLM planner against test/fake-llm.ts.
 */
import type { RunningServer } from "@bursar/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Api, Onboarded } from "./agents-support.js";
import { startFakeLlm, textAnswer, toolCallAnswer, type FakeLlm, type FakeLlmRequest } from "./fake-llm.js";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

async function setUp(server: RunningServer) {
  const tenant = await createTestTenant(server.store);
  const owner = client(server.url, tenant.token);
  const onboarded = await fundedAgent(server.url, owner, 100_000);
  const agent = await agentClient(server.url, onboarded);
  const bob = await createPayee(owner, "Bob Smith", { aliases: ["Bob"] });
  await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 20_000, approval_expiry_seconds: 600 });
  return { owner, onboarded, agent, bob };
}

describe.each(storeKinds)("owner inline approvals through chat (%s, deterministic planner)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let onboarded: Onboarded;
  let agent: AgentApi;
  let bob: any;

  beforeAll(async () => {
    server = await startTestServer(kind);
    ({ owner, onboarded, agent, bob } = await setUp(server));
  });
  afterAll(async () => server?.close());

  it("the owner chats for the agent, resolves the approval inline, and the resumed turn reports the executed payment", async () => {
    const agentId = onboarded.agentId;
    const asked = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, message: "Pay £500 to Bob for the April invoice" }), 200);
    const intent = asked.payment_intents[0];
    expect(intent).toMatchObject({ approval_status: "pending_approval", decision: "approval_required", amount: 50_000, agent_id: agentId });
    expect(asked.reply).toContain(`waiting for approval ${intent.approval_id}`);
    expect(await balanceOf(owner, agentId)).toMatchObject({ balance: 100_000, available: 50_000 });

    // The agent may read its approval but never resolve it, not even the one its own chat raised.
    const byAgent = await agent.post(`/v1/chat/approvals/${intent.approval_id}/resolve`, { decision: "approve" });
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.code).toBe("insufficient_scope");
    expect(expectStatus(await owner.get(`/v1/approvals/${intent.approval_id}`), 200).status).toBe("pending");

    const resolved = expectStatus(await owner.post(`/v1/chat/approvals/${intent.approval_id}/resolve`, { decision: "approve", note: "Invoice checked" }), 200);
    expect(resolved).toMatchObject({ object: "chat.approval_resolution", approval: { id: intent.approval_id, status: "approved", note: "Invoice checked" }, continue_from: { approval_id: intent.approval_id } });
    expect(resolved.approval.decided_by.type).toBe("user");

    const resumed = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, conversation_id: asked.conversation_id, continue_from: resolved.continue_from }), 200);
    expect(resumed.conversation_id).toBe(asked.conversation_id);
    expect(resumed.reply).toMatch(new RegExp(`^An owner approved ${intent.approval_id}\\. Paid 500\\.00 GBP to Bob Smith \\(${intent.id}\\); transaction txn_`));
    // The reply is what happened: the payment executed, on the ledger and in the API.
    const after = expectStatus(await owner.get(`/v1/payment-intents/${intent.id}`), 200);
    expect(after).toMatchObject({ approval_status: "approved_by_user", execution_status: "completed" });
    expect(resumed.reply).toContain(after.transaction_ids[0]);
    expect(await balanceOf(owner, agentId)).toMatchObject({ balance: 50_000, available: 50_000 });
    expect(expectStatus(await owner.get(`/v1/transactions/${after.transaction_ids[0]}`), 200).creditor.payee_id).toBe(bob.id);

    // A second resolve: the approval is decided.
    const again = await owner.post(`/v1/chat/approvals/${intent.approval_id}/resolve`, { decision: "reject" });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("approval_not_pending");
    // The conversation records the resumed turn; the agent's own view of it says the same.
    const stored = expectStatus(await agent.get(`/v1/conversations/${asked.conversation_id}`), 200);
    expect(stored.messages.at(-1).content).toBe(resumed.reply);
  });

  it("a rejection resumes too: nothing is paid, and the reply says so", async () => {
    const agentId = onboarded.agentId;
    const before = await balanceOf(owner, agentId);
    const asked = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, message: "Pay £300 to Bob" }), 200);
    const intent = asked.payment_intents[0];
    const resolved = expectStatus(await owner.post(`/v1/chat/approvals/${intent.approval_id}/resolve`, { decision: "reject" }), 200);
    expect(resolved.approval.status).toBe("rejected");
    const resumed = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, conversation_id: asked.conversation_id, continue_from: resolved.continue_from }), 200);
    expect(resumed.reply).toContain(`An owner rejected ${intent.approval_id}.`);
    expect(resumed.reply).toContain("rejected by an owner; nothing was paid");
    expect(await balanceOf(owner, agentId)).toEqual(before);
  });

  it("continue_from is only for the conversation's own approvals, and needs its conversation", async () => {
    const agentId = onboarded.agentId;
    const first = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, message: "Pay £250 to Bob" }), 200);
    const other = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, message: "What is my balance?" }), 200);
    const approvalId = first.payment_intents[0].approval_id;
    const elsewhere = await owner.post("/v1/chat", { agent_id: agentId, conversation_id: other.conversation_id, continue_from: { approval_id: approvalId } });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.code).toBe("not_found");
    const unknown = await owner.post("/v1/chat", { agent_id: agentId, conversation_id: first.conversation_id, continue_from: { approval_id: "apr_01JD5Y4Q7X8ZK3M2N1P0R9S8T7" } });
    expect(unknown.status).toBe(404);
    const noConversation = await owner.post("/v1/chat", { agent_id: agentId, continue_from: { approval_id: approvalId } });
    expect(noConversation.status).toBe(400);
    expect(noConversation.body.code).toBe("validation_failed");
    const both = await owner.post("/v1/chat", { agent_id: agentId, conversation_id: first.conversation_id, message: "approve it", continue_from: { approval_id: approvalId } });
    expect(both.status).toBe(400);
    expect((await owner.post("/v1/chat", { agent_id: agentId })).status).toBe(400);
    // Another agent's owner-side chat cannot resume this agent's approval either.
    const second = await fundedAgent(server.url, owner, 0);
    const foreign = await owner.post("/v1/chat", { agent_id: second.agentId, conversation_id: first.conversation_id, continue_from: { approval_id: approvalId } });
    expect(foreign.status).toBe(404);
    // Still pending: resuming says so, and pays nothing.
    const pending = expectStatus(await agent.post("/v1/chat", { conversation_id: first.conversation_id, continue_from: { approval_id: approvalId } }), 200);
    expect(pending.reply).toContain(`${approvalId} is still waiting for an owner.`);
    expect(pending.reply).toContain("An owner must approve it; I cannot.");
  });

  it("the agent's own chat still cannot approve, however it asks", async () => {
    const asked = expectStatus(await agent.post("/v1/chat", { message: "Pay £210 to Bob" }), 200);
    const approvalId = asked.payment_intents[0].approval_id;
    const tries = expectStatus(await agent.post("/v1/chat", { conversation_id: asked.conversation_id, message: `approve ${approvalId}` }), 200);
    expect(tries.reply).toContain("I can't approve or reject anything");
    expect((await agent.post(`/v1/approvals/${approvalId}/approve`)).status).toBe(403);
    expect((await agent.post(`/v1/chat/approvals/${approvalId}/resolve`, { decision: "approve" })).status).toBe(403);
    expect(expectStatus(await owner.get(`/v1/approvals/${approvalId}`), 200).status).toBe("pending");
  });
});

describe.each(storeKinds)("owner inline approvals through chat (%s, LLM planner)", (kind) => {
  let server: RunningServer;
  let model: FakeLlm;
  let approvalId = "";
  let intentId = "";
  let bobId = "";

  /** The model: pays when asked to pay; when told an approval was resolved, reads the intent and reports its tool result. */
  function script(request: FakeLlmRequest) {
    const messages = request.body.messages;
    const last = messages.at(-1)!;
    if (last.role === "tool") {
      const result = JSON.parse(last.content ?? "{}");
      if (result.object === "service_request") return textAnswer(`The service request ${result.id} is ${result.status} (approval: ${result.approval_status}).`);
      return textAnswer(`The payment ${result.id} is ${result.execution_status} (approval: ${result.approval_status}).`);
    }
    if (last.content?.startsWith("An owner resolved approval")) {
      const request = /service request (sr_\w+)/.exec(last.content)?.[1];
      if (request) return toolCallAnswer([{ name: "get_service_request", arguments: JSON.stringify({ service_request_id: request }) }]);
      const id = /payment intent (pi_\w+)/.exec(last.content)![1]!;
      return toolCallAnswer([{ name: "get_payment_intent", arguments: JSON.stringify({ payment_intent_id: id }) }]);
    }
    if (last.content?.startsWith("quote")) {
      return toolCallAnswer([{ name: "create_service_request", arguments: JSON.stringify({ service: "sandbox", operation: "quote", payload: { amount: 500, from: "EUR", to: "GBP" } }) }]);
    }
    return toolCallAnswer([{ name: "create_payment_intent", arguments: JSON.stringify({ payee: bobId, amount: "500", currency: "GBP" }) }]);
  }

  beforeAll(async () => {
    model = await startFakeLlm((request) => script(request));
    server = await startTestServer(kind, { config: { llm: { baseUrl: model.baseUrl, model: "fake-model", apiKey: "sk-test", completionTimeoutMs: 10_000 } } });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
  });

  it("resumes the turn: the model is told the approval was resolved, reads the payment and reports it executed", async () => {
    const { owner, onboarded, bob } = await setUp(server);
    bobId = bob.id;
    const agentId = onboarded.agentId;
    const asked = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, message: "pay bob 500 pounds" }), 200);
    ({ id: intentId, approval_id: approvalId } = asked.payment_intents[0]);
    expect(asked.payment_intents[0].approval_status).toBe("pending_approval");
    const resolved = expectStatus(await owner.post(`/v1/chat/approvals/${approvalId}/resolve`, { decision: "approve" }), 200);
    const resumed = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, conversation_id: asked.conversation_id, continue_from: resolved.continue_from }), 200);
    expect(resumed.reply).toBe(`The payment ${intentId} is completed (approval: approved_by_user).`);
    const sent = model.requests.at(-2)!.body.messages.at(-1)!;
    expect(sent.role).toBe("user");
    expect(sent.content).toContain(approvalId);
    expect(await balanceOf(owner, agentId)).toMatchObject({ balance: 50_000 });
  });
  it("resumes a turn that stopped on a service request's approval too: the model reads it with get_service_request", async () => {
    const { owner, onboarded } = await setUp(server);
    const agentId = onboarded.agentId;
    await putPolicy(owner, agentId, { approval_threshold_minor: 200, approval_expiry_seconds: 600 });
    const asked = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, message: "quote 500 EUR in GBP" }), 200);
    const waiting = JSON.parse(asked.new_messages.find((message: any) => message.role === "tool").content);
    expect(waiting).toMatchObject({ object: "service_request", status: "approval_required", approval_status: "pending" });
    const resolved = expectStatus(await owner.post(`/v1/chat/approvals/${waiting.approval_id}/resolve`, { decision: "approve" }), 200);
    expect(resolved.approval).toMatchObject({ status: "approved", subject_type: "service_request", service_request_id: waiting.id });
    // The service runs after the approval commits; wait until it settles.
    let settled = waiting;
    for (let attempt = 0; attempt < 100 && ["approval_required", "running"].includes(settled.status); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      settled = expectStatus(await owner.get(`/v1/service-requests/${waiting.id}`), 200);
    }
    expect(settled.status).toBe("executed");
    const resumed = expectStatus(await owner.post("/v1/chat", { agent_id: agentId, conversation_id: asked.conversation_id, continue_from: resolved.continue_from }), 200);
    expect(resumed.reply).toBe(`The service request ${waiting.id} is executed (approval: approved).`);
    const told = model.requests.at(-2)!.body.messages.at(-1)!;
    expect(told.content).toContain(`of service request ${waiting.id}`);
  });
});
