/**
 * `POST /v1/agents/{id}/spawn` and its dry run `/spawn/estimate` (issue 15, docs/teams.md): an
 * agent creates a child no looser than itself (governance/spawn.ts). Only an agent credential
 * spawns, as itself: the child's scopes are bounded by that credential's, which an owner's token
 * does not have (owners create agents with `POST /v1/agents`). Another agent's id is "not found".
 */
import { agentView, planSpawn, spawnAgent, toRfc3339, wire, type SpawnInput, type SpawnPlan } from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { notFound } from "./context.js";

const spawnErrors = ["agent_disabled", "spawn_depth_exceeded", "spawn_scope_exceeds_parent", "spawn_policy_looser_than_parent", "spawn_budget_exceeds_parent", "limit_exceeded", "insufficient_funds"] as const;

const example = {
  body: {
    name: "Researcher 1",
    budgets: [{ period: "daily", amount: 5000 }],
    scopes: ["agents:execute", "transactions:read"],
    funding: 5000,
  },
};

/** The parent: the calling agent itself. */
function parentId(request: FastifyRequest, named: string): string {
  const own = request.principal.agentId;
  if (own === null) throw new ProblemError("insufficient_scope", "Only an agent spawns agents (as itself); owners create agents with POST /v1/agents.");
  if (own !== named) throw notFound("agent", named);
  return own;
}

function inputOf(body: typeof wire.spawnBody._output): SpawnInput {
  return { name: body.name, description: body.description, policy: body.policy, budgets: body.budgets, scopes: body.scopes, funding: body.funding, ticketExpiresInSeconds: body.ticket_expires_in };
}

function planView(plan: SpawnPlan) {
  return { parent_agent_id: plan.parent.id, spawn_depth: plan.spawnDepth, scopes: plan.scopes, policy: plan.policy, budgets: plan.budgets, parent_remaining: plan.parentRemaining };
}

export const spawnRoutes: RouteModule = (app, { mutate, store, clock }) => {
  app.post(
    "/v1/agents/:id/spawn",
    {
      schema: {
        tags: ["teams"],
        summary: "Spawn a child agent no looser than this one",
        description:
          "Creates a child agent with budgets carved from what this agent has left, a policy no looser than its own in any field, scopes within its own, at most 3 levels deep. The child joins this agent's team and gets a one-time registration ticket (shown once) to register its own key. Refusals name every refused field in `errors`. The child's spend counts against this agent's limits too.",
        params: wire.idParam,
        body: wire.spawnBody,
        response: { 201: wire.spawnResult },
      },
      config: { scopes: ["agents:spawn"], errors: [...spawnErrors], secretFields: ["registration_ticket.ticket"], example },
    },
    async (request, reply) => {
      const agentId = parentId(request, request.params.id);
      const parent = await store.read.getAgent(request.principal.tenantId, agentId);
      if (!parent) throw notFound("agent", agentId);
      return mutate(
        request,
        reply,
        async (context) => {
          const current = await context.tx.getAgent(context.tenantId, agentId);
          if (!current) throw notFound("agent", agentId);
          return spawnAgent(context, current, request.principal.scopes, inputOf(request.body));
        },
        (spawned) => ({
          status: 201,
          body: {
            object: "spawned_agent" as const,
            agent: agentView(spawned.child),
            ...planView(spawned.plan),
            registration_ticket: { id: spawned.ticketId, ticket: spawned.ticket, scopes: spawned.plan.scopes, expires_at: toRfc3339(spawned.ticketExpiresAtMs) },
          },
        }),
      );
    },
  );

  app.post(
    "/v1/agents/:id/spawn/estimate",
    {
      schema: {
        tags: ["teams"],
        summary: "Dry run of a spawn: would it pass, and with what",
        description: "The same checks as a spawn, with no side effects: `allowed`, the refusal `code` and every refused field in `errors`, and what the parent has left per period (`parent_remaining`).",
        params: wire.idParam,
        body: wire.spawnBody,
        response: { 200: wire.spawnEstimate },
      },
      config: { scopes: ["agents:spawn"], example },
    },
    async (request) => {
      const agentId = parentId(request, request.params.id);
      const parent = await store.read.getAgent(request.principal.tenantId, agentId);
      if (!parent) throw notFound("agent", agentId);
      const { plan, refusal } = await planSpawn(store.read, parent, request.principal.scopes, inputOf(request.body), clock.nowMs());
      return { object: "spawn_estimate" as const, allowed: refusal === null, code: refusal?.code ?? null, errors: refusal?.errors ?? [], ...planView(plan) };
    },
  );
};
