/** `GET /v1/events`: the tenant's journal as an audit log, with filters and cursor pagination. */
import { pageLimitMax, wire } from "@bursar/core";
import type { RouteModule } from "./context.js";

export const eventRoutes: RouteModule = (app, { store }) => {
  app.get(
    "/v1/events",
    {
      schema: {
        tags: ["events"],
        summary: "List events (the audit log)",
        description:
          "Newest first by default; `cursor` is the next_cursor of the previous page. With `after_seq`, oldest first from that point (journal order), and `cursor` continues forward.",
        querystring: wire.eventsQuery,
        response: { 200: wire.page(wire.event) },
      },
      config: { scopes: ["events:read"] },
    },
    async (request) => {
      const { limit, cursor, after_seq, type, agent_id } = request.query;
      const ascending = after_seq !== undefined;
      const types = type ? type.split(",").map((t) => t.trim()).filter(Boolean).slice(0, pageLimitMax) : undefined;
      const cursorSeq = cursor === undefined ? undefined : Number(cursor);
      const events = await store.read.listEvents(request.principal.tenantId, {
        limit: limit + 1,
        ascending,
        afterSeq: ascending ? (cursorSeq ?? after_seq) : undefined,
        beforeSeq: ascending ? undefined : cursorSeq,
        types,
        agentId: agent_id,
      });
      const data = events.slice(0, limit);
      const hasMore = events.length > limit;
      return { data, has_more: hasMore, next_cursor: hasMore ? String(data[data.length - 1]!.seq) : null };
    },
  );
};
