/**
 * Ship survives kill -9. A `bursar serve` child has 60 tasks with bounties ready to ship; a burst
 * ships them (each task's ship sent twice at once with its Idempotency-Key, and a third time with
 * another key) and the child is SIGKILLed mid-burst. After a restart on the same SQLite file:
 * every acknowledged ship is there; retrying every ship with its key ships the rest; each task
 * shipped once (one `task.shipped`, one escrow release) and paid once; the wallets agree with the
 * tasks; the books balance and the journal verifies.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, expectStatus } from "./payments-support.js";
import { client, createTestTenant, killHard, listAll, spawnServer, tempDir, type ChildServer } from "./support.js";
import { newHead, readyToShip, taskWorld, walletBalance } from "./tasks-support.js";

const tasks = 60;

describe("task ship crash safety", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
  });

  it("ships and pays each task at most once across a SIGKILL, and the books balance", async () => {
    const dataDir = tempDir("tasks-crash");
    const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();

    let server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    const world = await taskWorld(server.url, tenant.token, 10_000_000);
    const ready: Array<{ id: string; head: string; amount: number }> = [];
    for (let i = 0; i < tasks; i++) {
      const amount = 1_000 + i;
      const task = expectStatus(await world.creator.post("/v1/tasks", { title: `crash ${i}`, assignee_agent_id: world.assigneeAgent.agentId, bounty: { amount, currency: "GBP" } }), 201);
      const head = newHead();
      await readyToShip(world, task, head);
      ready.push({ id: task.id, head, amount });
    }
    const creatorBefore = await walletBalance(world.owner, world.creatorAgent.walletAccountId);
    const assigneeBefore = await walletBalance(world.owner, world.assigneeAgent.walletAccountId);
    const ship = (api: typeof world.assignee, i: number, key = `ship-${ready[i]!.id}`) =>
      api.post(`/v1/tasks/${ready[i]!.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: ready[i]!.head }, { "idempotency-key": key });

    let assignee = world.assignee;
    const shipped = new Set<number>();
    let next = 0;
    const victim = server;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < tasks) {
          const i = next++;
          try {
            const answers = await Promise.all([ship(assignee, i), ship(assignee, i), ship(assignee, i, `other-${ready[i]!.id}`)]);
            if (answers.some((answer) => answer.status === 200)) shipped.add(i);
          } catch {
            return; // the server died
          }
          if (shipped.size === 20) void killHard(victim.process);
        }
      }),
    );
    await killHard(victim.process);
    expect(shipped.size).toBeGreaterThanOrEqual(20);
    // The kill landed mid-burst: some ships were never acknowledged.
    expect(shipped.size).toBeLessThan(tasks);

    server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    const owner = client(server.url, tenant.token);
    assignee = await agentClient(server.url, world.assigneeAgent);
    for (const i of shipped) expect(expectStatus(await owner.get(`/v1/tasks/${ready[i]!.id}`), 200).status).toBe("done");

    // Retry every ship with its key: acknowledged ones answer themselves; the rest ship now, once.
    for (let i = 0; i < tasks; i++) {
      const retried = await ship(assignee, i);
      expect(retried.status, JSON.stringify(retried.body)).toBe(200);
      expect(retried.body.status).toBe("done");
    }

    const taskEvents = await listAll(owner, "/v1/events?type=task.shipped");
    const releases = await listAll(owner, "/v1/events?type=escrow_intent.released");
    let paid = 0;
    for (const { id, amount } of ready) {
      const task = expectStatus(await owner.get(`/v1/tasks/${id}`), 200);
      expect(task).toMatchObject({ status: "done", bounty: { status: "released", paid_amount: amount } });
      expect(taskEvents.filter((event) => event.data.task.id === id), id).toHaveLength(1);
      expect(releases.filter((event) => event.data.escrow_intent.id === task.bounty.escrow_intent_id), id).toHaveLength(1);
      paid += amount;
    }
    expect(await walletBalance(owner, world.assigneeAgent.walletAccountId)).toBe(assigneeBefore + paid);
    expect(await walletBalance(owner, world.creatorAgent.walletAccountId)).toBe(creatorBefore);
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }, 180_000);
});
