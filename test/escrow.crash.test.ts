/**
 * Escrow settlement survives kill -9. A `bursar serve` child takes a burst of escrow intents, each
 * created and funded, then settled by racing a passing evidence submission with a release or a
 * refund, and is SIGKILLed mid-burst. After a restart on the same SQLite file: every acknowledged
 * settlement is there; each intent is settled at most once (one settlement event, one payout);
 * retrying every call settles nothing twice; the escrow, payee and wallet accounts agree with the
 * intents; the books balance and the journal verifies.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { createIntent, intentRequest, newEvidenceKey, payeeWithKey, signEvidence } from "./escrow-support.js";
import { agentClient, expectStatus, putPolicy } from "./payments-support.js";
import { client, createTestTenant, killHard, listAll, spawnServer, tempDir, type ChildServer } from "./support.js";

const intents = 80;
const funding = 10_000_000;

describe("escrow settlement crash safety", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
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
});
