/**
 * A write serves the rows a spend decision reads on every payment (the agent, its children, its
 * team's members, the payee, the policy and budgets) from a per-process cache under the tenant's
 * config version (store/tenant-config-cache.ts, migration 25). These tests try to make that cache
 * decide with a row another process has just changed: two `bursar serve` processes share one
 * database, process B decides once (so it holds the rows), the change goes through A, and B's very
 * next decision must already follow it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, spawnServer, storeKinds, type ChildServer } from "./support.js";
import { agentClient, createPayee, expectStatus } from "./payments-support.js";
import { createTeam, join, member, pay, spawnChild, spawnerScopes } from "./teams-support.js";

describe.each(storeKinds)("cached spend decisions across two server processes (%s)", (kind) => {
  const config = freshStoreConfig(kind);
  const children: ChildServer[] = [];
  let token: string;
  const urlA = () => children[0]!.url;
  const urlB = () => children[1]!.url;
  const owner = () => client(urlA(), token);

  beforeAll(async () => {
    const store = await openStore(config);
    token = (await createTestTenant(store)).token;
    await store.close();
    const env = { BURSAR_DATA_DIR: config.dataDir, ...(config.databaseUrl ? { BURSAR_DATABASE_URL: config.databaseUrl, BURSAR_DATABASE_SCHEMA: config.databaseSchema! } : {}) };
    children.push(await spawnServer(env));
    children.push(await spawnServer(env));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  it("a payee deleted through A is no longer paid by B", async () => {
    const payee = await createPayee(owner(), "Soon gone");
    const agent = await member(urlA(), owner());
    const onB = await agentClient(urlB(), agent.onboarded);
    for (let i = 0; i < 2; i++) expect((await pay(onB, payee.id, 100)).execution_status).toBe("completed");
    expectStatus(await owner().call("DELETE", `/v1/payees/${payee.id}`), 200);
    const refused = await onB.post("/v1/payment-intents", { payee_id: payee.id, amount: 100, currency: "GBP" });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe("payee_not_found");
  });

  // A spawn inserts the child and its policy and budgets: each bumps the version (the store
  // contract test "reads agents, their children..." checks the agent insert alone).
  it("a child spawned through A counts against its parent's window on B at once", async () => {
    const payee = await createPayee(owner(), "Lineage supplier");
    const parent = await member(urlA(), owner(), { amount_max_minor: { daily: 20_000 } }, 100_000, spawnerScopes);
    const parentOnB = await agentClient(urlB(), parent.onboarded);
    expect((await pay(parentOnB, payee.id, 10_000)).execution_status).toBe("completed");
    const child = await spawnChild(urlA(), parent, { budgets: [{ period: "daily", amount: 6_000 }], funding: 6_000 });
    expect((await pay(child.api, payee.id, 6_000)).execution_status).toBe("completed");
    // 10 000 + 6 000 spent in the parent's subtree: 4 001 more passes its daily 20 000.
    const over = await pay(parentOnB, payee.id, 4_001);
    expect(over.reason_codes).toEqual(["daily_amount_limit_exceeded"]);
    expect((await pay(parentOnB, payee.id, 4_000)).execution_status).toBe("completed");
  });

  it("an agent joining a team through A meets the team's pool on B at once, and leaves it at once", async () => {
    const payee = await createPayee(owner(), "Pool supplier");
    const agent = await member(urlA(), owner());
    const onB = await agentClient(urlB(), agent.onboarded);
    expect((await pay(onB, payee.id, 3_000)).execution_status).toBe("completed");
    const team = await createTeam(owner(), { pools: [{ period: "daily", currency: "GBP", amount: 1_000 }] });
    await join(owner(), team.id, agent.agentId);
    const overPool = await pay(onB, payee.id, 1_001);
    expect(overPool.reason_codes).toEqual(["team_pool_exceeded"]);
    expectStatus(await owner().call("DELETE", `/v1/teams/${team.id}/members/${agent.agentId}`), 200);
    expect((await pay(onB, payee.id, 1_001)).execution_status).toBe("completed");
  });
});
