/**
 * Spend authorizations through the SDK against a real server: `spend.guard` consumes what the
 * call really cost (wallet and vendor account checked afterwards), releases when the function
 * throws, and answers a denial or a wait for approval as a typed result that ran nothing and
 * (for a denial) held nothing; `authorizeAndWait` sees an owner's approval given from another
 * client, and releases on timeout; capabilities skip the approval until revoked, then the refusal
 * is a typed error with the server's code; a lost answer is retried with the same idempotency
 * key and holds once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Bursar, PermissionDeniedError, SpendCompletionError, ValidationError, type SpendAuthorization } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { checkLedger } from "./books.js";
import { onboardWithSdk, watchingFetch, type SdkAgent } from "./sdk-support.js";
import { client, startTestServer } from "./support.js";

let server: RunningServer;
let setup: SdkAgent;
let agent: Bursar;
const funded = 100_000;

/**
 * The owner's view of a record over plain HTTP (not through the SDK under test, so a bug shared
 * by the SDK's reads and writes cannot hide).
 */
async function ownerRead(path: string): Promise<any> {
  const response = await client(server.url, setup.ownerToken).get(path);
  expect(response.status).toBe(200);
  return response.body;
}

/** The agent's wallet: `balance` (posted) and `available` (less what is held). */
async function wallet(): Promise<{ balance: number; available: number }> {
  const { balance, available } = await agent.balance.get();
  return { balance, available };
}

/**
 * As the owner, from its own client: waits for the agent's next authorization pending approval
 * (the agent is waiting on it in parallel) and decides it. Returns the authorization's id.
 */
async function decideNextPending(verdict: "approve" | "reject"): Promise<string> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const pending = (await setup.owner.spend.list({ agent_id: setup.agentId, status: "pending_approval" })).data[0];
    if (pending) {
      const note = { note: verdict === "approve" ? "fine" : "no" };
      await (verdict === "approve" ? setup.owner.approvals.approve(pending.approval_id!, note) : setup.owner.approvals.reject(pending.approval_id!, note));
      return pending.id;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("no authorization pending approval appeared");
}

/** The agent's newest authorization, as the owner sees it. */
async function latestAuthorization(): Promise<SpendAuthorization | undefined> {
  return (await setup.owner.spend.list({ agent_id: setup.agentId, limit: 1 })).data[0];
}

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute"], fundMinor: funded });
  agent = new Bursar({ configDir: setup.configDir });
  const { object, id, agent_id, is_default, updated_at, ...rules } = await setup.owner.policy.get(setup.agentId);
  // The default policy is spend-limited (docs/concepts.md); this agent's owner lifts the limits.
  await setup.owner.policy.update(setup.agentId, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: 20_000, blocked_operations: ["casino.*"] });
});
afterAll(async () => {
  await agent?.close();
  await setup?.owner.close();
  await server?.close();
});

