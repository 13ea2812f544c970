/**
 * Expected failures are values, not exceptions (STYLE habit 3). Every code is stable snake_case
 * and mapped to an HTTP status in exactly one table: packages/server/src/http/problem.ts.
 */

/** Every result code the domain can return. Adding one means adding it to the status table. */
export const resultCodes = [
  // generic
  "validation_failed",
  "not_found",
  "limit_exceeded",
  // ledger
  "currency_mismatch",
  "unknown_currency",
  "accounts_must_be_different",
  "insufficient_funds",
  "overflows_balance",
  "transfer_exists_with_different_fields",
  "transfer_not_pending",
  "pending_transfer_expired",
  "post_amount_exceeds_pending_amount",
  "linked_transfer_failed",
  // journal
  "tree_size_out_of_range",
  "seq_out_of_range",
  // webhooks and event streams
  "webhook_url_forbidden",
  "webhook_endpoints_limit_reached",
  "cursor_expired",
  // identity
  "agent_disabled",
  "owner_only_scope",
  "invalid_ticket",
  "ticket_expired",
  "ticket_already_consumed",
  "public_key_already_in_use",
  "invalid_public_key",
  "scope_exceeds_ticket_ceiling",
  "api_key_revoked",
  // the owner console
  "invalid_login_code",
  "member_role_forbidden",
  "last_owner",
  // governed spending
  "payee_not_found",
  "payee_ambiguous",
  "approval_not_pending",
  "approver_not_allowed",
  "transaction_not_pending",
  "service_not_found",
  "payload_invalid",
  "service_schema_invalid",
  "service_name_taken",
  "service_url_forbidden",
  "rail_not_configured",
  // spend authorizations and capabilities
  "authorization_already_completed",
  "authorization_expired",
  "authorization_not_authorized",
  "amount_exceeds_authorization",
  "capability_invalid",
  "capability_tenant_mismatch",
  "capability_agent_mismatch",
  "capability_revoked",
  "capability_expired",
  "capability_operation_not_allowed",
  "capability_currency_mismatch",
  "capability_exhausted",
  // escrow intents and predicates
  "predicate_invalid",
  "evidence_schema_invalid",
  "principal_signature_invalid",
  "signing_key_not_found",
  "payee_evidence_key_missing",
  "payee_key_mismatch",
  "escrow_intent_exists",
  "escrow_not_funded",
  "escrow_already_settled",
  "escrow_expired",
  "escrow_disputed",
  "escrow_owner_only",
  "split_amount_invalid",
  "evidence_signature_invalid",
  "evidence_stale",
  "evidence_invalid",
  "evidence_attempts_exhausted",
  "evidence_already_accepted",
  // teams, budget requests and spawned agents (issue 15)
  "agent_in_another_team",
  "team_pool_not_found",
  "allocation_exceeds_pool",
  "pool_below_allocations",
  "budget_request_not_pending",
  "spawn_depth_exceeded",
  "spawn_scope_exceeds_parent",
  "spawn_policy_looser_than_parent",
  "spawn_budget_exceeds_parent",
  // the payment agent
  "message_too_long",
  "conversations_limit_reached",
  "conversation_deleted",
  // OAuth (RFC 6749 §5.2), returned by the token logic
  "invalid_grant",
  "invalid_scope",
] as const;

export type ResultCode = (typeof resultCodes)[number];

/** A per-field problem, as in RFC 9457 `errors`. */
export interface FieldError {
  /** JSON pointer or dotted path of the field, e.g. `transfers.2.amount`. */
  path: string;
  code: ResultCode;
  detail: string;
}

export interface Failure {
  ok: false;
  code: ResultCode;
  detail: string;
  errors?: FieldError[];
}

export interface Success<T> {
  ok: true;
  value: T;
}

export type Result<T> = Success<T> | Failure;

export const ok = <T>(value: T): Success<T> => ({ ok: true, value });

export const fail = (code: ResultCode, detail: string, errors?: FieldError[]): Failure =>
  errors ? { ok: false, code, detail, errors } : { ok: false, code, detail };

/** Asserts an invariant; a failed one is a bug, so it throws (and the write rolls back). */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
