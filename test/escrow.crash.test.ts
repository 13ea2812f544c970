/**
 * Escrow settlement survives kill -9. A `bursar serve` child takes a burst of escrow intents, each
 * created and funded, then settled by racing a passing evidence submission with a release or a
 * refund, and is SIGKILLed mid-burst. After a restart on the same SQLite file: every acknowledged
 * settlement is there; each intent is settled at most once (one settlement event, one payout);
 * retrying every call settles nothing twice; the escrow, payee and wallet accounts agree with the
 * intents; the books balance and the journal verifies.
 *
 * The same on the webhook rail: payouts go to a real executor process (test/rail-executor.ts);
 * after the kill the executor's callbacks are retried against the restarted server (as an executor
 * must), payouts that never left are failed by the rail deadline, and each intent is paid at most
 * once: no transaction is ordered twice, and at most one payout per intent completes.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { railTimeoutSecondsDefault } from "@bursar/core";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { createIntent, intentRequest, newEvidenceKey, payeeWithKey, signEvidence } from "./escrow-support.js";
import { agentClient, expectStatus, putPolicy } from "./payments-support.js";
import { postCallback, signedCallback, startExecutor, type Executor } from "./rails-support.js";
import { client, createTestTenant, killHard, listAll, spawnServer, startTestServer, tempDir, TestClock, type ChildServer } from "./support.js";
import { waitFor } from "./webhook-receiver.js";

const intents = 80;
const funding = 10_000_000;

describe("escrow settlement crash safety", () => {
  const children: ChildServer[] = [];
  let executor: Executor | null = null;
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
    await executor?.close();
  });

  it("settles each intent at most once across a SIGKILL, and the books balance", async () => {
    const dataDir = tempDir("escrow-crash");
    const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();

    let server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    let owner = client(server.url, tenant.token);
    let anyone = client(server.url);
    const onboarded = await onboard(server.url, owner, { scopes: ["agents:execute", "transactions:read"] });
    expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: funding }), 201);
    await putPolicy(owner, onboarded.agentId, {});
    const payeeKey = newEvidenceKey();
    const payee = await payeeWithKey(owner, "Crash Payee", payeeKey);
    const requests = Array.from({ length: intents }, (_, i) => intentRequest(payee, Date.now(), { amount: 1_000 + i }));
    const evidence = (i: number) =>
      signEvidence(payeeKey.privateKey, tenant.tenantId, requests[i]!.id, payee.id, { payload: { status: 200, pages: 20 }, artifacts: [], submitted_at: new Date().toISOString() });

    let agent = await agentClient(server.url, onboarded);
    const settled = new Map<number, string>();
    let next = 0;
    const victim = server;
    /** Creates and funds slot i, then races its evidence with a release (even) or a refund (odd). */
    const settle = async (i: number, api: { agent: typeof agent; owner: typeof owner; anyone: typeof anyone }) => {
      const created = await createIntent(api.agent, onboarded.key, tenant.tenantId, onboarded.agentId, requests[i]!, { fund: true });
      if (created.status !== 201) return null;
      const answers = await Promise.all([
        api.anyone.post(`/v1/escrow-intents/${requests[i]!.id}/evidence`, evidence(i)),
        i % 2 === 0 ? api.agent.post(`/v1/escrow-intents/${requests[i]!.id}/release`) : api.owner.post(`/v1/escrow-intents/${requests[i]!.id}/refund`),
      ]);
      return answers.find((answer) => answer.status === 200)?.body.status ?? null;
    };
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < intents) {
          const i = next++;
          try {
            const status = await settle(i, { agent, owner, anyone });
            if (status) settled.set(i, status);
          } catch {
            return; // the server died
          }
          if (settled.size === 30) void killHard(victim.process);
        }
      }),
    );
    await killHard(victim.process);
    expect(settled.size).toBeGreaterThanOrEqual(30);

    server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    owner = client(server.url, tenant.token);
    anyone = client(server.url);
    agent = await agentClient(server.url, onboarded);
    for (const [i, status] of settled) expect(expectStatus(await owner.get(`/v1/escrow-intents/${requests[i]!.id}`), 200).status).toBe(status);

    // Retry everything: acknowledged settlements answer themselves; the rest settle once now.
    for (let i = 0; i < intents; i++) await settle(i, { agent, owner, anyone });

    const all = await listAll(owner, "/v1/escrow-intents");
    expect(all).toHaveLength(intents);
    const events = await listAll(owner, "/v1/events?type=escrow_intent.*");
    let paid = 0;
    for (const intent of all) {
      expect(["released", "refunded"]).toContain(intent.status);
      const settlements = events.filter((event) => event.data.escrow_intent.id === intent.id && (event.type === "escrow_intent.released" || event.type === "escrow_intent.refunded"));
      expect(settlements, intent.id).toHaveLength(1);
      expect(intent.settlement.payee_amount + intent.settlement.refund_amount).toBe(intent.amount);
      paid += intent.settlement.payee_amount;
      expect(expectStatus(await owner.get(`/v1/accounts/${intent.escrow_account_id}`), 200)).toMatchObject({ balance: 0, debits_pending: 0 });
    }
    expect(expectStatus(await owner.get(`/v1/accounts/${payee.account_id}`), 200).balance).toBe(paid);
    expect(expectStatus(await owner.get(`/v1/accounts/${onboarded.walletAccountId}`), 200)).toMatchObject({ balance: funding - paid, debits_pending: 0 });
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }, 120_000);

  it("pays each intent at most once on the webhook rail across a SIGKILL mid-burst", async () => {
    const dataDir = tempDir("escrow-rail-crash");
    const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();
    executor = await startExecutor();
    const env = { BURSAR_DATA_DIR: dataDir, BURSAR_ALLOW_PRIVATE_WEBHOOK_TARGETS: "1" };

    let server = await spawnServer(env);
    children.push(server);
    let owner = client(server.url, tenant.token);
    let anyone = client(server.url);
    const onboarded = await onboard(server.url, owner, { scopes: ["agents:execute", "transactions:read"] });
    expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: funding }), 201);
    await putPolicy(owner, onboarded.agentId, {});
    const secret = expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: executor.url }), 200).secret as string;
    await executor.setSecret(secret);
    const payeeKey = newEvidenceKey();
    const payee = expectStatus(await owner.post("/v1/payees", {
      name: "Rail Crash Payee", currency: "GBP", rail: "webhook", rail_details: { executor: "succeed" }, evidence_public_key: payeeKey.publicJwk,
    }), 201);
    const count = 60;
    const requests = Array.from({ length: count }, (_, i) => intentRequest(payee, Date.now(), { amount: 1_000 + i }));
    const evidence = (i: number) =>
      signEvidence(payeeKey.privateKey, tenant.tenantId, requests[i]!.id, payee.id, { payload: { status: 200, pages: 20 }, artifacts: [], submitted_at: new Date().toISOString() });

    let agent = await agentClient(server.url, onboarded);
    let answered = 0;
    let next = 0;
    const victim = server;
    /** Creates and funds slot i, then races its evidence (auto release) with a release (even) or a refund (odd). */
    const settle = async (i: number, api: { agent: typeof agent; owner: typeof owner; anyone: typeof anyone }) => {
      const created = await createIntent(api.agent, onboarded.key, tenant.tenantId, onboarded.agentId, requests[i]!, { fund: true });
      if (created.status !== 201) return;
      await Promise.all([
        api.anyone.post(`/v1/escrow-intents/${requests[i]!.id}/evidence`, evidence(i)),
        i % 2 === 0 ? api.agent.post(`/v1/escrow-intents/${requests[i]!.id}/release`) : api.owner.post(`/v1/escrow-intents/${requests[i]!.id}/refund`),
      ]);
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          try {
            await settle(i, { agent, owner, anyone });
            answered++;
          } catch {
            return; // the server died
          }
          if (answered === 25) void killHard(victim.process);
        }
      }),
    );
    await killHard(victim.process);
    expect(answered).toBeGreaterThanOrEqual(25);

    server = await spawnServer(env);
    children.push(server);
    owner = client(server.url, tenant.token);
    // The executor retries its callbacks until the payment's deadline (docs/rails.md): for every order it got.
    const retryCallbacks = async (baseUrl: string) => {
      for (const order of (await executor!.log()).executed) {
        const { payload, headers } = signedCallback(secret, { tenant_id: tenant.tenantId, transaction_id: order.message.data.transaction_id, status: "succeeded", rail_reference: `exe_${order.webhook_id}` });
        const answer = await postCallback(baseUrl, payload, headers);
        expect([200, 409], JSON.stringify(answer.body)).toContain(answer.status);
      }
    };
    await retryCallbacks(server.url);
    await killHard(server.process);

    // Payouts committed but never handed to the executor: the rail deadline fails them (the sweeper,
    // run in-process with a clock past it), and their money goes back into escrow.
    const clock = new TestClock(Date.now());
    const restarted = await startTestServer("sqlite", { clock, config: { dataDir, allowPrivateWebhookTargets: true, logLevel: "error" } });
    try {
      clock.advance((railTimeoutSecondsDefault + 1) * 1000);
      await restarted.sweeper.sweepOnce();
      clock.ms = Date.now();
      owner = client(restarted.url, tenant.token);
      anyone = client(restarted.url);
      agent = await agentClient(restarted.url, onboarded);
      // Retry everything: settled intents answer themselves, the rest settle (once) now.
      for (let i = 0; i < count; i++) await settle(i, { agent, owner, anyone });
      await restarted.rails.drain();
      await waitFor(async () => (await listAll(owner, "/v1/escrow-intents")).every((intent: any) => intent.status !== "payout_pending"), 30_000, "every payout to settle");

      const all = await listAll(owner, "/v1/escrow-intents");
      expect(all).toHaveLength(count);
      const transactions = await listAll(owner, "/v1/transactions");
      const orders = (await executor.log()).executed;
      // No payment order was sent twice.
      expect(new Set(orders.map((order) => order.webhook_id)).size).toBe(orders.length);
      const events = await listAll(owner, "/v1/events?type=escrow_intent.*");
      let paid = 0;
      for (const intent of all) {
        expect(["released", "refunded"]).toContain(intent.status);
        const settlements = events.filter((event) => event.data.escrow_intent.id === intent.id && (event.type === "escrow_intent.released" || event.type === "escrow_intent.refunded"));
        expect(settlements, intent.id).toHaveLength(1);
        const completed = transactions.filter((transaction: any) => transaction.escrow_intent_id === intent.id && transaction.status === "completed");
        expect(completed, intent.id).toHaveLength(intent.status === "released" ? 1 : 0);
        if (intent.status === "released") expect(intent.settlement.transaction_id).toBe(completed[0].id);
        expect(intent.settlement.payee_amount + intent.settlement.refund_amount).toBe(intent.amount);
        paid += intent.settlement.payee_amount;
        expect(expectStatus(await owner.get(`/v1/accounts/${intent.escrow_account_id}`), 200)).toMatchObject({ balance: 0, debits_pending: 0 });
      }
      expect(paid).toBeGreaterThan(0);
      expect(expectStatus(await owner.get(`/v1/accounts/${payee.account_id}`), 200)).toMatchObject({ balance: paid, credits_pending: 0 });
      expect(expectStatus(await owner.get(`/v1/accounts/${onboarded.walletAccountId}`), 200)).toMatchObject({ balance: funding - paid, debits_pending: 0 });
      await checkLedger(owner);
      await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
    } finally {
      await restarted.close();
    }
  }, 180_000);
});
