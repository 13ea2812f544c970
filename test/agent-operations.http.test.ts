/**
 * Agent clone, health and activity over HTTP (issue 15 item 7), on both stores: a clone gets the
 * policy and budgets and nothing else (no credential, no money) and is governed by them; health
 * names what could stop the agent (credential, wallet, limits near exhaustion, approvals); the
 * activity is the agent's own events, paged; an agent reads only its own and can clone nothing.
 */
import type { RunningServer } from "@bursar/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Api, Onboarded } from "./agents-support.js";
import { agentClient, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

describe.each(storeKinds)("agent clone, health and activity (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let onboarded: Onboarded;
  let agent: AgentApi;
  let agentId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
    onboarded = await fundedAgent(server.url, owner, 100_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    await createPayee(owner, "Bob");
    await putPolicy(owner, agentId, { per_transaction_max_minor: 30_000, amount_max_minor: { daily: 50_000 }, count_max: { weekly: 20 }, approval_threshold_minor: 25_000 });
    expectStatus(await owner.call("PUT", `/v1/agents/${agentId}/budgets`, { budgets: [{ period: "monthly", amount: 80_000, currency: "GBP" }] }), 200);
  });
  afterAll(async () => server?.close());

  it("clone: same policy and budgets, no credentials, no money, governed by the copied policy", async () => {
    expectStatus(await owner.call("PATCH", `/v1/agents/${agentId}`, { metadata: { team: "invoices" } }), 200);
    const clone = expectStatus(await owner.post(`/v1/agents/${agentId}/clone`, { name: "Invoice bot 2" }), 201);
    expect(clone).toMatchObject({ object: "agent", name: "Invoice bot 2", status: "active", metadata: { team: "invoices" } });
    expect(clone.id).not.toBe(agentId);
    const policy = (id: string) => owner.get(`/v1/agents/${id}/policy`);
    const { id: _a, agent_id: _b, updated_at: _c, ...source } = expectStatus(await policy(agentId), 200);
    const { id: cloneId, agent_id: cloneAgentId, updated_at: _d, ...copied } = expectStatus(await policy(clone.id), 200);
    expect(copied).toEqual(source);
    expect(cloneAgentId).toBe(clone.id);
    expect(cloneId).not.toBeNull();
    const budgets = expectStatus(await owner.get(`/v1/agents/${clone.id}/budgets`), 200);
    expect(budgets.data.map((budget: any) => [budget.period, budget.amount, budget.currency])).toEqual([["monthly", 80_000, "GBP"]]);
    // No credential, no money: nothing of the source's identity or wallet came along.
    expect(expectStatus(await owner.get(`/v1/credential-bindings?agent_id=${clone.id}`), 200).data).toEqual([]);
    expect(expectStatus(await owner.get(`/v1/balance?agent_id=${clone.id}`), 200)).toMatchObject({ balance: 0, available: 0 });
    expect(clone.wallet_account_id).not.toBe(expectStatus(await owner.get(`/v1/agents/${agentId}`), 200).wallet_account_id);
    const cloned = expectStatus(await owner.get("/v1/events?type=agent.cloned"), 200).data;
    expect(cloned[0].data).toMatchObject({ agent: { id: clone.id }, cloned_from: agentId });

    // The copied policy governs the clone: above its per-payment maximum is denied, above the threshold waits.
    expectStatus(await owner.post(`/v1/accounts/${clone.wallet_account_id}/deposits`, { amount: 100_000 }), 201);
    const denied = expectStatus(await owner.post("/v1/payment-intents", { agent_id: clone.id, payee: "Bob", amount: 40_000, currency: "GBP" }), 201);
    expect(denied.reason_codes).toContain("amount_exceeds_transaction_max");
    const waits = expectStatus(await owner.post("/v1/payment-intents", { agent_id: clone.id, payee: "Bob", amount: 26_000, currency: "GBP" }), 201);
    expect(waits.approval_status).toBe("pending_approval");

    // The team comes along (not the allocations: a share of the pool would be claimed twice).
    const team = expectStatus(await owner.post("/v1/teams", { name: "Invoices", pools: [{ period: "monthly", currency: "GBP", amount: 100_000 }] }), 201);
    expectStatus(await owner.post(`/v1/teams/${team.id}/members`, { agent_id: agentId }), 200);
    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: agentId, period: "monthly", currency: "GBP", amount: 60_000 }), 200);
    const teamClone = expectStatus(await owner.post(`/v1/agents/${agentId}/clone`, { name: "Team clone" }), 201);
    const members = expectStatus(await owner.get(`/v1/teams/${team.id}/members`), 200).data.map((member: any) => member.id);
    expect(members).toEqual(expect.arrayContaining([agentId, teamClone.id]));
    const allocations = expectStatus(await owner.get(`/v1/teams/${team.id}`), 200).allocations;
    expect(allocations.map((allocation: any) => allocation.agent_id)).toEqual([agentId]);

    // Only owners clone; an unknown agent is not found.
    expect((await agent.post(`/v1/agents/${agentId}/clone`, {})).status).toBe(403);
    expect((await owner.post("/v1/agents/agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7/clone", {})).status).toBe(404);
    // Defaults: the source's name with " (copy)".
    expect(expectStatus(await owner.post(`/v1/agents/${agentId}/clone`), 201).name).toMatch(/ \(copy\)$/);
  });

  it("health: healthy, then limits near exhaustion and approvals pending; a bare clone has no credential and no money", async () => {
    const fresh = await fundedAgent(server.url, owner, 100_000);
    await putPolicy(owner, fresh.agentId, { amount_max_minor: { daily: 10_000 }, approval_threshold_minor: 5_000 });
    const healthy = expectStatus(await owner.get(`/v1/agents/${fresh.agentId}/health`), 200);
    expect(healthy).toMatchObject({ object: "agent_health", agent_id: fresh.agentId, status: "healthy", issues: [], credential: { active_bindings: 1, active_api_keys: 0 }, wallet: { balance: 100_000, available: 100_000, currency: "GBP" }, approvals: { pending: 0 } });
    expect(healthy.limits).toEqual([{ limit: "daily", max: 10_000, remaining: 10_000, near_exhaustion: false }]);

    expectStatus(await owner.post("/v1/payment-intents", { agent_id: fresh.agentId, payee: "Bob", amount: 4_000, currency: "GBP" }), 201);
    const waiting = expectStatus(await owner.post("/v1/payment-intents", { agent_id: fresh.agentId, payee: "Bob", amount: 5_200, currency: "GBP" }), 201);
    expect(waiting.approval_status).toBe("pending_approval");
    const strained = expectStatus(await owner.get(`/v1/agents/${fresh.agentId}/health`), 200);
    expect(strained.status).toBe("attention");
    expect(strained.issues).toEqual(["limit_near_exhaustion", "approvals_pending"]);
    expect(strained.limits).toEqual([{ limit: "daily", max: 10_000, remaining: 800, near_exhaustion: true }]);
    expect(strained.approvals.pending).toBe(1);
    expect(strained.wallet).toMatchObject({ balance: 96_000, available: 90_800 });

    // The agent reads its own health; not another's.
    const freshApi = await agentClient(server.url, fresh);
    expect(expectStatus(await freshApi.get(`/v1/agents/${fresh.agentId}/health`), 200).agent_id).toBe(fresh.agentId);
    expect((await freshApi.get(`/v1/agents/${agentId}/health`)).status).toBe(404);

    const bare = expectStatus(await owner.post(`/v1/agents/${fresh.agentId}/clone`), 201);
    const bareHealth = expectStatus(await owner.get(`/v1/agents/${bare.id}/health`), 200);
    expect(bareHealth.issues).toEqual(expect.arrayContaining(["no_active_credential", "wallet_empty"]));
    expect(bareHealth.status).toBe("attention");
    expectStatus(await owner.call("DELETE", `/v1/agents/${fresh.agentId}`), 200);
    const disabled = expectStatus(await owner.get(`/v1/agents/${fresh.agentId}/health`), 200);
    expect(disabled.status).toBe("disabled");
    expect(disabled.issues).toEqual(expect.arrayContaining(["agent_disabled", "no_active_credential"]));
  });

  it("activity: the agent's own events, newest first, paged; nobody else's", async () => {
    const other = await fundedAgent(server.url, owner, 10_000, ["agents:execute", "transactions:read", "events:read", "budgets:read"]);
    await putPolicy(owner, other.agentId, {});
    expectStatus(await owner.post("/v1/payment-intents", { agent_id: other.agentId, payee: "Bob", amount: 100, currency: "GBP" }), 201);
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = expectStatus(await owner.get(`/v1/agents/${other.agentId}/activity?limit=2${cursor ? `&cursor=${cursor}` : ""}`), 200);
      expect(page.data.length).toBeLessThanOrEqual(2);
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor !== null);
    const seqs = all.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(all.map((event) => event.agent_id))).toEqual(new Set([other.agentId]));
    const types = all.map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(["agent.created", "credential_binding.registered", "policy.updated", "payment_intent.created", "payment_intent.executed"]));
    // Exactly the events /v1/events lists for the agent.
    const listed = expectStatus(await owner.get(`/v1/events?agent_id=${other.agentId}&limit=100`), 200).data.map((event: any) => event.id);
    expect(all.map((event) => event.id)).toEqual(listed);

    const otherApi = await agentClient(server.url, other);
    expect((await otherApi.get(`/v1/agents/${agentId}/activity`)).status).toBe(404);
    expect((await owner.get("/v1/agents/agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7/activity")).status).toBe(404);
    expect((await owner.get(`/v1/agents/${other.agentId}/activity?cursor=abc`)).status).toBe(400);
  });
});
