/**
 * `/v1/budget-requests` (issue 15, docs/teams.md): an agent asks for more budget; a manager of
 * its team (`teams:manage`, named on the team) or an owner who configures agents
 * (`agents:config`) approves, all or less, or rejects. `approvals:write` alone is not enough: a
 * budget is configuration, not one action's approval, and an approver decides only the budgets
 * of the teams they manage. An agent credential reads only its own
 * requests and can never decide one, not even its own.
 */
import { budgetRequestView, createBudgetRequest, decideBudgetRequest, loadRecord, loadTeam, wire, type BudgetRequestBody } from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { forActingAgent, notFound } from "./context.js";
import { recordReadRoutes } from "./records.js";
import { mayManageTeam } from "./teams.js";

const reads = recordReadRoutes<BudgetRequestBody>({
  path: "/v1/budget-requests",
  kind: "budget_request",
  noun: "budget request",
  tag: "teams",
  scope: "budgets:read",
  view: budgetRequestView,
  schema: wire.budgetRequest,
  listDescription: "Budget requests, newest first; `status=pending` lists what waits on a manager or owner. An agent credential sees only its own.",
  getDescription: "One budget request: who asked, how much more for which period and why, the blocked action, and the decision.",
  listExample: "status=pending",
});

export const budgetRequestRoutes: RouteModule = (app, deps) => {
  const { mutate, store } = deps;
  reads(app, deps);

  app.post(
    "/v1/budget-requests",
    {
      schema: {
        tags: ["teams"],
        summary: "Ask for more budget",
        description: "An agent asks for `amount` more per `period`, with a `reason` and optionally the blocked action it wants to retry (a denial with `request_budget` in `available_actions` is the cue). Owners may ask on an agent's behalf with `agent_id`.",
        body: wire.createBudgetRequestBody,
        response: { 201: wire.budgetRequest },
      },
      config: { scopes: ["agents:execute"], errors: ["agent_disabled", "limit_exceeded", "not_found"], example: { body: { amount: 5000, period: "daily", reason: "The April invoice is larger than usual", action: { kind: "payment", amount: 50000, currency: "GBP", payee: "Bob" } } } },
    },
    async (request, reply) => {
      const { amount, currency, period, reason, action } = request.body;
      return mutate(request, reply, forActingAgent(request, request.body.agent_id, (context, agent) => createBudgetRequest(context, agent, { amount, currency, period, reason, action })), (created) => ({ status: 201, body: budgetRequestView(created) }));
    },
  );

  /** Owners with agents:config decide any request; a team's manager decides its members'. */
  async function checkMayDecide(request: FastifyRequest, requestId: string): Promise<void> {
    const { tenantId, agentId, scopes } = request.principal;
    const found = await loadRecord<BudgetRequestBody>(store.read, tenantId, "budget_request", requestId);
    if (!found || (agentId !== null && found.agentId !== agentId)) throw notFound("budget request", requestId);
    // The core refuses every agent credential with approver_not_allowed.
    if (agentId !== null || scopes.includes("agents:config")) return;
    const team = found.body.team_id === null ? null : await loadTeam(store.read, tenantId, found.body.team_id);
    if (!mayManageTeam(request, team)) throw new ProblemError("insufficient_scope", "Deciding this request needs `agents:config`, or `teams:manage` as a manager of the agent's team.");
  }

  for (const verdict of ["approve", "reject"] as const) {
    app.post(
      `/v1/budget-requests/:id/${verdict}`,
      {
        schema: {
          tags: ["teams"],
          summary: verdict === "approve" ? "Approve: raise the agent's allocation or budget" : "Reject the request",
          description:
            verdict === "approve"
              ? "Raises, in the same write, the agent's team allocation for that period (within the pool: 409 `allocation_exceeds_pool`), else its budget. `amount` approves less than asked. An agent credential never decides (403 `approver_not_allowed`)."
              : "Rejects the request; nothing changes. An agent credential never decides (403 `approver_not_allowed`).",
          params: wire.idParam,
          body: (verdict === "approve" ? wire.decideBudgetRequestBody : wire.rejectBudgetRequestBody).optional(),
          response: { 200: wire.budgetRequest },
        },
        config: {
          scopes: [],
          errors: ["approver_not_allowed", "budget_request_not_pending", "insufficient_scope", ...(verdict === "approve" ? (["allocation_exceeds_pool", "limit_exceeded"] as const) : [])],
          example: { body: verdict === "approve" ? { amount: 2500, note: "Half now, the rest next week" } : { note: "Not this month" } },
        },
      },
      async (request, reply) => {
        await checkMayDecide(request, request.params.id);
        const body = (request.body ?? {}) as { amount?: number; note?: string };
        return mutate(
          request,
          reply,
          (context) => decideBudgetRequest(context, request.params.id, verdict, { amount: body.amount, note: body.note ?? null }, request.principal.agentId),
          (decided) => ({ status: 200, body: budgetRequestView(decided) }),
        );
      },
    );
  }
};
