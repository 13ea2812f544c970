/**
 * RFC 9457 problem details: the one table that maps every result code to an HTTP status, the
 * error routes throw, and the Fastify error and not-found handlers that answer with
 * `application/problem+json`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import type { Failure, ResultCode } from "@bursar/core";

/** Codes that only the HTTP layer produces (the domain's codes are core's `resultCodes`). */
export const httpCodes = [
  "bad_request",
  "malformed_json",
  "invalid_unicode",
  "json_too_deep",
  "json_forbidden_key",
  "body_too_large",
  "unsupported_media_type",
  "route_not_found",
  "method_not_allowed",
  "method_not_implemented",
  "malformed_request",
  "headers_too_large",
  "request_timeout",
  "unauthorized",
  "invalid_token",
  "insufficient_scope",
  "csrf_check_failed",
  "invalid_idempotency_key",
  "idempotency_key_payload_mismatch",
  "idempotency_key_in_use",
  "rate_limited",
  "invalid_dpop_proof",
  "use_dpop_nonce",
  "invalid_client",
  "invalid_signature",
  "invalid_request",
  "unsupported_grant_type",
  "unsupported_token_type",
  "not_ready",
  "internal_error",
  "host_not_allowed",
  "origin_not_allowed",
  "not_acceptable",
] as const;

export type HttpCode = (typeof httpCodes)[number];

/** Every code a problem body may carry. */
export type ProblemCode = ResultCode | HttpCode;

interface ProblemKind {
  status: number;
  title: string;
}

/**
 * The status table (STYLE habit 3). Input that is malformed or breaks a bound is 400; a request
 * that is well formed but breaks a business rule is 422; a clash with existing state (a
 * resource's lifecycle, an id already used differently) is 409. `satisfies` makes a missing
 * code a compile error; problem.test.ts checks the same at run time.
 */
