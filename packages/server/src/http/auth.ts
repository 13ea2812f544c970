/**
 * Who is calling. Three credentials produce the same `Principal`:
 * - owners: personal access tokens, `Authorization: Bearer bpat_…`;
 * - agents: DPoP-bound access tokens, `Authorization: DPoP <token>` plus a `DPoP` proof
 *   (RFC 9449 §7), checked in identity/agent-auth.ts;
 * - API keys: `Authorization: Bearer bsk_…`, for an agent or a service account;
 * - console sessions: the httpOnly session cookie, with CSRF checks (console-auth.ts), only
 *   when no `Authorization` header is sent.
 * Then a per-credential rate limit, then the route's scopes.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { isInjection } from "light-my-request";
import { apiKeyIsDead, apiKeyPrefix, delegationLifetimeMsMax, delegationsLentMax, isOwnerOnlyScope, isScope, memberScopes, personalAccessTokenPrefix, sha256Hex, type Scope } from "@bursar/core";
import { authenticateAgent, dpopChallenge } from "../identity/agent-auth.js";
import { authenticateConsoleSession, memberRole } from "./console-auth.js";
import { rateLimitHeaders } from "../identity/rate-limit.js";
import { ProblemError } from "./problem.js";

/** The kinds of caller. */
export type PrincipalType = "user" | "agent" | "api_key";

/** An authenticated caller. Scopes are the credential's, not the user's role's. */
export interface Principal {
  tenantId: string;
  principalType: PrincipalType;
  /** `usr_…`, `agt_…` or `key_…`: prefixed, so ids of different types never collide. */
  principalId: string;
  /** The agent this credential acts as (agent tokens, agent API keys), else null. */
  agentId: string | null;
  /** The credential used (PAT id, key id, binding id): for audit and per-credential rate limits. */
  credentialId: string;
  /**
   * What it may use on a write. A handler that checks a scope itself calls `requireScope`, which
   * uses `readScopes` on a safe request; reading `scopes` directly on a GET would refuse a viewer
   * a read its role grants.
   */
  scopes: readonly Scope[];
  /**
   * The scopes it may use on a safe request (GET, HEAD, or a route with `config.safe`), when
   * they are more than `scopes`: a member whose role reads more than it writes (core
   * console/roles.ts). Absent: `scopes`.
   */
  readScopes?: readonly Scope[];
  /** The credential's allowance, requests per minute. */
  rateLimitPerMinute: number;
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
    /**
     * A POST that changes nothing (a dry run): like a GET, members use their reading scopes on
     * it (core console/roles.ts). Only for handlers that never write.
     */
    safe?: boolean;
  }
}

/** RFC 6750 §3 and RFC 9449 §7.1: a 401 names both schemes we accept. */
const challenges = `Bearer realm="bursar", ${dpopChallenge()}`;

function unauthorized(detail: string): ProblemError {
  return new ProblemError("unauthorized", detail, { headers: { "www-authenticate": challenges } });
}
function invalidToken(): ProblemError {
  // One answer for unknown, revoked and expired tokens: whoever holds a dead token learns
  // nothing about which it is.
  return new ProblemError("invalid_token", "The access token is invalid, expired or revoked.", {
    headers: { "www-authenticate": 'Bearer realm="bursar", error="invalid_token"' },
  });
}

/** Reads `Authorization: <scheme> <token68>` (scheme case-insensitive, RFC 9110 §11.1). */
function credentials(request: FastifyRequest): { scheme: "bearer" | "dpop"; token: string } | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  if (!match) throw unauthorized("Send `Authorization: Bearer <token>` or `Authorization: DPoP <token>` with a DPoP proof.");
  return { scheme: match[1]!.toLowerCase() as "bearer" | "dpop", token: match[2]! };
}

/**
 * Resolves the caller from the request, or throws a 401 problem.
 *
 * Secrets (PATs, API keys) are looked up by their SHA-256, never compared in code. That is
 * constant-time enough: a timing difference in the index lookup can only reveal something about
 * the hash, and an attacker cannot steer a hash's prefix without inverting SHA-256. The database
 * never holds a usable secret either, so a leaked backup grants nothing.
 */
export async function authenticate(request: FastifyRequest): Promise<Principal> {
  const sent = credentials(request);
  if (sent === null) {
    const session = await authenticateConsoleSession(request);
    if (session) return session;
    throw unauthorized("This route needs credentials.");
  }
  if (sent.scheme === "dpop") return authenticateAgent(request, sent.token);
  const { token } = sent;
  if (token.startsWith(`${delegationPrefix}_`)) {
    const lent = request.server.delegations.resolve(token, isInjection(request.raw));
    if (!lent) throw invalidToken();
    return lent;
  }
  if (token.startsWith(`${personalAccessTokenPrefix}_`)) return authenticatePersonalAccessToken(request, token);
  if (token.startsWith(`${apiKeyPrefix}_`)) return authenticateApiKey(request, token);
  // RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused, with a DPoP challenge,
  // so a stolen token cannot be used without its key by downgrading the scheme.
  if (token.includes(".") && (await request.server.identity.tokens.verify(token))) {
    throw new ProblemError("invalid_token", "This access token is DPoP-bound: send it as `Authorization: DPoP` with a proof.", {
      headers: { "www-authenticate": dpopChallenge("invalid_token") },
    });
  }
  throw invalidToken();
}

