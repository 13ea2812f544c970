/**
 * Policies, budgets and the dry run over HTTP: who may read and change them, what the dry run
 * answers (and that it changes nothing), and that budgets bind payment intents.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds } from "./support.js";
import type { RunningServer } from "@bursar/server";

describe.each(storeKinds)("policies, budgets and policy check (%s)", (kind) => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  let agentId: string;
  let payee: any;
  let ownerToken: string;
  let baseUrl: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    baseUrl = server.url;
    ownerToken = (await createTestTenant(server.store)).token;
    owner = client(server.url, ownerToken);
    const onboarded = await fundedAgent(server.url, owner, 50_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    payee = await createPayee(owner, "Alice", { aliases: ["Al"] });
  });
  afterAll(async () => server?.close());

  it("starts on the default policy: spend-limited to 100.00 a payment and 250.00 a day in the wallet's currency", async () => {
    const policy = expectStatus(await agent.get(`/v1/agents/${agentId}/policy`), 200);
    expect(policy).toMatchObject({ object: "policy", id: null, is_default: true, currency: "GBP", per_transaction_max_minor: 10_000, amount_max_minor: { daily: 25_000 }, new_payee_requires_approval: false });
    const check = expectStatus(await agent.post("/v1/policy/check", { amount: 10_000, currency: "GBP", payee: "al" }), 200);
    expect(check).toMatchObject({ decision: "allow", reason_codes: [], policy_id: null, remaining: { wallet: 40_000, per_transaction: 0, daily: 15_000 } });
    const above = expectStatus(await agent.post("/v1/policy/check", { amount: 10_001, currency: "GBP", payee: "al" }), 200);
    expect(above).toMatchObject({ decision: "deny", reason_codes: ["amount_exceeds_transaction_max"], available_actions: ["lower_amount"] });
    expect(expectStatus(await agent.post("/v1/policy/check", { amount: 10_000, currency: "EUR" }), 200).reason_codes).toContain("currency_not_allowed");
  });

  it("changes one field with PATCH (JSON Merge Patch), keeping the rest", async () => {
    const before = expectStatus(await owner.get(`/v1/agents/${agentId}/policy`), 200);
    expect((await agent.call("PATCH", `/v1/agents/${agentId}/policy`, { approval_threshold_minor: 1 })).status).toBe(403);
    const patched = expectStatus(await owner.call("PATCH", `/v1/agents/${agentId}/policy`, { approval_threshold_minor: 4_000, amount_max_minor: { weekly: 90_000 } }), 200);
    expect(patched).toEqual({ ...before, id: patched.id, is_default: false, updated_at: patched.updated_at, approval_threshold_minor: 4_000, amount_max_minor: { ...before.amount_max_minor, weekly: 90_000 } });
    // null removes a per-period key and clears a nullable limit; application/merge-patch+json is accepted.
    const response = await fetch(`${baseUrl}/v1/agents/${agentId}/policy`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ amount_max_minor: { daily: null }, per_transaction_max_minor: null }),
    });
    expect(response.status).toBe(200);
    const cleared = (await response.json()) as any;
    expect(cleared).toMatchObject({ amount_max_minor: { weekly: 90_000 }, per_transaction_max_minor: null, approval_threshold_minor: 4_000 });
    expect(cleared.amount_max_minor).not.toHaveProperty("daily");
    // The merged policy must still be valid: a required field cannot be removed, unknown ones are refused.
    for (const bad of [{ approval_expiry_seconds: null }, { surprise: 1 }, { amount_max_minor: { hourly: 5 } }, { per_transaction_max_minor: -1 }]) {
      const refused = await owner.call("PATCH", `/v1/agents/${agentId}/policy`, bad);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.code).toBe("validation_failed");
    }
    expect(expectStatus(await owner.get(`/v1/agents/${agentId}/policy`), 200).id).toBe(cleared.id);
  });

  it("only owners change a policy; the agent may read its own and no other", async () => {
    const body = { currency: "GBP", per_transaction_max_minor: 5_000, amount_max_minor: { daily: 8_000 }, count_max: {}, allowed_payee_ids: null, blocked_payee_ids: [], allowed_currencies: null, allowed_services: null, approval_threshold_minor: 4_000, new_payee_requires_approval: true, approval_expiry_seconds: 600 };
    expect((await agent.call("PUT", `/v1/agents/${agentId}/policy`, body)).status).toBe(403);
    const put = expectStatus(await owner.call("PUT", `/v1/agents/${agentId}/policy`, body), 200);
    expect(put).toMatchObject({ is_default: false, per_transaction_max_minor: 5_000 });
    expect(expectStatus(await agent.get(`/v1/agents/${agentId}/policy`), 200).id).toBe(put.id);
    const otherAgent = expectStatus(await owner.post("/v1/agents", { name: "other" }), 201);
    expect((await agent.get(`/v1/agents/${otherAgent.id}/policy`)).status).toBe(404);
    for (const bad of [{ ...body, per_transaction_max_minor: -1 }, { ...body, currency: "XXX" }, { ...body, approval_expiry_seconds: 0 }, { ...body, surprise: true }, { ...body, amount_max_minor: { hourly: 5 } }]) {
      expect((await owner.call("PUT", `/v1/agents/${agentId}/policy`, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await owner.call("PUT", "/v1/agents/agt_missing/policy", body)).status).toBe(404);
  });

  it("the dry run combines every reason, counts the wallet, and changes nothing", async () => {
    const eventsBefore = (await listAll(owner, "/v1/events")).length;
    const check = expectStatus(await agent.post("/v1/policy/check", { amount: 9_000, currency: "GBP", payee: payee.id }), 200);
    expect(check.decision).toBe("deny");
    expect(check.reason_codes).toEqual(["amount_exceeds_transaction_max", "daily_amount_limit_exceeded", "approval_threshold_reached", "new_payee_requires_approval"]);
    expect(check.available_actions).toEqual(["lower_amount", "retry_after_window"]);
    const approval = expectStatus(await agent.post("/v1/policy/check", { amount: 4_000, currency: "GBP", payee: "Alice" }), 200);
    expect(approval).toMatchObject({ decision: "approval_required", reason_codes: ["approval_threshold_reached", "new_payee_requires_approval"] });
    expect(expectStatus(await agent.post("/v1/policy/check", { amount: 60_000, currency: "GBP" }), 200).reason_codes).toContain("insufficient_funds");
    expect(expectStatus(await agent.post("/v1/policy/check", { amount: 1, currency: "GBP", payee: "nobody" }), 422).code).toBe("payee_not_found");
    expect((await listAll(owner, "/v1/events")).length).toBe(eventsBefore);
    expect(await balanceOf(agent)).toMatchObject({ available: 50_000 });
  });

  it("a payee paid once is no longer new", async () => {
    await putPolicy(owner, agentId, { new_payee_requires_approval: true });
    const first = expectStatus(await agent.post("/v1/payment-intents", { payee: "Alice", amount: 100, currency: "GBP" }), 201);
    expect(first.approval_status).toBe("pending_approval");
    expectStatus(await owner.post(`/v1/approvals/${first.approval_id}/approve`), 200);
    const second = expectStatus(await agent.post("/v1/payment-intents", { payee: "Alice", amount: 100, currency: "GBP" }), 201);
    expect(second).toMatchObject({ approval_status: "auto_approved", execution_status: "completed" });
  });

  it("budgets: owners replace the set, the agent reads them, and they bind payments", async () => {
    await putPolicy(owner, agentId, {});
    const body = { budgets: [{ period: "weekly", amount: 1_000, currency: "GBP" }, { period: "monthly", amount: 5_000, currency: "GBP" }] };
    expect((await agent.call("PUT", `/v1/agents/${agentId}/budgets`, body)).status).toBe(403);
    const put = expectStatus(await owner.call("PUT", `/v1/agents/${agentId}/budgets`, body), 200);
    expect(put.data.map((b: any) => b.period).sort()).toEqual(["monthly", "weekly"]);
    expect(expectStatus(await agent.get(`/v1/agents/${agentId}/budgets`), 200).data).toHaveLength(2);
    // 200 already spent this week (two payments to Alice above).
    const ok = expectStatus(await agent.post("/v1/payment-intents", { payee: "Alice", amount: 800, currency: "GBP" }), 201);
    expect(ok.execution_status).toBe("completed");
    const over = expectStatus(await agent.post("/v1/payment-intents", { payee: "Alice", amount: 1, currency: "GBP" }), 201);
    expect(over).toMatchObject({ decision: "deny", reason_codes: ["budget_exceeded"] });
    expect(over.legs[0].remaining.budget_weekly).toBe(-1);
    const replaced = expectStatus(await owner.call("PUT", `/v1/agents/${agentId}/budgets`, { budgets: [] }), 200);
    expect(replaced.data).toEqual([]);
    expect(expectStatus(await agent.post("/v1/payment-intents", { payee: "Alice", amount: 1, currency: "GBP" }), 201).execution_status).toBe("completed");
    expect((await owner.call("PUT", `/v1/agents/${agentId}/budgets`, { budgets: [{ period: "daily", amount: 1, currency: "GBP" }, { period: "daily", amount: 2, currency: "GBP" }] })).status).toBe(400);
    const events = await listAll(owner, "/v1/events?type=budget.updated");
    expect(events.length).toBe(2);
  });

  it("payees: owners manage them, agents read and look up by alias", async () => {
    expect((await agent.post("/v1/payees", { name: "Mallory", currency: "GBP" })).status).toBe(403);
    const found = expectStatus(await agent.get("/v1/payees?q=AL"), 200);
    expect(found.data.map((p: any) => p.id)).toEqual([payee.id]);
    const renamed = expectStatus(await owner.call("PATCH", `/v1/payees/${payee.id}`, { aliases: ["Ally"] }), 200);
    expect(renamed.aliases).toEqual(["Ally"]);
    expect(expectStatus(await agent.get("/v1/payees?q=al"), 200).data).toEqual([]);
    const temp = await createPayee(owner, "Temp");
    expectStatus(await owner.call("DELETE", `/v1/payees/${temp.id}`), 200);
    expect(expectStatus(await agent.post("/v1/payment-intents", { payee: temp.id, amount: 1, currency: "GBP" }), 422).code).toBe("payee_not_found");
    expect((await owner.post("/v1/payees", { name: "Bad", currency: "GBP", rail_details: { outcome: "explode" } })).status).toBe(400);
  });
});
