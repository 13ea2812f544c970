/**
 * Task bounties under concurrency, on SQLite, on PostgreSQL, and across two server processes
 * sharing one PostgreSQL:
 * - 20 concurrent `ship` retries with one Idempotency-Key: every answer is the first result
 *   (replayed) or `idempotency_key_in_use`; the bounty is paid once;
 * - 20 concurrent `ship` calls with 20 different keys: one ships, the rest are 409
 *   `task_transition_not_allowed` (`current_status: done`); the bounty is paid once;
 * - `cancel` racing `ship` on many tasks: each settles one way (done and paid, or cancelled and
 *   refunded), never both, and the wallets and books agree.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { checkLedger } from "./books.js";
import { agentClient, expectStatus } from "./payments-support.js";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, listAll, postgresUrl, startTestServer, storeKinds, type ChildServer, twoServersOnPostgres } from "./support.js";
import { newHead, readyToShip, taskWorld, walletBalance, type TaskWorld } from "./tasks-support.js";

interface Race {
  world: TaskWorld;
  /** The assignee and creator clients on every server. */
  assignees: TaskWorld["assignee"][];
  creators: TaskWorld["creator"][];
}

async function setUp(urls: string[], token: string): Promise<Race> {
  const world = await taskWorld(urls[0]!, token);
  return {
    world,
    assignees: await Promise.all(urls.map((url) => agentClient(url, world.assigneeAgent))),
    creators: await Promise.all(urls.map((url) => agentClient(url, world.creatorAgent))),
  };
}

async function bountyTask(race: Race, amountMinor: number) {
  const { world } = race;
  const task = expectStatus(await world.creator.post("/v1/tasks", { title: "Race", assignee_agent_id: world.assigneeAgent.agentId, bounty: { amount: amountMinor, currency: "GBP" } }), 201);
  const head = newHead();
  await readyToShip(world, task, head);
  return { id: task.id as string, head, escrowId: task.bounty.escrow_intent_id as string };
}

const shipBody = (head: string) => ({ mode: "merge", target_environment: "production", expected_head_sha: head });

/** The task's settlement events: exactly one release or refund, and at most one task.shipped. */
async function expectSettledOnce(race: Race, taskId: string, escrowId: string): Promise<"done" | "cancelled"> {
  const { owner } = race.world;
  const task = expectStatus(await owner.get(`/v1/tasks/${taskId}`), 200);
  const events = await listAll(owner, "/v1/events?type=task.*");
  const mine = events.filter((event) => event.data.task.id === taskId);
  const escrowEvents = (await listAll(owner, "/v1/events?type=escrow_intent.*")).filter((event) => event.data.escrow_intent.id === escrowId);
  const settlements = escrowEvents.filter((event) => ["escrow_intent.released", "escrow_intent.refunded", "escrow_intent.expired"].includes(event.type));
  expect(settlements, taskId).toHaveLength(1);
  if (task.status === "done") {
    expect(mine.filter((event) => event.type === "task.shipped")).toHaveLength(1);
    expect(mine.filter((event) => event.type === "task.cancelled")).toHaveLength(0);
    expect(settlements[0].type).toBe("escrow_intent.released");
    expect(task.bounty).toMatchObject({ status: "released", paid_amount: task.bounty.amount });
  } else {
    expect(task.status).toBe("cancelled");
    expect(mine.filter((event) => event.type === "task.cancelled")).toHaveLength(1);
    expect(mine.filter((event) => event.type === "task.shipped")).toHaveLength(0);
    expect(settlements[0].type).toBe("escrow_intent.refunded");
    expect(task.bounty).toMatchObject({ status: "refunded", paid_amount: 0 });
  }
  const escrow = expectStatus(await owner.get(`/v1/escrow-intents/${escrowId}`), 200);
  expect(expectStatus(await owner.get(`/v1/accounts/${escrow.escrow_account_id}`), 200)).toMatchObject({ balance: 0, debits_pending: 0 });
  return task.status;
}

async function sameKey(race: Race): Promise<void> {
  const { world, assignees } = race;
  const assigneeBefore = await walletBalance(world.owner, world.assigneeAgent.walletAccountId);
  const task = await bountyTask(race, 3000);
  const key = `ship-${task.id}`;
  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => assignees[i % assignees.length]!.post(`/v1/tasks/${task.id}/ship`, shipBody(task.head), { "idempotency-key": key })));
  for (const response of responses) {
    if (response.status === 409) expect(response.body.code, JSON.stringify(response.body)).toBe("idempotency_key_in_use");
    else expect(expectStatus(response, 200)).toMatchObject({ status: "done", bounty: { status: "released" } });
  }
  const replay = await assignees[0]!.post(`/v1/tasks/${task.id}/ship`, shipBody(task.head), { "idempotency-key": key });
  expect(expectStatus(replay, 200).status).toBe("done");
  expect(replay.headers.get("idempotent-replayed")).toBe("true");
  expect(await expectSettledOnce(race, task.id, task.escrowId)).toBe("done");
  expect(await walletBalance(world.owner, world.assigneeAgent.walletAccountId)).toBe(assigneeBefore + 3000);
  await checkLedger(world.owner);
}