describe("spend.guard", () => {
  it("holds before the call, then consumes what it cost: the rest goes back, the vendor's account gets the cost", async () => {
    const seenInside: Array<{ balance: number; available: number }> = [];
    const result = await agent.spend.guard({ operation: "openai.chat", amount: 1_000, currency: "GBP", tool_call_id: "call_1" }, async (authorization) => {
      expect(authorization).toMatchObject({ status: "authorized", amount: 1_000, vendor: "openai" });
      seenInside.push(await wallet());
      return { amount: 700, externalReference: "chatcmpl-1", evidence: { usage: { tokens: 1234 } }, reply: "hello" };
    });
    expect(seenInside).toEqual([{ balance: funded, available: funded - 1_000 }]);
    if (result.status !== "completed") throw new Error(`expected completed, got ${result.status}`);
    expect(result.value.reply).toBe("hello");
    expect(result.authorization).toMatchObject({ status: "consumed", consumed_amount: 700, external_reference: "chatcmpl-1", evidence: { usage: { tokens: 1234 } }, tool_call_id: "call_1" });
    expect(await wallet()).toEqual({ balance: funded - 700, available: funded - 700 });
    const vendor = await ownerRead(`/v1/accounts/${result.authorization.credit_account_id!}`);
    expect(vendor).toMatchObject({ kind: "vendor", balance: 700, metadata: { vendor: "openai" } });
    expect(await ownerRead(`/v1/transfers/${result.authorization.hold_transfer_id!}`)).toMatchObject({ status: "posted", amount: 1_000, posted_amount: 700 });

    // A function that returns nothing consumes the whole authorized amount.
    const whole = await agent.spend.guard({ operation: "openai.chat", amount: 300, currency: "GBP" }, async () => {});
    expect(whole).toMatchObject({ status: "completed", authorization: { consumed_amount: 300 } });
    expect(await ownerRead(`/v1/accounts/${result.authorization.credit_account_id!}`)).toMatchObject({ balance: 1_000 });
    expect(await wallet()).toEqual({ balance: funded - 1_000, available: funded - 1_000 });
    await checkLedger(client(server.url, setup.ownerToken));
  });

  it("a function that throws releases the hold and its error is rethrown as is", async () => {
    const before = await wallet();
    const failure = new Error("vendor is down");
    let id: string | undefined;
    const thrown = await agent.spend
      .guard({ operation: "openai.chat", amount: 2_000, currency: "GBP" }, async (authorization) => {
        id = authorization.id;
        expect((await wallet()).available).toBe(before.available - 2_000);
        throw failure;
      })
      .catch((error: unknown) => error);
    expect(thrown).toBe(failure);
    expect(await agent.spend.get(id!)).toMatchObject({ status: "released", consumed_amount: null });
    expect(await wallet()).toEqual(before);
  });

  it("a denial is a typed result with the next actions: nothing ran, nothing is held", async () => {
    const before = await wallet();
    const fn = vi.fn(async () => ({ amount: 1 }));
    const result = await agent.spend.guard({ operation: "casino.roulette", amount: 500, currency: "GBP" }, fn);
    expect(result.status).toBe("denied");
    if (result.status !== "denied") throw new Error("unreachable");
    expect(result.reasonCodes).toEqual(["operation_blocked"]);
    expect(result.availableActions).toEqual(["choose_allowed_operation"]);
    expect(result.authorization).toMatchObject({ status: "denied", hold_transfer_id: null });
    expect(fn).not.toHaveBeenCalled();
    expect(await wallet()).toEqual(before);
  });

  it("a payment that needs an owner is a typed result with the approval; the hold waits until released", async () => {
    const before = await wallet();
    const fn = vi.fn(async () => ({ amount: 1 }));
    const result = await agent.spend.guard({ operation: "vendor.invoice", amount: 25_000, currency: "GBP" }, fn);
    if (result.status !== "approval_required") throw new Error(`expected approval_required, got ${result.status}`);
    expect(result.availableActions).toEqual(["wait_for_approval", "release"]);
    expect(await ownerRead(`/v1/approvals/${result.approvalId}`)).toMatchObject({ status: "pending", spend_authorization_id: result.authorization.id, amount: 25_000 });
    expect(fn).not.toHaveBeenCalled();
    expect(await wallet()).toEqual({ balance: before.balance, available: before.available - 25_000 });
    expect(await agent.spend.complete(result.authorization.id, { outcome: "released" })).toMatchObject({ status: "released", approval_status: "cancelled" });
    expect(await wallet()).toEqual(before);
  });

  it("with waitForApproval it runs once an owner approves, and a rejection is a denial", async () => {
    const before = await wallet();
    const [result, approvedId] = await Promise.all([
      agent.spend.guard({ operation: "vendor.invoice", amount: 21_000, currency: "GBP" }, async (authorization) => {
        expect(authorization.approval_status).toBe("approved");
        return { amount: 20_500 };
      }, { waitForApproval: { timeoutMs: 30_000, pollIntervalMs: 100 } }),
      decideNextPending("approve"),
    ]);
    expect(result).toMatchObject({ status: "completed", authorization: { id: approvedId, status: "consumed", consumed_amount: 20_500 } });
    expect(await wallet()).toEqual({ balance: before.balance - 20_500, available: before.available - 20_500 });

    const fn = vi.fn(async () => ({ amount: 1 }));
    const [rejected] = await Promise.all([
      agent.spend.guard({ operation: "vendor.invoice", amount: 22_000, currency: "GBP" }, fn, { waitForApproval: { timeoutMs: 30_000, pollIntervalMs: 100 } }),
      decideNextPending("reject"),
    ]);
    if (rejected.status !== "denied") throw new Error(`expected denied, got ${rejected.status}`);
    expect(rejected.reasonCodes).toEqual(["approval_threshold_reached", "approval_rejected"]);
    expect(rejected.authorization.status).toBe("rejected");
    expect(fn).not.toHaveBeenCalled();
    expect(await wallet()).toEqual({ balance: before.balance - 20_500, available: before.available - 20_500 });
  });

  it("a cost above the authorized amount is not recorded: SpendCompletionError names the authorization to complete", async () => {
    const error = await agent.spend.guard({ operation: "openai.chat", amount: 100, currency: "GBP" }, async () => ({ amount: 101, reply: "late" })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SpendCompletionError);
    const completion = error as SpendCompletionError;
    expect(completion.cause).toBeInstanceOf(ValidationError);
    expect(completion.cause).toMatchObject({ status: 422, code: "amount_exceeds_authorization" });
    expect(completion.value).toEqual({ amount: 101, reply: "late" });
    expect(await agent.spend.get(completion.authorizationId)).toMatchObject({ status: "authorized" });
    expect(await agent.spend.complete(completion.authorizationId, { outcome: "consumed" })).toMatchObject({ consumed_amount: 100 });
  });
});

