/**
 * Console sessions on the wire: the session cookie, CSRF, and the principal a session becomes.
 *
 * The cookie is `HttpOnly` (script never reads it, so an XSS cannot steal it), `SameSite=Strict`
 * (a cross-site page's requests do not carry it) and `Secure` unless the request came to a
 * loopback address over plain HTTP (RFC 6265bis §4.1.2.5; the `__Host-` prefix, §4.1.3.2, pins
 * it to this host and path `/` whenever it is Secure).
 *
 * CSRF (OWASP "synchronizer token" plus "Fetch Metadata"): SameSite=Strict already keeps the
 * cookie off cross-site requests, but not off same-site ones (a sibling subdomain, or a browser
 * that ignores SameSite). So every mutation authenticated by the cookie must also carry
 * `X-CSRF-Token`, which only a page of our origin can read (from the sign-in answer or
 * `GET /v1/console/session`; CORS is never enabled), and is refused when the browser says it is
 * cross-site (`Sec-Fetch-Site: cross-site`) or names another `Origin`. Bearer and DPoP
 * credentials are never ambient, so they need none of this.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { findConsoleSession, memberScopes, secretMatches, type UserRow } from "@bursar/core";
import type { Principal } from "./auth.js";
import { ProblemError } from "./problem.js";
import { baseUrlOf } from "../identity/urls.js";

/** The cookie's name over HTTPS (`__Host-`: Secure, no Domain, Path=/). */
const secureCookieName = "__Host-bursar_session";
/** Over plain HTTP on loopback, where `__Host-` cookies cannot be set. */
const loopbackCookieName = "bursar_session";

const mutatingMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Reads one cookie from the `Cookie` header (RFC 6265 §5.4); null when absent. */
export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    if (part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/** The session cookie's value, under either name. */
export function sessionCookie(request: FastifyRequest): string | null {
  return readCookie(request, secureCookieName) ?? readCookie(request, loopbackCookieName);
}

/** True when the browser reached us on a loopback address over plain HTTP (development). */
export function isLoopbackHttp(request: FastifyRequest): boolean {
  if (request.protocol !== "http") return false;
  const host = request.hostname.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

/** Sets the session cookie (a session cookie in the browser's sense too: no Max-Age beyond the session's life). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  const secure = !isLoopbackHttp(request);
  const name = secure ? secureCookieName : loopbackCookieName;
  reply.header("set-cookie", `${name}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`);
}

/** Clears the session cookie (sign-out). */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = !isLoopbackHttp(request);
  const name = secure ? secureCookieName : loopbackCookieName;
  reply.header("set-cookie", `${name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`);
}

/**
 * Refuses a request a browser marks as coming from another site: `Sec-Fetch-Site: cross-site`,
 * or an `Origin` that is not ours. Used for cookie-authenticated mutations and for sign-in
 * itself (login CSRF: a forged sign-in would put the victim in the attacker's session).
 */
export function refuseCrossSite(request: FastifyRequest): void {
  if (request.headers["sec-fetch-site"] === "cross-site") throw new ProblemError("csrf_check_failed", "Cross-site requests cannot use a console session.");
  const origin = request.headers.origin;
  if (origin === undefined) return;
  // Our origin as the browser sees it: the configured public URL behind a proxy, else this request's.
  const own = new Set([`${request.protocol}://${request.host}`, new URL(baseUrlOf(request)).origin]);
  if (!own.has(origin)) throw new ProblemError("csrf_check_failed", `Requests from ${origin} cannot use a console session.`);
}

function checkCsrf(request: FastifyRequest, csrfHash: string): void {
  refuseCrossSite(request);
  const sent = request.headers["x-csrf-token"];
  if (typeof sent !== "string" || !secretMatches(sent, csrfHash)) {
    throw new ProblemError("csrf_check_failed", "Send the session's CSRF token in X-CSRF-Token (GET /v1/console/session gives it).");
  }
}

/**
 * The principal of a console session cookie, or null when the request has no cookie. A cookie
 * that names no live session is a 401 like any dead token. Scopes are the session's, narrowed by
 * the member's current role, for writes and for safe requests (core console/roles.ts).
 */
export async function authenticateConsoleSession(request: FastifyRequest): Promise<Principal | null> {
  const token = sessionCookie(request);
  if (token === null) return null;
  const found = await findConsoleSession(request.server.store.read, token, request.server.clock.nowMs());
  if (!found) {
    throw new ProblemError("invalid_token", "The console session has ended: sign in again.", { headers: { "www-authenticate": 'Bearer realm="bursar", error="invalid_token"' } });
  }
  if (mutatingMethods.has(request.method)) checkCsrf(request, found.session.body.csrf_hash);
  const { body } = found.session;
  return {
    tenantId: found.user.tenantId,
    principalType: "user",
    principalId: found.user.id,
    agentId: null,
    credentialId: found.session.id,
    ...memberScopes(found.user.role, { write: body.scopes, read: body.read_scopes }),
    rateLimitPerMinute: request.server.identity.rateLimitPerMinute,
  };
}

/**
 * A member's current role, which narrows their personal access tokens (core memberScopes); null
 * when the member was removed (or never existed), which makes every token of theirs dead.
 */
export function memberRole(user: UserRow | null): string | null {
  if (!user || user.removedAtMs !== null) return null;
  return user.role;
}
