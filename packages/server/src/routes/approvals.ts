/**
 * `/v1/approvals`: human decisions. Anyone with `transactions:read` sees them (an agent, only its
 * own); deciding needs `approvals:write`, an owner-only scope, and the core refuses any agent
 * credential as well.
 */
import { approvalView, decideApproval, wire, type ApprovalBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { recordReadRoutes } from "./records.js";

const approvalReads = recordReadRoutes<ApprovalBody>({
  path: "/v1/approvals",
  kind: "approval",
  noun: "approval",
  tag: "approvals",
  scope: "transactions:read",
  view: approvalView,
  schema: wire.approval,
  listDescription: "Approvals, newest first; `status=pending` lists what waits on an owner.",
  getDescription: "One approval: what it is for, the amount, why it was raised, when it expires, who decided.",
  listExample: "status=pending",
});

export const approvalRoutes: RouteModule = (app, deps) => {
  approvalReads(app, deps);

  for (const verdict of ["approve", "reject"] as const) {
    app.post(
      `/v1/approvals/:id/${verdict}`,
      {
        schema: {
          tags: ["approvals"],
          summary: verdict === "approve" ? "Approve: the waiting action proceeds" : "Reject: the waiting action is cancelled and its money released",
          description: verdict === "approve" ? "Approves: the held payment (or service request) executes. Only owners can decide; an agent credential never can (403 `approver_not_allowed`)." : "Rejects: the payment (or service request) is cancelled and its held money released.",
          params: wire.idParam,
          body: wire.approvalDecisionBody.optional(),
          response: { 200: wire.approval },
        },
        config: { scopes: ["approvals:write"], errors: ["approval_not_pending", "approver_not_allowed"], example: { body: { note: verdict === "approve" ? "Invoice checked" : "Not ours" } } },
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
