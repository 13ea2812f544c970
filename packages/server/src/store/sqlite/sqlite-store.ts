/**
 * The embedded default store: one SQLite file, two connections.
 *
 * - The writer runs every write through the group commit (group-commit.ts), with
 *   `synchronous=FULL` so a resolved write survives kill -9 and power loss.
 * - A read-only connection serves `store.read`. In WAL mode it reads the last committed
 *   snapshot, so a reader never sees the half-built state of a batch that is still open.
 *
 * The database holds journal signing keys: the directory is created 0700 and the file 0600
 * (SQLite gives its -wal and -shm files the database file's mode).
 */
import Database from "better-sqlite3";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { type Store, type StoreReader, type StoreTx, invariant, sqliteCacheKibibytesMax, sqliteMmapBytesMax } from "@bursar/core";
import { GroupCommit, type GroupCommitStats } from "./group-commit.js";
import { migrateSqlite } from "./sqlite-migrate.js";
import { TenantConfigCache } from "../tenant-config-cache.js";
import { JournalEdgeCache } from "../journal-edge-cache.js";
import { SqliteCommittedReader, SqliteReadStatements } from "./sqlite-reader.js";
import { SqliteTransaction, SqliteWriteStatements } from "./sqlite-transaction.js";

/** How long a connection waits for another process's lock before failing with SQLITE_BUSY. */
export const sqliteBusyTimeoutMs = 5_000;

export interface SqliteStoreOptions {
  /** Path of the database file; its directory is created if missing. */
  path: string;
}

/** The SQLite store, with group-commit counters for tests and benchmarks. */
export interface SqliteStore extends Store {
  readonly kind: "sqlite";
  readonly stats: Readonly<GroupCommitStats>;
}

/**
 * Opens (creating if needed) the SQLite store at `path`. Call `migrate()` before use.
 *
 * @example
 * const store = await openSqliteStore({ path: ".bursar/bursar.db" });
 * await store.migrate();
 * const size = await store.write(tenantId, async (tx) => (await tx.getTenant(tenantId))?.journalSize);
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  createPrivateFile(options.path);
  const writer = new Database(options.path, { timeout: sqliteBusyTimeoutMs });
  try {
    const journalMode = writer.pragma("journal_mode = WAL", { simple: true });
    invariant(journalMode === "wal", `sqlite refused WAL mode (${String(journalMode)})`);
    writer.pragma("synchronous = FULL");
    writer.pragma("foreign_keys = ON");
    // Erasure (a deleted conversation's text): freed cells and pages are overwritten with zeros
    // instead of lingering in the file until reused. The WAL is emptied by purgeErased().
    writer.pragma("secure_delete = ON");
    // Each operation of a group commit runs in a SAVEPOINT, whose undo journal records every page
    // the operation touches. On disk that journal costs ~30 small writes per operation (measured
    // with strace: sys time per transfer fell from ~35 µs to ~8 µs); in memory it costs nothing.
    writer.pragma("temp_store = MEMORY");
    const reader = new Database(options.path, { readonly: true, fileMustExist: true, timeout: sqliteBusyTimeoutMs });
    // Reads (proofs above all) seek all over the journal's tree: memory-mapped pages and a larger
    // page cache spare one read() system call per B-tree page. Bounds in limits.ts.
    reader.pragma(`mmap_size = ${sqliteMmapBytesMax}`);
    reader.pragma(`cache_size = -${sqliteCacheKibibytesMax}`);
    return new SqliteStoreImpl(writer, reader);
  } catch (error) {
    writer.close();
    throw error;
  }
}

/** Creates the directory (0700) and the file (0600) when missing; existing ones are left as they are. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
}

class SqliteStoreImpl implements SqliteStore {
  readonly kind = "sqlite" as const;
  private readonly groupCommit: GroupCommit;
  private readonly configCache = new TenantConfigCache();
  private readonly journalEdges = new JournalEdgeCache();
  private closed = false;
  // Prepared on first use, so that `migrate()` has created the tables by then.
  private reader: SqliteCommittedReader | null = null;
  private writerStatements: { reads: SqliteReadStatements; writes: SqliteWriteStatements } | null = null;

  constructor(
    private readonly writer: Database.Database,
    private readonly readerConnection: Database.Database,
  ) {
    this.groupCommit = new GroupCommit(
      writer,
      () => {
        const { reads, writes } = this.preparedWriterStatements();
        const tx = new SqliteTransaction(reads, writes, this.configCache, this.journalEdges);
        return { tx, finish: () => tx.runBeforeCommit(), end: () => tx.end() };
      },
      // Operations of a batch that rolled back may have cached what they read of the batch's
      // uncommitted state (under versions that will be reached again): forget all of it.
      () => {
        this.configCache.clear();
        this.journalEdges.clear();
      },
      // One operation rolled back to its savepoint: the journal nodes it appended are gone.
      () => this.journalEdges.clear(),
    );
  }

  get stats(): Readonly<GroupCommitStats> {
    return this.groupCommit.stats;
  }

  get read(): StoreReader {
    invariant(!this.closed, "sqlite store is closed");
    this.reader ??= new SqliteCommittedReader(new SqliteReadStatements(this.readerConnection));
    return this.reader;
  }

  async migrate(): Promise<void> {
    invariant(!this.closed, "sqlite store is closed");
    await this.groupCommit.drain();
    migrateSqlite(this.writer);
    // One process owns an SQLite store, and migrate() runs at its start: an idempotency claim
    // still in progress now belongs to a process that died mid-request. Releasing it lets the
    // client's retry run instead of being told "in use" until the claim times out.
    this.writer.prepare("DELETE FROM idempotency_keys WHERE state = 'in_progress'").run();
  }

  /** `tenantId` is not needed for serialisation here: SQLite has one writer. */
  write<T>(_tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("sqlite store is closed"));
    return this.groupCommit.enqueue(fn);
  }

  /**
   * Copies every committed page back into the database file and truncates the WAL to zero bytes,
   * so page images that held erased text are gone from it (a plain checkpoint leaves the WAL's
   * bytes in place to be overwritten later). Waits for queued writes first; a reader holding an
   * old snapshot makes SQLite report "busy", and the next erasure tries again.
   */
  async purgeErased(): Promise<void> {
    if (this.closed) return;
    await this.groupCommit.drain();
    if (this.closed) return;
    this.writer.pragma("wal_checkpoint(TRUNCATE)");
  }

  /** Lets queued writes commit, then closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groupCommit.drain();
    this.readerConnection.close();
    this.writer.close();
  }

  private preparedWriterStatements(): { reads: SqliteReadStatements; writes: SqliteWriteStatements } {
    this.writerStatements ??= {
      reads: new SqliteReadStatements(this.writer),
      writes: new SqliteWriteStatements(this.writer),
    };
    return this.writerStatements;
  }
}