export const problemTable = {
  // core: generic
  validation_failed: { status: 400, title: "The request is invalid" },
  not_found: { status: 404, title: "Resource not found" },
  limit_exceeded: { status: 400, title: "A limit was exceeded" },
  // core: ledger
  currency_mismatch: { status: 422, title: "Currencies do not match" },
  unknown_currency: { status: 422, title: "Unknown currency" },
  accounts_must_be_different: { status: 422, title: "Accounts must be different" },
  insufficient_funds: { status: 422, title: "Insufficient funds" },
  overflows_balance: { status: 422, title: "The balance would overflow" },
  transfer_exists_with_different_fields: { status: 409, title: "Transfer id already used with different fields" },
  transfer_not_pending: { status: 409, title: "Transfer is not pending" },
  pending_transfer_expired: { status: 409, title: "Pending transfer expired" },
  post_amount_exceeds_pending_amount: { status: 422, title: "Amount exceeds the pending amount" },
  linked_transfer_failed: { status: 422, title: "A linked transfer failed" },
  // core: journal
  tree_size_out_of_range: { status: 400, title: "Tree size out of range" },
  seq_out_of_range: { status: 400, title: "Sequence number out of range" },
  // core: webhooks and event streams
  webhook_url_forbidden: { status: 422, title: "Webhook URL not allowed" },
  webhook_endpoints_limit_reached: { status: 422, title: "Webhook endpoint limit reached" },
  cursor_expired: { status: 410, title: "Cursor expired" },
  // core: identity
  agent_disabled: { status: 409, title: "Agent is disabled" },
  owner_only_scope: { status: 422, title: "Scope is for owners only" },
  invalid_ticket: { status: 401, title: "Invalid registration ticket" },
  ticket_expired: { status: 401, title: "Registration ticket expired" },
  ticket_already_consumed: { status: 409, title: "Registration ticket already used" },
  public_key_already_in_use: { status: 409, title: "Public key already registered" },
  invalid_public_key: { status: 400, title: "Invalid public key" },
  scope_exceeds_ticket_ceiling: { status: 422, title: "Scope exceeds the ticket's ceiling" },
  api_key_revoked: { status: 409, title: "API key revoked or expired" },
  invalid_login_code: { status: 401, title: "Login link invalid, expired or used" },
  member_role_forbidden: { status: 403, title: "Your role cannot do this" },
  last_owner: { status: 409, title: "The last owner must stay" },
  // core: governed spending
  payee_not_found: { status: 422, title: "No payee by that name or id" },
  payee_ambiguous: { status: 422, title: "Several payees match that name" },
  approval_not_pending: { status: 409, title: "Approval already decided" },
  approver_not_allowed: { status: 403, title: "This credential cannot decide approvals" },
  transaction_not_pending: { status: 409, title: "Transaction already settled" },
  service_not_found: { status: 422, title: "No such service or operation" },
  payload_invalid: { status: 422, title: "Payload does not match the operation's input schema" },
  service_schema_invalid: { status: 422, title: "Invalid input JSON Schema" },
  service_name_taken: { status: 409, title: "A service already has that name" },
  service_url_forbidden: { status: 422, title: "Service URL not allowed" },
  rail_not_configured: { status: 422, title: "The payee's rail is not configured" },
  // core: spend authorizations and capabilities
  authorization_already_completed: { status: 409, title: "Spend authorization already completed another way" },
  authorization_expired: { status: 409, title: "Spend authorization expired" },
  authorization_not_authorized: { status: 409, title: "Spend authorization is not authorized" },
  amount_exceeds_authorization: { status: 422, title: "Amount exceeds what was authorized" },
  capability_invalid: { status: 403, title: "Capability token invalid" },
  capability_tenant_mismatch: { status: 403, title: "Capability issued by another tenant" },
  capability_agent_mismatch: { status: 403, title: "Capability issued to another agent" },
  capability_revoked: { status: 403, title: "Capability revoked" },
  capability_expired: { status: 403, title: "Capability expired" },
  capability_operation_not_allowed: { status: 403, title: "Capability does not cover this operation" },
  capability_currency_mismatch: { status: 403, title: "Capability is in another currency" },
  capability_exhausted: { status: 403, title: "Capability exhausted" },
  // core: escrow intents and predicates
  predicate_invalid: { status: 422, title: "Invalid predicate" },
  evidence_schema_invalid: { status: 422, title: "Invalid evidence JSON Schema" },
  principal_signature_invalid: { status: 422, title: "The payer's signature does not verify over these terms" },
  signing_key_not_found: { status: 422, title: "No such signing key of the payer" },
  payee_evidence_key_missing: { status: 422, title: "The payee has no evidence public key" },
  payee_key_mismatch: { status: 422, title: "The signed payee key is not the payee's evidence key" },
  escrow_intent_exists: { status: 409, title: "Escrow intent id already used with other terms" },
  escrow_not_funded: { status: 409, title: "Escrow intent is not funded" },
  escrow_already_settled: { status: 409, title: "Escrow intent already settled" },
  escrow_expired: { status: 409, title: "Escrow intent expired" },
  escrow_disputed: { status: 409, title: "Escrow intent is disputed" },
  escrow_owner_only: { status: 403, title: "Only an owner may do this to an escrow intent" },
  split_amount_invalid: { status: 422, title: "Split amount outside what the escrow holds" },
  evidence_signature_invalid: { status: 401, title: "Evidence signature does not verify" },
  evidence_stale: { status: 422, title: "Evidence submitted_at outside the allowed skew" },
  evidence_invalid: { status: 422, title: "Evidence payload does not match the intent's schema" },
  evidence_attempts_exhausted: { status: 409, title: "No evidence attempts left" },
  evidence_already_accepted: { status: 409, title: "Evidence already accepted" },
  // core: the payment agent
  // core: teams, budget requests and spawned agents
  agent_in_another_team: { status: 409, title: "Agent belongs to another team" },
  team_pool_not_found: { status: 422, title: "The team has no such pool" },
  allocation_exceeds_pool: { status: 409, title: "Allocations would exceed the pool" },
  pool_below_allocations: { status: 409, title: "Pool would fall below its allocations" },
  budget_request_not_pending: { status: 409, title: "Budget request already decided" },
  spawn_depth_exceeded: { status: 403, title: "Spawn depth limit reached" },
  spawn_scope_exceeds_parent: { status: 403, title: "Child scopes exceed the parent's" },
  spawn_policy_looser_than_parent: { status: 403, title: "Child policy looser than the parent's" },
  spawn_budget_exceeds_parent: { status: 403, title: "Child budget exceeds the parent's remaining budget" },
  message_too_long: { status: 400, title: "Chat message too long" },
  conversations_limit_reached: { status: 422, title: "Conversation limit reached" },
  // The replay of a chat turn whose conversation was deleted since: the text is erased.
  conversation_deleted: { status: 410, title: "Conversation deleted" },
  // OAuth (RFC 6749 §5.2). The token and revocation endpoints answer every OAuth error with 400
  // except invalid_client (401), as §5.2 says, whatever the status here: see routes/oauth.ts.
  invalid_grant: { status: 400, title: "Invalid grant" },
  invalid_scope: { status: 400, title: "Invalid scope" },
  // HTTP layer
  bad_request: { status: 400, title: "Bad request" },
  malformed_json: { status: 400, title: "Malformed JSON" },
  invalid_unicode: { status: 400, title: "Text is not well-formed Unicode" },
  json_too_deep: { status: 400, title: "JSON nested too deeply" },
  json_forbidden_key: { status: 400, title: "Forbidden JSON key" },
  body_too_large: { status: 413, title: "Request body too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  route_not_found: { status: 404, title: "Route not found" },
  // Answered before or beside routing: see methods.ts and client-errors.ts.
  method_not_allowed: { status: 405, title: "Method not allowed" },
  method_not_implemented: { status: 501, title: "Method not implemented" },
  malformed_request: { status: 400, title: "Malformed HTTP request" },
  headers_too_large: { status: 431, title: "Request headers too large" },
  request_timeout: { status: 408, title: "Request timeout" },
  unauthorized: { status: 401, title: "Authentication required" },
  invalid_token: { status: 401, title: "Invalid access token" },
  insufficient_scope: { status: 403, title: "Insufficient scope" },
  csrf_check_failed: { status: 403, title: "Cross-site request refused" },
  invalid_idempotency_key: { status: 400, title: "Invalid Idempotency-Key" },
  idempotency_key_payload_mismatch: { status: 409, title: "Idempotency-Key reused with a different request" },
  idempotency_key_in_use: { status: 409, title: "Idempotency-Key in use" },
  rate_limited: { status: 429, title: "Too many requests" },
  // RFC 9449 §7.1: a resource server answers proof problems with 401 and a DPoP challenge.
  invalid_dpop_proof: { status: 401, title: "Invalid DPoP proof" },
  use_dpop_nonce: { status: 401, title: "DPoP nonce required" },
  invalid_client: { status: 401, title: "Client authentication failed" },
  // A signed callback (webhook rail) whose Standard Webhooks signature or timestamp does not verify.
  invalid_signature: { status: 401, title: "Signature does not verify" },
  invalid_request: { status: 400, title: "Invalid request" },
  // The MCP endpoint's DNS-rebinding guard (routes/mcp.ts).
  host_not_allowed: { status: 403, title: "Host not allowed" },
  origin_not_allowed: { status: 403, title: "Origin not allowed" },
  not_acceptable: { status: 406, title: "Not acceptable" },
  unsupported_grant_type: { status: 400, title: "Unsupported grant type" },
  unsupported_token_type: { status: 400, title: "Unsupported token type" },
  not_ready: { status: 503, title: "Not ready" },
  internal_error: { status: 500, title: "Internal server error" },
} as const satisfies Record<ProblemCode, ProblemKind>;

/**
 * Problem `type` URIs. RFC 9457 §3.1.1 allows a non-resolvable URI; a tag URI (RFC 4151) names
 * the problem without promising a page at a domain we might not control.
 */
export const problemTypeBase = "tag:bursar.dev,2025:problem:";

/** A per-field problem in `errors`. `code` is a result code or a zod issue code (`too_big`). */
export interface FieldProblem {
  path: string;
  code: string;
  detail: string;
}

/** The body of every error response. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  request_id: string;
  available_actions?: string[];
  errors?: FieldProblem[];
}

export interface ProblemOptions {
  /** What the caller can do next, e.g. `["request_approval"]`. */
  availableActions?: string[];
  errors?: FieldProblem[];
  /** Extra response headers, e.g. `Retry-After`, `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

/**
 * An expected failure a route (or hook) throws; the error handler answers it as a problem with
 * the status from `problemTable`.
 *
 * @example
 * throw new ProblemError("not_found", `account ${id} does not exist`);
 */
export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly status: number;
  readonly availableActions: string[] | undefined;
  readonly errors: FieldProblem[] | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ProblemCode, detail: string, options: ProblemOptions = {}) {
    super(`${code}: ${detail}`);
    this.name = "ProblemError";
    this.code = code;
    this.detail = detail;
    this.status = problemTable[code].status;
    this.availableActions = options.availableActions;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/**
 * Turns a domain failure into the error to throw.
 *
 * @example
 * const result = await transfer(tx, input);
 * if (!result.ok) throw failureToProblem(result);
 */
export function failureToProblem(failure: Failure): ProblemError {
  return new ProblemError(failure.code, failure.detail, failure.errors ? { errors: failure.errors } : {});
}

/** The RFC 9457 body of a problem, for the request that failed. */
export function problemBody(problem: ProblemError, requestId: string): ProblemBody {
  const body: ProblemBody = {
    type: problemTypeBase + problem.code,
    title: problemTable[problem.code].title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    request_id: requestId,
  };
  if (problem.availableActions) body.available_actions = problem.availableActions;
  if (problem.errors) body.errors = problem.errors;
  return body;
}

/**
 * Sends a problem. The body is serialised here, not by the route's response schema, so every
 * error has the same shape whatever the route declares.
 */
export function sendProblem(reply: FastifyReply, problem: ProblemError): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type("application/problem+json")
    .send(JSON.stringify(problemBody(problem, reply.request.id)));
}

