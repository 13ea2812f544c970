/**
 * Who is calling. Owners authenticate with personal access tokens (`Authorization: Bearer
 * bpat_…`); agents (DPoP-bound OAuth tokens) and API keys will add their own branch to
 * `authenticate` and produce the same `Principal`.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { isScope, personalAccessTokenPrefix, sha256Hex, type Scope } from "@bursar/core";
import { ProblemError } from "./problem.js";

/** The kinds of caller. Only `user` (owner, by PAT) exists yet. */
export type PrincipalType = "user" | "agent" | "api_key";

/** An authenticated caller. Scopes are the credential's, not the user's role's. */
export interface Principal {
  tenantId: string;
  principalType: PrincipalType;
  /** `usr_…`, `agt_…` or `key_…`: prefixed, so ids of different types never collide. */
  principalId: string;
  /** The credential used (PAT id, key id, binding id): for audit and per-credential rate limits. */
  credentialId: string;
  scopes: readonly Scope[];
}

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The caller, set by the auth hook before the body is read on every route that declares
     * `config.scopes`. Typed non-null for those routes' convenience; on `public: true` routes it
     * is null and must not be read.
     */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /**
     * Scopes the caller must all hold. Declaring it (even `[]`) makes the route authenticated;
     * every route a route module registers must declare this or `public: true`.
     */
    scopes?: readonly Scope[];
    /** Explicitly unauthenticated (STYLE habit 7: loosening security is visible at the call site). */
    public?: boolean;
  }
}

/** RFC 6750 §3: a 401 names the scheme; with `error=` when a token was sent but is no good. */
function unauthorized(detail: string): ProblemError {
  return new ProblemError("unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="bursar"' } });
}
function invalidToken(): ProblemError {
  // One answer for unknown, revoked and expired tokens: whoever holds a dead token learns
  // nothing about which it is.
  return new ProblemError("invalid_token", "The access token is invalid, expired or revoked.", {
    headers: { "www-authenticate": 'Bearer realm="bursar", error="invalid_token"' },
  });
}

/** Reads the bearer token from `Authorization` (scheme is case-insensitive, RFC 9110 §11.1). */
function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  if (!match) throw unauthorized("Send `Authorization: Bearer <token>`.");
  return match[1]!;
}

/**
 * Resolves the caller from the request, or throws a 401 problem.
 *
 * The token is looked up by its SHA-256, never compared in code. That is constant-time enough:
 * a timing difference in the index lookup can only reveal something about the hash, and an
 * attacker cannot steer a hash's prefix without inverting SHA-256. The database never holds a
 * usable token either, so a leaked backup grants nothing.
 */
export async function authenticate(request: FastifyRequest): Promise<Principal> {
  const token = bearerToken(request);
  if (token === null) throw unauthorized("This route needs an access token.");
  if (!token.startsWith(`${personalAccessTokenPrefix}_`)) throw invalidToken();
  const row = await request.server.store.read.findPersonalAccessTokenByHash(sha256Hex(token));
  if (!row) throw invalidToken();
  const nowMs = request.server.clock.nowMs();
  if (row.revokedAtMs !== null && row.revokedAtMs <= nowMs) throw invalidToken();
  if (row.expiresAtMs !== null && row.expiresAtMs <= nowMs) throw invalidToken();
  return {
    tenantId: row.tenantId,
    principalType: "user",
    principalId: row.userId,
    credentialId: row.id,
    // Unknown strings in a stored row (a scope since renamed) grant nothing.
    scopes: row.scopes.filter(isScope),
  };
}

/**
 * A hook that authenticates the caller and requires every scope in `required`. The app installs
 * it as the first `onRequest` hook of each route that declares `config.scopes`, so it runs before
 * the body is read: an anonymous caller cannot make us parse 256 KiB or probe the schema.
 *
 * @example
 * app.get("/v1/things", { onRequest: requireScopes("transactions:read") }, handler);
 */
export function requireScopes(...required: Scope[]): onRequestAsyncHookHandler {
  return async function requireScopesHook(request: FastifyRequest, _reply: FastifyReply) {
    // Already set when several scope hooks run on one route.
    const principal = (request.principal as Principal | null) ?? (await authenticate(request));
    request.principal = principal;
    const missing = required.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      throw new ProblemError("insufficient_scope", `This route needs the scope ${missing.join(", ")}.`, {
        headers: { "www-authenticate": `Bearer realm="bursar", error="insufficient_scope", scope="${required.join(" ")}"` },
      });
    }
  };
}
