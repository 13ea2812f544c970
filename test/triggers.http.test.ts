/**
 * Triggers over HTTP (issue 15 item 5): a real server, an owner with a PAT, an agent with a DPoP
 * credential, and fires signed with the independent `standardwebhooks` package (rails-support.ts
 * `signedCallback`). Shows: a signed fire executes once however often it is delivered (in turn
 * and at once); forged, stale, unsigned and oversized fires and template injection are refused
 * with codes, acting on nothing; the outcome is the one the same API call gets (allow,
 * approval_required, deny, a disabled agent), because it is the same call.
 */
import type { RunningServer } from "@bursar/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "./agents-support.js";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { signedCallback } from "./rails-support.js";
import { client, createTestTenant, startTestServer, storeKinds, TestClock } from "./support.js";

describe.each(storeKinds)("triggers over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let agent: AgentApi;
  let agentId: string;
  let bob: any;
  // Fixed within a test (one rate window), moved to now before each (DPoP proofs carry real time).
  const clock = new TestClock(Date.now());
  beforeEach(() => {
    clock.ms = Date.now();
  });

  /** POSTs a fire as sent: `payload` is the raw body. */
  async function post(triggerId: string, payload: string, headers: Record<string, string>) {
    const response = await fetch(`${server.url}/v1/triggers/${triggerId}/fire`, { method: "POST", headers, body: payload });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body, headers: response.headers };
  }

  /** Signs `event` with `secret` at the server's time and fires it. */
  async function fire(triggerId: string, secret: string, event: Record<string, unknown>, options: { id?: string; date?: Date } = {}) {
    const signed = signedCallback(secret, event, { date: new Date(clock.nowMs()), ...options });
    return post(triggerId, signed.payload, signed.headers);
  }

  async function createTrigger(body: Record<string, unknown>) {
    return expectStatus(await owner.post("/v1/triggers", { agent_id: agentId, name: "Invoices", operation: "payment_intents.create", ...body }), 201);
  }

  const invoiceTemplate = { payee: "{{supplier}}", amount: "{{amount_minor}}", currency: "GBP", reference: "Invoice {{invoice.number}}" };

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    const tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
    const onboarded = await fundedAgent(server.url, owner, 500_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    bob = await createPayee(owner, "Bob Smith", { aliases: ["Bob"] });
    await putPolicy(owner, agentId, { per_transaction_max_minor: 80_000, approval_threshold_minor: 20_000, approval_expiry_seconds: 600 });
  });
  afterAll(async () => server?.close());

  it("shows the secret once, never in reads or events; only owners manage triggers", async () => {
    const created = await createTrigger({ payload_template: invoiceTemplate });
    expect(created).toMatchObject({ object: "trigger", agent_id: agentId, kind: "webhook", operation: "payment_intents.create", status: "active", last_fired_at: null });
    expect(created.secret).toMatch(/^whsec_/);
    const read = expectStatus(await owner.get(`/v1/triggers/${created.id}`), 200);
    expect(read).not.toHaveProperty("secret");
    const listed = expectStatus(await owner.get(`/v1/triggers?agent_id=${agentId}`), 200);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    const events = expectStatus(await owner.get("/v1/events?type=trigger.created"), 200);
    expect(events.data.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(created.secret);
    // The agent cannot list, create or change triggers (they are a standing way into its money).
    expect((await agent.get("/v1/triggers")).status).toBe(403);
    expect((await agent.post("/v1/triggers", { agent_id: agentId, name: "x", operation: "payment_intents.create", payload_template: invoiceTemplate })).status).toBe(403);
  });

  it("a signed fire executes once even when delivered three times, in turn and at once", async () => {
    const trigger = await createTrigger({ payload_template: invoiceTemplate });
    const before = await balanceOf(agent);
    const event = { supplier: "Bob", amount_minor: 12_000, invoice: { number: "2026-117" } };
    const signed = signedCallback(trigger.secret, event, { id: "msg_invoice_117", date: new Date(clock.nowMs()) });
    const answers = [];
    for (let delivery = 0; delivery < 3; delivery++) answers.push(await post(trigger.id, signed.payload, signed.headers));
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const [first, ...repeats] = answers;
    expect(first!.body).toMatchObject({ object: "trigger_fire", trigger_id: trigger.id, agent_id: agentId, webhook_id: "msg_invoice_117", outcome: "executed", error: null });
    expect(first!.body.result).toMatchObject({ object: "payment_intent", amount: 12_000, currency: "GBP", reference: "Invoice 2026-117", execution_status: "completed" });
    expect(first!.body.result.legs[0].payee_id).toBe(bob.id);
    expect(first!.headers.get("idempotent-replayed")).toBeNull();
    for (const repeat of repeats) {
      expect(repeat.body).toEqual(first!.body);
      expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    }
    // At once: three copies of another message racing; one acts.
    const raced = signedCallback(trigger.secret, { ...event, invoice: { number: "2026-118" } }, { id: "msg_invoice_118", date: new Date(clock.nowMs()) });
    const racing = await Promise.all([0, 1, 2].map(() => post(trigger.id, raced.payload, raced.headers)));
    for (const answer of racing) expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(new Set(racing.map((answer) => answer.body.id)).size).toBe(1);
    expect(racing.filter((answer) => answer.headers.get("idempotent-replayed") === "true")).toHaveLength(2);

    // Two payments, not six: the wallet, the intents and the fires agree.
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance - 24_000, available: before.available - 24_000 });
    const intents = expectStatus(await owner.get(`/v1/payment-intents?agent_id=${agentId}&limit=100`), 200).data.filter((intent: any) => intent.reference?.startsWith("Invoice 2026-11"));
    expect(intents).toHaveLength(2);
    const fires = expectStatus(await owner.get(`/v1/triggers/${trigger.id}/fires`), 200);
    expect(fires.data.map((fire: any) => fire.webhook_id).sort()).toEqual(["msg_invoice_117", "msg_invoice_118"]);
    expect(expectStatus(await owner.get(`/v1/triggers/${trigger.id}`), 200).last_fired_at).not.toBeNull();
    const fired = expectStatus(await owner.get("/v1/events?type=trigger.fired"), 200).data;
    expect(fired.filter((entry: any) => entry.data.trigger_fire.trigger_id === trigger.id)).toHaveLength(2);
    expect(fired[0].actor).toEqual({ type: "system", id: trigger.id });
  });

  it("refuses a bad signature, a stale timestamp, a missing signature, another trigger's secret and an oversized body, acting on nothing", async () => {
    const trigger = await createTrigger({ payload_template: invoiceTemplate });
    const other = await createTrigger({ payload_template: invoiceTemplate });
    const before = await balanceOf(agent);
    const event = { supplier: "Bob", amount_minor: 1_000, invoice: { number: "x" } };

    const forged = signedCallback(trigger.secret, event);
    const tampered = await post(trigger.id, forged.payload.replace("1000", "9000"), forged.headers);
    expect(tampered.status).toBe(401);
    expect(tampered.body.code).toBe("invalid_signature");
    const wrongKey = await fire(trigger.id, other.secret, event);
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.code).toBe("invalid_signature");
    const unsigned = await post(trigger.id, JSON.stringify(event), { "content-type": "application/json" });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.code).toBe("invalid_signature");
    for (const skewMs of [-6 * 60_000, 6 * 60_000]) {
      const stale = await fire(trigger.id, trigger.secret, event, { date: new Date(clock.nowMs() + skewMs) });
      expect(stale.status).toBe(401);
      expect(stale.body.code).toBe("signature_timestamp_stale");
    }
    const huge = await fire(trigger.id, trigger.secret, { ...event, padding: "x".repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe("body_too_large");
    const missing = await fire("trg_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", trigger.secret, event);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("not_found");

    expect(await balanceOf(agent)).toEqual(before);
    expect(expectStatus(await owner.get(`/v1/triggers/${trigger.id}/fires`), 200).data).toEqual([]);
  });

  it("refuses template injection with codes: prototype names and nested placeholders when saved, placeholder syntax in event values when fired", async () => {
    for (const amount of ["{{__proto__}}", "{{constructor.prototype}}", "{{a.__proto__.b}}", "{{prototype}}", "{{a{{b}}}}", "{{amount", "amount}}", "{{}}", "{{a b}}", "{{ process.env }}x{{"]) {
      const refused = await owner.post("/v1/triggers", { agent_id: agentId, name: "bad", operation: "payment_intents.create", payload_template: { ...invoiceTemplate, amount } });
      expect(refused.status, amount).toBe(422);
      expect(refused.body.code, amount).toBe("template_invalid");
    }
    const keyed = await owner.post("/v1/triggers", { agent_id: agentId, name: "bad", operation: "payment_intents.create", payload_template: { ...invoiceTemplate, "{{key}}": "x" } });
    expect(keyed.status).toBe(422);
    expect(keyed.body.code).toBe("template_invalid");
    // A body key __proto__ never reaches the template: the JSON parser refuses it first.
    const proto = await owner.post("/v1/triggers", { agent_id: agentId, name: "bad", operation: "payment_intents.create", payload_template: JSON.parse('{"__proto__": {"x": 1}}') });
    expect(proto.status).toBe(400);

    const trigger = await createTrigger({ payload_template: invoiceTemplate });
    const before = await balanceOf(agent);
    // Second-order expansion: an event value that carries placeholders is refused, not expanded.
    const injected = await fire(trigger.id, trigger.secret, { supplier: "{{invoice.number}}", amount_minor: 1_000, invoice: { number: "Bob" } });
    expect(injected.status).toBe(422);
    expect(injected.body.code).toBe("template_injection");
    const nested = await fire(trigger.id, trigger.secret, { supplier: "Bob", amount_minor: 1_000, invoice: { number: "}}{{amount_minor" } });
    expect(nested.status).toBe(422);
    expect(nested.body.code).toBe("template_injection");
    const absent = await fire(trigger.id, trigger.secret, { supplier: "Bob", amount_minor: 1_000 });
    expect(absent.status).toBe(422);
    expect(absent.body.code).toBe("template_field_missing");
    // An inherited property is not a field: {{invoice.toString}} finds nothing.
    const inherited = await createTrigger({ payload_template: { ...invoiceTemplate, reference: "{{invoice.toString}}" } });
    const looked = await fire(inherited.id, inherited.secret, { supplier: "Bob", amount_minor: 1_000, invoice: {} });
    expect(looked.status).toBe(422);
    expect(looked.body.code).toBe("template_field_missing");
    // The rendered body is the API call's body: an amount of the wrong type is the API's 400.
    const wrongType = await fire(trigger.id, trigger.secret, { supplier: "Bob", amount_minor: "lots", invoice: { number: "1" } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.code).toBe("validation_failed");
    expect(await balanceOf(agent)).toEqual(before);
  });

  it("decides exactly as the same API call: allow, approval_required and deny, with the API's reason codes", async () => {
    const trigger = await createTrigger({ payload_template: { payee: "Bob", amount: "{{amount}}", currency: "GBP" } });
    const cases = [
      { amount: 5_000, outcome: "executed", decision: "allow" },
      { amount: 50_000, outcome: "approval_required", decision: "approval_required" },
      { amount: 90_000, outcome: "blocked", decision: "deny" },
    ];
    for (const [index, scenario] of cases.entries()) {
      const api = expectStatus(await agent.post("/v1/payment-intents", { payee: "Bob", amount: scenario.amount, currency: "GBP" }), 201);
      const fired = await fire(trigger.id, trigger.secret, { amount: scenario.amount }, { id: `decide_${index}` });
      expect(fired.status, JSON.stringify(fired.body)).toBe(202);
      expect(fired.body.outcome).toBe(scenario.outcome);
      expect(fired.body.result.decision).toBe(api.decision);
      expect(fired.body.result.decision).toBe(scenario.decision);
      expect(fired.body.reason_codes).toEqual(api.reason_codes);
      expect(fired.body.result.available_actions).toEqual(api.available_actions);
      expect(fired.body.result.agent_id).toBe(agentId);
      if (scenario.outcome === "approval_required") {
        expect(fired.body.approval_id).toMatch(/^apr_/);
        // The approval is an ordinary one: an owner approves it and the payment executes.
        expectStatus(await owner.post(`/v1/approvals/${fired.body.approval_id}/approve`), 200);
        expect(expectStatus(await owner.get(`/v1/payment-intents/${fired.body.payment_intent_id}`), 200).execution_status).toBe("completed");
      }
    }
  });

  it("runs service requests under the same rules, and a disabled agent or trigger acts on nothing", async () => {
    const service = await createTrigger({ operation: "service_requests.create", payload_template: { service: "sandbox", operation: "echo", payload: { text: "{{text}}" } } });
    const echoed = await fire(service.id, service.secret, { text: "hello" });
    expect(echoed.status, JSON.stringify(echoed.body)).toBe(202);
    expect(echoed.body).toMatchObject({ outcome: "executed", operation: "service_requests.create" });
    expect(echoed.body.result).toMatchObject({ object: "service_request", status: "executed", result: { echo: { text: "hello" } }, amount: 100 });

    // A rendered body may not choose another agent: agent_id is not part of it.
    const other = await createTrigger({ operation: "service_requests.create", payload_template: { service: "sandbox", operation: "echo", agent_id: "agt_other" } });
    const chose = await fire(other.id, other.secret, {});
    expect(chose.status).toBe(400);
    expect(chose.body.code).toBe("validation_failed");

    const trigger = await createTrigger({ payload_template: { payee: "Bob", amount: 1_000, currency: "GBP" } });
    expectStatus(await owner.call("PATCH", `/v1/triggers/${trigger.id}`, { status: "disabled" }), 200);
    const disabled = await fire(trigger.id, trigger.secret, {});
    expect(disabled.status).toBe(409);
    expect(disabled.body.code).toBe("trigger_disabled");
    expectStatus(await owner.call("PATCH", `/v1/triggers/${trigger.id}`, { status: "active" }), 200);
    expectStatus(await owner.call("DELETE", `/v1/triggers/${trigger.id}`), 200);
    expect((await fire(trigger.id, trigger.secret, {})).status).toBe(404);

    // Rotation: the old secret stops verifying at once.
    const rotated = await createTrigger({ payload_template: { payee: "Bob", amount: 1_000, currency: "GBP" } });
    const renewed = expectStatus(await owner.post(`/v1/triggers/${rotated.id}/rotate-secret`), 200);
    expect(renewed.secret).not.toBe(rotated.secret);
    expect((await fire(rotated.id, rotated.secret, {})).status).toBe(401);
    expect((await fire(rotated.id, renewed.secret, {})).body.outcome).toBe("executed");

    // A disabled agent: the API refuses with agent_disabled; the fire records that and pays nothing.
    const spare = await fundedAgent(server.url, owner, 10_000);
    await putPolicy(owner, spare.agentId, {});
    const spareTrigger = expectStatus(await owner.post("/v1/triggers", { agent_id: spare.agentId, name: "spare", operation: "payment_intents.create", payload_template: { payee: "Bob", amount: 1_000, currency: "GBP" } }), 201);
    expectStatus(await owner.call("DELETE", `/v1/agents/${spare.agentId}`), 200);
    const refused = await fire(spareTrigger.id, spareTrigger.secret, {});
    expect(refused.status).toBe(202);
    expect(refused.body).toMatchObject({ outcome: "failed", result: null, error: { code: "agent_disabled" } });
    expect((await owner.post("/v1/payment-intents", { agent_id: spare.agentId, payee: "Bob", amount: 1_000, currency: "GBP" })).body.code).toBe("agent_disabled");
    expect(await balanceOf(owner, spare.agentId)).toMatchObject({ balance: 10_000 });
  });

  it("bounds a trigger's rate: past the limit a minute, 429 rate_limited", async () => {
    const trigger = await createTrigger({ operation: "service_requests.create", payload_template: { service: "sandbox", operation: "{{op}}" } });
    // Fires refused before they act (a missing field: 422; a bad signature: 401) do not count
    // against the trigger's limit: only the sender address's (docs/teams.md, "Triggers").
    for (let index = 0; index < 5; index++) expect((await fire(trigger.id, trigger.secret, {}, { id: `refused_${index}` })).body.code).toBe("template_field_missing");
    for (let index = 0; index < 5; index++) expect((await fire(trigger.id, "whsec_" + Buffer.from("not the secret, not at all").toString("base64"), { op: "echo" }, { id: `unsigned_${index}` })).status).toBe(401);
    const statuses: number[] = [];
    for (let index = 0; index < 61; index++) statuses.push((await fire(trigger.id, trigger.secret, { op: "echo" }, { id: `rate_${index}` })).status);
    // The fixed clock keeps every fire in one window: 60 act, the 61st is refused.
    expect(statuses.slice(0, 60).every((status) => status === 202)).toBe(true);
    const limited = await fire(trigger.id, trigger.secret, { op: "echo" }, { id: "rate_61" });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("rate_limited");
    expect(limited.headers.get("retry-after")).not.toBeNull();
    // A repeat of an accepted delivery still answers its outcome (replays act on nothing).
    expect((await fire(trigger.id, trigger.secret, { op: "echo" }, { id: "rate_3" })).status).toBe(202);
  });
});
