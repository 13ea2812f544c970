/**
 * The production store on PostgreSQL, through a `pg` pool.
 *
 * A write runs in a transaction on one pooled client. When it concerns a tenant, the transaction
 * first locks the tenant row (`FOR UPDATE`): writes of one tenant queue behind each other, so the
 * journal's seq has no gaps and a read-then-increment of `journal_size` never loses an update,
 * while writes of different tenants run in parallel. Writes of one tenant that queue up in this
 * process share one transaction, each in its own savepoint (group commit, see `write`). Commits
 * are durable because `synchronous_commit` is on (checked by `migrate()`).
 */
import pg from "pg";
import type { Store, StoreTx } from "@bursar/core";
import { migratePostgres } from "./postgres-migrate.js";
import { PostgresReader, type Queryable } from "./postgres-reader.js";
import { PostgresSql, quoteSchema } from "./postgres-sql.js";
import { PostgresTransaction, type LockedTenant } from "./postgres-transaction.js";
import { integerFrom, tenantFrom } from "../rows.js";
import { TenantConfigCache } from "../tenant-config-cache.js";
import { JournalEdgeCache } from "../journal-edge-cache.js";
import { ClaimOwner } from "./claim-owner.js";

/**
 * Attempts of one write when PostgreSQL aborts it as a serialization failure (40001) or a
 * deadlock victim (40P01). Both are transient by definition; a write still failing after this
 * many tries points at a hot spot that retrying will not fix.
 */
export const postgresWriteAttemptsMax = 5;

/** How long a caller waits for a free pooled connection before the write fails. */
export const postgresConnectTimeoutMs = 10_000;

export const postgresPoolSizeDefault = 10;

/**
 * Writes of one tenant committed together (group commit). Each costs two more round trips (its
 * savepoint) and saves the BEGIN, lock and COMMIT; a batch is bounded so one tenant's burst holds
 * its lock for a bounded time.
 */
export const postgresCommitBatchOperationsMax = 64;

interface PendingWrite {
  fn: (tx: StoreTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * When an erasure's purge runs again: VACUUM cannot prune row versions that a transaction begun
 * before the erasure may still read, and such transactions are short (a request) or rare.
 */
export const postgresPurgeRetryDelaysMs = [1000, 10_000] as const;

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
  let owner: ClaimOwner;
  try {
    owner = await ClaimOwner.open(options.connectionString);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresStore(pool, schema, owner);
}

class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly read: PostgresReader;
  private readonly sql: PostgresSql;
  /**
   * The queued writes of each tenant in this process. Writes of one tenant serialise on its row
   * lock anyway; queueing them here first means a burst on one tenant waits in memory, not
   * holding pool connections (which would starve other tenants and time out waiting for one).
   * The row lock still orders writes across processes.
   */
  private readonly tenantQueues = new Map<string, PendingWrite[]>();
  private readonly configCache = new TenantConfigCache();
  /** Cleared whenever a write or batch rolls back: it may hold nodes of the rolled-back append. */
  private readonly journalEdges = new JournalEdgeCache();

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    /** Holds the advisory lock that keeps this store's idempotency claims alive (claim-owner.ts). */
    private readonly claimOwner: ClaimOwner,
  ) {
    this.sql = new PostgresSql(schema);
    this.read = new PostgresReader(pool as unknown as Queryable, this.sql);
  }

  migrate(): Promise<void> {
    return migratePostgres(this.pool, this.schema);
  }

