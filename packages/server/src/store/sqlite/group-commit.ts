/**
 * Group commit for the SQLite writer. With `synchronous=FULL` every COMMIT waits for an fsync,
 * and the fsync, not the SQL, bounds write throughput. So `write()` only enqueues; one flush,
 * scheduled with setImmediate (after the event loop has taken in every request that is ready),
 * runs up to `commitBatchOperationsMax` queued operations inside one `BEGIN IMMEDIATE … COMMIT`
 * and pays for one fsync.
 *
 * An operation that throws is rolled back alone and only its promise rejects; the others of its
 * batch commit (see `commitBatch`). Every promise settles only after COMMIT returned: a resolved
 * write is on disk. Operations run strictly one after another; their functions only call the transaction's
 * methods, which are synchronous underneath, so awaiting one costs microtasks, not I/O.
 * (A function that awaits a store.write of its own would wait for itself: that never resolves.)
 */
import type Database from "better-sqlite3";
import { type StoreTx, commitBatchOperationsMax } from "@bursar/core";

/**
 * Operations waiting for a commit. A full queue means the disk cannot keep up; refusing more
 * bounds memory and latency instead of letting both grow without limit. 16 batches ≈ 16 fsyncs
 * of waiting, tens of milliseconds on an SSD.
 */
export const writeQueueOperationsMax = 16 * commitBatchOperationsMax;

/** Counters for tests and benchmarks. */
export interface GroupCommitStats {
  /** Successful COMMITs (fsyncs paid). */
  commits: number;
  /** Operations that committed. */
  operations: number;
  /** Operations whose promise rejected (their own error, or a failed commit). */
  failedOperations: number;
  /** The most operations one commit carried. */
  largestBatchOperations: number;
}

/** A transaction for one operation, and how to close it once the operation settled. */
export interface OperationTransaction {
  tx: StoreTx;
  /** Runs the transaction's `beforeCommit` hooks, once the operation's function resolved. */
  finish(): Promise<void>;
  end(): void;
}

interface PendingWrite {
  fn: (tx: StoreTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

interface Completed {
  write: PendingWrite;
  value: unknown;
}

class WriterStatements {
  readonly begin: Database.Statement;
  readonly commit: Database.Statement;
  readonly rollback: Database.Statement;
  readonly savepoint: Database.Statement;
  readonly release: Database.Statement;
  readonly rollbackToSavepoint: Database.Statement;

  constructor(db: Database.Database) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.savepoint = db.prepare("SAVEPOINT operation");
    this.release = db.prepare("RELEASE operation");
    this.rollbackToSavepoint = db.prepare("ROLLBACK TO operation");
  }
}

export class GroupCommit {
  readonly stats: GroupCommitStats = { commits: 0, operations: 0, failedOperations: 0, largestBatchOperations: 0 };
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private flushing = false;
  private idleWaiters: Array<() => void> = [];
  private readonly statements: WriterStatements;

  constructor(
    private readonly db: Database.Database,
    private readonly beginOperation: () => OperationTransaction,
    /** Called when a batch's transaction rolled back, after some of its operations had run. */
    private readonly onBatchRolledBack: () => void = () => undefined,
    /** Called when one operation was rolled back to its savepoint (the batch goes on). */
    private readonly onOperationRolledBack: () => void = () => undefined,
  ) {
    this.statements = new WriterStatements(db);
  }

  /** Queues `fn`; resolves with its result once the commit that carried it is durable. */
  enqueue<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.queue.length >= writeQueueOperationsMax) {
      return Promise.reject(new Error(`sqlite write queue is full (${writeQueueOperationsMax} operations)`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject, settled: false });
      this.scheduleFlush();
    });
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (!this.flushing && !this.flushScheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    this.flushing = true;
    const batch = this.queue.slice(0, commitBatchOperationsMax);
    this.queue = this.queue.slice(batch.length);
    try {
      await this.commitBatch(batch);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) {
        // Yield to the event loop first, so requests that arrived during this commit join the next.
        this.scheduleFlush();
      } else {
        for (const wake of this.idleWaiters.splice(0)) wake();
      }
    }
  }

  /**
   * Commits `batch` in one transaction. First without savepoints: an operation that throws (a bug,
   * a broken constraint: expected failures are results, not throws) rolls the transaction back and
   * is rejected alone, and the others run again in a new transaction, each in its own savepoint.
   * Writes may run more than once (the store contract: PostgreSQL retries whole batches too), and
   * a savepoint costs a copy of every page an operation touches first, so the common case of no
   * throw pays for none, and the rare one for at most one repeat of its batch.
   */
  private async commitBatch(batch: PendingWrite[]): Promise<void> {
    const again = await this.runBatch(batch, false);
    if (again.length > 0) await this.runBatch(again, true);
  }

  /** One transaction for `batch`; answers the operations to run again (see `commitBatch`). */
  private async runBatch(batch: PendingWrite[], savepoints: boolean): Promise<PendingWrite[]> {
    let completed: Completed[] = [];
    try {
      this.statements.begin.run();
      for (const write of batch) {
        const result = await this.runOperation(write, savepoints);
        if (result) {
          completed.push(result);
        } else if (!savepoints) {
          // The transaction is rolled back: the operations that ran before are gone, and none
          // after has run. All of them run again with savepoints.
          this.onBatchRolledBack();
          return batch.filter((other) => !other.settled);
        } else if (!this.db.inTransaction) {
          // SQLite rolled the whole transaction back (disk full, I/O error): the operations
          // that had already succeeded in this batch are gone too.
          this.onBatchRolledBack();
          this.fail(completed.map((done) => done.write), new Error("sqlite rolled back the batch transaction"));
          completed = [];
          this.statements.begin.run();
        }
      }
      this.statements.commit.run();
    } catch (error) {
      this.onBatchRolledBack();
      try {
        if (this.db.inTransaction) this.statements.rollback.run();
      } catch {
        // The original error says more; SQLite discards an open transaction on its own anyway.
      }
      // Everything not yet rejected: the completed operations and those that never ran.
      this.fail(batch, error);
      return [];
    }
    this.stats.commits += 1;
    this.stats.operations += completed.length;
    this.stats.largestBatchOperations = Math.max(this.stats.largestBatchOperations, completed.length);
    for (const { write, value } of completed) {
      write.settled = true;
      write.resolve(value);
    }
    return [];
  }

  /**
   * Runs one operation, in its savepoint when `savepoint`; on failure rolls it back (to the
   * savepoint, or the whole transaction without one), rejects it and returns null.
   */
  private async runOperation(write: PendingWrite, savepoint: boolean): Promise<Completed | null> {
    if (savepoint) this.statements.savepoint.run();
    const operation = this.beginOperation();
    try {
      const value = await write.fn(operation.tx);
      await operation.finish();
      operation.end();
      if (savepoint) this.statements.release.run();
      return { write, value };
    } catch (error) {
      operation.end();
      if (this.db.inTransaction) {
        if (savepoint) {
          this.statements.rollbackToSavepoint.run();
          this.statements.release.run();
        } else {
          this.statements.rollback.run();
        }
      }
      this.onOperationRolledBack();
      this.fail([write], error);
      return null;
    }
  }

  /** Rejects each write not already rejected. */
  private fail(writes: PendingWrite[], error: unknown): void {
    for (const write of writes) {
      if (write.settled) continue;
      write.settled = true;
      this.stats.failedOperations += 1;
      write.reject(error);
    }
  }
}
