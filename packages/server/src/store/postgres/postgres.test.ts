/**
 * Runs the store contract on PostgreSQL when BURSAR_TEST_DATABASE_URL is set, in a schema of its
 * own that is dropped afterwards.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@bursar/core";
import { storeContract } from "../contract.js";
import { baseMs, idempotencyRecord, seedTenant, transferRow } from "../contract-fixtures.js";
import { claimOwnerLockClass } from "./claim-owner.js";
import { openPostgresStore } from "./postgres-store.js";
import { inlineParameters } from "./postgres-transaction.js";

const connectionString = process.env.BURSAR_TEST_DATABASE_URL;

describe.runIf(connectionString)("PostgreSQL store", () => {
  const schema = `bursar_test_${newId("req").slice(4).toLowerCase()}`;

  afterAll(async () => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  storeContract("postgres", () => openPostgresStore({ connectionString: connectionString!, schema }));

  describe("idempotency claims die with their owner (claim-owner.ts)", () => {
    const open = () => openPostgresStore({ connectionString: connectionString!, schema });
    // Far in the past: only the owner check, never the timeout, can make these claims stale.
    const stale = baseMs - 3_600_000;

    it("a live owner's claim blocks another process; once its session dies the claim is taken over at once", async () => {
      const first = await open();
      const second = await open();
      try {
        await first.migrate();
        const { tenant } = await seedTenant(first);
        const claim = idempotencyRecord(tenant.id);
        expect(await first.write(tenant.id, (tx) => tx.claimIdempotencyKey(claim, stale))).toBeNull();
        const retry = { ...claim, createdAtMs: baseMs + 1000 };
        // The owner lives: the retry in another process sees the claim in progress.
        expect(await second.write(tenant.id, (tx) => tx.claimIdempotencyKey(retry, stale))).toMatchObject({ state: "in_progress" });

        // Kill the owner's session the way a dead process does (its backend goes away).
        const admin = new pg.Client({ connectionString });
        await admin.connect();
        try {
          const killed = await admin.query(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = (" +
              `SELECT owner_key FROM "${schema}".idempotency_keys WHERE idempotency_key = $2)::oid AND granted`,
            [claimOwnerLockClass, claim.key],
          );
          expect(killed.rows).toEqual([{ done: true }]);
        } finally {
          await admin.end();
        }
        await expect.poll(() => second.write(tenant.id, (tx) => tx.claimIdempotencyKey(retry, stale)), { timeout: 5000 }).toBeNull();
        // The new claim is the second store's, alive: a third try is in progress again.
        expect(await second.write(tenant.id, (tx) => tx.claimIdempotencyKey({ ...retry, createdAtMs: baseMs + 2000 }, stale))).toMatchObject({ state: "in_progress" });
      } finally {
        await first.close();
        await second.close();
      }
    });
  });
  describe("round trips saved (postgres-store.ts, postgres-transaction.ts)", () => {
    const open = () => openPostgresStore({ connectionString: connectionString!, schema });

    it("a write reads back the rows it locked, updated and inserted as the database holds them, and copies cannot alter them", async () => {
      const store = await open();
      try {
        await store.migrate();
        const { tenant, funding, wallet } = await seedTenant(store);
        const transfer = transferRow(tenant.id, funding.id, wallet.id, { status: "pending", postedAmountMinor: 0 });
        await store.write(tenant.id, async (tx) => {
          const [first, second] = await tx.getAccountsForUpdate(tenant.id, [wallet.id, funding.id]);
          const changed = [first!, second!].map((account) => ({ ...account, creditsPendingMinor: account.creditsPendingMinor + 7, name: "not stored" }));
          await tx.updateAccountBalances(tenant.id, changed);
          const again = await tx.getAccountsForUpdate(tenant.id, [funding.id, wallet.id]);
          expect(again.map((account) => account.id)).toEqual([first!.id, second!.id]);
          expect(again.map((account) => account.creditsPendingMinor)).toEqual([first!.creditsPendingMinor + 7, second!.creditsPendingMinor + 7]);
          expect(again.map((account) => account.name)).toEqual([first!.name, second!.name]);
          again[0]!.debitsPostedMinor = 999_999;
          expect((await tx.getAccount(tenant.id, first!.id))!.debitsPostedMinor).toBe(first!.debitsPostedMinor);
          await tx.insertTransfer(transfer);
          expect(await tx.getTransfer(tenant.id, transfer.id)).toEqual(transfer);
          await tx.updateTransfer({ ...transfer, status: "posted", postedAmountMinor: transfer.amountMinor, updatedAtMs: transfer.updatedAtMs + 1 });
          expect(await tx.getTransfer(tenant.id, transfer.id)).toMatchObject({ status: "posted", postedAmountMinor: transfer.amountMinor });
        });
        expect((await store.read.getAccount(tenant.id, wallet.id))!.creditsPendingMinor).toBe(wallet.creditsPendingMinor + 7);
        expect((await store.read.getAccount(tenant.id, wallet.id))!.name).toBe(wallet.name);
        expect(await store.read.getTransfer(tenant.id, transfer.id)).toMatchObject({ status: "posted" });
      } finally {
        await store.close();
      }
    });

    it("in a group commit a write that throws is rolled back alone, and the others commit, batch after batch", async () => {
      const store = await open();
      try {
        await store.migrate();
        const { tenant, funding, wallet } = await seedTenant(store);
        for (let round = 0; round < 3; round++) {
          const transfers = [0, 1, 2, 3].map(() => transferRow(tenant.id, funding.id, wallet.id));
          // Issued in one tick: one batch. The second write inserts, then throws.
          const outcomes = await Promise.allSettled(
            transfers.map((transfer, i) =>
              store.write(tenant.id, async (tx) => {
                await tx.insertTransfer(transfer);
                if (i === 1 && round < 2) throw new Error(`refused ${round}`);
                return transfer.id;
              }),
            ),
          );
          expect(outcomes.map((outcome) => outcome.status)).toEqual(round < 2 ? ["fulfilled", "rejected", "fulfilled", "fulfilled"] : ["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
          if (round < 2) expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: `refused ${round}` });
          const stored = await Promise.all(transfers.map((transfer) => store.read.getTransfer(tenant.id, transfer.id)));
          expect(stored.map((transfer) => transfer !== null)).toEqual(round < 2 ? [true, false, true, true] : [true, true, true, true]);
        }
      } finally {
        await store.close();
      }
    });
  });
  describe("deferred writes (postgres-transaction.ts)", () => {
    it("an inlined literal is what the same value as a parameter is, whatever it holds", async () => {
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        const text =
          "SELECT $1::text AS t, $2::bigint AS n, $3::text[] AS a, $4::bytea AS b, $5::bytea[] AS bs, $6::bigint[] AS ns, $7::boolean AS f, $8::int AS z, coalesce($9, 'none') AS c, $10::jsonb AS j";
        const hostile = ["'); DROP TABLE x; --", "back\\slash \\' quote", 'a "quoted" {brace}, comma', "\u00e9t\u00e9 \ud83d\ude00", "", "NULL", "$1", "E'\\x00'"];
        for (const value of hostile) {
          const values = [value, -(2 ** 53 - 1), [value, null, "", "x,y"], Buffer.from(value), [Buffer.from([0, 1, 255]), null], [], true, 0, null, JSON.stringify({ value })];
          const asParameters = (await client.query(text, values)).rows;
          const inlined = (await client.query(inlineParameters(text, values))).rows;
          expect(inlined).toEqual(asParameters);
          expect(asParameters[0].t).toBe(value);
        }
        // A literal is one value: a placeholder past the values is a bug, not an empty string.
        expect(() => inlineParameters("SELECT $2", ["only one"])).toThrow("placeholder $2 without a value");
      } finally {
        await client.end();
      }
    });

    it("a deferred write that fails fails its own write, also when it goes with others in one batch", async () => {
      const store = await openPostgresStore({ connectionString: connectionString!, schema });
      try {
        await store.migrate();
        const { tenant, funding, wallet } = await seedTenant(store);
        const taken = transferRow(tenant.id, funding.id, wallet.id);
        await store.write(tenant.id, (tx) => tx.insertTransfer(taken));
        const fresh = [0, 1, 2].map(() => transferRow(tenant.id, funding.id, wallet.id));
        const outcomes = await Promise.allSettled(
          fresh.map((transfer, i) =>
            store.write(tenant.id, async (tx) => {
              await tx.insertTransfer(transfer);
              // The second write also inserts a transfer whose id is taken: its batch of two fails at commit.
              if (i === 1) await tx.insertTransfer(taken);
              return transfer.id;
            }),
          ),
        );
        expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        const stored = await Promise.all(fresh.map((transfer) => store.read.getTransfer(tenant.id, transfer.id)));
        expect(stored.map((transfer) => transfer !== null)).toEqual([true, false, true]);
      } finally {
        await store.close();
      }
    });
  });
});
