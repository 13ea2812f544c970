/**
 * Spend authorizations survive kill -9. A `bursar serve` child takes a burst of authorize →
 * complete pairs (consumed in part, released, or left authorized; some held for approval), each
 * request with an Idempotency-Key, and is SIGKILLed mid-burst. After a restart on the same store
 * (the SQLite file, or the PostgreSQL schema, whose claims died with the killed process): every acknowledged authorization and completion is there, once; retrying every request
 * with its key creates nothing twice; no hold is orphaned (every pending hold from the wallet
 * belongs to an authorization that is live, and every closed one's hold is posted or voided to
 * match); the wallet is exact and the books balance.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { onboard } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, expectStatus, putPolicy } from "./payments-support.js";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, listAll, spawnServer, storeKinds, type ChildServer } from "./support.js";

const pairs = 150;
const funding = 10_000_000;

/** What slot `i` does: authorize `amount`, then complete with `completion` (or leave it authorized). */
function slot(i: number) {
  const amount = i % 5 === 0 ? 6_000 + i : 1_000 + i;
  const completion = i % 5 === 0 ? null : i % 3 === 0 ? { outcome: "released" } : i % 3 === 1 ? { outcome: "consumed", amount: 700 } : { outcome: "consumed" };
  return { authorize: { operation: `tools.op${i % 4}`, amount, currency: "GBP", tool_call_id: `call-${i}` }, completion };
}

describe.each(storeKinds)("spend authorization crash safety (%s)", (kind) => {
  const config = freshStoreConfig(kind);
  const env: Record<string, string> = config.databaseUrl
    ? { BURSAR_DATA_DIR: config.dataDir, BURSAR_DATABASE_URL: config.databaseUrl, BURSAR_DATABASE_SCHEMA: config.databaseSchema! }
    : { BURSAR_DATA_DIR: config.dataDir };
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
    await dropSchema(config.databaseSchema);
  });

  it("keeps every acknowledged authorization and completion, once, with no orphaned hold", async () => {
    const bootstrap = await openStore(config);
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();

    let server = await spawnServer(env);
    children.push(server);
    let owner = client(server.url, tenant.token);
    const onboarded = await onboard(server.url, owner, { scopes: ["agents:execute", "transactions:read"] });
    expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: funding }), 201);
    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 5_000 });

    const authorized = new Map<number, string>();
    const completed = new Map<number, string>();
    let agent = await agentClient(server.url, onboarded);
    let next = 0;
    const victim = server;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < pairs) {
          const i = next++;
          const { authorize, completion } = slot(i);
          try {
            const answer = await agent.post("/v1/spend/authorizations", authorize, { "idempotency-key": `sa-${i}` });
            if (answer.status !== 201) continue;
            authorized.set(i, answer.body.id);
            if (completion && answer.body.status === "authorized") {
              const done = await agent.post(`/v1/spend/authorizations/${answer.body.id}/complete`, completion, { "idempotency-key": `sac-${i}` });
              if (done.status === 200) completed.set(i, done.body.status);
            }
          } catch {
            return; // the server died
          }
          if (authorized.size === 60) void killHard(victim.process);
        }
      }),
    );
    await killHard(victim.process);
    expect(authorized.size).toBeGreaterThanOrEqual(60);

    server = await spawnServer(env);
    children.push(server);
    owner = client(server.url, tenant.token);
    agent = await agentClient(server.url, onboarded);

    for (const [i, id] of authorized) expect(expectStatus(await owner.get(`/v1/spend/authorizations/${id}`), 200).tool_call_id).toBe(`call-${i}`);
    for (const [i, status] of completed) expect(expectStatus(await owner.get(`/v1/spend/authorizations/${authorized.get(i)}`), 200).status).toBe(status);

    // Retry every request with its key: acknowledged ones replay their answer; the rest apply once.
    for (let i = 0; i < pairs; i++) {
      const { authorize, completion } = slot(i);
      const answer = expectStatus(await agent.post("/v1/spend/authorizations", authorize, { "idempotency-key": `sa-${i}` }), 201);
      if (authorized.has(i)) expect(answer.id).toBe(authorized.get(i));
      if (completion && answer.status === "authorized") {
        const done = expectStatus(await agent.post(`/v1/spend/authorizations/${answer.id}/complete`, completion, { "idempotency-key": `sac-${i}` }), 200);
        if (completed.has(i)) expect(done.status).toBe(completed.get(i));
      }
    }
    const all = await listAll(owner, "/v1/spend/authorizations");
    expect(all.length).toBe(pairs);
    expect(new Set(all.map((authorization) => authorization.tool_call_id)).size).toBe(pairs);

    let spent = 0;
    let held = 0;
    const holdIds = new Set<string>();
    for (const authorization of all) {
      const hold = expectStatus(await owner.get(`/v1/transfers/${authorization.hold_transfer_id}`), 200);
      holdIds.add(hold.id);
      if (authorization.status === "consumed") {
        expect(hold).toMatchObject({ status: "posted", posted_amount: authorization.consumed_amount });
        spent += authorization.consumed_amount;
      } else if (authorization.status === "authorized" || authorization.status === "pending_approval") {
        expect(hold.status).toBe("pending");
        held += authorization.amount;
      } else {
        expect(authorization.status).toBe("released");
        expect(hold.status).toBe("voided");
      }
    }
    // No orphan: every hold from the wallet is an authorization's.
    const transfers = await listAll(owner, "/v1/transfers");
    const pendingHolds = transfers.filter((t) => t.debit_account_id === onboarded.walletAccountId && t.status === "pending");
    expect(pendingHolds.length).toBeGreaterThan(0);
    for (const transfer of pendingHolds) expect(holdIds.has(transfer.id), `hold ${transfer.id} belongs to an authorization`).toBe(true);
    expect(pendingHolds.reduce((sum, t) => sum + t.amount, 0)).toBe(held);
    const wallet = expectStatus(await owner.get(`/v1/accounts/${onboarded.walletAccountId}`), 200);
    expect(wallet.balance).toBe(funding - spent);
    expect(wallet.available).toBe(funding - spent - held);
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }, 120_000);
});