describe("spend.authorizeAndWait", () => {
  it("answers authorized once an owner approves from another client", async () => {
    const [result, approvedId] = await Promise.all([
      agent.spend.authorizeAndWait({ operation: "vendor.invoice", amount: 20_000, currency: "GBP" }, { timeoutMs: 30_000, pollIntervalMs: 100 }),
      decideNextPending("approve"),
    ]);
    expect(result).toMatchObject({ status: "decided", authorization: { id: approvedId, status: "authorized", approval_status: "approved", available_actions: ["consume", "release"] } });
    expect(await agent.spend.complete(result.authorization.id, { outcome: "released" })).toMatchObject({ status: "released" });
  });

  it("releases the authorization and says so when nobody decides in time", async () => {
    const before = await wallet();
    const startedMs = Date.now();
    const result = await agent.spend.authorizeAndWait({ operation: "vendor.invoice", amount: 30_000, currency: "GBP" }, { timeoutMs: 400, pollIntervalMs: 100 });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(400);
    expect(result).toMatchObject({ status: "timed_out", authorization: { status: "released", approval_status: "cancelled" } });
    expect(await ownerRead(`/v1/approvals/${result.authorization.approval_id!}`)).toMatchObject({ status: "cancelled" });
    expect(await wallet()).toEqual(before);
    // An owner's approval after that changes nothing.
    await expect(setup.owner.approvals.approve(result.authorization.approval_id!)).rejects.toMatchObject({ status: 409, code: "approval_not_pending" });

    // An authorization decided at once is answered at once.
    const quick = await agent.spend.authorizeAndWait({ operation: "openai.chat", amount: 10, currency: "GBP" }, { timeoutMs: 60_000 });
    expect(quick).toMatchObject({ status: "decided", authorization: { status: "authorized" } });
    await agent.spend.complete(quick.authorization.id, { outcome: "released" });
  });

  it("an aborted wait releases the hold and throws", async () => {
    const before = await wallet();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(agent.spend.authorizeAndWait({ operation: "vendor.invoice", amount: 30_000, currency: "GBP" }, { timeoutMs: 30_000, pollIntervalMs: 100, signal: controller.signal })).rejects.toMatchObject({ name: "ConnectionError" });
    expect(await latestAuthorization()).toMatchObject({ status: "released", amount: 30_000 });
    expect(await wallet()).toEqual(before);
  });
});

