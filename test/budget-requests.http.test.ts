/**
 * Budget requests end to end (issue 15): denied on a budget → request → approved → the retried
 * action passes; approving less, rejecting, within the pool; journaled, on webhooks and on the
 * live stream; an agent can never decide. Runs on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createPayee, expectStatus } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds, type TestTenant } from "./support.js";
import { createTeam, join, member, newMember, pay } from "./teams-support.js";

type Api = ReturnType<typeof client>;

/** Reads the live event stream until `count` events of `types` came, then closes it. */
async function streamed(baseUrl: string, token: string, afterSeq: number, types: string, count: number): Promise<any[]> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v1/events/stream?after_seq=${afterSeq}&type=${types}`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const events: any[] = [];
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      const data = frame.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n");
      if (data && frame.split("\n").some((line) => line.startsWith("id:"))) events.push(JSON.parse(data));
    }
  }
  controller.abort();
  return events;
}

describe.each(storeKinds)("budget requests (%s)", (kind) => {
  let server: RunningServer;
  let tenant: TestTenant;
  let owner: Api;
  let payeeId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
    payeeId = (await createPayee(owner, "Budget supplier")).id;
  });
  afterAll(async () => server?.close());

  it("denied on its budget → asks → an owner approves → the retried payment passes", async () => {
    const agent = await member(server.url, owner);
    expectStatus(await owner.call("PUT", `/v1/agents/${agent.agentId}/budgets`, { budgets: [{ period: "daily", amount: 10_000, currency: "GBP" }] }), 200);
    const startSeq = expectStatus(await owner.get("/v1/events?limit=1"), 200).data[0].seq as number;
    expect((await pay(agent.api, payeeId, 8_000)).execution_status).toBe("completed");
    const denied = await pay(agent.api, payeeId, 5_000, "the big one");
    expect(denied.execution_status).toBe("failed");
    expect(denied.reason_codes).toEqual(["budget_exceeded"]);
    expect(denied.legs[0].available_actions).toContain("request_budget");

    const asked = expectStatus(await agent.api.post("/v1/budget-requests", { amount: 3_000, period: "daily", reason: "Invoice larger than usual", action: { kind: "payment", amount: 5_000, currency: "GBP", payee: payeeId } }), 201);
    expect(asked).toMatchObject({ id: expect.stringMatching(/^breq_/), status: "pending", agent_id: agent.agentId, currency: "GBP", amount_display: "30.00" });
    // The agent can never decide, not even its own request.
    const selfApprove = await agent.api.post(`/v1/budget-requests/${asked.id}/approve`, {});
    expect(selfApprove.status).toBe(403);
    expect(selfApprove.body.code).toBe("approver_not_allowed");
    expect(expectStatus(await agent.api.get("/v1/budget-requests?status=pending"), 200).data.map((r: any) => r.id)).toEqual([asked.id]);

    const approved = expectStatus(await owner.post(`/v1/budget-requests/${asked.id}/approve`, { note: "fine" }), 200);
    expect(approved).toMatchObject({ status: "approved", approved_amount: 3_000, raised: "budget", decided_by: { type: "user" } });
    expect(expectStatus(await owner.get(`/v1/agents/${agent.agentId}/budgets`), 200).data[0].amount).toBe(13_000);
    expect((await pay(agent.api, payeeId, 5_000, "the big one, again")).execution_status).toBe("completed");
    const twice = await owner.post(`/v1/budget-requests/${asked.id}/approve`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("budget_request_not_pending");

    // Journaled, and on the live stream, in order.
    const types = expectStatus(await owner.get(`/v1/events?agent_id=${agent.agentId}&type=budget_request.*&limit=10`), 200).data.map((e: any) => e.type);
    expect(types).toEqual(["budget_request.approved", "budget_request.created"]);
    const live = await streamed(server.url, tenant.token, startSeq, "budget_request.*", 2);
    expect(live.map((e) => [e.type, e.data.budget_request.id])).toEqual([["budget_request.created", asked.id], ["budget_request.approved", asked.id]]);
  });

  it("a manager approves less within the team pool; the allocation grows; beyond the pool it is refused", async () => {
    const manager = await newMember(server.url, server.store, tenant, "approver", "Max Manager");
    const outsider = await newMember(server.url, server.store, tenant, "approver", "Olga Outsider");
    const team = await createTeam(owner, { manager_ids: [manager.userId], pools: [{ period: "daily", currency: "GBP", amount: 10_000 }] });
    const a = await member(server.url, owner);
    const b = await member(server.url, owner);
    await join(owner, team.id, a.agentId);
    await join(owner, team.id, b.agentId);
    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: a.agentId, period: "daily", amount: 4_000 }), 200);
    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: b.agentId, period: "daily", amount: 5_000 }), 200);
    expect((await pay(a.api, payeeId, 4_000)).execution_status).toBe("completed");
    const denied = await pay(a.api, payeeId, 2_000);
    expect(denied.reason_codes).toEqual(["budget_exceeded"]);
    const asked = expectStatus(await a.api.post("/v1/budget-requests", { amount: 2_000, period: "daily", reason: "one more report" }), 201);
    expect(asked.team_id).toBe(team.id);
    const stranger = await outsider.api.post(`/v1/budget-requests/${asked.id}/approve`, {});
    expect(stranger.status).toBe(403);
    expect(stranger.body.code).toBe("insufficient_scope");
    const more = await manager.api.post(`/v1/budget-requests/${asked.id}/approve`, { amount: 2_001 });
    expect(more.status).toBe(400);
    const approved = expectStatus(await manager.api.post(`/v1/budget-requests/${asked.id}/approve`, { amount: 1_000 }), 200);
    expect(approved).toMatchObject({ approved_amount: 1_000, raised: "allocation" });
    expect(expectStatus(await owner.get(`/v1/teams/${team.id}`), 200).allocations).toEqual(expect.arrayContaining([expect.objectContaining({ agent_id: a.agentId, amount: 5_000 })]));
    expect((await pay(a.api, payeeId, 1_000)).execution_status).toBe("completed");
    // The pool is fully allocated now: a further raise is refused, and nothing changes.
    const again = expectStatus(await a.api.post("/v1/budget-requests", { amount: 500, period: "daily", reason: "and another" }), 201);
    const refused = await manager.api.post(`/v1/budget-requests/${again.id}/approve`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("allocation_exceeds_pool");
    expect(expectStatus(await owner.get(`/v1/budget-requests/${again.id}`), 200).status).toBe("pending");
    const rejected = expectStatus(await manager.api.post(`/v1/budget-requests/${again.id}/reject`, { note: "pool is full" }), 200);
    expect(rejected).toMatchObject({ status: "rejected", note: "pool is full", approved_amount: null });
  });

  it("another agent and another tenant see nothing", async () => {
    const a = await member(server.url, owner);
    const b = await member(server.url, owner);
    const asked = expectStatus(await a.api.post("/v1/budget-requests", { amount: 100, period: "weekly", reason: "r" }), 201);
    expect((await b.api.get(`/v1/budget-requests/${asked.id}`)).status).toBe(404);
    expect((await b.api.post(`/v1/budget-requests/${asked.id}/approve`, {})).status).toBe(404);
    expect((await b.api.post("/v1/budget-requests", { agent_id: a.agentId, amount: 100, period: "weekly", reason: "r" })).status).toBe(404);
    const other = client(server.url, (await createTestTenant(server.store, "Other")).token);
    expect((await other.get(`/v1/budget-requests/${asked.id}`)).status).toBe(404);
    expect((await other.post(`/v1/budget-requests/${asked.id}/approve`, {})).status).toBe(404);
  });
});
