/**
 * `bursar serve`: opens the store, migrates it, builds the HTTP app, starts the sweeper.
 */
import path from "node:path";
import { checkLimits, deterministicPlanner, railTimeoutSecondsDefault, shutdownGraceMs, systemClock, type Clock, type Store } from "@bursar/core";
import type { FastifyInstance } from "fastify";
import type { ServerConfig } from "./config.js";
import { buildApp } from "./http/app.js";
import { routeDeps } from "./routes/context.js";
import { routeModules } from "./routes/index.js";
import { openPostgresStore } from "./store/postgres/index.js";
import { openSqliteStore } from "./store/sqlite/index.js";
import { startSweeper, type Sweeper } from "./sweeper.js";
import { EventHub } from "./events/hub.js";
import { publishingStore } from "./events/publishing-store.js";
import { startDeliveryWorker, type DeliveryWorker } from "./webhooks/worker.js";
import { createRailDispatcher, type RailDispatcher } from "./rails/dispatcher.js";
import { sandboxRail } from "./rails/sandbox-rail.js";
import { createWebhookRail } from "./rails/webhook-rail.js";
import { createLlmPlanner } from "./chat/llm-planner.js";
import { createServiceRunner, type ServiceRunner } from "./services/runner.js";
import { prettyLogStream } from "./log-format.js";
import { mcpHostWarning } from "./routes/mcp.js";

export interface RunningServer {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:7420`. */
  url: string;
  app: FastifyInstance;
  store: Store;
  sweeper: Sweeper;
  /** The webhook delivery worker (tests call `runOnce`). */
  webhooks: DeliveryWorker;
  /** Fan-out of committed events to stream subscribers. */
  eventHub: EventHub;
  /** Payments in flight on asynchronous rails (tests call `drain`). */
  rails: RailDispatcher;
  /** Service requests running after their write (tests call `drain`). */
  services: ServiceRunner;
  /** Configuration that works but surprises (logged at start-up; `bursar serve` prints them in its banner). */
  warnings: string[];
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
  const baseStore = options.store ?? (await openStore(config));
  const eventHub = new EventHub(baseStore.read);
  let webhooks: DeliveryWorker | null = null;
  // Every committed write tells the stream hub its events, and wakes the delivery worker when it
  // queued deliveries (otherwise the worker would query for due deliveries after every commit).
  const store = publishingStore(baseStore, ({ events, deliveriesQueued }) => {
    if (events.length > 0) eventHub.publish(events);
    if (deliveriesQueued) webhooks?.kick();
  });
  // The app's logger, once the app exists (payments start only after it listens).
  const railLog = { warn: (details: object, message: string) => app.log.warn(details, message), error: (details: object, message: string) => app.log.error(details, message) };
  // Executors call back at the public URL; the listening address is known only after listen().
  let baseUrl = config.publicBaseUrl?.replace(/\/+$/, "") ?? null;
  const webhookRail = createWebhookRail({
    reader: store.read,
    clock,
    allowPrivateTargets: config.allowPrivateWebhookTargets,
    requestTimeoutMs: config.webhookAttemptTimeoutMs,
    callbackUrl: () => `${baseUrl ?? ""}/v1/rails/webhook/callbacks`,
    log: railLog,
  });
  const rails = createRailDispatcher({
    store,
    clock,
    rails: [sandboxRail, webhookRail],
    attemptTimeoutMs: railTimeoutSecondsDefault * 1000,
    log: railLog,
  });
  const services = createServiceRunner({
    store,
    clock,
    callTimeoutMs: config.serviceCallTimeoutMs,
    sandboxSlowDelayMs: config.sandboxSlowDelayMs,
    allowPrivateTargets: config.allowPrivateWebhookTargets,
    log: { error: (details, message) => app.log.error(details, message) },
  });
  const app = buildApp({
    store,
    clock,
    publicBaseUrl: config.publicBaseUrl ?? undefined,
    identity: { redisUrl: config.redisUrl, redisKeyPrefix: config.redisKeyPrefix, dpopNonceRequired: config.dpopNonceRequired, rateLimitPerMinute: config.rateLimitPerMinute, sourceRateLimitPerMinute: config.sourceRateLimitPerMinute },
    logger: config.logLevel === "silent" ? false : { level: config.logLevel, ...(config.logFormat === "pretty" ? { stream: prettyLogStream(process.stdout) } : {}) },
    routes: routeModules,
    routeDeps: routeDeps(store, clock, {
      eventHub,
      allowPrivateWebhookTargets: config.allowPrivateWebhookTargets,
      rails,
      planner: config.llm ? createLlmPlanner(config.llm) : deterministicPlanner,
      services,
      serviceRequestWaitMs: config.serviceRequestWaitMs,
    }),
  });
  // Open streams would keep `app.close()` waiting for their connections: end them first.
  app.addHook("preClose", async () => eventHub.close());
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  baseUrl ??= `http://${host}:${port}`;
  const sweeper = startSweeper(store, clock, config.sweepIntervalMs, app.log);
  webhooks = startDeliveryWorker(
    store,
    clock,
    {
      allowPrivateTargets: config.allowPrivateWebhookTargets,
      retryBaseMs: config.webhookRetryBaseMs,
      attemptTimeoutMs: config.webhookAttemptTimeoutMs,
      pollIntervalMs: config.webhookPollIntervalMs,
    },
    app.log,
  );
  if (config.allowPrivateWebhookTargets) app.log.warn("webhook and service targets on loopback and private addresses are allowed (allowPrivateWebhookTargets)");
  const warnings = [mcpHostWarning(config)].filter((warning): warning is string => warning !== null);
  for (const warning of warnings) app.log.warn(warning);
  const worker = webhooks;
  return {
    url: `http://${host}:${port}`,
    app,
    store,
    sweeper,
    webhooks: worker,
    eventHub,
    rails,
    services,
    warnings,
    async close() {
      await sweeper.stop();
      await rails.close();
      await services.close();
      await worker.stop();
      // Bounded shutdown: connections still open after the grace period (a client that opened
      // a socket and sent nothing yet) are cut rather than waited for.
      const force = setTimeout(() => app.server.closeAllConnections(), shutdownGraceMs);
      force.unref();
      await app.close();
      clearTimeout(force);
      if (!options.store) await baseStore.close();
    },
  };
}
