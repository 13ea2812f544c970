/**
 * `/v1/teams` (issue 15, docs/teams.md): teams of agents, their managers, budget pools and
 * allocations. Owners with `agents:config` manage every team; a member named in a team's
 * `manager_ids` manages that team with `teams:manage`. Reads need `budgets:read`; an agent
 * credential sees only its own team (any other id is "not found").
 */
import {
  addTeamMember,
  agentView,
  createTeam,
  isTeamManager,
  listRecordsOf,
  loadTeam,
  removeTeamMember,
  setAllocation,
  teamUsage,
  teamView,
  updateTeam,
  wire,
  type Store,
  type TeamBody,
  type TeamRecord,
  teamMembersMax,
} from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { requireScope } from "../http/auth.js";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

/** Whether the caller may manage `team`: `agents:config`, or `teams:manage` and named its manager. */
export function mayManageTeam(request: FastifyRequest, team: TeamRecord | null): boolean {
  const { principalType, principalId, agentId, scopes } = request.principal;
  if (agentId !== null) return false;
  if (scopes.includes("agents:config")) return true;
  return team !== null && scopes.includes("teams:manage") && principalType === "user" && isTeamManager(team, principalId);
}

/** The team the caller may manage, or 404 (agents, and strangers to it) / 403 (a member without the scope). */
async function managedTeam(store: Store, request: FastifyRequest, teamId: string): Promise<TeamRecord> {
  const team = await loadTeam(store.read, request.principal.tenantId, teamId);
  if (!team || request.principal.agentId !== null) throw notFound("team", teamId);
  if (!mayManageTeam(request, team)) throw new ProblemError("insufficient_scope", "Managing this team needs `agents:config`, or `teams:manage` as one of its managers.");
  return team;
}

/** The team the caller may read: an agent only its own. */
async function visibleTeam(store: Store, request: FastifyRequest, teamId: string): Promise<TeamRecord> {
  const { tenantId, agentId } = request.principal;
  const team = await loadTeam(store.read, tenantId, teamId);
  if (!team) throw notFound("team", teamId);
  if (agentId !== null) {
    const self = await store.read.getAgent(tenantId, agentId);
    if (self?.teamId !== teamId) throw notFound("team", teamId);
  }
  return team;
}

const manageErrors = ["insufficient_scope"] as const;

