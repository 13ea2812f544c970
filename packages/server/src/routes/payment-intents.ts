/**
 * `/v1/payment-intents`: an agent (scope `agents:execute`) asks to pay; owners may act for an
 * agent with `agent_id`. The answer is the intent after the write: legs on the sandbox rail are
 * already completed; legs on asynchronous rails are `executing` (poll, or listen for events).
 */
import { createPaymentIntent, fail, ok, paymentIntentView, wire, type CreatePaymentIntentInput, type PaymentIntentBody, type PaymentInstruction, type Result } from "@bursar/core";
import { z } from "zod";
import type { RouteModule } from "./context.js";
import { forActingAgent, orProblem } from "./context.js";
import { recordReadRoutes } from "./records.js";

const createBody = wire.createPaymentIntentBody.extend({ agent_id: z.string().max(64).optional().describe("Owners: the agent to pay for") });

const paymentIntentReads = recordReadRoutes<PaymentIntentBody>({
  path: "/v1/payment-intents",
  kind: "payment_intent",
  noun: "payment intent",
  tag: "payments",
  scope: "transactions:read",
  view: paymentIntentView,
  schema: wire.paymentIntent,
  listDescription: "Payment intents, newest first; filter by `agent_id` and `status`. An agent sees its own.",
  getDescription: "One payment intent: its legs with their decisions and statuses, its approval and the transactions it made.",
  listExample: "status=pending_approval",
});

/**
 * The core's input for a `POST /v1/payment-intents` body: `instructions`, or one leg's fields at
 * the top level. Shared with triggers (routes/triggers.ts), whose rendered payload is this body.
 */
export function paymentIntentInput(body: z.infer<typeof wire.createPaymentIntentBody>): Result<CreatePaymentIntentInput> {
  const instructions: PaymentInstruction[] = body.instructions
    ? body.instructions.map((leg) => ({ payee: (leg.payee_id ?? leg.payee)!, amountMinor: leg.amount, currency: leg.currency, reference: leg.reference }))
    : [];
  if (!body.instructions) {
    const payee = body.payee_id ?? body.payee;
    if (payee === undefined || body.amount === undefined || body.currency === undefined) {
      return fail("validation_failed", "give `instructions`, or `payee` (or `payee_id`), `amount` and `currency`");
    }
    instructions.push({ payee, amountMinor: body.amount, currency: body.currency, reference: body.reference });
  } else if (body.payee !== undefined || body.payee_id !== undefined || body.amount !== undefined) {
    return fail("validation_failed", "give either `instructions` or a single leg's fields, not both");
  }
  return ok({ instructions, reference: body.reference, metadata: body.metadata });
}

export const paymentIntentRoutes: RouteModule = (app, deps) => {
  const { mutate, rails } = deps;
  app.post(
    "/v1/payment-intents",
    { schema: { tags: ["payments"], summary: "Ask to pay: each leg is decided by policy, held, then executed or sent for approval", description: "Each leg is checked against the agent's policy and budgets and held in the ledger in the same transaction, then executed on the payee's rail, or held for an owner's approval (`approval_status: pending_approval`, `approval_id`), or denied with `reason_codes` and `available_actions`. Owners act for an agent with `agent_id`.", body: createBody, response: { 201: wire.paymentIntent } }, config: { errors: ["agent_disabled", "currency_mismatch", "not_found", "payee_ambiguous", "payee_not_found", "rail_not_configured", "unknown_currency"], example: {"body": {"agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "payee": "Bob", "amount": 50000, "currency": "GBP", "reference": "April invoice"}}, scopes: ["agents:execute"] } },
    async (request, reply) => {
      const { tenantId } = request.principal;
      const body = request.body;
      const input = orProblem(paymentIntentInput(body));
      let dispatch: string[] = [];
      const sent = await mutate(
        request,
        reply,
        forActingAgent(request, body.agent_id, (context, agent) => createPaymentIntent(context, agent, input)),
        (change) => {
          dispatch = change.dispatch;
          return { status: 201, body: paymentIntentView(change.intent) };
        },
      );
      rails?.dispatch(tenantId, dispatch);
      return sent;
    },
  );

  paymentIntentReads(app, deps);
};
