/**
 * What every route module receives, and the few helpers they share. A route module is one file
 * per resource: it declares zod schemas (validation and OpenAPI), the scopes it needs
 * (`config.scopes`), and calls the core through `mutate` for writes or `store.read` for reads.
 */
import { deterministicPlanner, fail, type AgentRow, type Clock, type Planner, type Result, type Store, type WriteContext } from "@bursar/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { EventHub } from "../events/hub.js";
import type { RailDispatcher } from "../rails/dispatcher.js";
import type { ServiceRunner } from "../services/runner.js";
import type { RouteModule as AppRouteModule } from "../http/app.js";
import { recordedBody, returnIdempotencyClaim, takeIdempotencyClaim } from "../http/idempotency.js";
import { ProblemError, failureToProblem } from "../http/problem.js";
import { requireScope } from "../http/auth.js";

/** What a route answers after a successful change. */
export interface Answer {
  status: number;
  body: unknown;
}

export interface RouteDeps {
  store: Store;
  clock: Clock;
  /**
   * Runs a core operation in one durable write for the caller's tenant, as the caller, and sends
   * `respond(value)`; an expected failure becomes a problem+json answer. With an
   * Idempotency-Key, the answer is recorded in the same transaction as the change.
   *
   * `afterCommit`, when given, runs after the commit and may replace the answer sent (not the one
   * recorded): a service request waits there for its outcome, while a replay answers the request
   * as it stood when it was accepted (its id and status, to poll).
   */
  mutate<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    operation: (context: WriteContext) => Promise<Result<T>>,
    respond: (value: T) => Answer,
    afterCommit?: (value: T) => Promise<Answer | null>,
  ): Promise<FastifyReply>;
  /** Live events for streams; null when the server runs without one (unit tests of other routes). */
  eventHub: EventHub | null;
  /** Explicit opt-in: webhook URLs may resolve to loopback or private addresses. */
  allowPrivateWebhookTargets: boolean;
  /** Starts committed payments on asynchronous rails; null in unit tests of other routes. */
  rails: RailDispatcher | null;
  /** The payment agent's planner: the LLM planner when a model is configured, else the deterministic one. */
  planner: Planner;
  /** Runs committed service requests (sandbox.slow, HTTP operations); null in unit tests of other routes. */
  services: ServiceRunner | null;
  /** How long a service request answer waits for an HTTP operation before answering `running`. */
  serviceRequestWaitMs: number;
}

/** Optional parts of `RouteDeps`. */
export interface RouteExtras {
  eventHub?: EventHub | null;
  allowPrivateWebhookTargets?: boolean;
  rails?: RailDispatcher | null;
  planner?: Planner;
  services?: ServiceRunner | null;
  serviceRequestWaitMs?: number;
}

export type RouteModule = AppRouteModule<RouteDeps>;

/** Builds `RouteDeps` for a store and clock. */
export function routeDeps(store: Store, clock: Clock, extras: RouteExtras = {}): RouteDeps {
  return {
    store,
    clock,
    eventHub: extras.eventHub ?? null,
    allowPrivateWebhookTargets: extras.allowPrivateWebhookTargets ?? false,
    rails: extras.rails ?? null,
    planner: extras.planner ?? deterministicPlanner,
    services: extras.services ?? null,
    serviceRequestWaitMs: extras.serviceRequestWaitMs ?? 0,
    async mutate<T>(
      request: FastifyRequest,
      reply: FastifyReply,
      operation: (context: WriteContext) => Promise<Result<T>>,
      respond: (value: T) => Answer,
      afterCommit?: (value: T) => Promise<Answer | null>,
    ) {
      const { tenantId, principalType, principalId } = request.principal;
      const actor = { type: principalType, id: principalId } as const;
      const claim = takeIdempotencyClaim(request);
      let answer: Answer | null = null;
      let result: Result<T>;
      try {
        result = await store.write(tenantId, async (tx) => {
          const outcome = await operation({ tx, tenantId, nowMs: clock.nowMs(), actor });
          if (outcome.ok) {
            answer = respond(outcome.value);
            if (claim) await tx.completeIdempotencyKey(claim, answer.status, recordedBody(request, answer.body));
          }
          return outcome;
        });
      } catch (error) {
        if (claim) returnIdempotencyClaim(request, claim);
        throw error;
      }
      if (!result.ok) {
        // Nothing recorded: the onSend hook records the problem answer (or releases a 5xx).
        if (claim) returnIdempotencyClaim(request, claim);
        throw failureToProblem(result);
      }
      const { status, body } = (afterCommit ? await afterCommit(result.value) : null) ?? answer!;
      return reply.code(status).send(body);
    },
  };
}

