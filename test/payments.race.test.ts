/**
 * Concurrent overspend, attacked: 200 payment intents sent at once against a wallet and limits
 * that allow exactly N of them. Exactly N execute; the rest are denied (or wait for approval,
 * holding their money); balances, holds and spending afterwards are exact. On PostgreSQL the
 * same runs against two server processes sharing one database. And a disable racing payments:
 * no payment commits after the agent's disable, whenever its request was authenticated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLedger } from "./books.js";
import { onboard } from "./agents-support.js";
import { agentClient, balanceOf, createPayee, expectStatus, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, listAll, dropSchema, freshStoreConfig, killHard, postgresUrl, startTestServer, storeKinds, type ChildServer, twoServersOnPostgres } from "./support.js";
import type { RunningServer } from "@bursar/server";

const attempts = 200;
const amount = 1_000;

type Api = ReturnType<typeof client>;

interface Scenario {
  name: string;
  fundMinor: number;
  policy: Record<string, unknown>;
  /** Intents expected to complete, to wait for approval; the rest are denied with `deniedReason`. */
  completed: number;
  waiting: number;
  deniedReason: string;
}

const scenarios: Scenario[] = [
  { name: "the wallet allows exactly 73", fundMinor: 73 * amount, policy: {}, completed: 73, waiting: 0, deniedReason: "insufficient_funds" },
  { name: "a daily count limit allows exactly 41", fundMinor: 1_000 * amount, policy: { count_max: { daily: 41 } }, completed: 41, waiting: 0, deniedReason: "daily_count_limit_exceeded" },
  { name: "a weekly amount limit allows exactly 57", fundMinor: 1_000 * amount, policy: { amount_max_minor: { weekly: 57 * amount } }, completed: 57, waiting: 0, deniedReason: "weekly_amount_limit_exceeded" },
  { name: "an approval threshold holds exactly 29 within a daily amount limit", fundMinor: 1_000 * amount, policy: { approval_threshold_minor: amount, amount_max_minor: { daily: 29 * amount } }, completed: 0, waiting: 29, deniedReason: "daily_amount_limit_exceeded" },
];

/** Sends `attempts` intents at once, spread over `agents` (one per server), and checks the outcome. */
async function race(owner: Api, agents: AgentApi[], agentId: string, payeeId: string, scenario: Scenario): Promise<void> {
  const responses = await Promise.all(
    Array.from({ length: attempts }, (_, i) => agents[i % agents.length]!.post("/v1/payment-intents", { payee_id: payeeId, amount, currency: "GBP", reference: `race ${i}` })),
  );
  const intents = responses.map((response) => expectStatus(response, 201));
  const byStatus = (status: string) => intents.filter((intent) => intent.execution_status === status);
  expect(byStatus("completed").length).toBe(scenario.completed);
  expect(byStatus("pending").length).toBe(scenario.waiting);
  const failed = byStatus("failed");
  expect(failed.length).toBe(attempts - scenario.completed - scenario.waiting);
  for (const intent of failed) expect(intent.reason_codes).toContain(scenario.deniedReason);

  const balance = await balanceOf(owner, agentId);
  expect(balance.balance).toBe(scenario.fundMinor - scenario.completed * amount);
  expect(balance.available).toBe(scenario.fundMinor - (scenario.completed + scenario.waiting) * amount);
  const check = expectStatus(await owner.post("/v1/policy/check", { agent_id: agentId, amount, currency: "GBP", payee: payeeId }), 200);
  expect(check.decision).toBe("deny");
  await checkLedger(owner);
}

async function setUp(owner: Api, baseUrls: string[], scenario: Scenario) {
  const onboarded = await onboard(baseUrls[0]!, owner, { scopes: ["agents:execute", "transactions:read"] });
  expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: scenario.fundMinor }), 201);
  const payee = await createPayee(owner, `Payee ${onboarded.agentId}`);
  await putPolicy(owner, onboarded.agentId, scenario.policy);
  const agents = await Promise.all(baseUrls.map((url) => agentClient(url, onboarded)));
  return { agentId: onboarded.agentId, payeeId: payee.id as string, agents };
}

describe.each(storeKinds)("concurrent payment intents (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;

  beforeAll(async () => {
    server = await startTestServer(kind, { config: { logLevel: "error" } });
    owner = client(server.url, (await createTestTenant(server.store)).token);
  });
  afterAll(async () => server?.close());

  for (const scenario of scenarios) {
    it(`${attempts} at once: ${scenario.name}`, async () => {
      const { agentId, payeeId, agents } = await setUp(owner, [server.url], scenario);
      await race(owner, agents, agentId, payeeId, scenario);
    });
  }

  it(`a disable racing ${attempts} payments: none commits after it`, async () => {
    const fundMinor = 1_000 * amount;
    const { agentId, payeeId } = await setUp(owner, [server.url], { ...scenarios[0]!, fundMinor });
    // The owner acts for the agent (agent_id): authentication passes whatever the agent's status,
    // so only the write itself can refuse. Payments go 16 at a time, without a pause; the disable
    // is sent once 40 have answered, so it commits while others are between arrival and write.
    const responses: Array<{ status: number; body: any }> = [];
    let sent = 0;
    let disable: ReturnType<Api["call"]> | null = null;
    const worker = async () => {
      while (sent < attempts) {
        const i = sent++;
        responses.push(await owner.post("/v1/payment-intents", { agent_id: agentId, payee_id: payeeId, amount, currency: "GBP", reference: `disable race ${i}` }));
        if (responses.length === 40) disable = owner.call("DELETE", `/v1/agents/${agentId}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expectStatus(await disable!, 200);

    const paid = responses.filter((response) => response.status === 201);
    for (const response of responses) if (response.status !== 201) expect(response.body.code).toBe("agent_disabled");
    const events = await listAll(owner, `/v1/events?agent_id=${agentId}&type=payment_intent.created,agent.disabled`);
    const disabledSeq = events.find((event) => event.type === "agent.disabled")!.seq as number;
    const created = events.filter((event) => event.type === "payment_intent.created");
    expect(created.length).toBe(paid.length);
    for (const event of created) expect(event.seq).toBeLessThan(disabledSeq);
    const balance = await balanceOf(owner, agentId);
    expect(balance.balance).toBe(fundMinor - paid.length * amount);
    await checkLedger(owner);
  });
});

describe.runIf(postgresUrl)("concurrent payment intents across two server processes sharing PostgreSQL", () => {
  const config = freshStoreConfig("postgres");
  const children: ChildServer[] = [];
  let owner: Api;

  beforeAll(async () => {
    const tenant = await twoServersOnPostgres(config, children);
    owner = client(children[0]!.url, tenant.token);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  for (const scenario of scenarios.slice(0, 2)) {
    it(`${attempts} at once over two processes: ${scenario.name}`, async () => {
      const { agentId, payeeId, agents } = await setUp(owner, children.map((child) => child.url), scenario);
      await race(owner, agents, agentId, payeeId, scenario);
    });
  }
});
