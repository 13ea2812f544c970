/**
 * `bursar serve`: opens the store, migrates it, builds the HTTP app, starts the sweeper.
 */
import path from "node:path";
import { checkLimits, systemClock, type Clock, type Store } from "@bursar/core";
import type { FastifyInstance } from "fastify";
import type { ServerConfig } from "./config.js";
import { buildApp } from "./http/app.js";
import { routeDeps } from "./routes/context.js";
import { routeModules } from "./routes/index.js";
import { openPostgresStore } from "./store/postgres/index.js";
import { openSqliteStore } from "./store/sqlite/index.js";
import { startSweeper, type Sweeper } from "./sweeper.js";

export interface RunningServer {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:7420`. */
  url: string;
  app: FastifyInstance;
  store: Store;
  sweeper: Sweeper;
  close(): Promise<void>;
}

/** Opens the store the configuration names: PostgreSQL when a URL is given, else SQLite in the data dir. */
export async function openStore(config: Pick<ServerConfig, "databaseUrl" | "databaseSchema" | "dataDir">): Promise<Store> {
  const store = config.databaseUrl
    ? await openPostgresStore({ connectionString: config.databaseUrl, schema: config.databaseSchema ?? undefined })
    : await openSqliteStore({ path: path.join(config.dataDir, "bursar.sqlite") });
  await store.migrate();
  return store;
}

/** Starts a server; `close()` stops it and closes the store. */
export async function startServer(config: ServerConfig, options: { clock?: Clock; store?: Store } = {}): Promise<RunningServer> {
  checkLimits();
  const clock = options.clock ?? systemClock;
  const store = options.store ?? (await openStore(config));
  const app = buildApp({
    store,
    clock,
    publicBaseUrl: config.publicBaseUrl ?? undefined,
    identity: { redisUrl: config.redisUrl, redisKeyPrefix: config.redisKeyPrefix, dpopNonceRequired: config.dpopNonceRequired, rateLimitPerMinute: config.rateLimitPerMinute },
    logger: config.logLevel === "silent" ? false : { level: config.logLevel },
    routes: routeModules,
    routeDeps: routeDeps(store, clock),
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const sweeper = startSweeper(store, clock, config.sweepIntervalMs, app.log);
  return {
    url: `http://${host}:${port}`,
    app,
    store,
    sweeper,
    async close() {
      await sweeper.stop();
      await app.close();
      if (!options.store) await store.close();
    },
  };
}
