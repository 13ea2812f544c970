/**
 * Spend authorizations under concurrency, attacked, on SQLite, on PostgreSQL, and across two
 * server processes sharing one PostgreSQL:
 * - 200 authorizations at once against a wallet or a limit that allows exactly N: exactly N are
 *   authorized, the rest denied with the limit's reason, and the holds add up;
 * - a mixed burst of payment intents, service requests and authorizations against one daily
 *   limit: together they never pass it (and, all being the same amount, reach it exactly);
 * - `complete` raced with both outcomes: each authorization settles once, every other answer is
 *   the same outcome replayed or `authorization_already_completed`, and the books agree.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { checkLedger } from "./books.js";
import { onboard } from "./agents-support.js";
import { agentClient, balanceOf, createPayee, expectStatus, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, postgresUrl, spawnServer, startTestServer, storeKinds, type ChildServer } from "./support.js";
import type { RunningServer } from "@bursar/server";

const attempts = 200;
const amount = 1_000;
type Api = ReturnType<typeof client>;

interface Scenario {
  name: string;
  fundMinor: number;
  policy: Record<string, unknown>;
  authorized: number;
  deniedReason: string;
}

const scenarios: Scenario[] = [
  { name: "the wallet allows exactly 61", fundMinor: 61 * amount, policy: {}, authorized: 61, deniedReason: "insufficient_funds" },
  { name: "a daily amount limit allows exactly 47", fundMinor: 1_000 * amount, policy: { amount_max_minor: { daily: 47 * amount } }, authorized: 47, deniedReason: "daily_amount_limit_exceeded" },
  { name: "a per-operation daily limit allows exactly 33", fundMinor: 1_000 * amount, policy: { operation_limits: { "openai.*": { daily_max_minor: 33 * amount } } }, authorized: 33, deniedReason: "operation_daily_limit_exceeded" },
];

async function setUp(owner: Api, baseUrls: string[], fundMinor: number, policy: Record<string, unknown>) {
  const onboarded = await onboard(baseUrls[0]!, owner, { scopes: ["agents:execute", "transactions:read"] });
  expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: fundMinor }), 201);
  await putPolicy(owner, onboarded.agentId, policy);
  const agents = await Promise.all(baseUrls.map((url) => agentClient(url, onboarded)));
  return { agentId: onboarded.agentId, agents };
}

async function raceAuthorizations(owner: Api, agents: AgentApi[], agentId: string, scenario: Scenario): Promise<void> {
  const responses = await Promise.all(
    Array.from({ length: attempts }, (_, i) => agents[i % agents.length]!.post("/v1/spend/authorizations", { operation: `openai.op${i % 3}`, amount, currency: "GBP" })),
  );
  const authorizations = responses.map((response) => expectStatus(response, 201));
  const authorized = authorizations.filter((authorization) => authorization.status === "authorized");
  expect(authorized.length).toBe(scenario.authorized);
  for (const denied of authorizations.filter((authorization) => authorization.status !== "authorized")) {
    expect(denied.status).toBe("denied");
    expect(denied.reason_codes).toContain(scenario.deniedReason);
    expect(denied.hold_transfer_id).toBeNull();
  }
  const balance = await balanceOf(owner, agentId);
  expect(balance).toMatchObject({ balance: scenario.fundMinor, available: scenario.fundMinor - scenario.authorized * amount });
  await checkLedger(owner);
}

/** 60 each of payment intents, service requests and authorizations of 100 against a daily limit of 40 × 100. */
async function raceMixed(owner: Api, agents: AgentApi[], agentId: string, payeeId: string): Promise<void> {
  const each = 60;
  const price = 100;
  const limitMinor = 40 * price;
  const send = (i: number) => {
    const api = agents[i % agents.length]!;
    if (i % 3 === 0) return api.post("/v1/payment-intents", { payee_id: payeeId, amount: price, currency: "GBP" });
    if (i % 3 === 1) return api.post("/v1/service-requests", { service: "sandbox", operation: "echo", payload: { i } });
    return api.post("/v1/spend/authorizations", { operation: "tools.search", amount: price, currency: "GBP" });
  };
  const responses = await Promise.all(Array.from({ length: 3 * each }, (_, i) => send(i)));
  let passed = 0;
  for (const [i, response] of responses.entries()) {
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
    const body = response.body;
    const ok = i % 3 === 0 ? body.execution_status === "completed" : i % 3 === 1 ? body.status === "executed" : body.status === "authorized";
    if (ok) passed++;
    else expect(body.reason_codes, JSON.stringify(body)).toContain("daily_amount_limit_exceeded");
  }
  expect(passed * price).toBe(limitMinor);
  const check = expectStatus(await owner.post("/v1/policy/check", { agent_id: agentId, kind: "spend_authorization", operation: "tools.search", amount: 1, currency: "GBP" }), 200);
  expect(check.remaining.daily).toBe(-1);
  await checkLedger(owner);
}

