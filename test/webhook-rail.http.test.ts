/**
 * The webhook rail beyond the shared contract (rails.contract.ts): the executor configuration
 * (owner-only, SSRF-guarded, secret shown once and never journaled, rotation), the
 * `payment.execute` message as a real executor process receives and verifies it, executors that
 * answer at once or refuse, a tenant without an executor, and attacks on the public callback:
 * forged, stale, cross-tenant, replayed, malformed and oversized callbacks settle nothing.
 */
import { randomBytes } from "node:crypto";
import type { RunningServer } from "@bursar/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "./agents-support.js";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { postCallback, signedCallback, startExecutor, type Executor } from "./rails-support.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds, TestClock } from "./support.js";
import { waitFor } from "./webhook-receiver.js";

describe.each(storeKinds)("webhook rail over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let executor: Executor;
  let owner: Api;
  let agent: AgentApi;
  let agentId: string;
  let tenantId: string;
  let secret: string;
  const clock = new TestClock(Date.now());
  beforeEach(() => {
    clock.ms = Date.now();
  });

  beforeAll(async () => {
    // The executor listens on 127.0.0.1: an explicit opt-in, as in any local set-up.
    server = await startTestServer(kind, { clock, config: { allowPrivateWebhookTargets: true } });
    executor = await startExecutor();
    const tenant = await createTestTenant(server.store);
    tenantId = tenant.tenantId;
    owner = client(server.url, tenant.token);
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    await putPolicy(owner, agentId, {});
  });
  afterAll(async () => {
    await server?.close();
    await executor?.close();
  });

  async function pay(executorBehaviour: string, amount: number) {
    const payee = await createPayee(owner, `Webhook ${executorBehaviour} ${amount}`, { rail: "webhook", rail_details: { executor: executorBehaviour, iban: "GB33BUKB20201555555555" } });
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee_id: payee.id, amount, currency: "GBP", reference: `April ${amount}` }), 201);
    return { payee, intent, transactionId: intent.transaction_ids[0] as string };
  }

  /** A callback's payload and headers, signed with `key`, to spread into `postCallback`. */
  function signed(key: string, body: Record<string, unknown>): [string, Record<string, string>] {
    const callback = signedCallback(key, body);
    return [callback.payload, callback.headers];
  }

  async function transaction(id: string): Promise<any> {
    return expectStatus(await owner.get(`/v1/transactions/${id}`), 200);
  }

  async function settledTransaction(id: string): Promise<any> {
    await server.rails.drain();
    await waitFor(async () => (await transaction(id)).status !== "pending", 20_000, `transaction ${id} to settle`);
    return transaction(id);
  }

  it("configuration: owner-only, SSRF-guarded, the secret shown once and never journaled", async () => {
    expect(expectStatus(await owner.get("/v1/rails/webhook"), 404).code).toBe("not_found");
    expect(expectStatus(await owner.post("/v1/rails/webhook/rotate-secret", {}), 422).code).toBe("rail_not_configured");
    expect(expectStatus(await agent.call("PUT", "/v1/rails/webhook", { url: executor.url }), 403).code).toBe("insufficient_scope");
    expect(expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: "ftp://example.com/x" }), 422).code).toBe("webhook_url_forbidden");
    expect(expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: "http://user:pw@127.0.0.1/x" }), 422).code).toBe("webhook_url_forbidden");
    expect(expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: executor.url, extra: 1 }), 400).code).toBe("validation_failed");

    const configured = expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: executor.url }), 200);
    expect(configured).toMatchObject({ object: "rail_config", id: "webhook", rail: "webhook", url: executor.url, previous_secret_expires_at: null });
    expect(configured.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    secret = configured.secret;
    await executor.setSecret(secret);

    const shown = expectStatus(await owner.get("/v1/rails/webhook"), 200);
    expect(shown).not.toHaveProperty("secret");
    expect(shown.url).toBe(executor.url);
    const again = expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: executor.url }), 200);
    expect(again.secret).toBeNull();

    const events = await listAll(owner, "/v1/events?type=rail.*");
    expect(events.map((event: any) => event.type)).toEqual(["rail.configured", "rail.configured"]);
    expect(events[0].data.rail_config).toMatchObject({ url: executor.url });
    expect(JSON.stringify(await listAll(owner, "/v1/events"))).not.toContain(secret.slice(6));
  });

  it("a server without the explicit opt-in refuses loopback, private and metadata executors", async () => {
    const strict = await startTestServer(kind);
    try {
      const strictOwner = client(strict.url, (await createTestTenant(strict.store)).token);
      for (const url of ["http://127.0.0.1:9/x", "http://[::1]/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data", "http://localhost/x"]) {
        expect(expectStatus(await strictOwner.call("PUT", "/v1/rails/webhook", { url }), 422).code, url).toBe("webhook_url_forbidden");
      }
      expect((await strictOwner.get("/v1/rails/webhook")).status).toBe(404);
    } finally {
      await strict.close();
    }
  });

  it("sends a signed payment.execute that a standard verifier accepts, and settles on the signed callback", async () => {
    const { payee, intent, transactionId } = await pay("succeed", 1_000);
    const settled = await settledTransaction(transactionId);
    expect(settled).toMatchObject({ status: "completed", rail_reference: `exe_${transactionId}` });
    const log = await executor.log();
    const received = log.executed.find((entry) => entry.webhook_id === transactionId);
    expect(received).toMatchObject({ verified: true });
    expect(received!.message).toEqual({
      type: "payment.execute",
      timestamp: expect.any(String),
      data: {
        transaction_id: transactionId, payment_intent_id: intent.id, escrow_intent_id: null, tenant_id: tenantId, agent_id: agentId, amount: 1_000, amount_display: "10.00",
        currency: "GBP", reference: "April 1000", payee: { id: payee.id, name: payee.name, rail_details: { executor: "succeed", iban: "GB33BUKB20201555555555" } },
      },
      callback_url: `${server.url}/v1/rails/webhook/callbacks`,
    });
    expect(log.callbacks.find((entry) => entry.transaction_id === transactionId)).toMatchObject({ status: "succeeded", answered: 200 });
    const [event] = (await listAll(owner, "/v1/events?type=transaction.completed")).filter((entry: any) => entry.data.transaction.id === transactionId);
    expect(event.actor).toEqual({ type: "system", id: "rail_callback" });

    const failed = await pay("fail", 1_100);
    expect(await settledTransaction(failed.transactionId)).toMatchObject({ status: "failed", failure_reason: "payee_account_closed" });
  });

  it("an executor's immediate answer settles at once; a refusal fails with rail_error", async () => {
    const succeeded = await pay("answer_succeeded", 1_200);
    await server.rails.drain();
    expect(await transaction(succeeded.transactionId)).toMatchObject({ status: "completed", rail_reference: `inline_${succeeded.transactionId}` });
    const failed = await pay("answer_failed", 1_300);
    await server.rails.drain();
    expect(await transaction(failed.transactionId)).toMatchObject({ status: "failed", failure_reason: "payee_account_closed" });
    const before = await balanceOf(agent);
    const refused = await pay("reject", 1_400);
    await server.rails.drain();
    expect(await transaction(refused.transactionId)).toMatchObject({ status: "failed", failure_reason: "rail_error" });
    expect(await balanceOf(agent)).toEqual(before);
  });

  it("a tenant without an executor: the payment fails with rail_not_configured and its hold is released", async () => {
    const other = client(server.url, (await createTestTenant(server.store, "No executor")).token);
    const onboarded = await fundedAgent(server.url, other, 10_000);
    const otherAgent = await agentClient(server.url, onboarded);
    await putPolicy(other, onboarded.agentId, {});
    const payee = await createPayee(other, "Nowhere Ltd", { rail: "webhook" });
    const intent = expectStatus(await otherAgent.post("/v1/payment-intents", { payee_id: payee.id, amount: 500, currency: "GBP" }), 201);
    await server.rails.drain();
    expect(expectStatus(await other.get(`/v1/transactions/${intent.transaction_ids[0]}`), 200)).toMatchObject({ status: "failed", failure_reason: "rail_not_configured" });
    expect(await balanceOf(otherAgent)).toEqual(expect.objectContaining({ balance: 10_000, available: 10_000 }));
  });

  it("refuses forged, stale, cross-tenant, malformed and oversized callbacks, settling nothing", async () => {
    const { transactionId } = await pay("silent", 2_000);
    await server.rails.drain();
    const before = await balanceOf(agent);
    const good = { tenant_id: tenantId, transaction_id: transactionId, status: "succeeded" };

    // Another tenant with its own executor secret.
    const otherOwner = client(server.url, (await createTestTenant(server.store, "Other")).token);
    const otherSecret = expectStatus(await otherOwner.call("PUT", "/v1/rails/webhook", { url: executor.url }), 200).secret as string;
    const otherTenantId = expectStatus(await otherOwner.get("/v1/auth/principal"), 200).tenant_id as string;
    // A sandbox payment of the same tenant (it failed at once): never an executor's to settle,
    // so the answer is 404, not the 409 of a settled webhook payment.
    const sandboxPayee = await createPayee(owner, "Sandbox failing", { rail_details: { outcome: "fail" } });
    const sandboxIntent = expectStatus(await agent.post("/v1/payment-intents", { payee_id: sandboxPayee.id, amount: 100, currency: "GBP" }), 201);
    // Stale and future relative to the server's clock (fixed for this test), not to the real time.
    const nowMs = clock.ms;

    const forged = signedCallback(`whsec_${randomBytes(32).toString("base64")}`, good);
    const stale = signedCallback(secret, good, { date: new Date(nowMs - 301_000) });
    const future = signedCallback(secret, good, { date: new Date(nowMs + 301_000) });
    const swapped = signedCallback(secret, { ...good, status: "failed" });
    const oversized = signedCallback(secret, { ...good, rail_reference: "x".repeat(5000) });
    const malformed = signedCallback(secret, '{"tenant_id": ');
    const cases: Array<[string, string, Record<string, string>, number, string]> = [
      ["signed with a secret that is not the tenant's", forged.payload, forged.headers, 401, "invalid_signature"],
      ["no signature headers", JSON.stringify(good), { "content-type": "application/json" }, 401, "invalid_signature"],
      ["a signature of another body", JSON.stringify(good), swapped.headers, 401, "invalid_signature"],
      ["a timestamp over 5 minutes old", stale.payload, stale.headers, 401, "invalid_signature"],
      ["a timestamp over 5 minutes ahead", future.payload, future.headers, 401, "invalid_signature"],
      ["an unknown tenant", ...signed(secret, { ...good, tenant_id: "ten_01NOSUCHTENANT00000000000" }), 401, "invalid_signature"],
      ["another tenant's secret, naming this tenant", ...signed(otherSecret, good), 401, "invalid_signature"],
      ["another tenant's executor, naming its own tenant", ...signed(otherSecret, { ...good, tenant_id: otherTenantId }), 404, "not_found"],
      ["an unknown transaction", ...signed(secret, { ...good, transaction_id: "txn_01NOSUCHTRANSACTION000000" }), 404, "not_found"],
      ["a sandbox payment", ...signed(secret, { ...good, transaction_id: sandboxIntent.transaction_ids[0] }), 404, "not_found"],
      ["an unknown status", ...signed(secret, { ...good, status: "maybe" }), 400, "validation_failed"],
      ["an unknown field", ...signed(secret, { ...good, amount: 1 }), 400, "validation_failed"],
      ["a reason that is not a code", ...signed(secret, { ...good, status: "failed", reason: "<script>" }), 400, "validation_failed"],
      ["malformed JSON", malformed.payload, malformed.headers, 400, "malformed_json"],
      ["a body over the callback bound", oversized.payload, oversized.headers, 413, "body_too_large"],
      ["not JSON", "status=succeeded", { ...signedCallback(secret, "status=succeeded").headers, "content-type": "text/plain" }, 415, "unsupported_media_type"],
    ];
    for (const [what, payload, headers, status, code] of cases) {
      const answer = await postCallback(server.url, payload, headers);
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
      expect(answer.body.code, what).toBe(code);
    }
    // The unknown tenant and the bad signature answer alike: nothing tells them apart.
    const unknownTenant = await postCallback(server.url, ...signed(secret, { ...good, tenant_id: "ten_01NOSUCHTENANT00000000000" }));
    const badSignature = await postCallback(server.url, forged.payload, forged.headers);
    expect({ ...unknownTenant.body, request_id: null }).toEqual({ ...badSignature.body, request_id: null });

    expect(await transaction(transactionId)).toMatchObject({ status: "pending" });
    expect(await transaction(sandboxIntent.transaction_ids[0])).toMatchObject({ status: "failed", failure_reason: "sandbox_configured_failure" });
    expect(await balanceOf(agent)).toEqual(before);

    // The genuine callback settles; its replay is answered the same; a different outcome is a conflict.
    const genuine = signedCallback(secret, { ...good, rail_reference: "bank-123" });
    expect(await postCallback(server.url, genuine.payload, genuine.headers)).toMatchObject({ status: 200, body: { object: "rail_callback_receipt", transaction_id: transactionId, status: "completed" } });
    expect(await postCallback(server.url, genuine.payload, genuine.headers)).toMatchObject({ status: 200, body: { status: "completed" } });
    const conflicting = signedCallback(secret, { ...good, status: "failed", reason: "changed_my_mind" });
    expect(await postCallback(server.url, conflicting.payload, conflicting.headers)).toMatchObject({ status: 409, body: { code: "transaction_not_pending" } });
    expect(await transaction(transactionId)).toMatchObject({ status: "completed", rail_reference: "bank-123" });
    const completions = (await listAll(owner, "/v1/events?type=transaction.*")).filter((event: any) => event.data.transaction?.id === transactionId);
    expect(completions.map((event: any) => event.type)).toEqual(["transaction.completed"]);
    expect(await balanceOf(agent)).toEqual(expect.objectContaining({ balance: before.balance - 2_000, available: before.available }));
  });

  it("rotation: the old secret stays valid for the overlap, and not after a rotation without one", async () => {
    const rotated = expectStatus(await owner.post("/v1/rails/webhook/rotate-secret", { overlap_seconds: 3600 }), 200);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.previous_secret_expires_at).not.toBeNull();
    // Still on the old secret: payment.execute carries both signatures, and its callback verifies.
    const during = await pay("succeed", 700);
    expect(await settledTransaction(during.transactionId)).toMatchObject({ status: "completed" });
    const oldSigned = await pay("silent", 800);
    await server.rails.drain();
    const withOld = signedCallback(secret, { tenant_id: tenantId, transaction_id: oldSigned.transactionId, status: "succeeded" });
    expect((await postCallback(server.url, withOld.payload, withOld.headers)).status).toBe(200);

    const hard = expectStatus(await owner.post("/v1/rails/webhook/rotate-secret", { overlap_seconds: 0 }), 200);
    expect(hard.previous_secret_expires_at).toBeNull();
    await executor.setSecret(hard.secret);
    const pending = await pay("silent", 900);
    await server.rails.drain();
    const callback = { tenant_id: tenantId, transaction_id: pending.transactionId, status: "failed", reason: "rotated" };
    for (const stale of [secret, rotated.secret]) {
      const signed = signedCallback(stale, callback);
      expect((await postCallback(server.url, signed.payload, signed.headers)).status).toBe(401);
    }
    const current = signedCallback(hard.secret, callback);
    expect((await postCallback(server.url, current.payload, current.headers)).body).toMatchObject({ status: "failed" });
    expect(await transaction(pending.transactionId)).toMatchObject({ status: "failed", failure_reason: "rotated" });
    expect(JSON.stringify(await listAll(owner, "/v1/events?type=rail.*"))).not.toContain(hard.secret.slice(6));
  });
});