async function authenticatePersonalAccessToken(request: FastifyRequest, token: string): Promise<Principal> {
  const { store, identity } = request.server;
  const tokenHash = sha256Hex(token);
  // The token's row and its member's, read together and kept under the tenant's config version.
  const found = await identity.credentials.read(
    `pat:${tokenHash}`,
    null,
    async () => {
      const row = await store.read.findPersonalAccessTokenByHash(tokenHash);
      return row ? { row, user: await store.read.getUser(row.tenantId, row.userId) } : null;
    },
    (value) => value.row.tenantId,
  );
  if (!found) throw invalidToken();
  const { row, user } = found;
  const nowMs = request.server.clock.nowMs();
  if (row.revokedAtMs !== null && row.revokedAtMs <= nowMs) throw invalidToken();
  if (row.expiresAtMs !== null && row.expiresAtMs <= nowMs) throw invalidToken();
  // A removed member's tokens die with them; a member's token holds no more than their role.
  const role = memberRole(user);
  if (role === null) throw invalidToken();
  return {
    tenantId: row.tenantId,
    principalType: "user",
    principalId: row.userId,
    agentId: null,
    credentialId: row.id,
    // Unknown strings in a stored row (a scope since renamed) grant nothing.
    ...memberScopes(role, { write: row.scopes }),
    rateLimitPerMinute: request.server.identity.rateLimitPerMinute,
  };
}

async function authenticateApiKey(request: FastifyRequest, token: string): Promise<Principal> {
  const tokenHash = sha256Hex(token);
  const { store, identity } = request.server;
  const row = await identity.credentials.read(`key:${tokenHash}`, null, () => store.read.findApiKeyByHash(tokenHash), (key) => key.tenantId);
  if (!row) throw invalidToken();
  const nowMs = request.server.clock.nowMs();
  if (apiKeyIsDead(row, nowMs)) {
    request.server.identity.usage.record(row.tenantId, row.id, { denied: row.revokedAtMs !== null ? "revoked" : "expired" }, nowMs);
    throw invalidToken();
  }
  return {
    tenantId: row.tenantId,
    principalType: "api_key",
    principalId: row.id,
    agentId: row.agentId,
    credentialId: row.id,
    // An agent's key never carries an owner-only scope, whatever its stored row says.
    scopes: row.scopes.filter(isScope).filter((scope) => row.agentId === null || !isOwnerOnlyScope(scope)),
    rateLimitPerMinute: row.rateLimitPerMinute,
  };
}

const delegationPrefix = "bdlg";

/**
 * Principals lent to in-process calls for the length of one request: the MCP endpoint
 * (routes/mcp.ts) runs its tools through the SDK against this same app (`app.inject`), as the
 * caller who authenticated the MCP request, so every tool passes through the routes' own auth,
 * scopes, rate limits, idempotency and validation. A DPoP proof cannot be reused for those inner
 * calls (it names one method and URL, RFC 9449 §4.3), so the caller's principal is lent under a
 * random 256-bit bearer secret. What an attacker could try with one, and why it fails
 * (docs/security.md, "Per-request delegation tokens"; attacks in test/mcp.delegation.attacks.test.ts):
 * - **replay from outside**: the token authenticates only a request injected in this process
 *   (light-my-request's `isInjection`); sent over the network it is `invalid_token`, live or not;
 * - **outliving its request**: the request releases it in a `finally`, and it dies anyway after
 *   `limits.delegationLifetimeMsMax` (a stuck tool, a bug that never releases); a restart forgets all;
 * - **widening scope**: it carries the caller's principal minus every owner-only scope
 *   (`agents:config`, `approvals:write`, `tenant:admin`): even an owner's MCP request lends a
 *   principal that cannot approve, edit a policy or manage credentials;
 * - **another tenant or agent**: it is that one principal (tenant, agent, credential), checked
 *   by the routes like any other;
 * - **leaking into logs**: it exists only in the inner requests' `Authorization` header, which
 *   the request log does not record (pino's serializers log method, URL, host and address), and
 *   it is looked up by its SHA-256, never stored; error answers never echo a credential.
 */
