/** Narrowing events (from lists, streams and webhooks) to a known type. */
import type { BursarEvent, EventDataMap, EventOf } from "./types.ts";

/**
 * True when `event` has `type`; narrows its `data` to that type's shape.
 *
 * @example
 * for await (const event of bursar.events.stream()) {
 *   if (isEventType(event, "transfer.posted")) console.log(event.data.transfer.amount_display);
 * }
 */
export function isEventType<Type extends keyof EventDataMap>(event: BursarEvent, type: Type): event is EventOf<Type> {
  return event.type === type;
}

/**
 * Every event type `EventDataMap` types. Written as a record so the compiler refuses a type
 * missing here or one the map does not have; a test compares it with the server's catalog.
 */
const typedEventTypes: Record<keyof EventDataMap, true> = {
  "tenant.created": true, "user.created": true, "user.role_changed": true, "user.removed": true,
  "console.login_code.created": true, "console.invite.created": true, "console.session.created": true, "console.session.revoked": true,
  "personal_access_token.created": true, "agent.created": true, "agent.updated": true, "agent.disabled": true,
  "registration_ticket.created": true, "credential_binding.registered": true, "credential_binding.revoked": true,
  "api_key.created": true, "api_key.rotated": true, "api_key.revoked": true, "refresh_token.reuse_detected": true,
  "account.created": true, "transfer.created": true, "transfer.posted": true, "transfer.voided": true, "transfer.expired": true,
  "webhook_endpoint.created": true, "webhook_endpoint.updated": true, "webhook_endpoint.secret_rotated": true,
  "webhook_endpoint.disabled": true, "webhook_endpoint.deleted": true,
  "payee.created": true, "payee.updated": true, "payee.deleted": true, "policy.updated": true, "budget.updated": true,
  "team.created": true, "team.updated": true, "team.member_added": true, "team.member_removed": true, "team.allocation_set": true,
  "budget_request.created": true, "budget_request.approved": true, "budget_request.rejected": true, "agent.spawned": true, "agent.cloned": true,
  "trigger.created": true, "trigger.updated": true, "trigger.deleted": true, "trigger.secret_rotated": true, "trigger.fired": true,
  "task.created": true, "task.updated": true, "task.submitted": true, "task.ci_updated": true, "task.reviewed": true,
  "task.shipped": true, "task.blocked": true, "task.cancelled": true,
  "rail.configured": true, "rail.secret_rotated": true,
  "payment_intent.created": true, "payment_intent.approval_required": true, "payment_intent.approved": true, "payment_intent.rejected": true,
  "payment_intent.expired": true, "payment_intent.executed": true, "payment_intent.failed": true, "payment_intent.cancelled": true,
  "transaction.pending": true, "transaction.completed": true, "transaction.failed": true,
  "approval.created": true, "approval.approved": true, "approval.rejected": true, "approval.expired": true, "approval.cancelled": true,
  "spend_authorization.created": true, "spend_authorization.authorized": true, "spend_authorization.consumed": true,
  "spend_authorization.released": true, "spend_authorization.rejected": true, "spend_authorization.expired": true,
  "capability.created": true, "capability.revoked": true,
  "escrow_intent.created": true, "escrow_intent.funded": true, "escrow_intent.funding_pending_approval": true, "escrow_intent.funding_denied": true,
  "escrow_intent.evidence_submitted": true, "escrow_intent.disputed": true, "escrow_intent.payout_pending": true, "escrow_intent.payout_failed": true,
  "escrow_intent.released": true, "escrow_intent.refunded": true, "escrow_intent.split": true, "escrow_intent.expired": true,
  "signing_key.created": true, "signing_key.revoked": true,
  "service.created": true, "service.updated": true, "service.deleted": true,
  "service_request.created": true, "service_request.approval_required": true, "service_request.executed": true,
  "service_request.blocked": true, "service_request.failed": true, "service_request.running": true,
};

/** The event types this SDK knows the `data` of (`EventDataMap`), sorted. */
export const eventTypes: readonly (keyof EventDataMap)[] = (Object.keys(typedEventTypes) as (keyof EventDataMap)[]).sort();
