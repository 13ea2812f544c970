/**
 * Escrow intents under concurrency, on SQLite, on PostgreSQL, and across two server processes
 * sharing one PostgreSQL:
 * - 20 passing evidence submissions (each a different signed body) raced with release and refund
 *   calls: each intent settles exactly once (one settlement event, one payout batch), every other
 *   answer is that settlement or `escrow_already_settled`, and the books balance;
 * - 40 capability draws at once on one escrow: what they hold never passes the escrowed amount.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { checkLedger } from "./books.js";
import { onboard, type Onboarded } from "./agents-support.js";
import { createIntent, intentRequest, newEvidenceKey, payeeWithKey, signEvidence, type EvidenceKey } from "./escrow-support.js";
import { agentClient, balanceOf, expectStatus, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, listAll, postgresUrl, startTestServer, storeKinds, type ChildServer, twoServersOnPostgres } from "./support.js";

type Api = ReturnType<typeof client>;

interface World {
  owners: Api[];
  anyone: Api[];
  agents: AgentApi[];
  onboarded: Onboarded;
  tenantId: string;
  payee: any;
  payeeKey: EvidenceKey;
}

async function setUp(urls: string[], token: string, tenantId: string, fundMinor: number): Promise<World> {
  const owner = client(urls[0]!, token);
  const onboarded = await onboard(urls[0]!, owner, { scopes: ["agents:execute", "transactions:read"] });
  expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: fundMinor }), 201);
  await putPolicy(owner, onboarded.agentId, {});
  const payeeKey = newEvidenceKey();
  const payee = await payeeWithKey(owner, `Racer ${onboarded.agentId}`, payeeKey);
  return {
    owners: urls.map((url) => client(url, token)), anyone: urls.map((url) => client(url)),
    agents: await Promise.all(urls.map((url) => agentClient(url, onboarded))), onboarded, tenantId, payee, payeeKey,
  };
}

async function raceSettlements(world: World): Promise<void> {
  const { agents, owners, anyone, onboarded, tenantId, payee, payeeKey } = world;
  const intents = [];
  for (let i = 0; i < 4; i++) {
    intents.push(expectStatus(await createIntent(agents[0]!, onboarded.key, tenantId, onboarded.agentId, intentRequest(payee, Date.now()), { fund: true }), 201));
  }
  const before = await balanceOf(owners[0]!, onboarded.agentId);
  const calls = intents.flatMap((intent) => [
    ...Array.from({ length: 20 }, (_, i) => () => anyone[i % anyone.length]!.post(`/v1/escrow-intents/${intent.id}/evidence`,
      signEvidence(payeeKey.privateKey, tenantId, intent.id, payee.id, { payload: { status: 200, pages: 10 + i }, artifacts: [], submitted_at: new Date().toISOString() }))),
    ...Array.from({ length: 5 }, (_, i) => () => agents[i % agents.length]!.post(`/v1/escrow-intents/${intent.id}/release`)),
    ...Array.from({ length: 5 }, (_, i) => () => owners[i % owners.length]!.post(`/v1/escrow-intents/${intent.id}/refund`)),
  ]);
  const responses = await Promise.all(calls.sort(() => Math.random() - 0.5).map((call) => call()));
  for (const response of responses) {
    if (response.status === 409) expect(response.body.code, JSON.stringify(response.body)).toBe("escrow_already_settled");
    else expect(response.status, JSON.stringify(response.body)).toBe(200);
  }
  let paid = 0;
  let refunded = 0;
  for (const intent of intents) {
    const settled = expectStatus(await owners[0]!.get(`/v1/escrow-intents/${intent.id}`), 200);
    expect(["released", "refunded"]).toContain(settled.status);
    paid += settled.settlement.payee_amount;
    refunded += settled.settlement.refund_amount;
    expect(settled.settlement.payee_amount + settled.settlement.refund_amount).toBe(intent.amount);
    const events = (await listAll(owners[0]!, `/v1/events?type=escrow_intent.*`)).filter((event: any) => event.data.escrow_intent.id === intent.id);
    expect(events.filter((event: any) => event.type === "escrow_intent.released" || event.type === "escrow_intent.refunded")).toHaveLength(1);
    const escrow = expectStatus(await owners[0]!.get(`/v1/accounts/${intent.escrow_account_id}`), 200);
    expect(escrow).toMatchObject({ balance: 0, debits_posted: intent.amount, credits_posted: intent.amount });
  }
  expect(expectStatus(await owners[0]!.get(`/v1/accounts/${payee.account_id}`), 200).balance).toBe(paid);
  expect((await balanceOf(owners[0]!, onboarded.agentId)).balance).toBe(before.balance + refunded);
  await checkLedger(owners[0]!);
}

async function raceDraws(world: World): Promise<void> {
  const { agents, owners, onboarded, tenantId, payee } = world;
  const intent = expectStatus(await createIntent(agents[0]!, onboarded.key, tenantId, onboarded.agentId, intentRequest(payee, Date.now(), { allowed_operations: ["tools.*"] }), { fund: true }), 201);
  const { token } = expectStatus(await agents[0]!.post(`/v1/escrow-intents/${intent.id}/capability`), 200);
  const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => agents[i % agents.length]!.post("/v1/spend/authorizations", { operation: "tools.search", amount: 200, currency: "GBP", capability_token: token })));
  const authorized = responses.filter((response) => response.status === 201 && response.body.status === "authorized");
  for (const response of responses.filter((r) => !authorized.includes(r))) {
    expect(response.status === 403 ? response.body.code : response.body.reason_codes, JSON.stringify(response.body)).toEqual(response.status === 403 ? "capability_exhausted" : expect.arrayContaining(["insufficient_funds"]));
  }
  expect(authorized).toHaveLength(intent.amount / 200);
  const escrow = expectStatus(await owners[0]!.get(`/v1/accounts/${intent.escrow_account_id}`), 200);
  expect(escrow).toMatchObject({ balance: intent.amount, debits_pending: intent.amount, available: 0 });
  expect(expectStatus(await owners[0]!.get(`/v1/escrow-intents/${intent.id}`), 200)).toMatchObject({ drawn_amount: intent.amount, releasable_amount: 0 });
  // Settling releases every live draw; nothing is paid to the payee, nothing lost.
  const refunded = expectStatus(await owners[0]!.post(`/v1/escrow-intents/${intent.id}/refund`), 200);
  expect(refunded.settlement).toMatchObject({ refund_amount: intent.amount, drawn_amount: 0 });
  await checkLedger(owners[0]!);
}

describe.each(storeKinds)("concurrent escrow settlement (%s)", (kind) => {
  let server: RunningServer;
  let world: World;
  beforeAll(async () => {
    server = await startTestServer(kind, { config: { logLevel: "error" } });
    const tenant = await createTestTenant(server.store);
    world = await setUp([server.url], tenant.token, tenant.tenantId, 1_000_000);
  });
  afterAll(async () => server?.close());

  it("20 passing evidence submissions raced with releases and refunds settle each intent once", async () => raceSettlements(world));
  it("40 capability draws at once never pass the escrowed amount", async () => raceDraws(world));
});

describe.runIf(postgresUrl)("concurrent escrow settlement across two server processes sharing PostgreSQL", () => {
  const config = freshStoreConfig("postgres");
  const children: ChildServer[] = [];
  let world: World;

  beforeAll(async () => {
    const tenant = await twoServersOnPostgres(config, children);
    world = await setUp(children.map((child) => child.url), tenant.token, tenant.tenantId, 1_000_000);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  it("settlement races over two processes settle each intent once", async () => raceSettlements(world));
  it("draw races over two processes never pass the escrowed amount", async () => raceDraws(world));
});
