/**
 * The HTTP app: Fastify with zod schemas, problem errors, request ids, metrics, OpenAPI, and the
 * auth and idempotency wiring that every route module gets by declaring `config`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions, type RawServerDefault, type RouteOptions } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { requestBodyBytesMax, requestReceiveTimeoutMs, systemClock, type Clock, type Store } from "@bursar/core";
import { PrincipalDelegations, requireScopes, type Principal } from "./auth.js";
import { healthRoutes } from "./health.js";
import { idempotencyOnSend, idempotencyPreHandler, idempotentMethods } from "./idempotency.js";
import { installJsonParser } from "./json.js";
import { installFormParser } from "./form.js";
import { IdentityServices, type IdentityOptions } from "../identity/services.js";
import { installMetrics } from "./metrics.js";
import { registerOpenApi } from "./openapi.js";
import { ProblemError, problemErrorHandler, routeNotFoundHandler, sendProblem, toProblem } from "./problem.js";
import { requestIdFor } from "./request-id.js";
import { installProblemRecorder } from "./problem-recorder.js";
import { illFormedUnicodeOf } from "./unicode.js";
import { answerHeadWithoutStream } from "./sse.js";
import { answerClientError } from "./client-errors.js";
import { RouteMethods } from "./methods.js";
import { limitBySource } from "./source-limit.js";
import { registerConsole } from "./console-static.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The store every route reads and writes through. */
    store: Store;
    /** Time source; tests inject one to exercise expiry. */
    clock: Clock;
    /** The URL clients use to reach us (behind a proxy), or null to use the request's own. */
    publicBaseUrl: string | null;
    /** Tokens, replay cache, rate limits, API-key usage (identity/services.ts). */
    identity: IdentityServices;
    /** Principals lent to in-process calls (the MCP endpoint's tools), see auth.ts. */
    delegations: PrincipalDelegations;
  }
}

/** The app as route modules see it: schemas are zod, request and reply types inferred from them. */
export type ZodApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/**
 * A route module (`routes/*.ts`, one file per resource): a Fastify plugin whose options are the
 * dependencies the app hands every module. Sync or async.
 */
export type RouteModule<Deps> = (app: ZodApp, deps: Deps) => void | Promise<void>;

interface CommonOptions {
  store: Store;
  /** Fastify logger: `false` (default) for silence, `true` or pino options otherwise. */
  logger?: boolean | Record<string, unknown>;
  publicBaseUrl?: string;
  clock?: Clock;
  /** Redis, DPoP nonces, default rate limit. In memory with defaults when absent. */
  identity?: IdentityOptions;
  /** The owner console's build directory (default: packages/console/dist); `false` serves none. */
  consoleDir?: string | false;
}

/**
 * Options of `buildApp`. Route modules come with the dependencies they are registered with, so
 * forgetting the dependencies is a type error rather than a crash on the first request.
 */
export type AppOptions<Deps> = CommonOptions & (
  | { routes?: undefined; routeDeps?: undefined }
  /** Registered in order inside the routes context, where `secureRoute` applies. */
  | { routes: RouteModule<Deps>[]; routeDeps: Deps }
);

/** Puts `hook` before whatever a route already declared (nothing, one hook, or a list). */
function prependHook<T>(hook: T, existing: T | T[] | undefined): T[] {
  if (existing === undefined) return [hook];
  return [hook, ...(Array.isArray(existing) ? existing : [existing])];
}

/**
 * onRoute hook of the routes context: a route must say who may call it. `config.scopes` installs
 * authentication (first onRequest hook, before the body is read) and, for POST/PATCH/DELETE,
 * idempotency (first preHandler, after auth and validation, and the onSend hook recording the
 * answer). A route that declares neither scopes nor `public: true` fails at start-up: forgetting
 * auth must not silently mean "public".
 */
