/**
 * SPEC 2.4 end to end over HTTP: the catalog, tenant-registered HTTP services (a real loopback
 * server), and governed service requests answering executed, blocked, approval_required, failed
 * and running. After each step the money is checked from the outside: the price is captured
 * once on success and released on every failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, balanceOf, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { startServiceStub, type ServiceStub } from "./service-stub.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds } from "./support.js";
import type { Clock } from "@bursar/core";
import type { RunningServer } from "@bursar/server";

/**
 * Real time plus an offset, or frozen while a test moves it by hand. Agents' DPoP proofs and
 * client assertions carry real time, so the server's clock must follow it however long a loaded
 * machine takes to run the suite.
 */
class SteppingClock implements Clock {
  private offsetMs = 0;
  private frozenMs: number | null = null;
  nowMs(): number {
    return this.frozenMs ?? Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    if (this.frozenMs === null) this.offsetMs += ms;
    else this.frozenMs += ms;
  }
  freeze(): void {
    this.frozenMs = this.nowMs();
  }
  thaw(): void {
    this.frozenMs = null;
  }
}

describe.each(storeKinds)("governed service requests over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let stub: ServiceStub;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  let agentId: string;
  let walletAccountId: string;
  let weather: any;
  const clock = new SteppingClock();

  const request = (operation: string, payload: unknown = {}, service = "sandbox", headers?: Record<string, string>) =>
    agent.post("/v1/service-requests", { service, operation, payload }, headers);
  // The newest policy is the one in force, and ids order by millisecond: one between two
  // policies orders them.
  const setPolicy = async (policy: Record<string, unknown>) => {
    clock.advance(1);
    await putPolicy(owner, agentId, policy);
  };
  const transfer = async (id: string) => expectStatus(await owner.get(`/v1/transfers/${id}`), 200);

  beforeAll(async () => {
    stub = await startServiceStub();
    server = await startTestServer(kind, {
      clock,
      // Loopback service URLs are an explicit opt-in, as for webhooks. A long wait and call
      // timeout, so an answer that comes back at all is waited for; the `stuck` operation's own
      // short timeout is what ends its hanging call.
      config: { allowPrivateWebhookTargets: true, sandboxSlowDelayMs: 20, serviceCallTimeoutMs: 60_000, serviceRequestWaitMs: 60_000 },
    });
    owner = client(server.url, (await createTestTenant(server.store)).token);
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    agentId = onboarded.agentId;
    walletAccountId = onboarded.walletAccountId;
    agent = await agentClient(server.url, onboarded);
  });
  afterAll(async () => {
    await server?.close();
    await stub?.close();
  });

  it("lists the catalog to agents and owners: the sandbox service, prices, input schemas", async () => {
    const catalog = expectStatus(await agent.get("/v1/services"), 200);
    expect(catalog).toMatchObject({ has_more: false, next_cursor: null });
    const sandbox = catalog.data.find((service: any) => service.name === "sandbox");
    expect(sandbox).toMatchObject({ object: "service", id: "svc_sandbox", kind: "builtin", status: "active" });
    expect(sandbox.operations.map((operation: any) => [operation.name, operation.price, operation.currency, operation.execution])).toEqual([
      ["echo", 100, "GBP", "inline"],
      ["quote", 250, "GBP", "inline"],
      ["slow", 50, "GBP", "async"],
    ]);
    expect(sandbox.operations[1]).toMatchObject({ price_display: "2.50", input_schema: { type: "object", required: ["amount", "from", "to"] } });
    expect(expectStatus(await owner.get("/v1/services"), 200).data).toEqual(catalog.data);
    expect(expectStatus(await agent.get("/v1/services/sandbox"), 200).id).toBe("svc_sandbox");
    const openapi = expectStatus(await owner.get("/openapi.json"), 200);
    for (const path of ["/v1/services", "/v1/services/{id}", "/v1/service-requests", "/v1/service-requests/{id}"]) expect(Object.keys(openapi.paths), path).toContain(path);
  });

  it("executes a sandbox operation at once and captures its price exactly once", async () => {
    const before = await balanceOf(agent);
    const echoed = expectStatus(await request("echo", { hello: "world", n: [1, 2] }), 200);
    expect(echoed).toMatchObject({ object: "service_request", status: "executed", decision: "allow", amount: 100, amount_display: "1.00", result: { echo: { hello: "world", n: [1, 2] } }, failure_reason: null });
    expect(echoed.id).toMatch(/^sr_/);
    const hold = await transfer(echoed.hold_transfer_id);
    expect(hold).toMatchObject({ status: "posted", posted_amount: 100, debit_account_id: walletAccountId });
    const revenue = expectStatus(await owner.get(`/v1/accounts/${hold.credit_account_id}`), 200);
    expect(revenue).toMatchObject({ kind: "payee", balance: 100, metadata: { service_id: "svc_sandbox" } });
    expect(expectStatus(await agent.get("/v1/services/svc_sandbox"), 200).account_ids).toEqual({ GBP: hold.credit_account_id });
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 100, available: before.available - 100 });

    const quote = expectStatus(await request("quote", { amount: 10_000, from: "GBP", to: "USD" }), 200);
    expect(quote.result).toEqual({ from: "GBP", to: "USD", amount: 10_000, quoted_amount: 12_700, rate: "1.270000" });
    expect(expectStatus(await request("quote", { amount: 10_000, from: "USD", to: "JPY" }), 200).result.quoted_amount).toBe(14_961);
    expect(expectStatus(await owner.get(`/v1/accounts/${hold.credit_account_id}`), 200).balance).toBe(600);
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 600, available: before.available - 600 });
    expect(expectStatus(await agent.get(`/v1/service-requests/${echoed.id}`), 200)).toEqual(echoed);
  });

  it("refuses payloads that break the input schema with 422 and the ajv errors, spending nothing", async () => {
    const before = await balanceOf(agent);
    const count = (await listAll(owner, "/v1/service-requests")).length;
    const problem = expectStatus(await request("quote", { amount: "ten", from: "GBP", to: "XXX", extra: true }), 422);
    expect(problem.code).toBe("payload_invalid");
    const paths = problem.errors.map((error: any) => error.path);
    expect(paths).toEqual(expect.arrayContaining(["payload", "payload.amount", "payload.to"]));
    expect(expectStatus(await request("quote", [1, 2]), 422).code).toBe("payload_invalid");
    expect(expectStatus(await request("echo", null), 422).code).toBe("payload_invalid");
    expect(expectStatus(await request("slow", { message: 5 }), 422).errors[0]).toMatchObject({ path: "payload.message", code: "payload_invalid" });
    expect((await listAll(owner, "/v1/service-requests")).length).toBe(count);
    expect(await balanceOf(agent)).toEqual(before);
  });

  it("refuses malformed, oversized and unknown input with 4xx, spending nothing", async () => {
    const before = await balanceOf(agent);
    const count = (await listAll(owner, "/v1/service-requests")).length;
    expect(expectStatus(await request("nope"), 422).code).toBe("service_not_found");
    expect(expectStatus(await request("echo", {}, "no-such-service"), 422).code).toBe("service_not_found");
    expect(expectStatus(await agent.post("/v1/service-requests", { service: "sandbox", operation: "echo", extra: 1 }), 400).code).toBe("validation_failed");
    expect(expectStatus(await agent.post("/v1/service-requests", { operation: "echo" }), 400).code).toBe("validation_failed");
    expect(expectStatus(await request("echo", { text: "x".repeat(17 * 1024) }), 400).code).toBe("limit_exceeded");
    expect(expectStatus(await request("echo", { text: "x".repeat(300 * 1024) }), 413).code).toBe("body_too_large");
    let deep: unknown = {};
    for (let i = 0; i < 40; i++) deep = { deep };
    expect(expectStatus(await request("echo", deep), 400).code).toBe("json_too_deep");
    const malformed = await agent.call("POST", "/v1/service-requests", undefined, { "content-type": "application/json" });
    expect(malformed.status).toBe(400);
    expect((await listAll(owner, "/v1/service-requests")).length).toBe(count);
    expect(await balanceOf(agent)).toEqual(before);
  });

  it("blocks what the policy does not allow, with reasons and next actions, holding nothing", async () => {
    const before = await balanceOf(agent);
    await setPolicy({ allowed_services: ["weather"] });
    const blocked = expectStatus(await request("echo"), 200);
    expect(blocked).toMatchObject({ status: "blocked", decision: "deny", reason_codes: ["service_not_allowed"], available_actions: ["choose_allowed_service"], hold_transfer_id: null, result: null });
    await setPolicy({ allowed_services: ["sandbox.echo"], per_transaction_max_minor: 200 });
    expect(expectStatus(await request("echo"), 200).status).toBe("executed");
    const quote = expectStatus(await request("quote", { amount: 1, from: "GBP", to: "EUR" }), 200);
    expect(quote).toMatchObject({ status: "blocked", reason_codes: ["service_not_allowed", "amount_exceeds_transaction_max"] });
    expect(quote.available_actions).toEqual(expect.arrayContaining(["lower_amount", "choose_allowed_service"]));
    await setPolicy({});
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 100, available: before.available - 100 });
  });

  it("holds the price for an approval; the agent cannot approve; the owner's approval executes it", async () => {
    await setPolicy({ approval_threshold_minor: 200 });
    const before = await balanceOf(agent);
    const waiting = expectStatus(await request("quote", { amount: 500, from: "EUR", to: "GBP" }), 202);
    expect(waiting).toMatchObject({ status: "approval_required", decision: "approval_required", approval_status: "pending", reason_codes: ["approval_threshold_reached"], result: null });
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance, available: before.available - 250 });
    expect(expectStatus(await agent.post(`/v1/approvals/${waiting.approval_id}/approve`), 403).code).toBe("insufficient_scope");
    const approval = expectStatus(await agent.get(`/v1/approvals/${waiting.approval_id}`), 200);
    expect(approval).toMatchObject({ status: "pending", subject_type: "service_request", service_request_id: waiting.id, amount: 250 });

    expectStatus(await owner.post(`/v1/approvals/${waiting.approval_id}/approve`, { note: "fine" }), 200);
    const executed = expectStatus(await agent.get(`/v1/service-requests/${waiting.id}`), 200);
    expect(executed).toMatchObject({ status: "executed", approval_status: "approved", result: { quoted_amount: 427 } });
    expect(await transfer(executed.hold_transfer_id)).toMatchObject({ status: "posted", posted_amount: 250 });
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 250, available: before.available - 250 });
    expect(expectStatus(await owner.post(`/v1/approvals/${waiting.approval_id}/approve`), 409).code).toBe("approval_not_pending");
  });

  it("a rejection releases the hold and blocks the request", async () => {
    const before = await balanceOf(agent);
    const waiting = expectStatus(await request("quote", { amount: 500, from: "EUR", to: "GBP" }), 202);
    expectStatus(await owner.post(`/v1/approvals/${waiting.approval_id}/reject`, {}), 200);
    const blocked = expectStatus(await agent.get(`/v1/service-requests/${waiting.id}`), 200);
    expect(blocked).toMatchObject({ status: "blocked", approval_status: "rejected", reason_codes: ["approval_threshold_reached", "approval_rejected"], result: null });
    expect(await transfer(waiting.hold_transfer_id)).toMatchObject({ status: "voided" });
    expect(await balanceOf(agent)).toEqual(before);
    await setPolicy({});
  });

  it("a slow operation answers 202 running, then executes; the poll shows the result", async () => {
    const before = await balanceOf(agent);
    const running = expectStatus(await request("slow", { message: "hi" }), 202);
    expect(running).toMatchObject({ status: "running", result: null, completed_at: null });
    expect(running.deadline_at).not.toBeNull();
    await server.services.drain();
    const done = expectStatus(await agent.get(`/v1/service-requests/${running.id}`), 200);
    expect(done).toMatchObject({ status: "executed", result: { message: "hi", completed: true } });
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 50, available: before.available - 50 });
  });

  it("only owners register services; schemas, URLs and names are checked first", async () => {
    const operation = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
      name, url: `${stub.url}${path}`, price: 30, currency: "GBP",
      input_schema: { type: "object", required: ["city"], properties: { city: { type: "string", minLength: 1 } } }, ...extra,
    });
    const body = { name: "weather", description: "Forecasts", operations: [operation("forecast", "/ok"), operation("flaky", "/fail"), operation("stuck", "/hang", { timeout_ms: 300 }), operation("huge", "/big"), operation("moved", "/redirect"), operation("text", "/not-json"), operation("gated", "/gate")] };
    expect(expectStatus(await agent.post("/v1/services", body), 403).code).toBe("insufficient_scope");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { input_schema: { type: "object", properties: { city: { type: "strin" } } } })] }), 422).code).toBe("service_schema_invalid");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { input_schema: { type: "object", madeUp: true } })] }), 422).code).toBe("service_schema_invalid");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { input_schema: { $ref: "https://example.com/schema.json" } })] }), 422).code).toBe("service_schema_invalid");
    const hugeSchema = { type: "object", properties: Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`field_${i}`, { type: "string" }])) };
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { input_schema: hugeSchema })] }), 422).code).toBe("service_schema_invalid");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { url: "ftp://example.com/x" })] }), 422).code).toBe("service_url_forbidden");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { url: "http://user:pw@127.0.0.1/x" })] }), 422).code).toBe("service_url_forbidden");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("forecast", "/ok", { price: 0 })] }), 400).code).toBe("validation_failed");
    expect(expectStatus(await owner.post("/v1/services", { ...body, name: "Not A Name" }), 400).code).toBe("validation_failed");
    expect(expectStatus(await owner.post("/v1/services", { ...body, name: "sandbox" }), 409).code).toBe("service_name_taken");
    expect(expectStatus(await owner.post("/v1/services", { ...body, operations: [operation("a", "/ok"), operation("a", "/ok")] }), 400).code).toBe("validation_failed");

    weather = expectStatus(await owner.post("/v1/services", body), 201);
    expect(weather).toMatchObject({ object: "service", kind: "http", name: "weather", status: "active" });
    expect(weather.id).toMatch(/^svc_/);
    expect(weather.account_ids.GBP).toMatch(/^acc_/);
    expect(expectStatus(await owner.post("/v1/services", body), 409).code).toBe("service_name_taken");
    const catalog = expectStatus(await agent.get("/v1/services"), 200);
    expect(catalog.data.map((service: any) => service.name)).toEqual(["sandbox", "weather"]);
  });

  it("calls a tenant's HTTP service: success captures the price and stores the answer", async () => {
    const before = await balanceOf(agent);
    const calls = stub.calls.length;
    const executed = expectStatus(await request("forecast", { city: "Leeds" }, "weather"), 200);
    expect(executed).toMatchObject({ status: "executed", service_id: weather.id, result: { forecast: "sunny", received: { city: "Leeds" } } });
    expect(stub.calls.length).toBe(calls + 1);
    const call = stub.calls.at(-1)!;
    expect(call).toMatchObject({ path: "/ok", body: { city: "Leeds" } });
    expect(call.headers).toMatchObject({ "content-type": "application/json", "idempotency-key": executed.id, "bursar-service-request-id": executed.id });
    expect(await transfer(executed.hold_transfer_id)).toMatchObject({ status: "posted", credit_account_id: weather.account_ids.GBP });
    expect(expectStatus(await owner.get(`/v1/accounts/${weather.account_ids.GBP}`), 200).balance).toBe(30);
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 30, available: before.available - 30 });
    expect(expectStatus(await request("forecast", { town: "Leeds" }, weather.id), 422).code).toBe("payload_invalid");
  });

  it("a failing, hanging, oversized, redirecting or non-JSON service fails the request and releases the hold", async () => {
    const before = await balanceOf(agent);
    const outcomes: Array<[string, string]> = [["flaky", "service_http_500"], ["stuck", "service_timeout"], ["huge", "result_too_large"], ["moved", "service_http_302"], ["text", "service_invalid_response"]];
    for (const [operation, reason] of outcomes) {
      const failed = expectStatus(await request(operation, { city: "Leeds" }, "weather"), 200);
      expect(failed, operation).toMatchObject({ status: "failed", failure_reason: reason, result: null });
      expect(await transfer(failed.hold_transfer_id)).toMatchObject({ status: "voided" });
    }
    // The redirect was not followed: the stub saw one call to /redirect and none to /ok.
    expect(stub.calls.filter((call) => call.path === "/redirect").length).toBe(1);
    expect(await balanceOf(agent)).toEqual(before);
    expect(expectStatus(await owner.get(`/v1/accounts/${weather.account_ids.GBP}`), 200).balance).toBe(30);
  });

  it("Prefer: respond-async answers 202 running; the poll sees it executed once the service answers", async () => {
    const before = await balanceOf(agent);
    const running = expectStatus(await request("gated", { city: "York" }, "weather", { prefer: "respond-async" }), 202);
    expect(running.status).toBe("running");
    const again = await request("gated", { city: "York" }, "weather", { prefer: "respond-async" });
    expect(again.status).toBe(202);
    expect(again.headers.get("preference-applied")).toBe("respond-async");
    expect(expectStatus(await agent.get(`/v1/service-requests/${running.id}`), 200).status).toBe("running");
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance, available: before.available - 60 });
    stub.openGate();
    await server.services.drain();
    for (const id of [running.id, again.body.id]) {
      expect(expectStatus(await agent.get(`/v1/service-requests/${id}`), 200)).toMatchObject({ status: "executed", result: { released: true } });
    }
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 60, available: before.available - 60 });
  });

  it("an Idempotency-Key runs a request once and replays the first answer", async () => {
    const before = await balanceOf(agent);
    const headers = { "idempotency-key": `sr-${kind}-1` };
    const first = await request("echo", { n: 1 }, "sandbox", headers);
    const second = await request("echo", { n: 1 }, "sandbox", headers);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body.id).toBe(first.body.id);
    expect(expectStatus(await request("echo", { n: 2 }, "sandbox", headers), 409).code).toBe("idempotency_key_payload_mismatch");
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 100 });
  });

  it("owners may act for an agent; an agent without agents:execute may not call", async () => {
    const done = expectStatus(await owner.post("/v1/service-requests", { service: "sandbox", operation: "echo", payload: {}, agent_id: agentId }), 200);
    expect(done).toMatchObject({ status: "executed", agent_id: agentId });
    expect(expectStatus(await owner.post("/v1/service-requests", { service: "sandbox", operation: "echo" }), 400).code).toBe("validation_failed");
    const reader = await agentClient(server.url, await onboard(server.url, owner, { scopes: ["transactions:read"] }));
    expect(expectStatus(await reader.post("/v1/service-requests", { service: "sandbox", operation: "echo" }), 403).code).toBe("insufficient_scope");
    expect(expectStatus(await reader.get("/v1/services"), 403).code).toBe("insufficient_scope");
  });

  it("another agent and another tenant see nothing", async () => {
    const [mine] = await listAll(owner, "/v1/service-requests");
    const other = await agentClient(server.url, await onboard(server.url, owner, { scopes: ["agents:execute"] }));
    expect((await other.get(`/v1/service-requests/${mine.id}`)).status).toBe(404);
    expect(expectStatus(await other.get("/v1/service-requests"), 200).data).toEqual([]);
    expect((await other.get(`/v1/service-requests?agent_id=${agentId}`)).status).toBe(404);
    expect(expectStatus(await agent.get("/v1/service-requests?limit=100"), 200).data.every((item: any) => item.agent_id === agentId)).toBe(true);
    const stranger = client(server.url, (await createTestTenant(server.store)).token);
    expect((await stranger.get(`/v1/service-requests/${mine.id}`)).status).toBe(404);
    expect(expectStatus(await stranger.get("/v1/service-requests"), 200).data).toEqual([]);
    expect(expectStatus(await stranger.get("/v1/services"), 200).data.map((service: any) => service.name)).toEqual(["sandbox"]);
    expect((await stranger.get(`/v1/services/${weather.id}`)).status).toBe(404);
    expect((await stranger.get("/v1/services/weather")).status).toBe(404);
    expect((await stranger.call("PATCH", `/v1/services/${weather.id}`, { description: "mine now" })).status).toBe(404);
    expect((await stranger.call("DELETE", `/v1/services/${weather.id}`)).status).toBe(404);
    expect(expectStatus(await stranger.post("/v1/service-requests", { service: weather.id, operation: "forecast", payload: { city: "Leeds" } }), 400).code).toBe("validation_failed");
  });

  it("concurrent requests cannot overspend a budget: of 50, exactly the 10 it allows execute", async () => {
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    const spender = await agentClient(server.url, onboarded);
    expectStatus(await owner.call("PUT", `/v1/agents/${onboarded.agentId}/budgets`, { budgets: [{ period: "daily", amount: 1_000, currency: "GBP" }] }), 200);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => spender.post("/v1/service-requests", { service: "sandbox", operation: "echo", payload: { n } })));
    const statuses = answers.map((answer) => expectStatus(answer, 200).status);
    expect(statuses.filter((status) => status === "executed").length).toBe(10);
    expect(statuses.filter((status) => status === "blocked").length).toBe(40);
    expect(answers.filter((answer) => answer.body.status === "blocked").every((answer) => answer.body.reason_codes.includes("budget_exceeded"))).toBe(true);
    expect(await balanceOf(spender)).toMatchObject({ balance: 99_000, available: 99_000 });
  });

  it("owners change and delete services; a deleted service is gone from the catalog", async () => {
    const changed = expectStatus(await owner.call("PATCH", `/v1/services/${weather.id}`, { description: "Better forecasts", operations: [{ name: "forecast", url: `${stub.url}/ok`, price: 40, currency: "EUR", input_schema: { type: "object" } }] }), 200);
    expect(changed.operations).toHaveLength(1);
    expect(changed.operations[0]).toMatchObject({ price: 40, currency: "EUR" });
    expect(Object.keys(changed.account_ids).sort()).toEqual(["EUR", "GBP"]);
    expect(expectStatus(await agent.call("PATCH", `/v1/services/${weather.id}`, { description: "x" }), 403).code).toBe("insufficient_scope");
    // The agent's wallet is in GBP: a EUR price is refused by the policy's currency rule.
    expect(expectStatus(await request("forecast", { city: "Leeds" }, "weather"), 200)).toMatchObject({ status: "blocked", reason_codes: ["currency_not_allowed"] });
    expectStatus(await owner.call("DELETE", `/v1/services/${weather.id}`), 200);
    expect(expectStatus(await agent.get("/v1/services"), 200).data.map((service: any) => service.name)).toEqual(["sandbox"]);
    expect(expectStatus(await request("forecast", { city: "Leeds" }, "weather"), 422).code).toBe("service_not_found");
    expect((await owner.call("DELETE", `/v1/services/${weather.id}`)).status).toBe(404);
  });

  it("keeps the books: double entry, no stray holds, and a journal with every service event", async () => {
    await checkLedger(owner);
    const checkpoint = await fetchVerifiedCheckpoint(owner);
    const events = await checkJournal(owner, checkpoint);
    const types = new Set(events.map((event: any) => event.type));
    for (const type of ["service.created", "service.updated", "service.deleted", "service_request.created", "service_request.approval_required", "service_request.executed", "service_request.failed", "service_request.blocked", "approval.approved", "approval.rejected"]) {
      expect(types, type).toContain(type);
    }
    const pending = (await listAll(owner, "/v1/transfers")).filter((transfer: any) => transfer.status === "pending");
    expect(pending).toEqual([]);
  });
});

