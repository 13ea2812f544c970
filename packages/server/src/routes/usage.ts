/**
 * `GET /v1/usage` (issue 15 item 4; docs/teams.md): spent, held and counts per day,
 * agent, team, payee or operation, read from the daily spend rollup (migration 22), so a year of
 * history answers in the time of a few hundred rows. Owners see the tenant (and may filter by
 * agent or team); an agent credential sees only its own spends.
 */
import { loadTeam, usageBucketsMax, usageRange, usageView, wire } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { listedAgentId, notFound, orProblem } from "./context.js";

export const usageRoutes: RouteModule = (app, { store, clock }) => {
  app.get(
    "/v1/usage",
    {
      schema: {
        tags: ["usage"],
        summary: "Spent, held and counts per day, agent, team, payee or operation (for charts)",
        description:
          "Buckets of the spends Bursar records (payments, service requests, spend authorizations), over whole UTC days: `from` rounds down to its day, `to` up to the end of its day; at most a year and a day per query. " +
          "`spent` is what settled, `held` what is held now; released holds count nowhere. Read from a daily rollup, never by scanning spends. An agent credential sees only its own.",
        querystring: wire.usageQuery,
        response: { 200: wire.usage },
      },
      config: { scopes: ["transactions:read"], errors: ["not_found", "validation_failed"], example: { query: "group_by=day&from=2026-11-01&to=2026-11-30" } },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const query = request.query;
      const range = orProblem(usageRange(query.from, query.to, clock.nowMs()));
      const agentId = listedAgentId(request, query.agent_id);
      const agent = agentId === undefined ? null : await store.read.getAgent(tenantId, agentId);
      if (agentId !== undefined && !agent) throw notFound("agent", agentId);
      const teamId = query.team_id;
      if (teamId !== undefined) {
        // An agent credential names only its own team (and still sees only its own spends).
        const own = request.principal.agentId !== null;
        if ((own && agent?.teamId !== teamId) || !(await loadTeam(store.read, tenantId, teamId))) throw notFound("team", teamId);
      }
      const rows = await store.read.usage(tenantId, { ...range, groupBy: query.group_by, agentId, teamId, limit: usageBucketsMax + 1 });
      const truncated = rows.length > usageBucketsMax;
      return usageView({ range, groupBy: query.group_by, agentId: agentId ?? null, teamId: teamId ?? null, rows: rows.slice(0, usageBucketsMax), truncated });
    },
  );
};
