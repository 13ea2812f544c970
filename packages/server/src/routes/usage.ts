/**
 * `GET /v1/usage` (issue 15 item 4; docs/usage-and-triggers.md): spent, held and counts per day,
 * agent, team, payee or operation, read from the daily spend rollup (migration 22), so a year of
 * history answers in the time of a few hundred rows. Owners see the tenant (and may filter by
 * agent or team); an agent credential sees only its own spends.
 */
import { usageBucketsMax, usageRange, usageView, wire, type UsageGrouping } from "@bursar/core";
import { ProblemError } from "../http/problem.js";
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
      if (query.team_id !== undefined || query.group_by === "team") {
        throw new ProblemError("validation_failed", "team_id and group_by=team need teams, which this build does not have yet");
      }
      if (agentId !== undefined && !(await store.read.getAgent(tenantId, agentId))) throw notFound("agent", agentId);
      const rows = await store.read.usage(tenantId, { ...range, groupBy: query.group_by as UsageGrouping, agentId, limit: usageBucketsMax + 1 });
      const truncated = rows.length > usageBucketsMax;
      return usageView({ range, groupBy: query.group_by, agentId: agentId ?? null, teamId: null, rows: rows.slice(0, usageBucketsMax), truncated });
    },
  );
};
