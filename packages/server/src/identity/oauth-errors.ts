/**
 * OAuth error answers of the token and revocation endpoints (RFC 6749 §5.2): JSON
 * `{error, error_description}`, status 400 for every error except `invalid_client` (401), and
 * `Cache-Control: no-store`. The codes are in the one status table (http/problem.ts); only the
 * status of this wire format differs, as RFC 6749 requires.
 */
import type { FastifyReply } from "fastify";
import type { ProblemCode } from "../http/problem.js";

/** The OAuth error codes the endpoints answer with. */
export type OAuthErrorCode = Extract<
  ProblemCode,
  "invalid_request" | "invalid_client" | "invalid_grant" | "invalid_scope" | "unsupported_grant_type" | "unsupported_token_type" | "invalid_dpop_proof" | "use_dpop_nonce"
>;

/** An OAuth error a token-endpoint step throws. */
export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = "OAuthError";
  }
}

/** Sends an OAuth error answer. */
export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply
    .code(error.code === "invalid_client" ? 401 : 400)
    .headers({ "cache-control": "no-store", ...error.headers })
    .type("application/json")
    .send(JSON.stringify({ error: error.code, error_description: error.description, request_id: reply.request.id }));
}