/** Authorizes 20 of 700, then sends each both outcomes three times at once (consumed at 600). */
async function raceCompletions(owner: Api, agents: AgentApi[], agentId: string): Promise<void> {
  const before = await balanceOf(owner, agentId);
  const authorizations = await Promise.all(Array.from({ length: 20 }, () => agents[0]!.post("/v1/spend/authorizations", { operation: "tools.search", amount: 700, currency: "GBP" }).then((r) => expectStatus(r, 201))));
  let consumedMinor = 0;
  for (const authorization of authorizations) {
    const calls = Array.from({ length: 6 }, (_, i) =>
      agents[i % agents.length]!.post(`/v1/spend/authorizations/${authorization.id}/complete`, i % 2 === 0 ? { outcome: "consumed", amount: 600 } : { outcome: "released" }),
    );
    const answers = await Promise.all(calls);
    const final = expectStatus(await agents[0]!.get(`/v1/spend/authorizations/${authorization.id}`), 200);
    expect(["consumed", "released"]).toContain(final.status);
    for (const answer of answers) {
      if (answer.status === 200) expect(answer.body.status).toBe(final.status);
      else expect(expectStatus(answer, 409).code).toBe("authorization_already_completed");
    }
    const hold = expectStatus(await owner.get(`/v1/transfers/${final.hold_transfer_id}`), 200);
    expect(hold).toMatchObject(final.status === "consumed" ? { status: "posted", posted_amount: 600 } : { status: "voided", posted_amount: 0 });
    if (final.status === "consumed") consumedMinor += 600;
  }
  expect(await balanceOf(owner, agentId)).toMatchObject({ balance: before.balance - consumedMinor, available: before.available - consumedMinor });
  await checkLedger(owner);
}

async function runAll(owner: Api, baseUrls: string[], only?: Scenario[]): Promise<void> {
  for (const scenario of only ?? scenarios) {
    const { agentId, agents } = await setUp(owner, baseUrls, scenario.fundMinor, scenario.policy);
    await raceAuthorizations(owner, agents, agentId, scenario);
  }
}

describe.each(storeKinds)("concurrent spend authorizations (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;

  beforeAll(async () => {
    server = await startTestServer(kind, { config: { logLevel: "error" } });
    owner = client(server.url, (await createTestTenant(server.store)).token);
  });
  afterAll(async () => server?.close());

  it(`${attempts} authorizations at once against wallets and limits that allow exactly N`, async () => {
    // The daily amount limit runs across two processes below, and mixed with other spends here.
    await runAll(owner, [server.url], [scenarios[0]!, scenarios[2]!]);
  });

  it("a mixed burst of payments, service requests and authorizations never passes one daily limit", async () => {
    const { agentId, agents } = await setUp(owner, [server.url], 100_000, { amount_max_minor: { daily: 4_000 } });
    const payee = await createPayee(owner, `Mixed ${agentId}`);
    await raceMixed(owner, agents, agentId, payee.id);
  });

  it("concurrent completions with different outcomes settle once", async () => {
    const { agentId, agents } = await setUp(owner, [server.url], 100_000, {});
    await raceCompletions(owner, agents, agentId);
  });
});

describe.runIf(postgresUrl)("concurrent spend authorizations across two server processes sharing PostgreSQL", () => {
  const config = freshStoreConfig("postgres");
  const children: ChildServer[] = [];
  let owner: Api;
  let urls: string[];

  beforeAll(async () => {
    const store = await openStore(config);
    const tenant = await createTestTenant(store);
    await store.close();
    const env = { BURSAR_DATA_DIR: config.dataDir, BURSAR_DATABASE_URL: config.databaseUrl!, BURSAR_DATABASE_SCHEMA: config.databaseSchema! };
    children.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
    urls = children.map((child) => child.url);
    owner = client(urls[0]!, tenant.token);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  it(`${attempts} authorizations at once over two processes against limits that allow exactly N`, async () => {
    await runAll(owner, urls, scenarios.slice(1));
  });

  it("a mixed burst over two processes never passes one daily limit", async () => {
    const { agentId, agents } = await setUp(owner, urls, 100_000, { amount_max_minor: { daily: 4_000 } });
    const payee = await createPayee(owner, `Mixed ${agentId}`);
    await raceMixed(owner, agents, agentId, payee.id);
  });

  it("concurrent completions over two processes settle once", async () => {
    const { agentId, agents } = await setUp(owner, urls, 100_000, {});
    await raceCompletions(owner, agents, agentId);
  });
});
