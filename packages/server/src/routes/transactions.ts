/** `/v1/transactions`: executed payment legs as the rail reported them. */
import { listRecordsOf, loadRecord, transactionView, wire, type TransactionBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { listedAgentId, pageOf, visible } from "./context.js";

export const transactionRoutes: RouteModule = (app, { store }) => {
  app.get(
    "/v1/transactions",
    { schema: { tags: ["payments"], summary: "List transactions, newest first", querystring: wire.recordListQuery, response: { 200: wire.page(wire.transaction) } }, config: { scopes: ["transactions:read"] } },
    async (request) => {
      const { limit, cursor, agent_id, status } = request.query;
      const agentId = listedAgentId(request, agent_id);
      const rows = await listRecordsOf<TransactionBody>(store.read, request.principal.tenantId, { kind: "transaction", agentId, status, limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, transactionView);
    },
  );

  app.get(
    "/v1/transactions/:id",
    { schema: { tags: ["payments"], summary: "Get a transaction", params: wire.idParam, response: { 200: wire.transaction } }, config: { scopes: ["transactions:read"] } },
    async (request) => {
      const { id } = request.params;
      return transactionView(visible(request, await loadRecord<TransactionBody>(store.read, request.principal.tenantId, "transaction", id), "transaction", id));
    },
  );
};
