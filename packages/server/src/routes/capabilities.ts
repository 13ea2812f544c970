/**
 * `/v1/capabilities` (owners, scope `agents:config`): pre-approved allowances for an agent. The
 * token is in the create answer only (never in an idempotent replay, never listed); the terms
 * and usage are listed, and `DELETE` revokes.
 */
import { capabilityView, listRecordsOf, loadRecord, mintCapability, revokeCapability, wire, type CapabilityBody } from "@bursar/core";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { listedAgentId, pageOf, notFound } from "./context.js";

const tags = ["capabilities"];
const config = { scopes: ["agents:config"] } as const;

export const capabilityRoutes: RouteModule = (app, { mutate, store, clock }) => {
  app.post(
    "/v1/capabilities",
    {
      schema: { tags, summary: "Mint a capability: a signed pre-approval for one agent (the token is shown once)", description: "An owner's pre-approval for one agent: the operations it covers, the most all authorizations under it may take, an expiry and optionally a number of uses. Signed by the tenant; the token is in this answer only.", body: wire.createCapabilityBody, response: { 201: wire.capabilityWithToken } },
      config: { errors: ["not_found"], example: {"body": {"agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "allowed_operations": ["openai.*"], "max_amount": 5000, "currency": "GBP", "expires_at": "2026-12-31T00:00:00Z", "max_uses": 100}}, ...config, secretFields: ["token"] },
    },
    async (request, reply) => {
      const body = request.body;
      const expiresAtMs = Date.parse(body.expires_at);
      if (expiresAtMs > clock.nowMs() + wire.capabilityLifetimeMs) throw new ProblemError("validation_failed", "expires_at may be at most 90 days ahead");
      if (!(await store.read.getAgent(request.principal.tenantId, body.agent_id))) throw notFound("agent", body.agent_id);
      return mutate(
        request,
        reply,
        (context) =>
          mintCapability(context, {
            agentId: body.agent_id, allowedOperations: body.allowed_operations, maxAmountMinor: body.max_amount, currency: body.currency,
            expiresAtMs, maxUses: body.max_uses ?? null, description: body.description ?? null,
          }),
        ({ capability, token }) => ({ status: 201, body: { ...capabilityView(capability), token } }),
      );
    },
  );

  app.get(
    "/v1/capabilities",
    { schema: { tags, summary: "List capabilities, newest first", description: "The tenant's capabilities, newest first, with what is left of each; filter by agent and status.", querystring: wire.capabilityListQuery, response: { 200: wire.page(wire.capability) } }, config },
    async (request) => {
      const { limit, cursor, agent_id, status } = request.query;
      const rows = await listRecordsOf<CapabilityBody>(store.read, request.principal.tenantId, { kind: "capability", agentId: listedAgentId(request, agent_id), status, limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, capabilityView);
    },
  );

  app.get(
    "/v1/capabilities/:id",
    { schema: { tags, summary: "Get a capability: its terms and what is left", description: "One capability: its terms, the amount and uses left, and its status.", params: wire.idParam, response: { 200: wire.capability } }, config },
    async (request) => {
      const found = await loadRecord<CapabilityBody>(store.read, request.principal.tenantId, "capability", request.params.id);
      if (!found) throw notFound("capability", request.params.id);
      return capabilityView(found);
    },
  );

  app.delete(
    "/v1/capabilities/:id",
    { schema: { tags, summary: "Revoke a capability: authorizations can no longer present it", description: "Revokes the capability at once: authorizations can no longer present its token.", params: wire.idParam, response: { 200: wire.capability } }, config },
    async (request, reply) => mutate(request, reply, (context) => revokeCapability(context, request.params.id), (capability) => ({ status: 200, body: capabilityView(capability) })),
  );
};
