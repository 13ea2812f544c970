import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { appendEvent, commitBatchOperationsMax, encodeBase64, rootHash } from "@bursar/core";
import { storeContract } from "../contract.js";
import { accountRow, baseMs, eventRow, idempotencyRecord, seedTenant } from "../contract-fixtures.js";
import { migrations } from "../migrations.js";
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

  it("prepares no statement with a bare bound LIMIT (SQLite would prepare it again at every bind)", async () => {
    const prepare = Database.prototype.prepare;
    const texts: string[] = [];
    Database.prototype.prepare = function (this: Database.Database, source: string) {
      texts.push(source);
      return prepare.call(this, source);
    } as typeof prepare;
    try {
      const limitsPath = join(directory, "limits", "bursar.sqlite");
      const limits = await openSqliteStore({ path: limitsPath });
      await limits.migrate();
      const { tenant } = await seedTenant(limits);
      await limits.write(tenant.id, (tx) => tx.insertEvent(eventRow(tenant.id, 1)));
      expect(await limits.read.listEvents(tenant.id, { limit: 10, ascending: true, types: ["a.*"] })).toEqual([]);
      expect(await limits.read.listRecords(tenant.id, { kind: "payee", limit: 10, status: "active" })).toEqual([]);
      expect(await limits.read.listChildAgents(tenant.id, "agt_none", 10)).toEqual([]);
      await limits.close();
    } finally {
      Database.prototype.prepare = prepare;
    }
    expect(texts.filter((text) => /LIMIT\s+CAST\(\?/.test(text)).length).toBeGreaterThan(10);
    expect(texts.filter((text) => /LIMIT\s+\?/.test(text))).toEqual([]);
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

  it("rolls back only the operation that throws; the rest of its batch runs again, in savepoints, and commits", async () => {
    const { tenant } = await seedTenant(store);
    const [kept1, lost, kept2] = [accountRow(tenant.id), accountRow(tenant.id), accountRow(tenant.id)];
    const before = { ...store.stats };
    let firstRuns = 0;
    const results = await Promise.allSettled([
      store.write(tenant.id, (tx) => {
        firstRuns += 1;
        return tx.insertAccount(kept1);
      }),
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
    // The batch ran first without savepoints: the throw rolled back the first write too, which
    // then ran again. One commit in all.
    expect(firstRuns).toBe(2);
    expect(store.stats.commits - before.commits).toBe(1);
    expect(store.stats.failedOperations - before.failedOperations).toBe(2);
    expect(await store.read.getAccount(tenant.id, kept1.id)).toEqual(kept1);
    expect(await store.read.getAccount(tenant.id, lost.id)).toBeNull();
    expect(await store.read.getAccount(tenant.id, kept2.id)).toBeNull();
  });

  it("rolls back a lone operation that throws (a batch of one runs without a savepoint); the next write commits", async () => {
    const { tenant } = await seedTenant(store);
    const [lost, kept] = [accountRow(tenant.id), accountRow(tenant.id)];
    const before = { ...store.stats };
    await expect(store.write(tenant.id, async (tx) => {
      await tx.insertAccount(lost);
      throw new Error("boom");
    })).rejects.toThrow("boom");
    await store.write(tenant.id, (tx) => tx.insertAccount(kept));
    expect(store.stats.failedOperations - before.failedOperations).toBe(1);
    expect(store.stats.commits - before.commits).toBe(1);
    expect(await store.read.getAccount(tenant.id, lost.id)).toBeNull();
    expect(await store.read.getAccount(tenant.id, kept.id)).toEqual(kept);
  });

  it("reads back, inside one operation, the balances it wrote; the rows it hands out are copies", async () => {
    const { tenant } = await seedTenant(store);
    const account = accountRow(tenant.id);
    await store.write(tenant.id, (tx) => tx.insertAccount(account));
    const seen = await store.write(tenant.id, async (tx) => {
      const loaded = (await tx.getAccount(tenant.id, account.id))!;
      loaded.creditsPostedMinor += 500;
      const unsaved = (await tx.getAccount(tenant.id, account.id))!.creditsPostedMinor;
      await tx.updateAccountBalances(tenant.id, [loaded]);
      const [updated] = await tx.getAccountsForUpdate(tenant.id, [account.id]);
      return { unsaved, updated: updated!.creditsPostedMinor };
    });
    expect(seen).toEqual({ unsaved: account.creditsPostedMinor, updated: account.creditsPostedMinor + 500 });
    expect((await store.read.getAccount(tenant.id, account.id))!.creditsPostedMinor).toBe(account.creditsPostedMinor + 500);
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

describe("SQLite migration 24 (journal rows inline)", () => {
  it("moves an existing journal into the rowid table: same events, same root, then appends on", async () => {
    const upgradePath = join(directory, "upgrade", "bursar.sqlite");
    mkdirSync(join(directory, "upgrade"));
    // The schema as the migrations before 24 left it.
    const db = new Database(upgradePath);
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL) STRICT");
    for (const migration of migrations.filter((m) => m.version < 24)) {
      db.exec(migration.sqlite);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(migration.version, migration.name, 0);
    }
    db.close();
    let store = await openSqliteStore({ path: upgradePath });
    const { tenant } = await seedTenant(store);
    const actor = { type: "system", id: "test" } as const;
    const bodyBytes = 3_000;
    for (let i = 0; i < 40; i++) {
      await store.write(tenant.id, (tx) => appendEvent({ tx, tenantId: tenant.id, nowMs: baseMs + i, actor }, "account.created", { account: { id: `acc_${i}`, note: "x".repeat(i * (bodyBytes / 40)) } }));
    }
    const before = await store.read.listEvents(tenant.id, { limit: 100, ascending: true });
    const root = async () => encodeBase64(await rootHash((keys) => store.read.getTreeNodes(tenant.id, keys), (await store.read.getTenant(tenant.id))!.journalSize));
    const rootBefore = await root();
    await store.close();

    store = await openSqliteStore({ path: upgradePath });
    await store.migrate();
    const check = new Database(upgradePath, { readonly: true });
    const schema = check.prepare("SELECT sql FROM sqlite_schema WHERE name = 'events'").get() as { sql: string };
    const indexes = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name").all();
    // The partial index still serves an agent's events (listEvents with agentId).
    const plan = check.prepare("EXPLAIN QUERY PLAN SELECT tenant_id, seq, body FROM events WHERE tenant_id = ? AND agent_id = ? ORDER BY seq ASC LIMIT ?").all("t", "a", 5);
    check.close();
    expect(JSON.stringify(plan)).toMatch(/events_by_agent/);
    expect(schema.sql).not.toMatch(/WITHOUT ROWID/);
    expect(indexes).toEqual([{ name: "events_by_agent" }, { name: "events_by_type" }]);
    expect(await store.read.listEvents(tenant.id, { limit: 100, ascending: true })).toEqual(before);
    expect(await store.read.getEventSeqById(tenant.id, before[7]!.id)).toBe(8);
    expect(await root()).toBe(rootBefore);
    await store.write(tenant.id, (tx) => appendEvent({ tx, tenantId: tenant.id, nowMs: baseMs + 99, actor }, "account.created", { account: { id: "acc_next" } }));
    expect((await store.read.listEvents(tenant.id, { limit: 100, ascending: false }))[0]!.seq).toBe(41);
    await store.close();
  });
});
