/**
 * Spend authorizations end to end over HTTP (authorize → execute → complete): an agent (DPoP)
 * authorizes, consumes in part or releases; holds expire; owners approve and reject; the windows
 * are one budget authority across payments, service requests and authorizations; capability
 * tokens are attacked one refusal at a time. After each flow the books are checked from outside
 * (double entry, balances equal to transfers) and the journal verified against a checkpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds, TestClock } from "./support.js";
import type { RunningServer } from "@bursar/server";

describe.each(storeKinds)("spend authorizations over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  let agentId: string;
  const clock = new TestClock(Date.now());

  /** Books balanced and the journal verifying, from the outside. */
  async function booksHold(): Promise<void> {
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }

  /** Runs `fn` with the clock moved ahead, then back (the agent's token and proofs live in real time). */
  async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
    const start = clock.ms;
    clock.advance(ms);
    try {
      return await fn();
    } finally {
      clock.ms = start;
    }
  }

  const authorize = (body: Record<string, unknown>, api: AgentApi | ReturnType<typeof client> = agent) =>
    api.post("/v1/spend/authorizations", { currency: "GBP", ...body });

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    const tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    await putPolicy(owner, agentId, { approval_threshold_minor: 20_000, approval_expiry_seconds: 600 });
  });
  afterAll(async () => server?.close());

  it("authorizes and holds; consuming part posts that much to the vendor and releases the rest; the windows count what was spent", async () => {
    const authorization = expectStatus(await authorize({ operation: "openai.chat", amount: 1_000, tool_call_id: "call_1", metadata: { model: "gpt" } }), 201);
    expect(authorization).toMatchObject({
      object: "spend_authorization", status: "authorized", decision: "allow", reason_codes: [], vendor: "openai", amount: 1_000,
      available_actions: ["consume", "release"], tool_call_id: "call_1", approval_id: null, consumed_amount: null,
    });
    expect(authorization.id).toMatch(/^sa_/);
    expect(Date.parse(authorization.expires_at) - clock.ms).toBe(900_000);
    expect(await balanceOf(agent)).toMatchObject({ balance: 100_000, available: 99_000 });

    const consumed = expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed", amount: 700, external_reference: "chatcmpl-1", evidence: { usage: { tokens: 1234 } } }), 200);
    expect(consumed).toMatchObject({ status: "consumed", consumed_amount: 700, consumed_amount_display: "7.00", external_reference: "chatcmpl-1", available_actions: [], evidence: { usage: { tokens: 1234 } } });
    expect(await balanceOf(agent)).toMatchObject({ balance: 99_300, available: 99_300 });
    const vendor = expectStatus(await owner.get(`/v1/accounts/${consumed.credit_account_id}`), 200);
    expect(vendor).toMatchObject({ kind: "vendor", balance: 700, metadata: { vendor: "openai" } });
    const hold = expectStatus(await owner.get(`/v1/transfers/${consumed.hold_transfer_id}`), 200);
    expect(hold).toMatchObject({ status: "posted", amount: 1_000, posted_amount: 700 });

    // The daily window counts 700, not the 1,000 that was held.
    await putPolicy(owner, agentId, { approval_threshold_minor: 20_000, approval_expiry_seconds: 600, amount_max_minor: { daily: 10_000 } });
    const check = expectStatus(await agent.post("/v1/policy/check", { kind: "spend_authorization", operation: "openai.chat", amount: 100, currency: "GBP" }), 200);
    expect(check.remaining.daily).toBe(10_000 - 700 - 100);
    await putPolicy(owner, agentId, { approval_threshold_minor: 20_000, approval_expiry_seconds: 600 });

    // The same outcome again answers the first result; another outcome is a conflict.
    const again = expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed", amount: 900 }), 200);
    expect(again).toMatchObject({ status: "consumed", consumed_amount: 700 });
    const other = await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "released" });
    expect(expectStatus(other, 409)).toMatchObject({ code: "authorization_already_completed" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 99_300, available: 99_300 });
    await booksHold();
  });

  it("refuses to consume more than was authorized, and releases in full on request", async () => {
    const authorization = expectStatus(await authorize({ operation: "stripe.charges.create", amount: 500, vendor: "stripe" }), 201);
    const over = await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed", amount: 501 });
    expect(expectStatus(over, 422)).toMatchObject({ code: "amount_exceeds_authorization" });
    const released = expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "released" }), 200);
    expect(released).toMatchObject({ status: "released", consumed_amount: null });
    expect(expectStatus(await owner.get(`/v1/transfers/${released.hold_transfer_id}`), 200)).toMatchObject({ status: "voided", posted_amount: 0 });
    expect(expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed" }), 409)).toMatchObject({ code: "authorization_already_completed" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 99_300, available: 99_300 });
    await booksHold();
  });

  it("an authorization not completed in time expires: the sweeper releases its hold and completing it is a conflict", async () => {
    const authorization = expectStatus(await authorize({ operation: "x402.fetch", amount: 2_000, expires_in: 60 }), 201);
    expect(await balanceOf(agent)).toMatchObject({ available: 97_300 });
    await later(59_000, async () => expect((await server.sweeper.sweepOnce()).expiredSpendAuthorizations).toBe(0));
    await later(60_000, async () => expect((await server.sweeper.sweepOnce()).expiredSpendAuthorizations).toBe(1));
    expect(expectStatus(await agent.get(`/v1/spend/authorizations/${authorization.id}`), 200)).toMatchObject({ status: "expired", available_actions: [] });
    expect(expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed" }), 409)).toMatchObject({ code: "authorization_expired" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 99_300, available: 99_300 });

    // Completed after its time but before a sweep: it expires there and then, and says so.
    const late = expectStatus(await authorize({ operation: "x402.fetch", amount: 2_000, expires_in: 1 }), 201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    clock.ms = Date.now();
    expect(expectStatus(await agent.post(`/v1/spend/authorizations/${late.id}/complete`, { outcome: "consumed" }), 409)).toMatchObject({ code: "authorization_expired" });
    expect(expectStatus(await agent.get(`/v1/spend/authorizations/${late.id}`), 200)).toMatchObject({ status: "expired" });
    expect(await balanceOf(agent)).toMatchObject({ available: 99_300 });
    await booksHold();
  });

  it("at the threshold it holds and waits; an owner's approval makes it authorized with a fresh expiry; then it is consumed", async () => {
    const authorization = expectStatus(await authorize({ operation: "vendor.invoice", amount: 25_000, expires_in: 120 }), 201);
    expect(authorization).toMatchObject({ status: "pending_approval", decision: "approval_required", reason_codes: ["approval_threshold_reached"], expires_at: null, approval_status: "pending" });
    expect(authorization.available_actions).toEqual(["wait_for_approval", "release"]);
    expect(await balanceOf(agent)).toMatchObject({ available: 74_300 });
    expect(expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed" }), 409)).toMatchObject({ code: "authorization_not_authorized" });
    expect((await agent.post(`/v1/approvals/${authorization.approval_id}/approve`)).status).toBe(403);
    const approval = expectStatus(await owner.get(`/v1/approvals/${authorization.approval_id}`), 200);
    expect(approval).toMatchObject({ subject_type: "spend_authorization", spend_authorization_id: authorization.id, amount: 25_000, status: "pending" });

    const approvedAtMs = await later(30_000, async () => {
      expectStatus(await owner.post(`/v1/approvals/${authorization.approval_id}/approve`, { note: "fine" }), 200);
      return clock.ms;
    });
    const approved = expectStatus(await agent.get(`/v1/spend/authorizations/${authorization.id}`), 200);
    expect(approved).toMatchObject({ status: "authorized", approval_status: "approved", available_actions: ["consume", "release"] });
    expect(Date.parse(approved.expires_at)).toBe(approvedAtMs + 120_000);
    expect(expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed" }), 200)).toMatchObject({ status: "consumed", consumed_amount: 25_000 });
    expect(await balanceOf(agent)).toMatchObject({ balance: 74_300, available: 74_300 });
    await booksHold();
  });

  it("a rejection releases the hold; an approval that expires releases it; the agent may release while it waits", async () => {
    const rejected = expectStatus(await authorize({ operation: "vendor.invoice", amount: 30_000 }), 201);
    expectStatus(await owner.post(`/v1/approvals/${rejected.approval_id}/reject`, { note: "no" }), 200);
    expect(expectStatus(await agent.get(`/v1/spend/authorizations/${rejected.id}`), 200)).toMatchObject({ status: "rejected", approval_status: "rejected", reason_codes: ["approval_threshold_reached", "approval_rejected"] });
    expect(await balanceOf(agent)).toMatchObject({ available: 74_300 });

    const lapsed = expectStatus(await authorize({ operation: "vendor.invoice", amount: 30_000 }), 201);
    await later(600_000, async () => expect((await server.sweeper.sweepOnce()).expiredApprovals).toBe(1));
    expect(expectStatus(await agent.get(`/v1/spend/authorizations/${lapsed.id}`), 200)).toMatchObject({ status: "expired", approval_status: "expired" });
    expect(await balanceOf(agent)).toMatchObject({ available: 74_300 });

    const withdrawn = expectStatus(await authorize({ operation: "vendor.invoice", amount: 30_000 }), 201);
    expect(expectStatus(await agent.post(`/v1/spend/authorizations/${withdrawn.id}/complete`, { outcome: "released" }), 200)).toMatchObject({ status: "released", approval_status: "cancelled" });
    expect(expectStatus(await owner.get(`/v1/approvals/${withdrawn.approval_id}`), 200)).toMatchObject({ status: "cancelled" });
    expect(expectStatus(await owner.post(`/v1/approvals/${withdrawn.approval_id}/approve`), 409)).toMatchObject({ code: "approval_not_pending" });
    expect(await balanceOf(agent)).toMatchObject({ balance: 74_300, available: 74_300 });
    await booksHold();
  });

  it("the operation and vendor rules deny with reasons and hold nothing; per-operation limits apply to what their pattern matches", async () => {
    await putPolicy(owner, agentId, {
      approval_threshold_minor: 20_000, approval_expiry_seconds: 600,
      allowed_operations: ["openai.*", "anthropic.messages", "tools.*"], blocked_operations: ["openai.images"], blocked_vendors: ["shady"],
      operation_limits: { "openai.*": { per_call_max_minor: 1_500, daily_max_minor: 2_000 } },
    });
    const outside = expectStatus(await authorize({ operation: "stripe.charges.create", amount: 100 }), 201);
    expect(outside).toMatchObject({ status: "denied", decision: "deny", reason_codes: ["operation_not_allowed"], available_actions: ["choose_allowed_operation"], hold_transfer_id: null });
    expect(expectStatus(await authorize({ operation: "openai.images", amount: 100 }), 201)).toMatchObject({ status: "denied", reason_codes: ["operation_blocked"] });
    expect(expectStatus(await authorize({ operation: "tools.search", amount: 100, vendor: "shady" }), 201)).toMatchObject({ status: "denied", reason_codes: ["vendor_blocked"], available_actions: ["choose_allowed_vendor"] });
    expect(expectStatus(await authorize({ operation: "openai.chat", amount: 1_501 }), 201)).toMatchObject({ status: "denied", reason_codes: ["amount_exceeds_operation_max", "operation_daily_limit_exceeded"] });
    // 700 of openai.chat was consumed today: 1,300 more reaches the daily 2,000 exactly; 1 more does not fit.
    const fits = expectStatus(await authorize({ operation: "openai.embeddings", amount: 1_300 }), 201);
    expect(fits).toMatchObject({ status: "authorized", remaining: { operation_daily: 0, operation_per_call: 200 } });
    expect(expectStatus(await authorize({ operation: "openai.chat", amount: 1 }), 201)).toMatchObject({ status: "denied", reason_codes: ["operation_daily_limit_exceeded"] });
    // Other operations do not count towards openai.*.
    expect(expectStatus(await authorize({ operation: "anthropic.messages", amount: 1_900 }), 201)).toMatchObject({ status: "authorized" });
    const dry = expectStatus(await agent.post("/v1/policy/check", { kind: "spend_authorization", operation: "openai.chat", amount: 1, currency: "GBP" }), 200);
    expect(dry).toMatchObject({ decision: "deny", reason_codes: ["operation_daily_limit_exceeded"] });
    expect(expectStatus(await agent.post("/v1/policy/check", { kind: "spend_authorization", amount: 1, currency: "GBP" }), 400)).toMatchObject({ code: "validation_failed" });
    await booksHold();
  });

  it("refuses malformed operations and unknown payees, writing nothing", async () => {
    const before = expectStatus(await owner.get("/v1/journal/checkpoint"), 200).tree_size;
    for (const operation of ["", "a..b", ".a", "a.", "a b", "a.*", "x".repeat(129)]) {
      expect(expectStatus(await authorize({ operation, amount: 1 }), 400)).toMatchObject({ code: "validation_failed" });
    }
    expect(expectStatus(await authorize({ operation: "tools.pay", amount: 1, payee: "nobody" }), 422)).toMatchObject({ code: "payee_not_found" });
    expect(expectStatus(await authorize({ operation: "tools.pay", amount: 0 }), 400)).toMatchObject({ code: "validation_failed" });
    expect(expectStatus(await authorize({ operation: "tools.pay", amount: 1, expires_in: 86_401 }), 400)).toMatchObject({ code: "validation_failed" });
    expect(expectStatus(await owner.get("/v1/journal/checkpoint"), 200).tree_size).toBe(before);
  });

  it("pays a Bursar payee when one is named, under the payee rules", async () => {
    const carol = await createPayee(owner, "Carol");
    const authorization = expectStatus(await authorize({ operation: "tools.pay", amount: 300, payee: "carol" }), 201);
    expect(authorization).toMatchObject({ status: "authorized", payee_id: carol.id, credit_account_id: carol.account_id });
    expectStatus(await agent.post(`/v1/spend/authorizations/${authorization.id}/complete`, { outcome: "consumed" }), 200);
    expect(expectStatus(await owner.get(`/v1/accounts/${carol.account_id}`), 200).balance).toBe(300);
    await booksHold();
  });

  it("agents see only their own authorizations; owners see all and may act for an agent", async () => {
    const other = await fundedAgent(server.url, owner, 1_000);
    const otherApi = await agentClient(server.url, other);
    const theirs = expectStatus(await authorize({ operation: "tools.search", amount: 100 }, otherApi), 201);
    expect((await agent.get(`/v1/spend/authorizations/${theirs.id}`)).status).toBe(404);
    expect((await agent.post(`/v1/spend/authorizations/${theirs.id}/complete`, { outcome: "released" })).status).toBe(404);
    const mine = expectStatus(await agent.get("/v1/spend/authorizations?limit=100"), 200);
    expect(mine.data.every((row: any) => row.agent_id === agentId)).toBe(true);
    expect(mine.data.length).toBeGreaterThan(5);
    const all = expectStatus(await owner.get(`/v1/spend/authorizations?agent_id=${other.agentId}`), 200);
    expect(all.data.map((row: any) => row.id)).toEqual([theirs.id]);
    const byOwner = expectStatus(await authorize({ operation: "tools.search", amount: 100, agent_id: other.agentId }, owner), 201);
    expect(byOwner).toMatchObject({ agent_id: other.agentId, status: "authorized" });
    expect(expectStatus(await owner.post(`/v1/spend/authorizations/${byOwner.id}/complete`, { outcome: "released" }), 200)).toMatchObject({ status: "released" });
    expect(expectStatus(await authorize({ operation: "tools.search", amount: 100, agent_id: other.agentId }), 404)).toMatchObject({ code: "not_found" });
    await booksHold();
  });

  it("an idempotent retry of an authorization holds once", async () => {
    const headers = { "idempotency-key": `sa-retry-${kind}` };
    const before = await balanceOf(agent);
    const first = expectStatus(await agent.post("/v1/spend/authorizations", { operation: "tools.search", amount: 250, currency: "GBP" }, headers), 201);
    const second = await agent.post("/v1/spend/authorizations", { operation: "tools.search", amount: 250, currency: "GBP" }, headers);
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body.id).toBe(first.id);
    expect(await balanceOf(agent)).toMatchObject({ available: before.available - 250 });
    expectStatus(await agent.post(`/v1/spend/authorizations/${first.id}/complete`, { outcome: "released" }), 200);
  });

  describe("capabilities", () => {
    let capAgent: AgentApi;
    let capAgentId: string;

    beforeAll(async () => {
      const onboarded = await fundedAgent(server.url, owner, 50_000);
      capAgentId = onboarded.agentId;
      capAgent = await agentClient(server.url, onboarded);
      await putPolicy(owner, capAgentId, { approval_threshold_minor: 1_000, per_transaction_max_minor: 5_000, approval_expiry_seconds: 600 });
    });

    const mint = async (terms: Record<string, unknown> = {}) =>
      expectStatus(await owner.post("/v1/capabilities", {
        agent_id: capAgentId, allowed_operations: ["openai.*"], max_amount: 10_000, currency: "GBP",
        expires_at: new Date(clock.ms + 3_600_000).toISOString(), ...terms,
      }), 201);
    const present = (token: string, body: Record<string, unknown> = {}, api: AgentApi = capAgent) =>
      authorize({ operation: "openai.chat", amount: 2_000, capability_token: token, ...body }, api);

    it("skips the approval threshold while it covers the amount; hard limits still deny", async () => {
      const capability = await mint();
      expect(capability.token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(capability).toMatchObject({ remaining_amount: 10_000, uses: 0, status: "active" });
      expect(expectStatus(await authorize({ operation: "openai.chat", amount: 2_000 }, capAgent), 201)).toMatchObject({ status: "pending_approval" });
      const covered = expectStatus(await present(capability.token), 201);
      expect(covered).toMatchObject({ status: "authorized", decision: "allow", capability_id: capability.id, remaining: { capability_amount: 8_000 } });
      const overMax = expectStatus(await present(capability.token, { amount: 5_001 }), 201);
      expect(overMax).toMatchObject({ status: "denied", reason_codes: ["amount_exceeds_transaction_max"] });
      // Consuming part gives the rest back to the capability; a denial took nothing.
      expectStatus(await capAgent.post(`/v1/spend/authorizations/${covered.id}/complete`, { outcome: "consumed", amount: 500 }), 200);
      const listed = expectStatus(await owner.get(`/v1/capabilities/${capability.id}`), 200);
      expect(listed).toMatchObject({ used_amount: 500, uses: 1, remaining_amount: 9_500 });
      expect(listed.token).toBeUndefined();
      const list = expectStatus(await owner.get(`/v1/capabilities?agent_id=${capAgentId}`), 200);
      expect(list.data.some((row: any) => row.id === capability.id && row.token === undefined)).toBe(true);
      expect((await capAgent.get("/v1/capabilities")).status).toBe(403);
      await booksHold();
    });

    it("a replayed mint does not show the token again", async () => {
      const headers = { "idempotency-key": `cap-mint-${kind}` };
      const body = { agent_id: capAgentId, allowed_operations: ["openai.*"], max_amount: 100, currency: "GBP", expires_at: new Date(clock.ms + 60_000).toISOString() };
      expect(expectStatus(await owner.post("/v1/capabilities", body, headers), 201).token).toMatch(/^eyJ/);
      const replay = await owner.post("/v1/capabilities", body, headers);
      expect(replay.status).toBe(201);
      expect(replay.body.token).toBeNull();
    });

    it("refuses a tampered token, another agent's, another tenant's, an expired, a revoked one and an operation outside it — each with its code, holding nothing", async () => {
      const capability = await mint();
      const before = await balanceOf(capAgent);
      const [header, payload, signature] = capability.token.split(".");
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const raised = Buffer.from(JSON.stringify({ ...claims, max_amount: 10_000_000 })).toString("base64url");
      const flipped = signature.slice(0, -2) + (signature.at(-2) === "A" ? "B" : "A") + signature.at(-1);
      expect(expectStatus(await present(`${header}.${raised}.${signature}`), 403)).toMatchObject({ code: "capability_invalid" });
      expect(expectStatus(await present(`${header}.${payload}.${flipped}`), 403)).toMatchObject({ code: "capability_invalid" });
      expect(expectStatus(await present("not-a-token"), 403)).toMatchObject({ code: "capability_invalid" });
      const none = Buffer.from(JSON.stringify({ alg: "none", typ: "bursar-capability+jwt" })).toString("base64url");
      expect(expectStatus(await present(`${none}.${payload}.`), 403)).toMatchObject({ code: "capability_invalid" });

      const stranger = await fundedAgent(server.url, owner, 5_000);
      const strangerApi = await agentClient(server.url, stranger);
      expect(expectStatus(await present(capability.token, {}, strangerApi), 403)).toMatchObject({ code: "capability_agent_mismatch" });

      const otherTenant = await createTestTenant(server.store, "Other");
      const otherOwner = client(server.url, otherTenant.token);
      const foreignAgent = await onboard(server.url, otherOwner, { scopes: ["agents:execute"] });
      const foreign = expectStatus(await otherOwner.post("/v1/capabilities", {
        agent_id: foreignAgent.agentId, allowed_operations: ["*"], max_amount: 10_000, currency: "GBP", expires_at: new Date(clock.ms + 60_000).toISOString(),
      }), 201);
      expect(expectStatus(await present(foreign.token), 403)).toMatchObject({ code: "capability_tenant_mismatch" });

      expect(expectStatus(await present(capability.token, { operation: "stripe.charges.create" }), 403)).toMatchObject({ code: "capability_operation_not_allowed" });
      expect(expectStatus(await present(capability.token, { currency: "USD" }), 403)).toMatchObject({ code: "capability_currency_mismatch" });
      expect(expectStatus(await present(capability.token, { amount: 10_001 }), 403)).toMatchObject({ code: "capability_exhausted" });
      const dry = await capAgent.post("/v1/policy/check", { kind: "spend_authorization", operation: "openai.chat", amount: 1, currency: "GBP", capability_token: capability.token });
      expect(expectStatus(dry, 200)).toMatchObject({ decision: "allow", reason_codes: [] });
      expectStatus(await owner.call("DELETE", `/v1/capabilities/${capability.id}`), 200);
      expect(expectStatus(await present(capability.token), 403)).toMatchObject({ code: "capability_revoked" });
      expect(await balanceOf(capAgent)).toEqual(before);
      expect(expectStatus(await owner.get(`/v1/capabilities/${capability.id}`), 200)).toMatchObject({ status: "revoked", used_amount: 0, uses: 0 });
      await booksHold();
    });

    it("uses and an expired capability are refused with their codes", async () => {
      const once = await mint({ max_uses: 1 });
      const first = expectStatus(await present(once.token, { amount: 100 }), 201);
      expect(first.status).toBe("authorized");
      expect(expectStatus(await present(once.token, { amount: 100 }), 403)).toMatchObject({ code: "capability_exhausted" });
      // A release gives the use back.
      expectStatus(await capAgent.post(`/v1/spend/authorizations/${first.id}/complete`, { outcome: "released" }), 200);
      expect(expectStatus(await present(once.token, { amount: 100 }), 201).status).toBe("authorized");
      const brief = await mint({ expires_at: new Date(clock.ms + 1_000).toISOString() });
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      clock.ms = Date.now();
      expect(expectStatus(await present(brief.token), 403)).toMatchObject({ code: "capability_expired" });
      const dry = await capAgent.post("/v1/policy/check", { kind: "spend_authorization", operation: "openai.chat", amount: 1, currency: "GBP", capability_token: brief.token });
      expect(expectStatus(dry, 403)).toMatchObject({ code: "capability_expired" });
      expect(expectStatus(await owner.post("/v1/capabilities", { agent_id: capAgentId, allowed_operations: ["a.*"], max_amount: 1, currency: "GBP", expires_at: new Date(clock.ms - 1).toISOString() }), 400)).toMatchObject({ code: "validation_failed" });
      expect(expectStatus(await owner.post("/v1/capabilities", { agent_id: "agt_nobody", allowed_operations: ["a.*"], max_amount: 1, currency: "GBP", expires_at: new Date(clock.ms + 60_000).toISOString() }), 404)).toMatchObject({ code: "not_found" });
    });

    it("concurrent use grants exactly the remaining amount", async () => {
      const capability = await mint({ max_amount: 5_000 });
      const answers = await Promise.all(Array.from({ length: 12 }, () => present(capability.token, { amount: 1_000 })));
      const granted = answers.filter((answer) => answer.status === 201 && answer.body.status === "authorized");
      const refused = answers.filter((answer) => answer.status === 403);
      expect(granted).toHaveLength(5);
      expect(refused).toHaveLength(7);
      expect(refused.every((answer) => answer.body.code === "capability_exhausted")).toBe(true);
      expect(expectStatus(await owner.get(`/v1/capabilities/${capability.id}`), 200)).toMatchObject({ used_amount: 5_000, uses: 5, remaining_amount: 0 });
      for (const answer of granted) expectStatus(await capAgent.post(`/v1/spend/authorizations/${answer.body.id}/complete`, { outcome: "released" }), 200);
      await booksHold();
    });
  });
});
