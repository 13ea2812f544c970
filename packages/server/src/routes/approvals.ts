/**
 * `/v1/approvals`: human decisions. Anyone with `transactions:read` sees them (an agent, only its
 * own); deciding needs `approvals:write`, an owner-only scope, and the core refuses any agent
 * credential as well.
 */
import { approvalView, decideApproval, listRecordsOf, loadRecord, wire, type ApprovalBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { listedAgentId, pageOf, visible } from "./context.js";

export const approvalRoutes: RouteModule = (app, deps) => {
  const { store } = deps;
  app.get(
    "/v1/approvals",
    { schema: { tags: ["approvals"], summary: "List approvals (?status=pending)", querystring: wire.recordListQuery, response: { 200: wire.page(wire.approval) } }, config: { scopes: ["transactions:read"] } },
    async (request) => {
      const { limit, cursor, agent_id, status } = request.query;
      const agentId = listedAgentId(request, agent_id);
      const rows = await listRecordsOf<ApprovalBody>(store.read, request.principal.tenantId, { kind: "approval", agentId, status, limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, approvalView);
    },
  );

  app.get(
    "/v1/approvals/:id",
    { schema: { tags: ["approvals"], summary: "Get an approval", params: wire.idParam, response: { 200: wire.approval } }, config: { scopes: ["transactions:read"] } },
    async (request) => {
      const { id } = request.params;
      return approvalView(visible(request, await loadRecord<ApprovalBody>(store.read, request.principal.tenantId, "approval", id), "approval", id));
    },
  );

  for (const verdict of ["approve", "reject"] as const) {
    app.post(
      `/v1/approvals/:id/${verdict}`,
      {
        schema: { tags: ["approvals"], summary: verdict === "approve" ? "Approve: the waiting action proceeds" : "Reject: the waiting action is cancelled and its money released", params: wire.idParam, body: wire.approvalDecisionBody.optional(), response: { 200: wire.approval } },
        config: { scopes: ["approvals:write"] },
      },
      async (request, reply) => {
        const { tenantId, agentId } = request.principal;
        let dispatch: string[] = [];
        const sent = await deps.mutate(
          request,
          reply,
          (context) => decideApproval(context, request.params.id, verdict, request.body?.note ?? null, agentId),
          (change) => {
            dispatch = change.dispatch;
            return { status: 200, body: approvalView(change.approval) };
          },
        );
        deps.rails?.dispatch(tenantId, dispatch.filter((id) => !id.startsWith("sr_")));
        deps.services?.dispatch(tenantId, dispatch.filter((id) => id.startsWith("sr_")));
        return sent;
      },
    );
  }
};
