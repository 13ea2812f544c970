/** The embedded SQLite store (see sqlite-store.ts). */
export { openSqliteStore, sqliteBusyTimeoutMs, type SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export { writeQueueOperationsMax, type GroupCommitStats } from "./group-commit.js";
