/**
 * `/v1/spend/authorizations` (authorize → execute → complete): an agent (scope `agents:execute`)
 * asks before it pays for something Bursar does not execute; owners may act for an agent with
 * `agent_id`. The answer is 201 whatever the decision (`authorized`, `pending_approval` or
 * `denied`, with reasons and next actions); a refused capability token is a 403 problem and
 * nothing is held. `POST …/{id}/complete` consumes (part of) the hold or releases it.
 */
import { authorizeSpend, completeSpend, spendAuthorizationView, wire, type SpendAuthorizationBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { actingAgent } from "./context.js";
import { recordReadRoutes } from "./records.js";

const tags = ["spend authorizations"];
const config = { scopes: ["agents:execute"] } as const;

const reads = recordReadRoutes<SpendAuthorizationBody>({
  path: "/v1/spend/authorizations",
  kind: "spend_authorization",
  noun: "spend authorization",
  tag: tags[0]!,
  scope: "agents:execute",
  view: spendAuthorizationView,
  schema: wire.spendAuthorization,
});

export const spendAuthorizationRoutes: RouteModule = (app, deps) => {
  const { mutate, store } = deps;
  app.post(
    "/v1/spend/authorizations",
    {
      schema: {
        tags,
        summary: "Authorize a spend: the policy decides and, unless denied, the most it may cost is held",
        body: wire.authorizeSpendBody,
        response: { 201: wire.spendAuthorization },
      },
      config,
    },
    async (request, reply) => {
      const body = request.body;
      const agent = await actingAgent(store, request, body.agent_id);
      return mutate(
        request,
        reply,
        (context) =>
          authorizeSpend(context, agent, {
            operation: body.operation, amountMinor: body.amount, currency: body.currency, vendor: body.vendor, payee: body.payee,
            toolCallId: body.tool_call_id, capabilityToken: body.capability_token, metadata: body.metadata, expiresInSeconds: body.expires_in,
          }),
        (authorization) => ({ status: 201, body: spendAuthorizationView(authorization) }),
      );
    },
  );

  app.post(
    "/v1/spend/authorizations/:id/complete",
    {
      schema: {
        tags,
        summary: "Complete a spend: consume what it cost (the rest is released) or release it all",
        params: wire.idParam,
        body: wire.completeSpendBody,
        response: { 200: wire.spendAuthorization },
      },
      config,
    },
    async (request, reply) => {
      const body = request.body;
      return mutate(
        request,
        reply,
        (context) =>
          completeSpend(context, request.params.id, request.principal.agentId, {
            outcome: body.outcome, amountMinor: body.amount, externalReference: body.external_reference, evidence: body.evidence,
          }),
        (authorization) => ({ status: 200, body: spendAuthorizationView(authorization) }),
      );
    },
  );

  reads(app, deps);
};
