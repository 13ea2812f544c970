/**
 * SPEC 2.3 end to end over HTTP: an agent (DPoP) pays through governance; an owner (PAT)
 * approves and rejects; approvals expire; a rail fails. After each step, balances, holds and
 * the journal are checked from the outside.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds, TestClock } from "./support.js";
import type { RunningServer } from "@bursar/server";

describe.each(storeKinds)("governed payments over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  let agentId: string;
  let bob: any;
  const clock = new TestClock(Date.now());

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    const tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    bob = await createPayee(owner, "Bob Smith", { aliases: ["Bob", "Robert"] });
    await putPolicy(owner, agentId, { per_transaction_max_minor: 80_000, approval_threshold_minor: 20_000, approval_expiry_seconds: 600 });
  });
  afterAll(async () => server?.close());

  it("pays below the threshold at once, by alias, on the sandbox rail", async () => {
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "bob", amount: 5_000, currency: "GBP", reference: "Coffee" }), 201);
    expect(intent).toMatchObject({ approval_status: "auto_approved", execution_status: "completed", decision: "allow", amount: 5_000, amount_display: "50.00" });
    expect(intent.legs[0]).toMatchObject({ payee_id: bob.id, status: "completed", reason_codes: [] });
    const transaction = expectStatus(await agent.get(`/v1/transactions/${intent.transaction_ids[0]}`), 200);
    expect(transaction).toMatchObject({ status: "completed", amount: 5_000, currency: "GBP", reference: "Coffee", payment_intent_id: intent.id, creditor: { payee_id: bob.id }, debtor: { agent_id: agentId } });
    expect(await balanceOf(agent)).toMatchObject({ balance: 95_000, available: 95_000 });
    const payeeAccount = expectStatus(await owner.get(`/v1/accounts/${bob.account_id}`), 200);
    expect(payeeAccount.balance).toBe(5_000);
  });

  it("holds the money and waits for an owner at or above the threshold; the agent cannot approve", async () => {
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "Bob", amount: 50_000, currency: "GBP", reference: "April invoice" }), 201);
    expect(intent).toMatchObject({ approval_status: "pending_approval", execution_status: "pending", decision: "approval_required", reason_codes: ["approval_threshold_reached"] });
    expect(await balanceOf(agent)).toMatchObject({ balance: 95_000, available: 45_000 });
    expect((await agent.post(`/v1/approvals/${intent.approval_id}/approve`)).status).toBe(403);
    const approval = expectStatus(await agent.get(`/v1/approvals/${intent.approval_id}`), 200);
    expect(approval).toMatchObject({ status: "pending", payment_intent_id: intent.id, amount: 50_000 });

    const approved = expectStatus(await owner.post(`/v1/approvals/${intent.approval_id}/approve`, { note: "ok" }), 200);
    expect(approved).toMatchObject({ status: "approved", decided_by: { type: "user" }, note: "ok" });
    expect((await owner.post(`/v1/approvals/${intent.approval_id}/approve`)).status).toBe(409);
    const after = expectStatus(await agent.get(`/v1/payment-intents/${intent.id}`), 200);
    expect(after).toMatchObject({ approval_status: "approved_by_user", execution_status: "completed" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 45_000, available: 45_000 });
  });

  it("a rejection cancels the intent and releases the hold", async () => {
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee_id: bob.id, amount: 30_000, currency: "GBP" }), 201);
    expect(await balanceOf(agent)).toMatchObject({ available: 15_000 });
    expectStatus(await owner.post(`/v1/approvals/${intent.approval_id}/reject`, {}), 200);
    const after = expectStatus(await agent.get(`/v1/payment-intents/${intent.id}`), 200);
    expect(after).toMatchObject({ approval_status: "rejected", execution_status: "cancelled", transaction_ids: [] });
    expect(await balanceOf(agent)).toMatchObject({ balance: 45_000, available: 45_000 });
  });

  it("an approval that expires releases the hold", async () => {
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee_id: bob.id, amount: 25_000, currency: "GBP" }), 201);
    const start = clock.ms;
    try {
      clock.advance(599_000);
      expect((await server.sweeper.sweepOnce()).expiredApprovals).toBe(0);
      clock.advance(1_000);
      expect((await owner.post(`/v1/approvals/${intent.approval_id}/approve`)).status).toBe(409);
      expect((await server.sweeper.sweepOnce()).expiredApprovals).toBe(1);
      const after = expectStatus(await owner.get(`/v1/payment-intents/${intent.id}`), 200);
      expect(after).toMatchObject({ approval_status: "expired", execution_status: "cancelled" });
      expect(expectStatus(await owner.get(`/v1/approvals/${intent.approval_id}`), 200)).toMatchObject({ status: "expired", decided_by: { type: "system" } });
    } finally {
      // Back to the time the agent's token and proofs were made in.
      clock.ms = start;
    }
    expect(await balanceOf(agent)).toMatchObject({ balance: 45_000, available: 45_000 });
  });

  it("denies over the per-transaction maximum with reasons and next actions, holding nothing", async () => {
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "robert", amount: 90_000, currency: "GBP" }), 201);
    expect(intent).toMatchObject({ decision: "deny", execution_status: "failed", reason_codes: ["amount_exceeds_transaction_max", "approval_threshold_reached"] });
    expect(intent.available_actions).toContain("lower_amount");
    expect(intent.legs[0].hold_transfer_id).toBeNull();
    expect(await balanceOf(agent)).toMatchObject({ available: 45_000 });
  });

  it("a rail failure releases the hold and records a failed transaction", async () => {
    const flaky = await createPayee(owner, "Flaky Ltd", { rail_details: { outcome: "fail" } });
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "Flaky Ltd", amount: 1_000, currency: "GBP" }), 201);
    expect(intent).toMatchObject({ execution_status: "failed", approval_status: "auto_approved" });
    expect(intent.legs[0]).toMatchObject({ status: "failed", failure_reason: "sandbox_configured_failure" });
    const transaction = expectStatus(await agent.get(`/v1/transactions/${intent.transaction_ids[0]}`), 200);
    expect(transaction).toMatchObject({ status: "failed", failure_reason: "sandbox_configured_failure" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 45_000, available: 45_000 });
    expect(expectStatus(await owner.get(`/v1/accounts/${flaky.account_id}`), 200).balance).toBe(0);
  });

  it("a delayed rail answers executing, then completes in the background", async () => {
    await createPayee(owner, "Slow Co", { rail_details: { delay_ms: 50 } });
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "slow co", amount: 1_000, currency: "GBP" }), 201);
    expect(intent).toMatchObject({ execution_status: "executing" });
    await server.rails.drain();
    expect(expectStatus(await agent.get(`/v1/payment-intents/${intent.id}`), 200)).toMatchObject({ execution_status: "completed" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 44_000, available: 44_000 });
  });

  it("multi-leg: each leg decided on its own; the intent reports partial failure", async () => {
    const intent = expectStatus(
      await agent.post("/v1/payment-intents", {
        instructions: [
          { payee: "bob", amount: 1_000, currency: "GBP" },
          { payee: "flaky ltd", amount: 1_000, currency: "GBP" },
          { payee: "bob", amount: 85_000, currency: "GBP" },
        ],
        reference: "batch",
      }),
      201,
    );
    expect(intent.legs.map((leg: any) => leg.status)).toEqual(["completed", "failed", "denied"]);
    expect(intent).toMatchObject({ execution_status: "partially_failed", amount: 87_000 });
    expect(await balanceOf(agent)).toMatchObject({ balance: 43_000, available: 43_000 });
  });

  it("a retried request with the same Idempotency-Key pays once, even when the retries race", async () => {
    const before = await balanceOf(agent);
    const headers = { "idempotency-key": `pay-once-${kind}` };
    const body = { payee_id: bob.id, amount: 700, currency: "GBP", reference: "once" };
    const answers = await Promise.all(Array.from({ length: 8 }, () => agent.post("/v1/payment-intents", body, headers)));
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const answer of answers) expect([201, 409]).toContain(answer.status);
    expect(new Set(created.map((answer) => answer.body.id)).size).toBe(1);
    const replay = expectStatus(await agent.post("/v1/payment-intents", body, headers), 201);
    expect(replay.id).toBe(created[0]!.body.id);
    expect(expectStatus(await agent.post("/v1/payment-intents", { ...body, amount: 701 }, headers), 409).code).toBe("idempotency_key_payload_mismatch");
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 700 });
  });

  it("refuses unknown and ambiguous payees and bad input with 4xx, writing nothing", async () => {
    await createPayee(owner, "Bobby", { aliases: ["Bob"] });
    const before = (await listAll(owner, "/v1/payment-intents")).length;
    expect(expectStatus(await agent.post("/v1/payment-intents", { payee: "bob", amount: 1, currency: "GBP" }), 422).code).toBe("payee_ambiguous");
    expect(expectStatus(await agent.post("/v1/payment-intents", { payee: "nobody", amount: 1, currency: "GBP" }), 422).code).toBe("payee_not_found");
    expect(expectStatus(await agent.post("/v1/payment-intents", { payee_id: bob.id, amount: 1, currency: "EUR" }), 422).code).toBe("currency_mismatch");
    for (const body of [{ payee: "x", amount: -1, currency: "GBP" }, { payee: "x", amount: 1.5, currency: "GBP" }, { amount: 1, currency: "GBP" }, { payee: "x", amount: 1e16, currency: "GBP" }, { instructions: [] }, { payee: "x", amount: 1, currency: "GBP", extra: 1 }]) {
      const response = await agent.post("/v1/payment-intents", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await listAll(owner, "/v1/payment-intents")).length).toBe(before);
  });

  it("another agent and another tenant see nothing", async () => {
    const [mine] = await listAll(owner, "/v1/payment-intents");
    const other = await agentClient(server.url, await onboard(server.url, owner, { scopes: ["agents:execute", "transactions:read"] }));
    expect((await other.get(`/v1/payment-intents/${mine.id}`)).status).toBe(404);
    expect((await other.get("/v1/payment-intents")).body.data).toEqual([]);
    expect((await other.get(`/v1/payment-intents?agent_id=${agentId}`)).status).toBe(404);
    const stranger = client(server.url, (await createTestTenant(server.store)).token);
    expect((await stranger.get(`/v1/payment-intents/${mine.id}`)).status).toBe(404);
    expect((await stranger.get(`/v1/transactions/${mine.transaction_ids[0] ?? "txn_x"}`)).status).toBe(404);
    expect((await stranger.post(`/v1/approvals/${mine.approval_id ?? "apr_x"}/approve`)).status).toBe(404);
  });

  it("documents every governance route in the OpenAPI document", async () => {
    const document = expectStatus(await client(server.url).get("/openapi.json"), 200);
    const expected: Record<string, string[]> = {
      "/v1/payees": ["get", "post"], "/v1/payees/{id}": ["get", "patch", "delete"], "/v1/agents/{id}/policy": ["get", "put"],
      "/v1/agents/{id}/budgets": ["get", "put"], "/v1/policy/check": ["post"], "/v1/payment-intents": ["get", "post"],
      "/v1/payment-intents/{id}": ["get"], "/v1/approvals": ["get"], "/v1/approvals/{id}/approve": ["post"], "/v1/approvals/{id}/reject": ["post"],
      "/v1/transactions": ["get"], "/v1/transactions/{id}": ["get"],
    };
    for (const [path, methods] of Object.entries(expected)) {
      for (const method of methods) expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const create = document.paths["/v1/payment-intents"].post;
    expect(create.requestBody.content["application/json"].schema.properties).toHaveProperty("instructions");
    expect(create.responses["201"].content["application/json"].schema.properties).toHaveProperty("execution_status");
  });

  it("keeps the books: double entry, no stray holds, and a journal that verifies", async () => {
    await checkLedger(owner);
    const checkpoint = await fetchVerifiedCheckpoint(owner);
    const events = await checkJournal(owner, checkpoint);
    const types = new Set(events.map((event: any) => event.type));
    for (const type of ["payment_intent.created", "payment_intent.approval_required", "payment_intent.approved", "payment_intent.rejected", "payment_intent.expired", "payment_intent.executed", "payment_intent.failed", "transaction.completed", "transaction.failed", "approval.created", "approval.approved", "approval.rejected", "approval.expired", "payee.created", "policy.updated"]) {
      expect(types, type).toContain(type);
    }
    const pending = (await listAll(owner, "/v1/transfers")).filter((transfer: any) => transfer.status === "pending");
    expect(pending).toEqual([]);
  });
});
