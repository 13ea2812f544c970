/**
 * `/v1/spend/authorizations` (authorize → execute → complete): an agent (scope `agents:execute`)
 * asks before it pays for something Bursar does not execute; owners may act for an agent with
 * `agent_id`. The answer is 201 whatever the decision (`authorized`, `pending_approval` or
 * `denied`, with reasons and next actions); a refused capability token is a 403 problem and
 * nothing is held. `POST …/{id}/complete` consumes (part of) the hold or releases it.
 */
import { authorizeSpend, completeSpend, spendAuthorizationView, wire, type SpendAuthorizationBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { forActingAgent } from "./context.js";
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
  listDescription: "Spend authorizations, newest first; filter by `agent_id` and `status` (`authorized`, `pending_approval`, `denied`, `consumed`, `released`, `rejected`, `expired`). An agent sees its own.",
  getDescription: "One spend authorization: the decision, the amount held, what was consumed or released, and its expiry.",
  listExample: "status=authorized",
});

export const spendAuthorizationRoutes: RouteModule = (app, deps) => {
  const { mutate } = deps;
  app.post(
    "/v1/spend/authorizations",
    {
      schema: {
        tags,
        summary: "Authorize a spend: the policy decides and, unless denied, the most it may cost is held", description: "Before an agent pays for something Bursar does not execute (a paid API, an MCP tool, an x402 resource), it asks: the policy decides, and unless denied the most the call may cost is held in the ledger. The answer is 201 whatever the decision: `authorized` (go ahead, then complete), `pending_approval` (an owner decides), or `denied` with `reason_codes` and `available_actions`. A capability token, when given and valid, pre-approves it. See docs/spend.md.",
        body: wire.authorizeSpendBody,
        response: { 201: wire.spendAuthorization },
      },
      config: { errors: ["agent_disabled", "capability_agent_mismatch", "capability_currency_mismatch", "capability_exhausted", "capability_expired", "capability_invalid", "capability_operation_not_allowed", "capability_revoked", "capability_tenant_mismatch", "currency_mismatch", "escrow_already_settled", "escrow_disputed", "escrow_expired", "escrow_not_funded", "escrow_payout_pending", "not_found", "payee_ambiguous", "payee_not_found", "unknown_currency"], ...config, example: {"body": {"agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "operation": "openai.chat", "amount": 300, "currency": "GBP"}} },
    },
    async (request, reply) => {
      const body = request.body;
      return mutate(
        request,
        reply,
        forActingAgent(request, body.agent_id, (context, agent) =>
          authorizeSpend(context, agent, {
            operation: body.operation, amountMinor: body.amount, currency: body.currency, vendor: body.vendor, payee: body.payee,
            toolCallId: body.tool_call_id, capabilityToken: body.capability_token, metadata: body.metadata, expiresInSeconds: body.expires_in,
          }),
        ),
        (authorization) => ({ status: 201, body: spendAuthorizationView(authorization) }),
      );
    },
  );

  app.post(
    "/v1/spend/authorizations/:id/complete",
    {
      schema: {
        tags,
        summary: "Complete a spend: consume what it cost (the rest is released) or release it all", description: "Ends an authorization: `consumed` takes what the call cost (at most the authorized amount; the rest is released), `released` gives the whole hold back.",
        params: wire.idParam,
        body: wire.completeSpendBody,
        response: { 200: wire.spendAuthorization },
      },
      config: { errors: ["amount_exceeds_authorization", "authorization_already_completed", "authorization_expired", "authorization_not_authorized", "not_found", "pending_transfer_expired", "transfer_not_pending"], ...config, example: {"body": {"outcome": "consumed", "amount": 120, "external_reference": "chatcmpl-123"}} },
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
