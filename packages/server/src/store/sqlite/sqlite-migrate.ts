/** Applies the SQLite side of migrations.ts on the writer connection. */
import type Database from "better-sqlite3";
import { integerFrom, textFrom, type Row } from "../rows.js";
import { pendingMigrations } from "../migrations.js";

/**
 * Creates `schema_migrations` and runs every pending migration, all in one `BEGIN IMMEDIATE`
 * transaction: a second process starting at the same moment waits on the write lock (busy
 * timeout), then finds nothing left to do.
 */
export function migrateSqlite(db: Database.Database): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, " +
        "applied_at_ms INTEGER NOT NULL) STRICT",
    );
    const applied = db
      .prepare<[], Row>("SELECT version, name FROM schema_migrations ORDER BY version")
      .all()
      .map((row) => ({ version: integerFrom(row.version, "version"), name: textFrom(row.name, "name") }));
    const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)");
    for (const migration of pendingMigrations(applied)) {
      db.exec(migration.sqlite);
      record.run(migration.version, migration.name, Date.now());
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