export class PrincipalDelegations {
  private readonly lent = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Lends `principal` (without owner-only scopes) until `release()` or the lifetime bound: the token authenticates as it on injected requests of this app only. */
  lend(principal: Principal): { token: string; release(): void } {
    const nowMs = this.nowMs();
    // Released tokens leave at once; only those never released linger, so sweep when full.
    if (this.lent.size >= delegationsLentMax) for (const [key, entry] of this.lent) if (entry.expiresAtMs <= nowMs) this.lent.delete(key);
    if (this.lent.size >= delegationsLentMax) throw new ProblemError("rate_limited", "Too many MCP requests in flight on this server; try again.", { headers: { "retry-after": "1" } });
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    const token = `${delegationPrefix}_${secret}`;
    const key = sha256Hex(token);
    const narrowed: Principal = { ...principal, scopes: principal.scopes.filter((scope) => !isOwnerOnlyScope(scope)) };
    this.lent.set(key, { principal: narrowed, expiresAtMs: nowMs + delegationLifetimeMsMax });
    return { token, release: () => void this.lent.delete(key) };
  }

  /** The lent principal, or null: unknown, released, expired, or not an in-process (injected) request. */
  resolve(token: string, injected: boolean): Principal | null {
    if (!injected) return null;
    const entry = this.lent.get(sha256Hex(token));
    if (!entry) return null;
    if (entry.expiresAtMs <= this.nowMs()) {
      this.lent.delete(sha256Hex(token));
      return null;
    }
    return entry.principal;
  }

  /** How many are lent now (for tests and metrics). */
  get size(): number {
    return this.lent.size;
  }
}

/** Counts an API key's request outcome (other credentials have no usage counters). */
function recordUsage(request: FastifyRequest, principal: Principal, outcome: "accepted" | { denied: string }): void {
  if (principal.principalType !== "api_key") return;
  request.server.identity.usage.record(principal.tenantId, principal.credentialId, outcome, request.server.clock.nowMs());
}

/**
 * A hook that authenticates the caller, applies its rate limit and requires every scope in
 * `required`. The app installs it as the first `onRequest` hook of each route that declares
 * `config.scopes`, so it runs before the body is read: an anonymous caller cannot make us parse
 * 256 KiB or probe the schema.
 *
 * @example
 * app.get("/v1/things", { onRequest: requireScopes("transactions:read") }, handler);
 */
export function requireScopes(...required: Scope[]): onRequestAsyncHookHandler {
  return async function requireScopesHook(request: FastifyRequest, reply: FastifyReply) {
    // Already set when several scope hooks run on one route.
    if (request.principal as Principal | null) return checkScopes(request, request.principal, required);
    const principal = await authenticate(request);
    request.principal = principal;
    const { identity, clock } = request.server;
    const decision = await identity.rateLimiter.hit(principal.credentialId, principal.rateLimitPerMinute, clock.nowMs());
    reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) {
      recordUsage(request, principal, { denied: "rate_limited" });
      throw new ProblemError("rate_limited", `This credential may make ${decision.limit} requests per minute.`, { headers: { "retry-after": String(decision.resetSeconds) } });
    }
    checkScopes(request, principal, required);
    recordUsage(request, principal, "accepted");
  };
}

/** RFC 9110 §9.2.1: the methods that change nothing. */
const safeMethods = new Set(["GET", "HEAD"]);

/** The scopes a principal may use on this request: its reading scopes when the request is safe. */
function usableScopes(request: FastifyRequest, principal: Principal): readonly Scope[] {
  const safe = safeMethods.has(request.method) || request.routeOptions.config.safe === true;
  return safe ? (principal.readScopes ?? principal.scopes) : principal.scopes;
}

function checkScopes(request: FastifyRequest, principal: Principal, required: readonly Scope[]): void {
  const held = usableScopes(request, principal);
  const missing = required.filter((scope) => !held.includes(scope));
  if (missing.length === 0) return;
  recordUsage(request, principal, { denied: "insufficient_scope" });
  const scheme = principal.principalType === "agent" ? "DPoP" : 'Bearer realm="bursar",';
  throw new ProblemError("insufficient_scope", `This route needs the scope ${missing.join(", ")}.`, {
    headers: { "www-authenticate": `${scheme} error="insufficient_scope", scope="${required.join(" ")}"` },
  });
}

/**
 * Requires a scope inside a handler, for routes whose need depends on the caller (an owner listing
 * every agent needs `agents:config`; an agent reading itself does not).
 */
export function requireScope(request: FastifyRequest, scope: Scope): void {
  checkScopes(request, request.principal, [scope]);
}

/** Requires any one of `scopes` inside a handler (a route several kinds of caller may read), on the request's usable scopes. */
export function requireAnyScope(request: FastifyRequest, scopes: readonly Scope[], message: string): void {
  const held = usableScopes(request, request.principal);
  if (scopes.some((scope) => held.includes(scope))) return;
  recordUsage(request, request.principal, { denied: "insufficient_scope" });
  throw new ProblemError("insufficient_scope", message);
}
