/**
 * An agent's policy and budgets (`/v1/agents/{id}/policy`, `/v1/agents/{id}/budgets`), and the
 * dry run `POST /v1/policy/check`. An agent credential reads its own; owners edit.
 */
import { budgetView, checkCapability, defaultVendorOf, previewSpend, loadBudgets, loadPolicy, policyView, resolvePayee, setBudgets, setPolicy, wire, type AgentRow } from "@bursar/core";
import { ProblemError } from "../http/problem.js";
import type { FastifyRequest } from "fastify";
import type { Store } from "@bursar/core";
import { checkAgentAccess } from "./agents.js";
import type { RouteModule } from "./context.js";
import { actingAgentId, notFound, orProblem } from "./context.js";

/** The agent and its wallet currency, or "not found". */
export async function loadAgentWallet(store: Store, request: FastifyRequest, agentId: string): Promise<{ agent: AgentRow; currency: string }> {
  const { tenantId } = request.principal;
  const agent = await store.read.getAgent(tenantId, agentId);
  if (!agent) throw notFound("agent", agentId);
  const wallet = await store.read.getAccount(tenantId, agent.walletAccountId);
  if (!wallet) throw new Error(`agent ${agentId} without its wallet`);
  return { agent, currency: wallet.currency };
}

export const policyRoutes: RouteModule = (app, { mutate, store, clock }) => {
  app.get(
    "/v1/agents/:id/policy",
    { schema: { tags: ["governance"], summary: "The agent's policy in force", description: "The policy the agent runs under: limits per transaction and per period, payee and currency lists, approval threshold. `is_default: true` while no owner has set one (the default spend-limits a new agent; see docs/concepts.md).", params: wire.idParam, response: { 200: wire.policyView } }, config: { scopes: [] } },
    async (request) => {
      checkAgentAccess(request, request.params.id);
      const { currency } = await loadAgentWallet(store, request, request.params.id);
      return policyView(request.params.id, await loadPolicy(store.read, request.principal.tenantId, request.params.id, currency));
    },
  );

  app.put(
    "/v1/agents/:id/policy",
    { schema: { tags: ["governance"], summary: "Replace the agent's policy", description: "Replaces the whole policy (every field). To change one field, `PATCH` it instead.", params: wire.idParam, body: wire.policy, response: { 200: wire.policyView } }, config: { example: {"body": {"currency": "GBP", "per_transaction_max_minor": 50000, "amount_max_minor": {"daily": 100000}, "count_max": {"daily": 20}, "allowed_payee_ids": null, "blocked_payee_ids": [], "allowed_currencies": ["GBP"], "allowed_services": null, "approval_threshold_minor": 20000, "new_payee_requires_approval": false, "approval_expiry_seconds": 86400}}, scopes: ["agents:config"] } },
    async (request, reply) => {
      await loadAgentWallet(store, request, request.params.id);
      return mutate(request, reply, (context) => setPolicy(context, request.params.id, request.body), (agentPolicy) => ({ status: 200, body: policyView(request.params.id, agentPolicy) }));
    },
  );

  app.patch(
    "/v1/agents/:id/policy",
    {
      schema: {
        tags: ["governance"],
        summary: "Change some fields of the agent's policy (JSON Merge Patch)",
        description:
          "Changes only the fields given (JSON Merge Patch, RFC 7396): absent fields stay, `null` clears a nullable limit or list, objects such as `amount_max_minor` merge key by key (`null` removes a key). Send `application/json` or `application/merge-patch+json`. The merged policy must be valid, as for a PUT.",
        params: wire.idParam,
        body: wire.policyPatch,
        response: { 200: wire.policyView },
      },
      config: { scopes: ["agents:config"], example: { body: { approval_threshold_minor: 30000, amount_max_minor: { daily: 200000 } } } },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      const { currency } = await loadAgentWallet(store, request, request.params.id);
      const current = await loadPolicy(store.read, tenantId, request.params.id, currency);
      const merged = wire.policy.safeParse(wire.mergePolicyPatch(current.policy, request.body as Record<string, unknown>));
      if (!merged.success) {
        const errors = merged.error.issues.map((issue) => ({ path: ["body", ...issue.path.map(String)].join("."), code: issue.code, detail: issue.message }));
        throw new ProblemError("validation_failed", "The policy after this patch is invalid.", { errors });
      }
      return mutate(request, reply, (context) => setPolicy(context, request.params.id, merged.data), (agentPolicy) => ({ status: 200, body: policyView(request.params.id, agentPolicy) }));
    },
  );

  app.get(
    "/v1/agents/:id/budgets",
    { schema: { tags: ["governance"], summary: "The agent's budgets", description: "The agent's budgets: an amount per period (daily, weekly, monthly, all time) on top of its policy.", params: wire.idParam, response: { 200: wire.budgetList } }, config: { scopes: ["budgets:read"] } },
    async (request) => {
      checkAgentAccess(request, request.params.id);
      await loadAgentWallet(store, request, request.params.id);
      const budgets = await loadBudgets(store.read, request.principal.tenantId, request.params.id);
      return { object: "list" as const, agent_id: request.params.id, data: budgets.map(budgetView) };
    },
  );

  app.put(
    "/v1/agents/:id/budgets",
    { schema: { tags: ["governance"], summary: "Replace the agent's budgets", description: "Replaces the agent's budgets (an empty list removes them).", params: wire.idParam, body: wire.budgetsBody, response: { 200: wire.budgetList } }, config: { example: {"body": {"budgets": [{"period": "monthly", "amount": 250000, "currency": "GBP"}]}}, scopes: ["agents:config"] } },
    async (request, reply) => {
      await loadAgentWallet(store, request, request.params.id);
      return mutate(request, reply, (context) => setBudgets(context, request.params.id, request.body.budgets), (budgets) => ({
        status: 200,
        body: { object: "list" as const, agent_id: request.params.id, data: budgets.map(budgetView) },
      }));
    },
  );

  app.post(
    "/v1/policy/check",
    { schema: { tags: ["governance"], summary: "Dry run: what would happen to this action now, and why (no side effects)", description: "What would happen to this payment or service request now, and why: the `decision` (`allow`, `approval_required`, `deny`), its `reason_codes`, the `remaining` amounts and counts, and the `available_actions`. No side effects; nothing is held.", body: wire.policyCheckBody, response: { 200: wire.decision } }, config: { errors: ["not_found", "payee_ambiguous", "payee_not_found", "capability_agent_mismatch", "capability_currency_mismatch", "capability_exhausted", "capability_expired", "capability_invalid", "capability_operation_not_allowed", "capability_revoked", "capability_tenant_mismatch"], example: {"body": {"agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "amount": 50000, "currency": "GBP", "payee": "Bob"}}, scopes: ["agents:execute"], safe: true } },
    async (request) => {
      const { tenantId } = request.principal;
      const body = request.body;
      const agentId = actingAgentId(request, body.agent_id);
      const { agent } = await loadAgentWallet(store, request, agentId);
      const payeeId = body.payee === undefined ? undefined : orProblem(await resolvePayee(store.read, tenantId, body.payee)).id;
      const nowMs = clock.nowMs();
      let vendor = body.vendor;
      let preApproved = false;
      if (body.kind === "spend_authorization") {
        if (body.operation === undefined || !wire.operationName.safeParse(body.operation).success) {
          throw new ProblemError("validation_failed", "a spend authorization names its `operation`: dotted words of letters, digits, `_` or `-`");
        }
        vendor ??= defaultVendorOf(body.operation);
        if (body.capability_token !== undefined) {
          const tenant = await store.read.getTenant(tenantId);
          if (!tenant) throw new Error(`tenant ${tenantId} missing`);
          // The same refusal the authorization would meet (a 403 with the capability's code).
          orProblem(await checkCapability(store.read, tenant, body.capability_token, { agentId, operation: body.operation, amountMinor: body.amount, currency: body.currency }, nowMs));
          preApproved = true;
        }
      }
      const { decision, policy } = await previewSpend(
        store.read,
        agent,
        { kind: body.kind, amountMinor: body.amount, currency: body.currency, payeeId, service: body.service, operation: body.operation, vendor, preApproved },
        nowMs,
      );
      return { object: "policy_decision" as const, ...decision, policy_id: policy.id };
    },
  );
};
