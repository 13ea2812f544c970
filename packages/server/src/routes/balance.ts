/** `GET /v1/balance`: the calling agent's wallet; owners name the agent with `?agent_id=`. */
import { accountView, walletCacheEntriesMax, wire } from "@bursar/core";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { notFound } from "./context.js";
import { checkAgentAccess } from "./agents.js";

export const balanceRoutes: RouteModule = (app, { store }) => {
  /**
   * Wallet account ids by tenant and agent. An agent's wallet never changes, so this cache can
   * never be stale; it saves a read on the hot path of agents checking their balance.
   */
  const wallets = new Map<string, string>();
  async function walletOf(tenantId: string, agentId: string): Promise<string | null> {
    const key = `${tenantId}/${agentId}`;
    const cached = wallets.get(key);
    if (cached) return cached;
    const agent = await store.read.getAgent(tenantId, agentId);
    if (!agent) return null;
    if (wallets.size >= walletCacheEntriesMax) wallets.delete(wallets.keys().next().value!);
    wallets.set(key, agent.walletAccountId);
    return agent.walletAccountId;
  }

  app.get(
    "/v1/balance",
    {
      schema: { tags: ["agents"], summary: "An agent's wallet balance", description: "The calling agent's wallet balance (posted and available, after holds). Owners name the agent with `agent_id`.", querystring: wire.balanceQuery, response: { 200: wire.balance } },
      config: { errors: ["not_found"], example: {"query": "agent_id=agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7"}, scopes: ["agents:execute"] },
    },
    async (request) => {
      const { tenantId, agentId: own } = request.principal;
      const agentId = request.query.agent_id ?? own;
      if (agentId === null) throw new ProblemError("validation_failed", "name the agent with ?agent_id=");
      checkAgentAccess(request, agentId);
      const walletId = await walletOf(tenantId, agentId);
      if (!walletId) throw notFound("agent", agentId);
      const account = await store.read.getAccount(tenantId, walletId);
      if (!account) throw new Error(`agent ${agentId} without its wallet ${walletId}`);
      const view = accountView(account);
      return {
        object: "balance" as const,
        agent_id: agentId,
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
