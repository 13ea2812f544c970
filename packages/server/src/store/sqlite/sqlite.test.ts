import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitBatchOperationsMax } from "@bursar/core";
import { storeContract } from "../contract.js";
import { accountRow, eventRow, idempotencyRecord, seedTenant } from "../contract-fixtures.js";
import { writeQueueOperationsMax } from "./group-commit.js";
import { openSqliteStore, type SqliteStore } from "./sqlite-store.js";

const directory = mkdtempSync(join(tmpdir(), "bursar-store-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

storeContract("sqlite", () => openSqliteStore({ path: join(directory, "contract", "bursar.sqlite") }));

describe("SQLite store", () => {
  let store: SqliteStore;
  const path = join(directory, "private", "nested", "bursar.sqlite");

  beforeAll(async () => {
    store = await openSqliteStore({ path });
    await store.migrate();
  });

  afterAll(async () => {
    await store.close();
  });

  it("releases idempotency claims left in progress by a process that died, when it starts again", async () => {
    const claimPath = join(directory, "claims", "bursar.sqlite");
    let owner = await openSqliteStore({ path: claimPath });
    await owner.migrate();
    const { tenant } = await seedTenant(owner);
    const inProgress = idempotencyRecord(tenant.id);
    const completed = { ...idempotencyRecord(tenant.id), key: "completed-key" };
    await owner.write(tenant.id, async (tx) => {
      await tx.claimIdempotencyKey(inProgress, 0);
      await tx.claimIdempotencyKey(completed, 0);
      await tx.completeIdempotencyKey(completed, 201, "{}");
    });
    await owner.close();
    owner = await openSqliteStore({ path: claimPath });
    await owner.migrate();
    expect(await owner.read.getIdempotencyRecord(inProgress)).toBeNull();
    expect((await owner.read.getIdempotencyRecord(completed))?.state).toBe("completed");
    await owner.close();
  });

  it("creates its directory 0700 and its file 0600", () => {
    expect(statSync(join(directory, "private", "nested")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("commits many concurrent writes in one durable commit", async () => {
    const { tenant } = await seedTenant(store);
    const before = { ...store.stats };
    const writes = Array.from({ length: 200 }, (_, index) =>
      store.write(tenant.id, (tx) => tx.insertEvent(eventRow(tenant.id, index + 1))),
    );
    await Promise.all(writes);
    const commits = store.stats.commits - before.commits;
    const operations = store.stats.operations - before.operations;
    expect(operations).toBe(200);
    expect(commits).toBe(1);
    expect((await store.read.listEvents(tenant.id, { limit: 300, ascending: true })).length).toBe(200);
  });

  it(`splits a queue longer than ${commitBatchOperationsMax} operations across commits`, async () => {
    const { tenant } = await seedTenant(store);
    const before = store.stats.commits;
    const count = 2 * commitBatchOperationsMax + 10;
    await Promise.all(
      Array.from({ length: count }, (_, index) => store.write(tenant.id, (tx) => tx.insertEvent(eventRow(tenant.id, index + 1)))),
    );
    expect(store.stats.commits - before).toBe(3);
    expect(store.stats.largestBatchOperations).toBe(commitBatchOperationsMax);
  });

  it("rolls back only the operation that throws; the rest of its batch commits", async () => {
    const { tenant } = await seedTenant(store);
    const [kept1, lost, kept2] = [accountRow(tenant.id), accountRow(tenant.id), accountRow(tenant.id)];
    const before = { ...store.stats };
    const results = await Promise.allSettled([
      store.write(tenant.id, (tx) => tx.insertAccount(kept1)),
      store.write(tenant.id, async (tx) => {
        await tx.insertAccount(lost);
        throw new Error("boom");
      }),
      // A database error (duplicate key) is contained the same way.
      store.write(tenant.id, async (tx) => {
        await tx.insertAccount(kept2);
        await tx.insertAccount(kept1);
      }),
      store.write(tenant.id, async (tx) => (await tx.getAccount(tenant.id, kept1.id))?.id),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(results[3]).toEqual({ status: "fulfilled", value: kept1.id });
    expect(store.stats.commits - before.commits).toBe(1);
    expect(store.stats.failedOperations - before.failedOperations).toBe(2);
    expect(await store.read.getAccount(tenant.id, kept1.id)).toEqual(kept1);
    expect(await store.read.getAccount(tenant.id, lost.id)).toBeNull();
    expect(await store.read.getAccount(tenant.id, kept2.id)).toBeNull();
  });

  it("refuses writes beyond the queue bound instead of growing without limit", async () => {
    const { tenant } = await seedTenant(store);
    const writes = Array.from({ length: writeQueueOperationsMax + 1 }, () => store.write(tenant.id, async () => 1));
    const results = await Promise.allSettled(writes);
    expect(results.filter((result) => result.status === "rejected")).toHaveLength(1);
    expect(results.at(-1)?.status).toBe("rejected");
  });

  it("reports commit batching for 200 concurrent writes (bench figure)", async () => {
    const { tenant } = await seedTenant(store);
    const before = { ...store.stats };
    const startedMs = performance.now();
    await Promise.all(
      Array.from({ length: 200 }, (_, index) => store.write(tenant.id, async (tx) => {
        await tx.insertEvent(eventRow(tenant.id, index + 1));
        await tx.setJournalSize(tenant.id, index + 1);
      })),
    );
    const elapsedMs = performance.now() - startedMs;
    const commits = store.stats.commits - before.commits;
    console.log(`sqlite group commit: 200 writes, ${commits} commit(s), ${200 / commits} ops/commit, ${elapsedMs.toFixed(1)} ms`);
    expect(commits).toBeLessThanOrEqual(2);
  });
});