/** Fastify error codes raised before a handler runs, and the problem each becomes. */
const frameworkProblems: Record<string, { code: ProblemCode; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "body_too_large", detail: "The request body is larger than the limit." },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "bad_request", detail: "Content-Length does not match the body." },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: "unsupported_media_type", detail: "Send request bodies as application/json." },
  FST_ERR_CTP_INVALID_TYPE: { code: "unsupported_media_type", detail: "Send request bodies as application/json." },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "malformed_json", detail: "The request body is empty." },
  FST_ERR_BAD_URL: { code: "route_not_found", detail: "The URL cannot be decoded." },
};

/** Maps any error a request raised to the problem that answers it. */
export function toProblem(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as FastifyError).validationContext ?? "request";
    const errors = error.validation.map((issue) => ({
      path: [where, ...issue.instancePath.split("/").filter((segment: string) => segment !== "")].join("."),
      code: issue.keyword,
      detail: issue.message,
    }));
    return new ProblemError("validation_failed", `The request ${where} is invalid.`, { errors });
  }
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError?.validation) return new ProblemError("validation_failed", "The request is invalid.");
  const known = fastifyError?.code ? frameworkProblems[fastifyError.code] : undefined;
  if (known) return new ProblemError(known.code, known.detail);
  // Any other client error Fastify raises: keep it a 4xx, with our own words (its message may
  // echo request input).
  const status = fastifyError?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) return new ProblemError("bad_request", "The request cannot be processed.");
  return null;
}

/**
 * The app's error handler. Unexpected errors become a bare 500: their message and stack may hold
 * internals (SQL, paths, secrets), so they go to the log under the request id, never to the client.
 */
export function problemErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(error);
  // Expected problems are answers, not incidents: Fastify's "request completed" line records them.
  if (problem) return sendProblem(reply, problem);
  request.log.error({ err: error }, "unexpected error");
  return sendProblem(reply, new ProblemError("internal_error", "An unexpected error occurred. Quote the request id when reporting it."));
}

/**
 * The not-found handler: an unknown path answers a 404 problem like every other error; a known
 * path with a method it lacks answers 405 with `Allow` (RFC 9110 §15.5.6). `allowed` lists the
 * path's methods (methods.ts).
 */
export function routeNotFoundHandler(allowed: (path: string) => string[]) {
  return function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const methods = allowed(request.url.split("?")[0] ?? "");
    if (methods.length > 0) {
      return sendProblem(reply, new ProblemError("method_not_allowed", `This resource answers ${methods.join(", ")}.`, { headers: { allow: methods.join(", ") } }));
    }
    // The path is not echoed back: reflecting request input into responses is how injection starts.
    return sendProblem(reply, new ProblemError("route_not_found", "No route matches this path."));
  };
}