/** The value of a result, or the problem answer of its failure. */
export function orProblem<T>(result: Result<T>): T {
  if (!result.ok) throw failureToProblem(result);
  return result.value;
}

export function notFound(kind: string, id: string): ProblemError {
  return new ProblemError("not_found", `${kind} ${id} not found`);
}

/** A page per SPEC 3 "Pagination", from `limit + 1` rows fetched newest first. */
export function pageOf<Row extends { id: string }, View>(rows: Row[], limit: number, view: (row: Row) => View) {
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data: page.map(view), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1]!.id : null };
}

/**
 * A record list's page (wire.journalPage) with `journal_seq`, the journal position it was read at.
 * The position is read first, then the rows: a record and the event that changed it commit in one
 * transaction, and seqs commit in order, so every change at or before the position is in the
 * rows; a later one may be too (a stream from the position replays it: harmless, never lost).
 */
export async function journalPageOf<Row extends { id: string }, View>(
  store: Store,
  tenantId: string,
  limit: number,
  listRows: () => Promise<Row[]>,
  view: (row: Row) => View,
) {
  const tenant = await store.read.getTenant(tenantId);
  if (!tenant) throw new Error("authenticated principal without a tenant");
  return { ...pageOf(await listRows(), limit, view), journal_seq: tenant.journalSize };
}

/**
 * The agent a request acts for: an agent credential acts for itself (naming another agent is
 * "not found"); an owner names the agent and needs `agents:config`.
 */
export function actingAgentId(request: FastifyRequest, named: string | undefined): string {
  const own = request.principal.agentId;
  if (own !== null) {
    if (named !== undefined && named !== own) throw notFound("agent", named);
    return own;
  }
  if (named === undefined) throw new ProblemError("validation_failed", "name the agent with agent_id");
  requireScope(request, "agents:config");
  return named;
}

/** The agent a request acts for (see `actingAgentId`), loaded; "not found" when it does not exist. */
export async function actingAgent(store: Store, request: FastifyRequest, named: string | undefined): Promise<AgentRow> {
  const agentId = actingAgentId(request, named);
  const agent = await store.read.getAgent(request.principal.tenantId, agentId);
  if (!agent) throw notFound("agent", agentId);
  return agent;
}

/**
 * A write `operation` for the agent a request acts for (see `actingAgentId`), with the agent's
 * row read inside the write. A spend must see the agent as it is when the money moves: read
 * before the write, a disable committed in between would go unseen and the agent could still
 * pay (writes of a tenant are serialised, so inside the write nothing changes it). "Not found"
 * when it does not exist.
 */
export function forActingAgent<T>(
  request: FastifyRequest,
  named: string | undefined,
  operation: (context: WriteContext, agent: AgentRow) => Promise<Result<T>>,
): (context: WriteContext) => Promise<Result<T>> {
  const agentId = actingAgentId(request, named);
  return async (context) => {
    const agent = await context.tx.getAgent(context.tenantId, agentId);
    return agent ? operation(context, agent) : fail("not_found", `agent ${agentId} not found`);
  };
}

/** The agent filter of a list: an agent credential sees only its own records; owners may filter. */
export function listedAgentId(request: FastifyRequest, named: string | undefined): string | undefined {
  const own = request.principal.agentId;
  if (own !== null && named !== undefined && named !== own) throw notFound("agent", named);
  return own ?? named;
}

/** A record the caller may see, or "not found" (an agent never learns other agents' ids). */
export function visible<R extends { agentId: string | null }>(request: FastifyRequest, record: R | null, kind: string, id: string): R {
  const own = request.principal.agentId;
  if (!record || (own !== null && record.agentId !== own)) throw notFound(kind, id);
  return record;
}