export function secureRoute(route: RouteOptions): void {
  answerHeadWithoutStream(route);
  const config = route.config ?? {};
  const where = `${route.method.toString()} ${route.url}`;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (config.public === true) {
    if (config.scopes) throw new Error(`${where}: a route is public or has scopes, not both`);
    // A write nobody authenticates is counted per source address instead (source-limit.ts).
    if (methods.some((method) => idempotentMethods.has(method) || method === "PUT")) route.onRequest = prependHook(limitBySource, route.onRequest as never);
    return;
  }
  if (!config.scopes) throw new Error(`${where}: declare config.scopes, or config.public: true`);
  route.onRequest = prependHook(requireScopes(...config.scopes), route.onRequest as never);
  if (methods.some((method) => idempotentMethods.has(method))) {
    route.preHandler = prependHook(idempotencyPreHandler, route.preHandler as never);
    // Only these routes claim keys, so only they pay for the hook that records the answer.
    route.onSend = prependHook(idempotencyOnSend, route.onSend as never);
  }
}

/**
 * Builds the app. Nothing listens yet: call `app.listen()`, or `app.inject()` in tests.
 *
 * @example
 * const app = buildApp({ store, routes: [accountRoutes, transferRoutes], routeDeps: routeDeps(store, clock) });
 * await app.listen({ host: "127.0.0.1", port: 7420 });
 */
export function buildApp<Deps>(options: AppOptions<Deps>): FastifyInstance {
  const app = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions["logger"],
    bodyLimit: requestBodyBytesMax,
    requestTimeout: requestReceiveTimeoutMs,
    genReqId: requestIdFor,
    logController: new LogController({ requestIdLogLabel: "request_id" }),
    // Errors of the HTTP parser, before a request exists (client-errors.ts).
    clientErrorHandler: answerClientError,
    // Errors raised while routing (an undecodable URL), before any hook runs.
    frameworkErrors: (error, request, reply) => {
      reply.header("x-request-id", request.id);
      sendProblem(reply, toProblem(error) ?? new ProblemError("bad_request", "The request cannot be processed."));
    },
  });
  app.decorate("store", options.store);
  app.decorate("clock", options.clock ?? systemClock);
  app.decorate("publicBaseUrl", options.publicBaseUrl ?? null);
  const identity = new IdentityServices(options.store, options.clock ?? systemClock, options.identity ?? {}, (error) => app.log.error({ err: error }, "identity services"));
  app.decorate("identity", identity);
  app.decorate("delegations", new PrincipalDelegations(() => (options.clock ?? systemClock).nowMs()));
  app.addHook("onClose", async () => identity.close());
  // Null until the auth hook runs (see the `principal` declaration in auth.ts).
  app.decorateRequest("principal", null as unknown as Principal);

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(problemErrorHandler);
  const routeMethods = new RouteMethods();
  app.addHook("onRoute", routeMethods.onRoute);
  app.setNotFoundHandler(routeNotFoundHandler((path) => routeMethods.allowed(path)));
  installJsonParser(app);
  installFormParser(app);

  // One hook, in callback style (no promise per request), first of all: the request id is set
  // so that every answer carries it (errors, 404s and replays included), then the Unicode check
  // runs before any route hook (authentication included), so nothing downstream meets a lone
  // surrogate.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done(illFormedUnicodeOf(request) ?? undefined);
  });
  installProblemRecorder(app, process.env.BURSAR_TEST_PROBLEM_LOG);
  const registry = installMetrics(app);

  registerOpenApi(app, options.publicBaseUrl ?? null);
  app.register(healthRoutes(registry));
  if (options.consoleDir !== false) registerConsole(app, options.consoleDir);
  app.register(async function routesContext(api) {
    api.addHook("onRoute", secureRoute);
    for (const routes of options.routes ?? []) {
      // Wrapped in an async plugin so an error a sync module throws (secureRoute refusing a route)
      // fails `ready()` instead of escaping as an uncaught exception.
      await api.register(async (scoped: FastifyInstance, deps: unknown) => routes(scoped as ZodApp, deps as Deps), options.routeDeps as never);
    }
  });
  return app;
}
