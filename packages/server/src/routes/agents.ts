/**
 * `/v1/agents`: owners (scope `agents:config`) manage agents; an agent credential sees only
 * itself — any other id is "not found", so an agent cannot even learn which ids exist.
 */
import { agentHealth, agentView, cloneAgent, createAgent, disableAgent, updateAgent, wire } from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { requireScope } from "../http/auth.js";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

/** An agent credential may only name its own agent; owners need `agents:config`. */
export function checkAgentAccess(request: FastifyRequest, agentId: string): void {
  const own = request.principal.agentId;
  if (own !== null) {
    if (own !== agentId) throw notFound("agent", agentId);
    return;
  }
  requireScope(request, "agents:config");
}

export const agentRoutes: RouteModule = (app, { mutate, store, clock }) => {
  app.get(
    "/v1/agents",
    { schema: { tags: ["agents"], summary: "List agents (an agent credential: only itself)", description: "The tenant's agents, newest first. An agent credential sees only itself; owners need `agents:config`.", querystring: wire.pageQuery, response: { 200: wire.page(wire.agent) } }, config: { scopes: [] } },
    async (request) => {
      const { tenantId, agentId } = request.principal;
      if (agentId !== null) {
        const self = await store.read.getAgent(tenantId, agentId);
        return { data: self ? [agentView(self)] : [], has_more: false, next_cursor: null };
      }
      requireScope(request, "agents:config");
      const { limit, cursor } = request.query;
      return pageOf(await store.read.listAgents(tenantId, { limit: limit + 1, beforeId: cursor }), limit, agentView);
    },
  );

  app.post(
    "/v1/agents",
    { schema: { tags: ["agents"], summary: "Create an agent with a wallet", description: "Creates an agent and its wallet account in one currency. A new agent is spend-limited by the default policy until an owner sets one (see `PUT /v1/agents/{id}/policy`).", body: wire.createAgentBody, response: { 201: wire.agent } }, config: { errors: ["unknown_currency"], example: {"body": {"name": "Invoice bot", "currency": "GBP", "description": "Pays supplier invoices"}}, scopes: ["agents:config"] } },
    async (request, reply) => {
      const { name, description, currency, metadata } = request.body;
      return mutate(request, reply, (context) => createAgent(context, { name, description, currency, metadata }), (agent) => ({ status: 201, body: agentView(agent) }));
    },
  );

  app.get(
    "/v1/agents/:id",
    { schema: { tags: ["agents"], summary: "Get an agent", description: "One agent: name, status, wallet account. An agent credential may read only itself.", params: wire.idParam, response: { 200: wire.agent } }, config: { scopes: [] } },
    async (request) => {
      checkAgentAccess(request, request.params.id);
      const agent = await store.read.getAgent(request.principal.tenantId, request.params.id);
      if (!agent) throw notFound("agent", request.params.id);
      return agentView(agent);
    },
  );

  app.post(
    "/v1/agents/:id/clone",
    {
      schema: {
        tags: ["agents"],
        summary: "Clone an agent: same policy, budgets and team, no credentials",
        description:
          "Creates a new agent with the source's wallet currency, metadata, policy and budgets (and team, not its allocations). No credential is copied — mint a registration ticket for the clone — and its wallet starts empty. A clone into a full team is 400 `limit_exceeded`.",
        params: wire.idParam,
        body: wire.cloneAgentBody,
        response: { 201: wire.agent },
      },
      config: { scopes: ["agents:config"], errors: ["not_found", "limit_exceeded"], example: { body: { name: "Invoice bot 2" } } },
    },
    async (request, reply) =>
      mutate(request, reply, (context) => cloneAgent(context, request.params.id, request.body ?? {}), (agent) => ({ status: 201, body: agentView(agent) })),
  );

  app.get(
    "/v1/agents/:id/health",
    {
      schema: {
        tags: ["agents"],
        summary: "What could stop an agent now: credential, wallet, limits near exhaustion, pending approvals",
        description: "One read of the agent's status, working credentials, wallet balance, each limit of its policy and budgets with what is left (near exhaustion at 10% or less), and approvals waiting. An agent credential may read its own.",
        params: wire.idParam,
        response: { 200: wire.agentHealth },
      },
      config: { scopes: ["budgets:read"], errors: ["not_found"] },
    },
    async (request) => {
      checkAgentAccess(request, request.params.id);
      const agent = await store.read.getAgent(request.principal.tenantId, request.params.id);
      if (!agent) throw notFound("agent", request.params.id);
      return agentHealth(store.read, agent, clock.nowMs());
    },
  );

  app.get(
    "/v1/agents/:id/activity",
    {
      schema: {
        tags: ["agents"],
        summary: "A page of the agent's events, newest first",
        description: "The journal events about this agent (its payments, approvals, credentials, policy…), newest first; `cursor` is the previous page's `next_cursor`. An agent credential may read its own.",
        params: wire.idParam,
        querystring: wire.agentActivityQuery,
        response: { 200: wire.page(wire.event) },
      },
      config: { scopes: ["events:read"], errors: ["not_found"] },
    },
    async (request) => {
      checkAgentAccess(request, request.params.id);
      const { tenantId } = request.principal;
      const agent = await store.read.getAgent(tenantId, request.params.id);
      if (!agent) throw notFound("agent", request.params.id);
      const { limit, cursor } = request.query;
      const events = await store.read.listEvents(tenantId, { agentId: agent.id, ascending: false, beforeSeq: cursor, limit: limit + 1 });
      const data = events.slice(0, limit);
      const hasMore = events.length > limit;
      return { data, has_more: hasMore, next_cursor: hasMore ? String(data[data.length - 1]!.seq) : null };
    },
  );

  app.patch(
    "/v1/agents/:id",
    { schema: { tags: ["agents"], summary: "Rename or describe an agent", description: "Changes an agent's name, description or metadata (JSON Merge Patch semantics: absent fields stay; `null` clears).", params: wire.idParam, body: wire.updateAgentBody, response: { 200: wire.agent } }, config: { example: {"body": {"description": "Pays supplier invoices up to £500"}}, scopes: ["agents:config"] } },
    async (request, reply) =>
      mutate(request, reply, (context) => updateAgent(context, request.params.id, request.body), (agent) => ({ status: 200, body: agentView(agent) })),
  );

  app.delete(
    "/v1/agents/:id",
    {
      schema: {
        tags: ["agents"],
        summary: "Disable an agent and revoke all its credentials (its wallet and history stay)", description: "Disables the agent and revokes its credential bindings, tokens and API keys at once. Its wallet, records and journal stay.",
        params: wire.idParam,
        response: { 200: wire.agent },
      },
      config: { scopes: ["agents:config"] },
    },
    async (request, reply) =>
      mutate(request, reply, (context) => disableAgent(context, request.params.id), (agent) => ({ status: 200, body: agentView(agent) })),
  );
};
