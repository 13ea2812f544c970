/**
 * Every event type Bursar journals, with the schema of its `data`: the one registry behind the
 * OpenAPI document's `webhooks` section (receivers type their handlers from it), the check in
 * `appendEvent` that no unregistered type is ever written, and the test that every event a run
 * produced matches its schema. A new event type is one line here.
 *
 * `data` is keyed by the type of the object the event is about, and holds that object as the API
 * returns it: `payment_intent.created` has `data.payment_intent` (what `GET
 * /v1/payment-intents/{id}` answers), `approval.approved` has `data.approval`. A few events add
 * a sibling (`approval_id`, `registration_ticket_id`, `rotated_from`) or, where the object is
 * large or unchanged, name it by id (`payment_intent_id`).
 */
import { z } from "zod";
import { approvalStatuses } from "../governance/approvals.js";
import { serviceRequestStatuses } from "../governance/service-requests.js";
import * as wire from "../wire/index.js";

/** A credential revoked because its agent was disabled: named, not shown in full. */
const revokedWithAgent = z.object({ id: z.string(), agent_id: z.string(), reason: z.literal("agent_disabled") });

const tenant = z.object({ id: z.string(), name: z.string(), created_at: wire.timestamp });
const user = z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable(), role: z.string() });
const personalAccessToken = z.object({ id: z.string(), user_id: z.string(), name: z.string().nullable(), scopes: z.array(z.string()), expires_at: wire.timestamp.nullable() });
const registrationTicket = z.object({ id: z.string(), agent_id: z.string(), scopes: z.array(z.string()), expires_at: wire.timestamp });
const refreshToken = z.object({ id: z.string(), family_id: z.string(), credential_binding_id: z.string() });
const intentDecision = z.strictObject({ payment_intent_id: z.string(), approval_id: z.string().nullable() });

/** `data` of one event type: an object keyed by what the event is about. */
const data = (shape: z.ZodRawShape) => z.strictObject(shape);

/** The same data for each `prefix.status`. */
function each<S extends string>(prefix: string, statuses: readonly S[], schema: z.ZodType): Record<string, z.ZodType> {
  return Object.fromEntries(statuses.map((status) => [`${prefix}.${status}`, schema]));
}

