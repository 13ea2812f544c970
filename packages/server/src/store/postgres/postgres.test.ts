/**
 * Runs the store contract on PostgreSQL when BURSAR_TEST_DATABASE_URL is set, in a schema of its
 * own that is dropped afterwards.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@bursar/core";
import { storeContract } from "../contract.js";
import { baseMs, idempotencyRecord, seedTenant } from "../contract-fixtures.js";
import { claimOwnerLockClass } from "./claim-owner.js";
import { openPostgresStore } from "./postgres-store.js";

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
});
