/**
 * Shared limits under concurrency (issue 15), on SQLite and PostgreSQL: agents of one team
 * racing against their pool spend exactly the pool; concurrent allocations never sum past it; a
 * parent and its children racing never pass the parent's budget. The pool and the parent's
 * limit are windows of each spend's one decision, taken in the write that holds the money.
 * On PostgreSQL the pool race also runs across two server processes sharing the database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { checkLedger } from "./books.js";
import { createPayee, expectStatus, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, postgresUrl, startTestServer, storeKinds, type ChildServer, twoServersOnPostgres } from "./support.js";
import { agentClient } from "./payments-support.js";
import { createTeam, join, member, spawnChild, spawnerScopes, type Member } from "./teams-support.js";

type Api = ReturnType<typeof client>;
const attempts = 120;
const amount = 1_000;

/** Sends `attempts` payments at once, round-robin over `payers`; the intents by payer index. */
async function race(payers: AgentApi[], payeeId: string): Promise<any[][]> {
  const answers = await Promise.all(
    Array.from({ length: attempts }, (_, i) => payers[i % payers.length]!.post("/v1/payment-intents", { payee_id: payeeId, amount, currency: "GBP", reference: `race ${i}` })),
  );
  const byPayer: any[][] = payers.map(() => []);
  answers.forEach((answer, i) => byPayer[i % payers.length]!.push(expectStatus(answer, 201)));
  return byPayer;
}

const completed = (intents: any[]) => intents.filter((intent) => intent.execution_status === "completed").length;

async function teamRace(owner: Api, baseUrls: string[], payeeId: string): Promise<void> {
  const poolMinor = 37 * amount;
  const team = await createTeam(owner, { pools: [{ period: "daily", currency: "GBP", amount: poolMinor }] });
  const members: Member[] = [];
  for (let i = 0; i < 4; i++) {
    const joined = await member(baseUrls[0]!, owner);
    await join(owner, team.id, joined.agentId);
    members.push(joined);
  }
  // One client per member per server: the race crosses processes when there are two.
  const payers = (await Promise.all(baseUrls.map((url) => Promise.all(members.map((m) => agentClient(url, m.onboarded)))))).flat();
  const byPayer = await race(payers, payeeId);
  const all = byPayer.flat();
  expect(completed(all)).toBe(37);
  for (const intent of all.filter((i) => i.execution_status !== "completed")) expect(intent.reason_codes).toEqual(["team_pool_exceeded"]);
  const view = expectStatus(await owner.get(`/v1/teams/${team.id}`), 200);
  expect(view.pools[0]).toMatchObject({ spent: poolMinor, held: 0, remaining: 0 });
  await checkLedger(owner);
}

describe.each(storeKinds)("teams and spawned agents under concurrency (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let payeeId: string;

  beforeAll(async () => {
    server = await startTestServer(kind, { config: { logLevel: "error" } });
    owner = client(server.url, (await createTestTenant(server.store)).token);
    payeeId = (await createPayee(owner, "Race supplier")).id;
  });
  afterAll(async () => server?.close());

  it(`${attempts} payments at once by 4 agents of one team spend exactly the pool`, async () => {
    await teamRace(owner, [server.url], payeeId);
  });

  it("40 allocations at once never sum past the pool: exactly 10 of 1 000 fit a 10 000 pool", async () => {
    const team = await createTeam(owner, { pools: [{ period: "monthly", currency: "GBP", amount: 10_000 }] });
    const agentIds: string[] = [];
    for (let i = 0; i < 40; i++) {
      const agent = expectStatus(await owner.post("/v1/agents", { name: `Allocated ${i}` }), 201);
      await join(owner, team.id, agent.id);
      agentIds.push(agent.id);
    }
    const answers = await Promise.all(agentIds.map((agentId) => owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: agentId, period: "monthly", amount: 1_000 })));
    expect(answers.filter((a) => a.status === 200).length).toBe(10);
    for (const refused of answers.filter((a) => a.status !== 200)) expect([refused.status, refused.body.code]).toEqual([409, "allocation_exceeds_pool"]);
    const view = expectStatus(await owner.get(`/v1/teams/${team.id}`), 200);
    expect(view.allocations.length).toBe(10);
    expect(view.pools[0].allocated).toBe(10_000);
  });

  it(`a parent and 3 children racing ${attempts} payments never pass the parent's budget`, async () => {
    const parent = await member(server.url, owner, { amount_max_minor: { daily: 30 * amount } }, 1_000_000, spawnerScopes);
    const children: Member[] = [];
    for (let i = 0; i < 3; i++) children.push(await spawnChild(server.url, parent, { name: `Child ${i}`, budgets: [{ period: "daily", amount: 20 * amount }], funding: 100 * amount }));
    const byPayer = await race([parent.api, ...children.map((child) => child.api)], payeeId);
    expect(completed(byPayer.flat())).toBe(30);
    for (const [index, intents] of byPayer.entries()) {
      if (index > 0) expect(completed(intents)).toBeLessThanOrEqual(20);
      for (const intent of intents.filter((i) => i.execution_status !== "completed")) {
        expect(intent.reason_codes.some((code: string) => ["daily_amount_limit_exceeded", "parent_budget_exceeded", "budget_exceeded"].includes(code))).toBe(true);
      }
    }
    const check = expectStatus(await children[0]!.api.post("/v1/policy/check", { amount: 1, currency: "GBP", payee: payeeId }), 200);
    expect(check.reason_codes).toContain("parent_budget_exceeded");
    await checkLedger(owner);
  });
});

describe.runIf(postgresUrl)("a team pool raced across two server processes sharing PostgreSQL", () => {
  const config = freshStoreConfig("postgres");
  const children: ChildServer[] = [];
  let owner: Api;
  let payeeId: string;

  beforeAll(async () => {
    const tenant = await twoServersOnPostgres(config, children);
    owner = client(children[0]!.url, tenant.token);
    payeeId = (await createPayee(owner, "Race supplier")).id;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  it(`${attempts} payments at once by 4 agents of one team over two processes spend exactly the pool`, async () => {
    await teamRace(owner, children.map((child) => child.url), payeeId);
  });
});
