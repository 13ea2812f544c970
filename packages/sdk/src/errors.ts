/** Every error the SDK throws derives from this. */
export class BursarError extends Error {
  override name = "BursarError";
}

export interface FieldError {
  path: string;
  code: string;
  detail: string;
}

interface ProblemBody {
  code?: unknown;
  /** OAuth endpoints answer RFC 6749 §5.2 `{error, error_description}` instead of a problem. */
  error?: unknown;
  error_description?: unknown;
  detail?: unknown;
  title?: unknown;
  request_id?: unknown;
  available_actions?: unknown;
  current_status?: unknown;
  errors?: unknown;
}

function parseRetryAfter(value: string | null): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, (at - Date.now()) / 1000);
}

export { parseRetryAfter };

/** The server answered with an error status. */
export class APIError extends BursarError {
  override name = "APIError";
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | null;
  readonly availableActions: string[];
  /** The status a refused transition found (a task's 409 `task_transition_not_allowed`), or null. */
  readonly currentStatus: string | null;
  /** Seconds the server asked us to wait, or null. */
  readonly retryAfter: number | null;
  readonly errors: FieldError[];
  readonly headers: Headers;

  constructor(status: number, body: unknown, headers: Headers) {
    const p: ProblemBody = typeof body === "object" && body !== null ? (body as ProblemBody) : {};
    const code = typeof p.code === "string" ? p.code : typeof p.error === "string" ? p.error : `http_${status}`;
    const detail =
      typeof p.detail === "string"
        ? p.detail
        : typeof p.error_description === "string"
          ? p.error_description
          : typeof p.title === "string"
            ? p.title
            : `HTTP ${status}`;
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.requestId = typeof p.request_id === "string" ? p.request_id : headers.get("x-request-id");
    this.availableActions = Array.isArray(p.available_actions)
      ? p.available_actions.filter((a): a is string => typeof a === "string")
      : [];
    this.currentStatus = typeof p.current_status === "string" ? p.current_status : null;
    this.errors = Array.isArray(p.errors) ? (p.errors as FieldError[]) : [];
    this.retryAfter = parseRetryAfter(headers.get("retry-after"));
    this.headers = headers;
  }

  static from(status: number, body: unknown, headers: Headers): APIError {
    if (status === 401) return new AuthenticationError(status, body, headers);
    if (status === 403) return new PermissionDeniedError(status, body, headers);
    if (status === 404) return new NotFoundError(status, body, headers);
    if (status === 409) return new ConflictError(status, body, headers);
    if (status === 400 || status === 422) return new ValidationError(status, body, headers);
    if (status === 429) return new RateLimitError(status, body, headers);
    if (status >= 500) return new InternalServerError(status, body, headers);
    return new APIError(status, body, headers);
  }
}

export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
}
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}
export class ConflictError extends APIError {
  override name = "ConflictError";
}
export class ValidationError extends APIError {
  override name = "ValidationError";
}
export class RateLimitError extends APIError {
  override name = "RateLimitError";
}
export class InternalServerError extends APIError {
  override name = "InternalServerError";
}

/** The request never got an HTTP answer (DNS, refused, reset, aborted by the caller or close()). */
export class ConnectionError extends BursarError {
  override name = "ConnectionError";
}
/** The per-request timeout elapsed. */
export class TimeoutError extends ConnectionError {
  override name = "TimeoutError";
}
/** Registration with a ticket failed; `code` is the server's (`invalid_ticket`, `ticket_expired`, …) or `registration_failed`. */
export class RegistrationError extends BursarError {
  override name = "RegistrationError";
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
/** The client cannot be set up: no credentials found, a malformed key or credentials file. */
export class ConfigError extends BursarError {
  override name = "ConfigError";
}

/** Why a journal check failed: the server showed something its signed history does not support. */
export type JournalVerificationReason =
  | "invalid_checkpoint"
  | "checkpoint_mismatch"
  | "not_consistent"
  | "not_included"
  | "leaf_mismatch"
  | "untrusted_key";

/**
 * The journal failed verification: a checkpoint not signed by the trusted key, a history that does
 * not extend the trusted checkpoint, or an entry the tree does not hold. Never retried: the
 * server (or something between it and you) is lying, and that is the finding.
 */
export class JournalVerificationError extends BursarError {
  override name = "JournalVerificationError";
  readonly reason: JournalVerificationReason;
  constructor(reason: JournalVerificationReason, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

/** Why a webhook was refused. */
export type WebhookVerificationReason = "missing_headers" | "invalid_timestamp" | "timestamp_out_of_tolerance" | "no_matching_signature" | "invalid_secret" | "payload_too_large" | "invalid_payload";

/** A webhook's signature or timestamp does not check out: answer 400 and do not act on it. */
export class WebhookVerificationError extends BursarError {
  override name = "WebhookVerificationError";
  readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

/**
 * `spend.guard()` ran your function (so the money may have been spent) but could not record the
 * completion: the server refused it (`cause` is the `APIError`, e.g. 422
 * `amount_exceeds_authorization` when the function reported more than was authorized) or did not
 * answer (`cause` is a `ConnectionError`). Do not run the function again: complete
 * `authorizationId` yourself (`spend.complete`), or let the hold expire at its `expires_at`.
 */
export class SpendCompletionError extends BursarError {
  override name = "SpendCompletionError";
  readonly authorizationId: string;
  /** What the function returned. */
  readonly value: unknown;
  constructor(authorizationId: string, value: unknown, cause: unknown) {
    super(`spend authorization ${authorizationId} ran but its completion was not recorded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.authorizationId = authorizationId;
    this.value = value;
  }
}
