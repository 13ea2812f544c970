/** `GET /v1/balance`: the calling agent's wallet; owners name the agent with `?agent_id=`. */
import { accountView, wire } from "@bursar/core";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { notFound } from "./context.js";
import { checkAgentAccess } from "./agents.js";

export const balanceRoutes: RouteModule = (app, { store }) => {
  app.get(
    "/v1/balance",
    {
      schema: { tags: ["agents"], summary: "An agent's wallet balance", querystring: wire.balanceQuery, response: { 200: wire.balance } },
      config: { scopes: ["agents:execute"] },
    },
    async (request) => {
      const { tenantId, agentId: own } = request.principal;
      const agentId = request.query.agent_id ?? own;
      if (agentId === null) throw new ProblemError("validation_failed", "name the agent with ?agent_id=");
      checkAgentAccess(request, agentId);
      const agent = await store.read.getAgent(tenantId, agentId);
      if (!agent) throw notFound("agent", agentId);
      const account = await store.read.getAccount(tenantId, agent.walletAccountId);
      if (!account) throw new Error(`agent ${agent.id} without its wallet ${agent.walletAccountId}`);
      const view = accountView(account);
      return {
        object: "balance" as const,
        agent_id: agent.id,
        currency: view.currency,
        balance: view.balance,
        balance_display: view.balance_display,
        available: view.available,
        available_display: view.available_display,
        account: view,
      };
    },
  );
};