  /**
   * Group commit per tenant, as on SQLite: the writes of one tenant queued in this process run in
   * one transaction (up to `postgresCommitBatchOperationsMax`), each inside its own savepoint,
   * and resolve after its one COMMIT: one lock, one commit and one fsync wait for the batch, so
   * a busy tenant's throughput is not bound by one round of BEGIN/lock/COMMIT per write. A write
   * that throws is rolled back to its savepoint and rejected alone; a retryable failure
   * (serialization, deadlock) or a failed COMMIT runs the whole batch again or rejects it whole.
   */
  write<T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (tenantId === null) return this.writeWithRetries(tenantId, fn);
    return new Promise<T>((resolve, reject) => {
      let queue = this.tenantQueues.get(tenantId);
      const start = !queue;
      if (!queue) {
        queue = [];
        this.tenantQueues.set(tenantId, queue);
      }
      queue.push({ fn: fn as PendingWrite["fn"], resolve: resolve as PendingWrite["resolve"], reject });
      if (start) void this.drainTenant(tenantId, queue);
    });
  }

  /** Runs the tenant's queued writes, batch after batch, until its queue is empty. */
  private async drainTenant(tenantId: string, queue: PendingWrite[]): Promise<void> {
    // A microtask first, so writes issued together in this tick share the first batch.
    await Promise.resolve();
    while (queue.length > 0) {
      const batch = queue.splice(0, postgresCommitBatchOperationsMax);
      if (batch.length === 1) {
        const [only] = batch;
        await this.writeWithRetries(tenantId, only!.fn).then(only!.resolve, only!.reject);
        continue;
      }
      await this.writeBatchWithRetries(tenantId, batch);
    }
    this.tenantQueues.delete(tenantId);
  }

  private async writeBatchWithRetries(tenantId: string, batch: PendingWrite[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcomes = await this.writeBatchOnce(tenantId, batch);
        batch.forEach((write, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) write.resolve(outcome.value);
          else write.reject(outcome.error);
        });
        return;
      } catch (error) {
        if (attempt >= postgresWriteAttemptsMax || !isRetryable(error)) {
          for (const write of batch) write.reject(error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /**
   * One transaction for `batch`. Throws (and rolls back everything) on a retryable error of any
   * write, or when BEGIN, the lock, a savepoint or the COMMIT fails.
   */
  private async writeBatchOnce(tenantId: string, batch: PendingWrite[]): Promise<Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>> {
    const client = await this.pool.connect();
    const db = client as unknown as Queryable;
    let broken: Error | undefined;
    try {
      const locked = await beginAndLock(client, this.sql, tenantId, true);
      // Config changed by any write of the batch (even one rolled back): later writes read it uncached.
      const configChanged = new Set<string>();
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
      // Each write has a savepoint of its own name, nested in the one before (none is released:
      // COMMIT ends them all). The first came with BEGIN; each next one goes out with the end of
      // the write before it (`runBeforeCommit`), a round trip saved per write. Rolling a write
      // back to its savepoint drops the next one too, which is then sent again.
      let savepointReady = true;
      for (const [i, write] of batch.entries()) {
        if (!savepointReady) await client.query(`SAVEPOINT ${savepointName(i)}`);
        savepointReady = false;
        const journalSize = locked?.row.journalSize;
        const tx = new PostgresTransaction(db, this.sql, this.configCache, locked, this.journalEdges, configChanged);
        tx.claimOwnerKey = this.claimOwner.key;
        const last = i === batch.length - 1;
        try {
          const value = await write.fn(tx);
          await tx.runBeforeCommit(last ? undefined : `SAVEPOINT ${savepointName(i + 1)}`);
          savepointReady = !last;
          tx.end();
          outcomes.push({ ok: true, value });
        } catch (error) {
          tx.end();
          this.journalEdges.clear();
          if (isRetryable(error)) throw error;
          savepointReady = false;
          await client.query(`ROLLBACK TO SAVEPOINT ${savepointName(i)}`);
          if (locked && journalSize !== undefined) locked.row.journalSize = journalSize;
          outcomes.push({ ok: false, error });
        }
      }
      await client.query("COMMIT");
      return outcomes;
    } catch (error) {
      this.journalEdges.clear();
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
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

  /**
   * VACUUM of the tables that held the erased text: the old row versions (dead tuples) are pruned
   * now instead of whenever autovacuum comes, so no snapshot, page inspection or dump can read
   * them. VACUUM can only prune versions no open transaction may still see: a transaction that
   * began before the erasure (another request of this process, a long report elsewhere) keeps
   * them until it ends, so the purge runs again after `postgresPurgeRetryDelaysMs`. One at a time
   * per process. Copies PostgreSQL keeps outside the heap (WAL segments, archives, backups) are
   * the operator's to expire (docs/operating.md).
   */
  async purgeErased(): Promise<void> {
    await this.vacuumErasureTables();
    for (const delayMs of postgresPurgeRetryDelaysMs) {
      const timer = setTimeout(() => void this.vacuumErasureTables(), delayMs);
      timer.unref();
      this.purgeTimers.add(timer);
      setTimeout(() => this.purgeTimers.delete(timer), delayMs + 1).unref();
    }
  }

  private vacuuming: Promise<void> | null = null;
  private readonly purgeTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  private vacuumErasureTables(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.vacuuming ??= (async () => {
      const client = await this.pool.connect();
      try {
        await client.query(`VACUUM ${quoteSchema(this.schema)}.records, ${quoteSchema(this.schema)}.idempotency_keys`);
      } catch {
        // Best effort: a VACUUM refused (the role does not own the tables) is left to autovacuum.
      } finally {
        client.release();
        this.vacuuming = null;
      }
    })();
    return this.vacuuming;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.purgeTimers) clearTimeout(timer);
    await this.vacuuming;
    await this.pool.end();
    await this.claimOwner.close();
  }

  private async writeOnce<T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    let tx: PostgresTransaction | null = null;
    try {
      let locked: LockedTenant | null = null;
      if (tenantId === null) await client.query("BEGIN");
      else locked = await beginAndLock(client, this.sql, tenantId, false);
      tx = new PostgresTransaction(client as unknown as Queryable, this.sql, this.configCache, locked, this.journalEdges);
      tx.claimOwnerKey = this.claimOwner.key;
      const value = await fn(tx);
      await tx.runBeforeCommit();
      tx.end();
      await client.query("COMMIT");
      return value;
    } catch (error) {
      tx?.end();
      this.journalEdges.clear();
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

/**
 * BEGIN, the tenant's row lock and (for a group commit) the first savepoint in one round trip: a
 * multi-statement simple query, so the tenant id is a quoted literal (pg's escapeLiteral), not a
 * parameter. The lock reads the tenant's columns and its config_version.
 */
async function beginAndLock(client: pg.PoolClient, sql: PostgresSql, tenantId: string, savepoint: boolean): Promise<LockedTenant | null> {
  const text = `BEGIN; ${sql.lockTenantWhereId}${client.escapeLiteral(tenantId)} FOR UPDATE${savepoint ? `; SAVEPOINT ${savepointName(0)}` : ""}`;
  const results = (await client.query(text)) as unknown as pg.QueryResult[];
  const row = results[1]?.rows[0];
  return row ? { tenantId, configVersion: integerFrom(row.config_version, "tenants.config_version"), row: tenantFrom(row) } : null;
}

/** The savepoint of the `index`th write of a group commit. */
function savepointName(index: number): string {
  return `operation_${index}`;
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && retryableErrorCodes.has(code);
}
