/**
 * Runs the store contract on PostgreSQL when BURSAR_TEST_DATABASE_URL is set, in a schema of its
 * own that is dropped afterwards.
 */
import pg from "pg";
import { afterAll, describe } from "vitest";
import { newId } from "@bursar/core";
import { storeContract } from "../contract.js";
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
});