describe.each(storeKinds)("service request deadlines (%s)", (kind) => {
  let server: RunningServer;
  let stub: ServiceStub;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  const clock = new SteppingClock();

  beforeAll(async () => {
    stub = await startServiceStub();
    // A call timeout far beyond the test: only the deadline can end the hanging call here. The
    // answer waits 50 ms for the call, which never answers, so it is always 202 running.
    server = await startTestServer(kind, { clock, config: { allowPrivateWebhookTargets: true, serviceCallTimeoutMs: 120_000, serviceRequestWaitMs: 50 } });
    owner = client(server.url, (await createTestTenant(server.store)).token);
    agent = await agentClient(server.url, await fundedAgent(server.url, owner, 10_000));
    expectStatus(await owner.post("/v1/services", { name: "stuck", operations: [{ name: "wait", url: `${stub.url}/hang`, price: 70, currency: "GBP", input_schema: { type: "object" } }] }), 201);
  });
  afterAll(async () => {
    // Closing aborts the hanging call; the request was settled by the sweep already.
    await server?.close();
    await stub?.close();
  });

  it("a call that outlasts the wait answers 202 running; past its deadline the sweep fails it and releases its hold", async () => {
    const before = await balanceOf(agent);
    let requestId = "";
    let holdId = "";
    // Frozen from before the request, so its deadline is exactly 300 s ahead of the clock.
    clock.freeze();
    try {
      const running = expectStatus(await agent.post("/v1/service-requests", { service: "stuck", operation: "wait", payload: {} }), 202);
      expect(running).toMatchObject({ status: "running", failure_reason: null });
      expect(await balanceOf(agent)).toMatchObject({ available: before.available - 70 });
      requestId = running.id;
      holdId = running.hold_transfer_id;
      clock.advance(299_000);
      expect((await server.sweeper.sweepOnce()).timedOutServiceRequests).toBe(0);
      clock.advance(1_000);
      expect((await server.sweeper.sweepOnce()).timedOutServiceRequests).toBe(1);
      expect((await server.sweeper.sweepOnce()).timedOutServiceRequests).toBe(0);
      expect(expectStatus(await owner.get(`/v1/service-requests/${requestId}`), 200)).toMatchObject({ status: "failed", failure_reason: "deadline_exceeded" });
    } finally {
      // Back to the time the agent's token and proofs are made in.
      clock.thaw();
    }
    expect(expectStatus(await owner.get(`/v1/transfers/${holdId}`), 200)).toMatchObject({ status: "voided" });
    expect(await balanceOf(agent)).toEqual(before);
    expect(stub.calls.map((call) => call.path)).toEqual(["/hang"]);
  });

  it("an approval that expires releases the held price and blocks the request", async () => {
    const agentId = expectStatus(await agent.get("/v1/balance"), 200).agent_id;
    await putPolicy(owner, agentId, { approval_threshold_minor: 1, approval_expiry_seconds: 600 });
    const before = await balanceOf(agent);
    clock.freeze();
    let waiting: any;
    try {
      waiting = expectStatus(await agent.post("/v1/service-requests", { service: "sandbox", operation: "echo" }), 202);
      expect(await balanceOf(agent)).toMatchObject({ available: before.available - 100 });
      clock.advance(599_999);
      expect((await server.sweeper.sweepOnce()).expiredApprovals).toBe(0);
      clock.advance(1);
      expect((await server.sweeper.sweepOnce()).expiredApprovals).toBe(1);
    } finally {
      clock.thaw();
    }
    expect(expectStatus(await agent.get(`/v1/service-requests/${waiting.id}`), 200)).toMatchObject({ status: "blocked", approval_status: "expired", reason_codes: ["approval_threshold_reached", "approval_expired"] });
    expect(expectStatus(await owner.get(`/v1/approvals/${waiting.approval_id}`), 200)).toMatchObject({ status: "expired" });
    expect(await balanceOf(agent)).toEqual(before);
    await checkLedger(owner);
  });
});
