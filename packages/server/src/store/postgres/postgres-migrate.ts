/** Applies the PostgreSQL side of migrations.ts. */
import type pg from "pg";
import { integerFrom, textFrom } from "../rows.js";
import { pendingMigrations } from "../migrations.js";
import { quoteSchema } from "./postgres-sql.js";

/**
 * Creates the schema and `schema_migrations` if missing, then runs each pending migration in its
 * own transaction. A session advisory lock (keyed by schema) makes two processes that start at
 * once take turns: the second finds nothing left to do. The client is destroyed afterwards
 * rather than returned to the pool, so the lock can never outlive this call.
 */
export async function migratePostgres(pool: pg.Pool, schema: string): Promise<void> {
  const quoted = quoteSchema(schema);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`bursar.migrate.${schema}`]);
    await checkDurableCommits(client);
    // Checked before creating: CREATE SCHEMA IF NOT EXISTS demands the CREATE privilege even
    // when the schema exists, which a least-privilege role on `public` does not have.
    const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, ` +
        "applied_at_ms BIGINT NOT NULL)",
    );
    const applied = (await client.query(`SELECT version, name FROM ${quoted}.schema_migrations ORDER BY version`)).rows.map(
      (row: Record<string, unknown>) => ({ version: integerFrom(row.version, "version"), name: textFrom(row.name, "name") }),
    );
    for (const migration of pendingMigrations(applied)) {
      await client.query("BEGIN");
      try {
        await client.query(`SET LOCAL search_path TO ${quoted}`);
        await client.query(migration.postgres);
        await client.query(`INSERT INTO ${quoted}.schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)`, [
          migration.version,
          migration.name,
          Date.now(),
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken ?? true);
  }
}

/**
 * The port promises that a resolved write is durable. With `synchronous_commit = off` a crash
 * loses recently acknowledged commits, so Bursar refuses to start on such a server.
 */
async function checkDurableCommits(client: pg.PoolClient): Promise<void> {
  const setting = (await client.query("SHOW synchronous_commit")).rows[0] as { synchronous_commit?: string } | undefined;
  if (setting?.synchronous_commit === "off") {
    throw new Error("PostgreSQL has synchronous_commit = off: acknowledged writes could be lost in a crash");
  }
}
