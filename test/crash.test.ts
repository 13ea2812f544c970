/**
 * Crash safety (SPEC 5: "a write that got a 2xx survives kill -9"). A real `bursar serve` child
 * process takes concurrent transfers and holds; it is killed with SIGKILL at a random moment,
 * restarted on the same SQLite file, and the books are checked from the outside:
 * every acknowledged transfer is there exactly once, debits equal credits, no floor is crossed,
 * the journal verifies from its first entry, and the last checkpoint seen before the crash is
 * consistent with the new one. Requests that were in flight when the process died are retried
 * with the same transfer id: they apply at most once. Repeated several times per run.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { checkConsistency, checkJournal, checkLedger, fetchVerifiedCheckpoint, type Checkpoint } from "./books.js";
import { client, createTestTenant, killHard, spawnServer, tempDir, type ChildServer } from "./support.js";

const rounds = 4;
const workers = 12;
const fundingMinor = 40_000;

/**
 * One transfer request. Half carry their own transfer id (ledger-level idempotency); the other
 * half only an Idempotency-Key (HTTP-level idempotency, recorded in the same transaction as the
 * transfer) with the key repeated as `reference`, so the books can be searched for it.
 */
interface Sent {
  key: string;
  byIdempotencyKey: boolean;
  body: Record<string, unknown>;
  acknowledged: boolean;
}

function send(api: ReturnType<typeof client>, record: Sent) {
  return api.post("/v1/transfers", record.body, record.byIdempotencyKey ? { "idempotency-key": record.key } : {});
}

describe("crash safety", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    if (process.env.BURSAR_TEST_VERBOSE) for (const child of children) console.info(child.stderr().slice(-3000));
    for (const child of children) await killHard(child.process);
  });

  it(`keeps every acknowledged write through ${rounds} SIGKILLs`, async () => {
    const dataDir = tempDir("crash");
    const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();

    let server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
    children.push(server);
    let api = client(server.url, tenant.token);

    const source = (await api.post("/v1/accounts", { currency: "GBP", name: "source" })).body;
    expect((await api.post(`/v1/accounts/${source.id}/deposits`, { amount: fundingMinor })).status).toBe(201);
    const sinks: string[] = [];
    for (let i = 0; i < 3; i++) sinks.push((await api.post("/v1/accounts", { currency: "GBP", name: `sink ${i}` })).body.id);

    const sent: Sent[] = [];
    let lastCheckpoint: Checkpoint = await fetchVerifiedCheckpoint(api);

    for (let round = 0; round < rounds; round++) {
      let stop = false;
      let markLoaded!: () => void;
      const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
      const load = async (worker: number) => {
        for (let n = 0; !stop; n++) {
          const pending = n % 4 === 3;
          const key = `tr_r${round}-w${worker}-n${n}`;
          const byIdempotencyKey = worker % 2 === 1;
          const body = {
            ...(byIdempotencyKey ? { reference: key } : { id: key }),
            debit_account_id: source.id,
            credit_account_id: sinks[(worker + n) % sinks.length],
            amount: 1 + ((worker * 7 + n * 13) % 40),
            currency: "GBP",
            ...(pending ? { pending: true, timeout_seconds: 3600 } : {}),
          };
          const record: Sent = { key, byIdempotencyKey, body, acknowledged: false };
          sent.push(record);
          try {
            const response = await send(api, record);
            if (response.status === 201) {
              record.acknowledged = true;
              markLoaded();
            }
            else if (response.body?.code === "insufficient_funds") return;
            else throw new Error(`unexpected ${response.status} ${JSON.stringify(response.body)}`);
            if (pending && record.acknowledged && n % 8 === 7) {
              // Settle half of the holds; the others stay pending across the crash.
              await api.post(`/v1/transfers/${response.body.id}/post`, { amount: Math.max(1, body.amount - 1) });
            }
          } catch (error) {
            if (error instanceof Error && error.message.startsWith("unexpected")) throw error;
            return; // the server is gone
          }
        }
      };
      const watcher = async () => {
        while (!stop) {
          try {
            lastCheckpoint = await fetchVerifiedCheckpoint(api);
          } catch {
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      };
      const running = [...Array.from({ length: workers }, (_, w) => load(w)), watcher()];
      // Kill at a random moment once the load is flowing.
      await loaded;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(Math.random() * 700)));
      await killHard(server.process);
      stop = true;
      await Promise.all(running);

      server = await spawnServer({ BURSAR_DATA_DIR: dataDir });
      children.push(server);
      api = client(server.url, tenant.token);

      if (process.env.BURSAR_TEST_VERBOSE) console.info(`round ${round}: ${sent.filter((r) => r.acknowledged).length} acknowledged, ${sent.filter((r) => !r.acknowledged).length} in flight or refused`);
      // A request in flight at the crash, retried with the same transfer id or Idempotency-Key,
      // applies at most once: the first result comes back, or it runs now for the first time.
      for (const record of sent.filter((r) => !r.acknowledged)) {
        const retried = await send(api, record);
        expect([200, 201, 422], `retry of ${record.key}: ${JSON.stringify(retried.body)}`).toContain(retried.status);
        if (retried.status === 422) expect(retried.body.code).toBe("insufficient_funds");
        else record.acknowledged = true;
      }

      // Every acknowledged transfer is there exactly once, with the fields that were sent.
      const { transfers } = await checkLedger(api);
      for (const record of sent) {
        const found = transfers.filter((t) => (record.byIdempotencyKey ? t.reference === record.key : t.id === record.key));
        expect(found.length, `${record.key} applied ${record.acknowledged ? "once" : "never"}`).toBe(record.acknowledged ? 1 : 0);
        if (found[0]) expect(found[0].amount).toBe(record.body.amount);
      }
      const acknowledgedIds = new Set(
        transfers.filter((t) => sent.some((r) => r.acknowledged && (r.byIdempotencyKey ? t.reference === r.key : t.id === r.key))).map((t) => t.id),
      );

      const checkpoint = await fetchVerifiedCheckpoint(api);
      const events = await checkJournal(api, checkpoint);
      const journaled = new Set(events.filter((e) => e.type === "transfer.created").map((e) => e.data.transfer.id));
      for (const id of acknowledgedIds) expect(journaled.has(id), `${id} journaled`).toBe(true);
      await checkConsistency(api, lastCheckpoint, checkpoint);
      lastCheckpoint = checkpoint;
    }

    // The load was real: many writes landed in every run.
    expect(sent.filter((r) => r.acknowledged).length).toBeGreaterThan(rounds * 10);
    await killHard(server.process);
  }, 240_000);
});