/** Event type → schema of its `data`. */
export const eventCatalog: Readonly<Record<string, z.ZodType>> = {
  "tenant.created": data({ tenant }),
  // `invite_id` when the member joined through a console invite.
  "user.created": data({ user, invite_id: z.string().optional() }),
  "user.role_changed": data({ user: z.strictObject({ id: z.string(), role: z.string(), previous_role: z.string() }) }),
  "user.removed": data({ user: z.strictObject({ id: z.string() }) }),
  // The owner console (console/sessions.ts): never a secret, only ids and times.
  "console.login_code.created": data({ login_code: z.strictObject({ id: z.string(), user_id: z.string(), expires_at: wire.timestamp }) }),
  "console.invite.created": data({ invite: z.strictObject({ id: z.string(), role: z.string(), expires_at: wire.timestamp }) }),
  "console.session.created": data({ session: z.strictObject({ id: z.string(), user_id: z.string(), via: z.string(), scopes: z.array(z.string()), expires_at: wire.timestamp }) }),
  "console.session.revoked": data({ session: z.strictObject({ id: z.string(), user_id: z.string() }) }),
  "personal_access_token.created": data({ personal_access_token: personalAccessToken }),

  "agent.created": data({ agent: wire.agent }),
  "agent.updated": data({ agent: wire.agent }),
  "agent.disabled": data({ agent: wire.agent }),
  "registration_ticket.created": data({ registration_ticket: registrationTicket }),
  "credential_binding.registered": data({ credential_binding: wire.credentialBinding, registration_ticket_id: z.string() }),
  "credential_binding.revoked": data({ credential_binding: z.union([wire.credentialBinding, revokedWithAgent]) }),
  "api_key.created": data({ api_key: wire.apiKey }),
  "api_key.rotated": data({ api_key: wire.apiKey, rotated_from: wire.apiKey }),
  "api_key.revoked": data({ api_key: z.union([wire.apiKey, revokedWithAgent]) }),
  "refresh_token.reuse_detected": data({ refresh_token: refreshToken }),

  "account.created": data({ account: wire.account }),
  ...each("transfer", ["created", "posted", "voided", "expired"], data({ transfer: wire.transfer })),

  "webhook_endpoint.created": data({ webhook_endpoint: wire.webhookEndpoint }),
  "webhook_endpoint.updated": data({ webhook_endpoint: wire.webhookEndpoint }),
  "webhook_endpoint.secret_rotated": data({ webhook_endpoint: wire.webhookEndpoint }),
  "webhook_endpoint.disabled": data({ webhook_endpoint: wire.webhookEndpoint }),
  "webhook_endpoint.deleted": data({ webhook_endpoint: wire.webhookEndpoint }),

  "payee.created": data({ payee: wire.payee }),
  "payee.updated": data({ payee: wire.payee }),
  "payee.deleted": data({ payee: wire.payee }),
  "policy.updated": data({ policy: wire.policyView }),
  "budget.updated": data({ agent_id: z.string(), budgets: z.array(wire.budget) }),
  // Teams, budget requests and spawned agents (issue 15, docs/teams.md).
  "team.created": data({ team: wire.team }),
  "team.updated": data({ team: wire.team }),
  "team.member_added": data({ team_id: z.string(), agent: wire.agent }),
  "team.member_removed": data({ team_id: z.string(), agent: wire.agent }),
  "team.allocation_set": data({ team_id: z.string(), allocation: wire.allocationEvent }),
  "budget_request.created": data({ budget_request: wire.budgetRequest }),
  "budget_request.approved": data({ budget_request: wire.budgetRequest }),
  "budget_request.rejected": data({ budget_request: wire.budgetRequest }),
  "agent.spawned": data({ agent: wire.agent, parent_agent_id: z.string(), spawn_depth: z.number().int(), scopes: z.array(z.string()), registration_ticket_id: z.string() }),
  "rail.configured": data({ rail_config: wire.railConfig }),
  "rail.secret_rotated": data({ rail_config: wire.railConfig }),

  "payment_intent.created": data({ payment_intent: wire.paymentIntent }),
  "payment_intent.approval_required": data({ payment_intent: wire.paymentIntent, approval_id: z.string() }),
  "payment_intent.approved": intentDecision,
  "payment_intent.rejected": intentDecision,
  "payment_intent.expired": intentDecision,
  ...each("payment_intent", ["executed", "failed", "cancelled"], data({ payment_intent: wire.paymentIntent })),
  ...each("transaction", ["pending", "completed", "failed"], data({ transaction: wire.transaction })),
  ...each("approval", ["created", ...approvalStatuses.filter((status) => status !== "pending")], data({ approval: wire.approval })),

  ...each("spend_authorization", ["created", "authorized", "consumed", "released", "rejected", "expired"], data({ spend_authorization: wire.spendAuthorization })),
  "capability.created": data({ capability: wire.capability }),
  "capability.revoked": data({ capability: wire.capability }),

  ...each(
    "escrow_intent",
    ["created", "funded", "funding_pending_approval", "funding_denied", "evidence_submitted", "disputed", "released", "refunded", "split", "expired"],
    data({ escrow_intent: wire.escrowIntent }),
  ),
  "signing_key.created": data({ signing_key: wire.signingKey }),
  "signing_key.revoked": data({ signing_key: wire.signingKey }),

  "service.created": data({ service: wire.service }),
  "service.updated": data({ service: wire.service }),
  "service.deleted": data({ service: wire.service }),
  "service_request.created": data({ service_request: wire.serviceRequest }),
  "service_request.approval_required": data({ service_request: wire.serviceRequest, approval_id: z.string() }),
  ...each(
    "service_request",
    serviceRequestStatuses.filter((status) => status !== "approval_required"),
    data({ service_request: wire.serviceRequest }),
  ),
};

/** True when `type` is a registered event type. */
export function isKnownEventType(type: string): boolean {
  return Object.hasOwn(eventCatalog, type);
}

/** The registered event types, sorted. */
export function knownEventTypes(): string[] {
  return Object.keys(eventCatalog).sort();
}
