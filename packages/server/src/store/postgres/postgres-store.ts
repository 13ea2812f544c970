/**
 * The production store on PostgreSQL, through a `pg` pool.
 *
 * A write is one transaction on one pooled client. When it concerns a tenant, it first locks the
 * tenant row (`FOR UPDATE`): writes of one tenant queue behind each other, so the journal's seq
 * has no gaps and a read-then-increment of `journal_size` never loses an update, while writes of
 * different tenants run in parallel. Commits are durable because `synchronous_commit` is on
 * (checked by `migrate()`).
 */
import pg from "pg";
import type { Store, StoreTx } from "@bursar/core";
import { migratePostgres } from "./postgres-migrate.js";
import { PostgresReader, runPrepared, type Queryable } from "./postgres-reader.js";
import { PostgresSql, quoteSchema } from "./postgres-sql.js";
import { PostgresTransaction, type LockedTenant } from "./postgres-transaction.js";
import { integerFrom, tenantFrom } from "../rows.js";
import { TenantConfigCache } from "../tenant-config-cache.js";

/**
 * Attempts of one write when PostgreSQL aborts it as a serialization failure (40001) or a
 * deadlock victim (40P01). Both are transient by definition; a write still failing after this
 * many tries points at a hot spot that retrying will not fix.
 */
export const postgresWriteAttemptsMax = 5;

/** How long a caller waits for a free pooled connection before the write fails. */
export const postgresConnectTimeoutMs = 10_000;

export const postgresPoolSizeDefault = 10;

const retryableErrorCodes = new Set(["40001", "40P01"]);

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema holding Bursar's tables; created by `migrate()` if missing. Default `public`. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
}

/**
 * Opens a PostgreSQL store. Call `migrate()` before use.
 *
 * @example
 * const store = await openPostgresStore({ connectionString: process.env.DATABASE_URL!, schema: "bursar" });
 * await store.migrate();
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema ?? "public";
  quoteSchema(schema); // validates the name before a pool exists to leak
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? postgresPoolSizeDefault,
    connectionTimeoutMillis: postgresConnectTimeoutMs,
    application_name: "bursar",
  });
  // An idle client whose connection dies (server restart, network) is dropped by the pool, which
  // then emits 'error'; without a listener Node would crash the process. The next query reconnects.
  pool.on("error", () => {});
  return new PostgresStore(pool, schema);
}

class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly read: PostgresReader;
  private readonly sql: PostgresSql;
  /**
   * The last queued write of each tenant in this process. Writes of one tenant serialise on its
   * row lock anyway; queueing them here first means a burst on one tenant waits in memory, not
   * holding pool connections (which would starve other tenants and time out waiting for one).
   * The row lock still orders writes across processes.
   */
  private readonly tenantQueues = new Map<string, Promise<unknown>>();
  private readonly configCache = new TenantConfigCache();

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    this.sql = new PostgresSql(schema);
    this.read = new PostgresReader(pool as unknown as Queryable, this.sql);
  }

  migrate(): Promise<void> {
    return migratePostgres(this.pool, this.schema);
  }

  async write<T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (tenantId === null) return this.writeWithRetries(tenantId, fn);
    const previous = this.tenantQueues.get(tenantId) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.writeWithRetries(tenantId, fn));
    this.tenantQueues.set(tenantId, current);
    try {
      return await current;
    } finally {
      if (this.tenantQueues.get(tenantId) === current) this.tenantQueues.delete(tenantId);
    }
  }

  private async writeWithRetries<T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeOnce(tenantId, fn);
      } catch (error) {
        if (attempt >= postgresWriteAttemptsMax || !isRetryable(error)) throw error;
        // A short random pause so the transactions that collided do not collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async writeOnce<T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    let tx: PostgresTransaction | null = null;
    try {
      await client.query("BEGIN");
      let locked: LockedTenant | null = null;
      if (tenantId !== null) {
        const row = (await runPrepared(client as unknown as Queryable, this.sql.lockTenant, [tenantId])).rows[0];
        if (row) locked = { tenantId, configVersion: integerFrom(row.config_version, "tenants.config_version"), row: tenantFrom(row) };
      }
      tx = new PostgresTransaction(client as unknown as Queryable, this.sql, this.configCache, locked);
      const value = await fn(tx);
      await tx.runBeforeCommit();
      tx.end();
      await client.query("COMMIT");
      return value;
    } catch (error) {
      tx?.end();
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        // The connection is unusable: destroy it instead of returning it to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && retryableErrorCodes.has(code);
}
