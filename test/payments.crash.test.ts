/**
 * Payments survive kill -9. A `bursar serve` child takes a burst of payment intents (instant
 * sandbox payments, payments held for approval, payments left executing on a slow rail), each
 * with an Idempotency-Key, and is SIGKILLed mid-burst. After a restart on the same SQLite file:
 * every acknowledged intent is there; retrying every request with its key creates nothing twice;
 * and each leg's state matches the ledger exactly (completed ↔ posted hold, waiting or executing
 * ↔ pending hold, failed/denied ↔ nothing moved), so the wallet is exact.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, createPayee, expectStatus, putPolicy } from "./payments-support.js";
import { client, createTestTenant, killHard, listAll, spawnServer, tempDir, type ChildServer } from "./support.js";

const requests = 240;
const funding = 10_000_000;

describe("payments crash safety", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
  });

  it("keeps every acknowledged payment intent, once, with the ledger in step", async () => {
    const dataDir = tempDir("pay-crash");
    const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();

    let server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    let owner = client(server.url, tenant.token);
    const onboarded = await onboard(server.url, owner, { scopes: ["agents:execute", "transactions:read"] });
    expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: funding }), 201);
    const fast = await createPayee(owner, "Fast");
    await createPayee(owner, "Slow", { rail_details: { delay_ms: 60_000 } });
    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 5_000 });

    const bodies = Array.from({ length: requests }, (_, i) => ({
      payee: ["Fast", "Fast", "Slow"][i % 3]!,
      amount: i % 4 === 0 ? 6_000 + i : 100 + i,
      currency: "GBP",
      reference: `crash ${i}`,
    }));
    const keyOf = (i: number) => `crash-${i}`;
    const acknowledged = new Map<number, string>();
    let agent = await agentClient(server.url, onboarded);
    let next = 0;
    const victim = server;
    const burst = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < requests) {
          const i = next++;
          try {
            const answer = await agent.post("/v1/payment-intents", bodies[i], { "idempotency-key": keyOf(i) });
            if (answer.status === 201) acknowledged.set(i, answer.body.id);
          } catch {
            return; // the server died
          }
          if (acknowledged.size === 80) void killHard(victim.process);
        }
      }),
    );
    await burst;
    await killHard(victim.process);
    expect(acknowledged.size).toBeGreaterThanOrEqual(80);

    server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    owner = client(server.url, tenant.token);
    agent = await agentClient(server.url, onboarded);

    for (const [i, id] of acknowledged) expect(expectStatus(await owner.get(`/v1/payment-intents/${id}`), 200).reference).toBe(bodies[i]!.reference);
    // Retry everything: acknowledged requests replay their answer; the rest apply at most once.
    for (let i = 0; i < requests; i++) {
      const answer = expectStatus(await agent.post("/v1/payment-intents", bodies[i], { "idempotency-key": keyOf(i) }), 201);
      if (acknowledged.has(i)) expect(answer.id).toBe(acknowledged.get(i));
    }
    const intents = await listAll(owner, "/v1/payment-intents");
    expect(intents.length).toBe(requests);
    expect(new Set(intents.map((intent) => intent.reference)).size).toBe(requests);

    let paid = 0;
    let held = 0;
    for (const intent of intents) {
      for (const leg of intent.legs) {
        const hold = leg.hold_transfer_id ? expectStatus(await owner.get(`/v1/transfers/${leg.hold_transfer_id}`), 200) : null;
        if (leg.status === "completed") {
          expect(hold.status).toBe("posted");
          paid += leg.amount;
        } else if (leg.status === "pending_approval" || leg.status === "executing") {
          expect(hold.status).toBe("pending");
          held += leg.amount;
        } else {
          expect(hold === null || hold.status === "voided").toBe(true);
        }
      }
    }
    const wallet = expectStatus(await owner.get(`/v1/accounts/${onboarded.walletAccountId}`), 200);
    expect(wallet.balance).toBe(funding - paid);
    expect(wallet.available).toBe(funding - paid - held);
    const fastAccount = expectStatus(await owner.get(`/v1/accounts/${fast.account_id}`), 200);
    expect(fastAccount.balance).toBeLessThanOrEqual(paid);
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }, 120_000);
});