describe("capabilities and reads", () => {
  it("a capability skips the approval until revoked; then it is refused with capability_revoked as a typed error", async () => {
    const before = await wallet();
    const capability = await setup.owner.capabilities.create({
      agent_id: setup.agentId, allowed_operations: ["vendor.*"], max_amount: 60_000, currency: "GBP",
      expires_at: new Date(Date.now() + 3_600_000).toISOString(), max_uses: 10, description: "invoices this hour",
    });
    expect(capability).toMatchObject({ object: "capability", remaining_amount: 60_000, uses: 0, status: "active" });
    expect(capability.token).toMatch(/^eyJ/);
    const covered = await agent.spend.guard({ operation: "vendor.invoice", amount: 25_000, currency: "GBP", capability_token: capability.token! }, async () => ({ amount: 24_000 }));
    expect(covered).toMatchObject({ status: "completed", authorization: { capability_id: capability.id, decision: "allow", consumed_amount: 24_000 } });
    const listed = await setup.owner.capabilities.get(capability.id);
    expect(listed).toMatchObject({ used_amount: 24_000, uses: 1, remaining_amount: 36_000 });
    expect("token" in listed).toBe(false);
    const all = [];
    for await (const row of await setup.owner.capabilities.list({ agent_id: setup.agentId, limit: 1 })) all.push(row);
    expect(all.map((row) => row.id)).toContain(capability.id);
    expect(all.every((row) => !("token" in row))).toBe(true);
    await expect(agent.capabilities.list()).rejects.toBeInstanceOf(PermissionDeniedError);

    expect(await setup.owner.capabilities.revoke(capability.id)).toMatchObject({ status: "revoked" });
    const refused = await agent.spend.authorize({ operation: "vendor.invoice", amount: 25_000, currency: "GBP", capability_token: capability.token! }).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, code: "capability_revoked" });
    const fn = vi.fn();
    await expect(agent.spend.guard({ operation: "vendor.invoice", amount: 1, currency: "GBP", capability_token: capability.token! }, fn)).rejects.toMatchObject({ code: "capability_revoked" });
    expect(fn).not.toHaveBeenCalled();
    expect(await wallet()).toEqual({ balance: before.balance - 24_000, available: before.available - 24_000 });
    expect(await setup.owner.capabilities.get(capability.id)).toMatchObject({ status: "revoked", uses: 1 });
  });

  it("lists the agent's authorizations page by page, filters by status, and gets one", async () => {
    const every: SpendAuthorization[] = [];
    for await (const authorization of await agent.spend.list({ limit: 2 })) every.push(authorization);
    expect(every.length).toBeGreaterThan(10);
    expect(new Set(every.map((authorization) => authorization.id)).size).toBe(every.length);
    expect(every.every((authorization) => authorization.agent_id === setup.agentId)).toBe(true);
    const released = [];
    for await (const authorization of await agent.spend.list({ status: "released" })) released.push(authorization);
    expect(released.length).toBe(every.filter((authorization) => authorization.status === "released").length);
    expect(released.every((authorization) => authorization.status === "released")).toBe(true);
    expect(await agent.spend.get(every[0]!.id)).toEqual(every[0]);
  });

  it("a lost answer is retried with the same idempotency key: one authorization, one hold, one completion", async () => {
    const before = await wallet();
    const answered = new Set<string>();
    const fetch = watchingFetch(async (request, response) => {
      // The server did the work; its first answer to each POST is lost on the way back.
      const key = request.headers["idempotency-key"];
      if (request.method === "POST" && request.url.includes("/v1/spend/") && key && !answered.has(key)) {
        answered.add(key);
        return new Response(JSON.stringify({ code: "bad_gateway" }), { status: 502, headers: { "content-type": "application/json" } });
      }
      return response;
    });
    const flaky = new Bursar({ configDir: setup.configDir, fetch });
    try {
      const result = await flaky.spend.guard({ operation: "openai.chat", amount: 400, currency: "GBP" }, async () => ({ amount: 250 }));
      expect(result).toMatchObject({ status: "completed", authorization: { consumed_amount: 250 } });
      const posts = fetch.seen.filter((seen) => seen.method === "POST" && seen.url.includes("/v1/spend/"));
      expect(posts.map((seen) => seen.status)).toEqual([201, 201, 200, 200]);
      expect(posts[0]!.headers["idempotency-key"]).toBe(posts[1]!.headers["idempotency-key"]);
      expect(posts[2]!.headers["idempotency-key"]).toBe(posts[3]!.headers["idempotency-key"]);
      expect(posts[0]!.headers["idempotency-key"]).not.toBe(posts[2]!.headers["idempotency-key"]);
      expect((await latestAuthorization())!.id).toBe(result.authorization.id);
      expect(await wallet()).toEqual({ balance: before.balance - 250, available: before.available - 250 });
    } finally {
      await flaky.close();
    }
    await checkLedger(client(server.url, setup.ownerToken));
  });
});