async function differentKeys(race: Race): Promise<void> {
  const { world, assignees } = race;
  const assigneeBefore = await walletBalance(world.owner, world.assigneeAgent.walletAccountId);
  const task = await bountyTask(race, 2500);
  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => assignees[i % assignees.length]!.post(`/v1/tasks/${task.id}/ship`, shipBody(task.head), { "idempotency-key": `ship-${task.id}-${i}` })));
  const shipped = responses.filter((response) => response.status === 200);
  expect(shipped).toHaveLength(1);
  for (const response of responses.filter((r) => r.status !== 200)) {
    expect(response.status, JSON.stringify(response.body)).toBe(409);
    expect(response.body).toMatchObject({ code: "task_transition_not_allowed", current_status: "done", available_actions: [] });
  }
  expect(await expectSettledOnce(race, task.id, task.escrowId)).toBe("done");
  expect(await walletBalance(world.owner, world.assigneeAgent.walletAccountId)).toBe(assigneeBefore + 2500);
  await checkLedger(world.owner);
}

async function cancelRacingShip(race: Race): Promise<void> {
  const { world, assignees, creators } = race;
  const creatorBefore = await walletBalance(world.owner, world.creatorAgent.walletAccountId);
  const assigneeBefore = await walletBalance(world.owner, world.assigneeAgent.walletAccountId);
  const tasks = [];
  for (let i = 0; i < 6; i++) tasks.push(await bountyTask(race, 1000 + i));
  const calls = tasks.flatMap((task) => [
    ...Array.from({ length: 5 }, (_, i) => () => assignees[i % assignees.length]!.post(`/v1/tasks/${task.id}/ship`, shipBody(task.head), { "idempotency-key": `ship-${task.id}-${i}` })),
    ...Array.from({ length: 5 }, (_, i) => () => creators[i % creators.length]!.post(`/v1/tasks/${task.id}/cancel`, { reason: "race" })),
  ]);
  const responses = await Promise.all(calls.sort(() => Math.random() - 0.5).map((call) => call()));
  for (const response of responses) {
    if (response.status !== 200) expect(response.body.code, JSON.stringify(response.body)).toBe("task_transition_not_allowed");
  }
  let paid = 0;
  let held = 0;
  for (const [i, task] of tasks.entries()) {
    held += 1000 + i;
    if ((await expectSettledOnce(race, task.id, task.escrowId)) === "done") paid += 1000 + i;
  }
  expect(await walletBalance(world.owner, world.assigneeAgent.walletAccountId)).toBe(assigneeBefore + paid);
  expect(await walletBalance(world.owner, world.creatorAgent.walletAccountId)).toBe(creatorBefore - held + (held - paid));
  await checkLedger(world.owner);
}

describe.each(storeKinds)("concurrent ship and cancel (%s)", (kind) => {
  let server: RunningServer;
  let race: Race;
  beforeAll(async () => {
    server = await startTestServer(kind, { config: { logLevel: "error" } });
    const tenant = await createTestTenant(server.store);
    race = await setUp([server.url], tenant.token);
  });
  afterAll(async () => server?.close());

  it("20 concurrent ship retries with one Idempotency-Key pay the bounty once", async () => sameKey(race));
  it("20 concurrent ships with different keys: one ships, the rest are 409, the bounty is paid once", async () => differentKeys(race));
  it("cancel racing ship settles each task one way", async () => cancelRacingShip(race));
});

describe.runIf(postgresUrl)("concurrent ship and cancel across two server processes sharing PostgreSQL", () => {
  const config = freshStoreConfig("postgres");
  const children: ChildServer[] = [];
  let race: Race;

  beforeAll(async () => {
    const tenant = await twoServersOnPostgres(config, children);
    race = await setUp(children.map((child) => child.url), tenant.token);
    race.world.owner = client(children[0]!.url, tenant.token);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  it("same-key ship retries over two processes pay once", async () => sameKey(race));
  it("different-key ships over two processes pay once", async () => differentKeys(race));
  it("cancel racing ship over two processes settles each task one way", async () => cancelRacingShip(race));
});