export const teamRoutes: RouteModule = (app, { mutate, store, clock }) => {
  app.get(
    "/v1/teams",
    { schema: { tags: ["teams"], summary: "List teams, newest first", description: "The tenant's teams with their pools and allocations. An agent credential sees only its own team.", querystring: wire.pageQuery, response: { 200: wire.page(wire.team) } }, config: { scopes: ["budgets:read"] } },
    async (request) => {
      const { tenantId, agentId } = request.principal;
      if (agentId !== null) {
        const self = await store.read.getAgent(tenantId, agentId);
        const team = self?.teamId ? await loadTeam(store.read, tenantId, self.teamId) : null;
        return { data: team ? [teamView(team)] : [], has_more: false, next_cursor: null };
      }
      const { limit, cursor } = request.query;
      const rows = await listRecordsOf<TeamBody>(store.read, tenantId, { kind: "team", limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, (team) => teamView(team));
    },
  );

  app.post(
    "/v1/teams",
    {
      schema: { tags: ["teams"], summary: "Create a team", description: "Creates a team with its managers (members of the tenant) and budget pools, one per period and currency. Agents join with `POST /v1/teams/{id}/members`.", body: wire.createTeamBody, response: { 201: wire.team } },
      config: { scopes: ["agents:config"], errors: ["limit_exceeded", "not_found"], example: { body: { name: "Research", manager_ids: ["usr_01JD5Y4Q7X8ZK3M2N1P0R9S8T7"], pools: [{ period: "monthly", currency: "GBP", amount: 500000 }] } } },
    },
    async (request, reply) => mutate(request, reply, (context) => createTeam(context, request.body), (team) => ({ status: 201, body: teamView(team) })),
  );

  app.get(
    "/v1/teams/:id",
    { schema: { tags: ["teams"], summary: "Get a team with its pools' use", description: "The team view: each pool's amount, what is allocated from it, what the members spent (settled) and hold now over its trailing window, and what remains.", params: wire.idParam, response: { 200: wire.team } }, config: { scopes: ["budgets:read"] } },
    async (request) => {
      const team = await visibleTeam(store, request, request.params.id);
      return teamView(team, await teamUsage(store.read, team, clock.nowMs()));
    },
  );

  app.patch(
    "/v1/teams/:id",
    {
      schema: { tags: ["teams"], summary: "Change a team", description: "Changes the name, description, managers or pools (a list given replaces the old one). A pool may not fall below what is allocated from it (409 `pool_below_allocations`). Managers may change pools; only `agents:config` changes managers.", params: wire.idParam, body: wire.updateTeamBody, response: { 200: wire.team } },
      config: { scopes: [], errors: [...manageErrors, "pool_below_allocations", "limit_exceeded"], example: { body: { pools: [{ period: "monthly", currency: "GBP", amount: 750000 }] } } },
    },
    async (request, reply) => {
      await managedTeam(store, request, request.params.id);
      if (request.body.manager_ids !== undefined) requireScope(request, "agents:config");
      return mutate(request, reply, (context) => updateTeam(context, request.params.id, request.body), (team) => ({ status: 200, body: teamView(team) }));
    },
  );

  app.get(
    "/v1/teams/:id/members",
    { schema: { tags: ["teams"], summary: "The team's agents", description: "The agents of the team, oldest first.", params: wire.idParam, response: { 200: wire.teamMembers } }, config: { scopes: ["budgets:read"] } },
    async (request) => {
      const team = await visibleTeam(store, request, request.params.id);
      const members = await store.read.listTeamAgents(request.principal.tenantId, team.id, teamMembersMax);
      return { object: "list" as const, team_id: team.id, data: members.map(agentView) };
    },
  );

  app.post(
    "/v1/teams/:id/members",
    {
      schema: { tags: ["teams"], summary: "Add an agent to the team", description: "The agent's spending counts against the team's pools from its next decision. An agent belongs to one team at most (409 `agent_in_another_team`).", params: wire.idParam, body: wire.teamMemberBody, response: { 200: wire.agent } },
      config: { scopes: [], errors: [...manageErrors, "agent_in_another_team", "limit_exceeded"], example: { body: { agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7" } } },
    },
    async (request, reply) => {
      await managedTeam(store, request, request.params.id);
      return mutate(request, reply, (context) => addTeamMember(context, request.params.id, request.body.agent_id), (agent) => ({ status: 200, body: agentView(agent) }));
    },
  );

  app.delete(
    "/v1/teams/:id/members/:agent_id",
    {
      schema: { tags: ["teams"], summary: "Remove an agent from the team", description: "The agent leaves the team with its allocations; its past spends stay in the books but no longer count against the pools.", params: wire.teamMemberParams, response: { 200: wire.agent } },
      config: { scopes: [], errors: [...manageErrors] },
    },
    async (request, reply) => {
      await managedTeam(store, request, request.params.id);
      return mutate(request, reply, (context) => removeTeamMember(context, request.params.id, request.params.agent_id), (agent) => ({ status: 200, body: agentView(agent) }));
    },
  );

  app.post(
    "/v1/teams/:id/allocations",
    {
      schema: { tags: ["teams"], summary: "Carve an agent's budget out of a pool", description: "Sets the member's allocation from the pool of `period` (and `currency`) to `amount` (0 removes it): the agent may spend at most that over the window, and the allocations of a pool never sum past it (409 `allocation_exceeds_pool`, exact under concurrency).", params: wire.idParam, body: wire.allocationBody, response: { 200: wire.team } },
      config: { scopes: [], errors: [...manageErrors, "allocation_exceeds_pool", "team_pool_not_found", "limit_exceeded"], example: { body: { agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", period: "monthly", amount: 100000 } } },
    },
    async (request, reply) => {
      const team = await managedTeam(store, request, request.params.id);
      const { agent_id, period, amount } = request.body;
      let currency = request.body.currency;
      if (currency === undefined) {
        const pools = team.body.pools.filter((pool) => pool.period === period);
        if (pools.length !== 1) throw new ProblemError("validation_failed", `name the currency: the team has ${pools.length} ${period} pools`);
        currency = pools[0]!.currency;
      }
      return mutate(request, reply, (context) => setAllocation(context, team.id, { agent_id, period, currency, amount }), (saved) => ({ status: 200, body: teamView(saved) }));
    },
  );
};
