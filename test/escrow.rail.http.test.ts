/**
 * Escrow payouts on the payee's rail (docs/escrow.md "Payout"), on both stores, against a real
 * executor process for the webhook rail (test/rail-executor.ts, the payments tests' executor):
 * a release to a webhook-rail payee sends exactly one signed `payment.execute` (retries and 20
 * concurrent releases included) and settles on the executor's callback; a failing rail (a
 * `failed` callback, a refusal, a silent executor past the rail deadline, no executor at all)
 * puts the money back in escrow and the intent back where it was, as a failed payment releases
 * its hold, and a later release pays once; split and variable cost pay the payee's part on the
 * rail and refund the rest only when it completes. The books are checked after each flow.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { railTimeoutSecondsDefault } from "@bursar/core";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { createIntent, intentRequest, newEvidenceKey, signEvidence, type EvidenceKey } from "./escrow-support.js";
import { agentClient, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import type { Onboarded } from "./agents-support.js";
import { startExecutor, type Executor } from "./rails-support.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds, TestClock } from "./support.js";
import { waitFor } from "./webhook-receiver.js";

describe.each(storeKinds)("escrow payouts on the payee's rail (%s)", (kind) => {
  let server: RunningServer;
  let executor: Executor;
  let owner: ReturnType<typeof client>;
  let anyone: ReturnType<typeof client>;
  let agent: AgentApi;
  let onboarded: Onboarded;
  let tenantId: string;
  const payeeKey: EvidenceKey = newEvidenceKey();
  const clock = new TestClock(Date.now());

  const now = () => new Date(clock.ms).toISOString();
  const accountOf = async (id: string) => expectStatus(await owner.get(`/v1/accounts/${id}`), 200);
  const intentOf = async (id: string) => expectStatus(await owner.get(`/v1/escrow-intents/${id}`), 200);
  const executedFor = async (intentId: string) => (await executor.log()).executed.filter((entry) => entry.message?.data?.escrow_intent_id === intentId);
  async function booksHold(): Promise<void> {
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }

  async function webhookPayee(behaviour: string): Promise<any> {
    return expectStatus(await owner.post("/v1/payees", {
      name: `Rail payee ${behaviour} ${Math.random().toString(36).slice(2, 8)}`, currency: "GBP", rail: "webhook",
      rail_details: { executor: behaviour, iban: "GB33BUKB20201555555555" }, evidence_public_key: payeeKey.publicJwk,
    }), 201);
  }
  /** A funded intent for `payee`; `auto` releases on the passing evidence. */
  async function fundedIntent(payee: any, extra: Record<string, unknown> = {}): Promise<any> {
    const created = await createIntent(agent, onboarded.key, tenantId, onboarded.agentId, intentRequest(payee, clock.ms, extra), { fund: true });
    const intent = expectStatus(created, 201);
    expect(intent.status).toBe("funded");
    return intent;
  }
  const passing = (intent: any, payload: unknown = { status: 200, pages: 12 }) =>
    anyone.post(`/v1/escrow-intents/${intent.id}/evidence`, signEvidence(payeeKey.privateKey, tenantId, intent.id, intent.payee_id, { payload, artifacts: [], submitted_at: now() }));
  /** Waits until the rail has reported on the intent's payout. */
  async function settledPayout(intentId: string): Promise<any> {
    await server.rails.drain();
    await waitFor(async () => (await intentOf(intentId)).status !== "payout_pending", 20_000, `the payout of ${intentId} to settle`);
    return intentOf(intentId);
  }

  beforeAll(async () => {
    // The executor listens on 127.0.0.1: an explicit opt-in, as in any local set-up.
    server = await startTestServer(kind, { clock, config: { allowPrivateWebhookTargets: true, logLevel: "error" } });
    executor = await startExecutor();
    const tenant = await createTestTenant(server.store);
    tenantId = tenant.tenantId;
    owner = client(server.url, tenant.token);
    anyone = client(server.url);
    onboarded = await fundedAgent(server.url, owner, 1_000_000);
    agent = await agentClient(server.url, onboarded);
    await putPolicy(owner, onboarded.agentId, {});
  });
  afterAll(async () => {
    await server?.close();
    await executor?.close();
  });

  it("without an executor the payout fails with rail_not_configured: the money stays in escrow, the intent where it was", async () => {
    const payee = await webhookPayee("succeed");
    const intent = await fundedIntent(payee, { release_mode: "confirm" });
    expect(expectStatus(await passing(intent), 200)).toMatchObject({ status: "evidence_submitted", accepted_evidence: { payload: { status: 200 } } });
    const answered = expectStatus(await agent.post(`/v1/escrow-intents/${intent.id}/release`), 200);
    // The dispatcher fails it after the commit, so the answer may still be pending.
    expect(["payout_pending", "evidence_submitted"]).toContain(answered.status);
    const failed = await settledPayout(intent.id);
    expect(failed).toMatchObject({ status: "evidence_submitted", payout: null, settlement: null, releasable_amount: 5_000 });
    expect(failed.failed_payouts).toEqual([expect.objectContaining({ payee_amount: 5_000, failure_reason: "rail_not_configured" })]);
    expect(await accountOf(intent.escrow_account_id)).toMatchObject({ balance: 5_000, debits_pending: 0 });
    expect((await accountOf(payee.account_id)).balance).toBe(0);
    expect(expectStatus(await owner.get(`/v1/transactions/${failed.failed_payouts[0].transaction_id}`), 200)).toMatchObject({
      status: "failed", failure_reason: "rail_not_configured", escrow_intent_id: intent.id, payment_intent_id: null, rail: "webhook", amount: 5_000,
    });
    // An owner sees why, in the journal as in the intent.
    const events = (await listAll(owner, "/v1/events?type=escrow_intent.*")).filter((event: any) => event.data.escrow_intent.id === intent.id).map((event: any) => event.type);
    expect(events).toContain("escrow_intent.payout_failed");
    // The owner chooses to refund instead.
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${intent.id}/refund`), 200)).toMatchObject({ status: "refunded", settlement: { payee_amount: 0, refund_amount: 5_000, transaction_id: null } });
    await booksHold();
  });

  it("release to a webhook-rail payee: one signed payment.execute, even under 20 concurrent releases and retries; settles on the callback", async () => {
    const configured = expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: executor.url }), 200);
    await executor.setSecret(configured.secret);
    const payee = await webhookPayee("succeed");
    const intent = await fundedIntent(payee, { release_mode: "confirm" });
    expectStatus(await passing(intent), 200);
    // Hold the callback back: the executor answers 202 and calls back; make the releases race the start.
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => agent.post(`/v1/escrow-intents/${intent.id}/release`)),
      ...Array.from({ length: 10 }, () => owner.post(`/v1/escrow-intents/${intent.id}/release`)),
    ]);
    for (const answer of answers) {
      // Each answers the one payout (pending, or already settled by its callback): never a second one.
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(["payout_pending", "released"]).toContain(answer.body.status);
    }
    const released = await settledPayout(intent.id);
    expect(released).toMatchObject({ status: "released", payout: null, failed_payouts: [], settlement: { outcome: "released", payee_amount: 5_000, refund_amount: 0 } });
    const transactionId = released.settlement.transaction_id as string;
    const executed = await executedFor(intent.id);
    expect(executed).toHaveLength(1);
    expect(executed[0]).toMatchObject({ webhook_id: transactionId, verified: true });
    expect(executed[0]!.message.data).toMatchObject({
      transaction_id: transactionId, payment_intent_id: null, escrow_intent_id: intent.id, tenant_id: tenantId, agent_id: onboarded.agentId,
      amount: 5_000, currency: "GBP", payee: { id: payee.id, rail_details: { executor: "succeed" } },
    });
    expect(expectStatus(await owner.get(`/v1/transactions/${transactionId}`), 200)).toMatchObject({ status: "completed", rail_reference: `exe_${transactionId}`, escrow_intent_id: intent.id });
    // The agent sees its escrow payout among its transactions.
    expect((await listAll(agent, "/v1/transactions")).map((transaction: any) => transaction.id)).toContain(transactionId);
    expect((await accountOf(payee.account_id)).balance).toBe(5_000);
    expect(await accountOf(intent.escrow_account_id)).toMatchObject({ balance: 0, debits_pending: 0 });

    // Retries after the fact answer the settlement; other settlements are refused; nothing is sent again.
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${intent.id}/release`), 200).status).toBe("released");
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${intent.id}/refund`), 409).code).toBe("escrow_already_settled");
    await server.rails.drain();
    expect(await executedFor(intent.id)).toHaveLength(1);
    const types = (await listAll(owner, "/v1/events?type=escrow_intent.*")).filter((event: any) => event.data.escrow_intent.id === intent.id).map((event: any) => event.type);
    expect(types.filter((type: string) => type === "escrow_intent.released")).toHaveLength(1);
    expect(types.filter((type: string) => type === "escrow_intent.payout_pending")).toHaveLength(1);
    await booksHold();
  });

  it("auto release on passing evidence goes out on the rail; while it runs, refund, split, dispute and evidence are refused with escrow_payout_pending", async () => {
    const payee = await webhookPayee("silent");
    const intent = await fundedIntent(payee);
    const pending = expectStatus(await passing(intent), 200);
    expect(pending).toMatchObject({ status: "payout_pending", available_actions: ["wait_for_payout"], releasable_amount: 0, payout: { action: "release", payee_amount: 5_000, previous_status: "evidence_submitted" } });
    await server.rails.drain();
    expect(await executedFor(intent.id)).toHaveLength(1);
    for (const [path, body] of [["refund", undefined], ["split", { payee_amount: 1_000 }], ["dispute", {}]] as const) {
      expect(expectStatus(await owner.post(`/v1/escrow-intents/${intent.id}/${path}`, body), 409).code).toBe("escrow_payout_pending");
    }
    expect(expectStatus(await passing(intent, { status: 200, pages: 13 }), 409).code).toBe("escrow_payout_pending");
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${intent.id}/capability`), 409).code).toBe("escrow_payout_pending");
    // A silent executor: the rail's deadline fails the payout, as it fails a payment (rail_timeout).
    clock.advance((railTimeoutSecondsDefault + 1) * 1000);
    const swept = await server.sweeper.sweepOnce();
    expect(swept.timedOutTransactions).toBeGreaterThanOrEqual(1);
    const failed = await intentOf(intent.id);
    expect(failed).toMatchObject({ status: "evidence_submitted", payout: null });
    expect(failed.failed_payouts.at(-1)).toMatchObject({ failure_reason: "rail_timeout", payee_amount: 5_000 });
    expect(await accountOf(intent.escrow_account_id)).toMatchObject({ balance: 5_000, debits_pending: 0 });
    // The owner points the payee at a working executor and releases again: paid once.
    expectStatus(await owner.call("PATCH", `/v1/payees/${payee.id}`, { rail_details: { executor: "answer_succeeded" } }), 200);
    clock.ms = Date.now();
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${intent.id}/release`), 200).status).toBe("payout_pending");
    const released = await settledPayout(intent.id);
    expect(released).toMatchObject({ status: "released", settlement: { payee_amount: 5_000 } });
    expect(released.settlement.transaction_id).not.toBe(failed.failed_payouts.at(-1).transaction_id);
    expect(await executedFor(intent.id)).toHaveLength(2);
    expect((await accountOf(payee.account_id)).balance).toBe(5_000);
    await booksHold();
  });

  it("an executor that refuses (500) or calls back failed: the payout fails, the money is back in escrow, a dispute can follow", async () => {
    for (const behaviour of ["reject", "fail", "answer_failed"]) {
      const payee = await webhookPayee(behaviour);
      const intent = await fundedIntent(payee);
      expectStatus(await passing(intent), 200);
      const failed = await settledPayout(intent.id);
      expect(failed, behaviour).toMatchObject({ status: "evidence_submitted", payout: null, settlement: null, releasable_amount: 5_000 });
      expect(failed.failed_payouts[0].failure_reason).toBe(behaviour === "reject" ? "rail_error" : "payee_account_closed");
      expect(await accountOf(intent.escrow_account_id)).toMatchObject({ balance: 5_000, debits_pending: 0 });
      expect((await accountOf(payee.account_id)).balance).toBe(0);
      expect(await executedFor(intent.id)).toHaveLength(1);
      expect(expectStatus(await owner.post(`/v1/escrow-intents/${intent.id}/dispute`, { reason: "payout failed" }), 200).status).toBe("disputed");
      expect(expectStatus(await owner.post(`/v1/escrow-intents/${intent.id}/refund`), 200)).toMatchObject({ status: "refunded", settlement: { refund_amount: 5_000 } });
    }
    await booksHold();
  });

  it("split and variable cost: the payee's part goes out on the rail, the rest is refunded once it completes; a failed split refunds nothing", async () => {
    const payee = await webhookPayee("succeed");
    const wallet = async () => (await accountOf(onboarded.walletAccountId)).balance as number;

    const disputed = await fundedIntent(payee, { release_mode: "confirm" });
    expectStatus(await owner.post(`/v1/escrow-intents/${disputed.id}/dispute`, { reason: "half done" }), 200);
    const before = await wallet();
    const splitting = expectStatus(await owner.post(`/v1/escrow-intents/${disputed.id}/split`, { payee_amount: 2_000 }), 200);
    expect(splitting).toMatchObject({ status: "payout_pending", payout: { action: "split", payee_amount: 2_000, refund_amount: 3_000, previous_status: "disputed" } });
    // The same split again answers the payout; a release meanwhile is refused.
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${disputed.id}/split`, { payee_amount: 2_000 }), 200).status).toMatch(/payout_pending|split/);
    const split = await settledPayout(disputed.id);
    expect(split).toMatchObject({ status: "split", settlement: { outcome: "split", payee_amount: 2_000, refund_amount: 3_000 } });
    expect(split.settlement.transfer_ids).toHaveLength(2);
    expect(await wallet()).toBe(before + 3_000);
    expect(await executedFor(disputed.id)).toHaveLength(1);
    expect((await executedFor(disputed.id))[0]!.message.data.amount).toBe(2_000);

    const costed = await fundedIntent(payee, { cost_path: "/payload/cost" });
    const beforeCost = await wallet();
    expectStatus(await passing(costed, { status: 200, pages: 12, cost: 1_250 }), 200);
    const released = await settledPayout(costed.id);
    expect(released).toMatchObject({ status: "released", settlement: { payee_amount: 1_250, refund_amount: 3_750 } });
    expect(await wallet()).toBe(beforeCost + 3_750);
    expect((await executedFor(costed.id))[0]!.message.data.amount).toBe(1_250);

    const failingPayee = await webhookPayee("fail");
    const failing = await fundedIntent(failingPayee, { release_mode: "confirm" });
    const beforeFailing = await wallet();
    expectStatus(await owner.post(`/v1/escrow-intents/${failing.id}/split`, { payee_amount: 1_000 }), 200);
    expect(await settledPayout(failing.id)).toMatchObject({ status: "funded", settlement: null, failed_payouts: [expect.objectContaining({ payee_amount: 1_000 })] });
    expect(await wallet()).toBe(beforeFailing);
    expect(await accountOf(failing.escrow_account_id)).toMatchObject({ balance: 5_000, debits_pending: 0 });
    await booksHold();
  });

  it("a sandbox payee is paid in the same write, through a transaction like a payment's", async () => {
    const payee = expectStatus(await owner.post("/v1/payees", { name: "Sandbox writer", currency: "GBP", evidence_public_key: payeeKey.publicJwk }), 201);
    const intent = await fundedIntent(payee);
    const released = expectStatus(await passing(intent), 200);
    expect(released).toMatchObject({ status: "released", settlement: { payee_amount: 5_000 } });
    expect(expectStatus(await owner.get(`/v1/transactions/${released.settlement.transaction_id}`), 200)).toMatchObject({
      status: "completed", rail: "sandbox", escrow_intent_id: intent.id, amount: 5_000, hold_transfer_id: released.settlement.transfer_ids[0],
    });
    const failingPayee = expectStatus(await owner.post("/v1/payees", { name: "Sandbox failing writer", currency: "GBP", rail_details: { outcome: "fail" }, evidence_public_key: payeeKey.publicJwk }), 201);
    const failing = await fundedIntent(failingPayee);
    expect(expectStatus(await passing(failing), 200)).toMatchObject({ status: "evidence_submitted", failed_payouts: [expect.objectContaining({ failure_reason: "sandbox_configured_failure" })] });
    await booksHold();
  });
});
