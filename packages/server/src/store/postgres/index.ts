/** The PostgreSQL store (see postgres-store.ts). */
export {
  openPostgresStore,
  postgresConnectTimeoutMs,
  postgresPoolSizeDefault,
  postgresWriteAttemptsMax,
  type PostgresStoreOptions,
} from "./postgres-store.js";
