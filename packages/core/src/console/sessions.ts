/**
 * Console sessions and one-time codes: how a person signs in to the owner console.
 *
 * - A **login code** (`console_code`, purpose `login`) is minted for one member (the demo owner's
 *   link printed by `bursar serve`); an **invite** (`console_code`, purpose `invite`) is minted
 *   for a role and becomes a new member when accepted. Both are single use and short lived.
 * - A **session** (`console_session`) is what the browser holds, as an httpOnly cookie. It carries
 *   a CSRF token that the console sends back in a header on every mutation (the server wiring
 *   checks it; see packages/server/src/http/console-auth.ts).
 *
 * Every secret is `<prefix>.<tenant id>.<record id>.<random>`: the tenant and record ids find the
 * record (there is no cross-tenant lookup by hash for records), and only the SHA-256 of the whole
 * secret is stored, compared in constant time. A database dump grants nothing.
 *
 * Statuses: codes `pending` → `used` (expiry is checked on read); sessions `active` → `revoked`.
 */
import { timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../hash.js";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { consoleInviteLifetimeSecondsMax, consoleLoginCodeLifetimeSecondsMax, consoleSessionLifetimeSecondsMax, consoleSessionsPerUserMax } from "../limits.js";
import type { OwnerRole, StoreReader, UserRow } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import type { Scope } from "../scopes.js";
import { toRfc3339 } from "../time.js";
import { listRecordsOf, loadRecord, saveRecord } from "../governance/store.js";
import type { StoredRecord } from "../governance/records.js";
import { roleScopes } from "./roles.js";

/** Cookie value prefix of a console session. */
export const consoleSessionPrefix = "bcs";
/** Prefix of a one-time login code. */
export const loginCodePrefix = "bcl";
/** Prefix of an invite code. */
export const inviteCodePrefix = "bci";

export interface ConsoleCodeBody {
  purpose: "login" | "invite";
  secret_hash: string;
  /** The member a login code signs in (null for an invite). */
  user_id: string | null;
  /** The role an invite grants (null for a login code). */
  role: OwnerRole | null;
  expires_at_ms: number;
  used_at_ms: number | null;
  created_by: string;
}

export interface ConsoleSessionBody {
  user_id: string;
  secret_hash: string;
  /** SHA-256 of the CSRF token (the token is returned to the console, never stored). */
  csrf_hash: string;
  /** Scopes the session holds: its member's role's, narrowed by the PAT it was exchanged for. */
  scopes: Scope[];
  /**
   * Scopes it holds for safe requests (roles.ts: a viewer reads more than it writes), narrowed
   * the same way. Absent on sessions made before it existed: they read with `scopes`.
   */
  read_scopes?: Scope[];
  /** How it began: `login_code`, `invite`, `personal_access_token`. */
  via: "login_code" | "invite" | "personal_access_token";
  expires_at_ms: number;
  revoked_at_ms: number | null;
}

function randomPart(): string {
  const random = new Uint8Array(32);
  crypto.getRandomValues(random);
  return Buffer.from(random).toString("base64url");
}

/** Splits a secret into its tenant and record ids; null when it is not one of ours. */
export function parseConsoleSecret(secret: string, prefix: string): { tenantId: string; id: string } | null {
  const parts = secret.split(".");
  if (parts.length !== 4 || parts[0] !== prefix) return null;
  const [, tenantId, id, random] = parts as [string, string, string, string];
  if (!/^ten_[0-9A-Z]{26}$/.test(tenantId) || !/^[a-z]{2,3}_[0-9A-Z]{26}$/.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(random)) return null;
  return { tenantId, id };
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(sha256Hex(secret), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function record<Body>(context: WriteContext, kind: "console_code" | "console_session", id: string, refId: string | null, status: string, body: Body): StoredRecord<Body> {
  return { tenantId: context.tenantId, kind, id, agentId: null, status, refId, dueAtMs: null, createdAtMs: context.nowMs, updatedAtMs: context.nowMs, body };
}

/**
 * Mints a one-time login code for a member (the link `bursar serve` prints).
 *
 * @example const { code } = await createLoginCode(context, { userId: owner.id });
 */
export async function createLoginCode(context: WriteContext, input: { userId: string; lifetimeSeconds?: number }): Promise<{ code: string; expiresAtMs: number }> {
  const lifetime = Math.min(input.lifetimeSeconds ?? consoleLoginCodeLifetimeSecondsMax, consoleLoginCodeLifetimeSecondsMax);
  const id = newId("lc", context.nowMs);
  const code = `${loginCodePrefix}.${context.tenantId}.${id}.${randomPart()}`;
  const expiresAtMs = context.nowMs + lifetime * 1000;
  await saveRecord(context.tx, record<ConsoleCodeBody>(context, "console_code", id, input.userId, "pending", {
    purpose: "login", secret_hash: sha256Hex(code), user_id: input.userId, role: null, expires_at_ms: expiresAtMs, used_at_ms: null, created_by: `${context.actor.type}:${context.actor.id}`,
  }), true);
  await appendEvent(context, "console.login_code.created", { login_code: { id, user_id: input.userId, expires_at: toRfc3339(expiresAtMs) } });
  return { code, expiresAtMs };
}

/** Mints a one-time invite for a new member with `role`. */
export async function createInvite(context: WriteContext, input: { role: OwnerRole; lifetimeSeconds?: number }): Promise<{ code: string; id: string; expiresAtMs: number }> {
  const lifetime = Math.min(input.lifetimeSeconds ?? consoleInviteLifetimeSecondsMax, consoleInviteLifetimeSecondsMax);
  const id = newId("lc", context.nowMs);
  const code = `${inviteCodePrefix}.${context.tenantId}.${id}.${randomPart()}`;
  const expiresAtMs = context.nowMs + lifetime * 1000;
  await saveRecord(context.tx, record<ConsoleCodeBody>(context, "console_code", id, null, "pending", {
    purpose: "invite", secret_hash: sha256Hex(code), user_id: null, role: input.role, expires_at_ms: expiresAtMs, used_at_ms: null, created_by: `${context.actor.type}:${context.actor.id}`,
  }), true);
  await appendEvent(context, "console.invite.created", { invite: { id, role: input.role, expires_at: toRfc3339(expiresAtMs) } });
  return { code, id, expiresAtMs };
}

/**
 * Uses a one-time code: valid, unexpired, unused, of the right purpose, or one answer,
 * `invalid_login_code`, for all the ways it can be wrong (a replayed link learns nothing).
 * Runs inside the tenant's write, which is serialised, so two redemptions cannot both succeed.
 */
export async function redeemCode(context: WriteContext, code: string, purpose: ConsoleCodeBody["purpose"]): Promise<Result<StoredRecord<ConsoleCodeBody>>> {
  const parsed = parseConsoleSecret(code, purpose === "login" ? loginCodePrefix : inviteCodePrefix);
  const invalid = fail("invalid_login_code", "This link is invalid, expired or already used: ask for a new one.");
  if (!parsed || parsed.tenantId !== context.tenantId) return invalid;
  const found = await loadRecord<ConsoleCodeBody>(context.tx, context.tenantId, "console_code", parsed.id);
  if (!found || found.body.purpose !== purpose || !secretMatches(code, found.body.secret_hash)) return invalid;
  if (found.body.used_at_ms !== null || found.body.expires_at_ms <= context.nowMs) return invalid;
  const used: StoredRecord<ConsoleCodeBody> = { ...found, status: "used", updatedAtMs: context.nowMs, body: { ...found.body, used_at_ms: context.nowMs } };
  await saveRecord(context.tx, used, false);
  return ok(used);
}

export interface CreatedSession {
  /** The cookie value, shown once. */
  sessionToken: string;
  /** Sent back by the console in `X-CSRF-Token` on every mutation. */
  csrfToken: string;
  session: StoredRecord<ConsoleSessionBody>;
}

/** The CSRF token of a session: derived, so the console can fetch it again after a reload. */
export function csrfTokenFor(sessionToken: string): string {
  return Buffer.from(sha256Hex(`bursar.console.csrf.v1\n${sessionToken}`), "hex").toString("base64url");
}

/**
 * Starts a session for an active member. Its scopes are the member's role's (for writes, and for
 * safe requests), narrowed by `scopeCeiling` (the PAT it was exchanged for). The oldest sessions beyond
 * `consoleSessionsPerUserMax` are revoked.
 */
export async function createConsoleSession(
  context: WriteContext,
  input: { user: UserRow; via: ConsoleSessionBody["via"]; scopeCeiling?: readonly string[] },
): Promise<CreatedSession> {
  const id = newId("cs", context.nowMs);
  const sessionToken = `${consoleSessionPrefix}.${context.tenantId}.${id}.${randomPart()}`;
  const csrfToken = csrfTokenFor(sessionToken);
  const withinCeiling = (scope: Scope) => input.scopeCeiling === undefined || input.scopeCeiling.includes(scope);
  const scopes = roleScopes(input.user.role, "write").filter(withinCeiling);
  const readScopes = roleScopes(input.user.role, "read").filter(withinCeiling);
  const expiresAtMs = context.nowMs + consoleSessionLifetimeSecondsMax * 1000;
  const session = record<ConsoleSessionBody>(context, "console_session", id, input.user.id, "active", {
    user_id: input.user.id, secret_hash: sha256Hex(sessionToken), csrf_hash: sha256Hex(csrfToken), scopes, read_scopes: readScopes, via: input.via, expires_at_ms: expiresAtMs, revoked_at_ms: null,
  });
  await saveRecord(context.tx, session, true);
  const open = await listRecordsOf<ConsoleSessionBody>(context.tx, context.tenantId, { kind: "console_session", refId: input.user.id, status: "active", limit: consoleSessionsPerUserMax + 10 });
  for (const old of open.slice(consoleSessionsPerUserMax)) await revokeSession(context, old);
  await appendEvent(context, "console.session.created", { session: { id, user_id: input.user.id, via: input.via, scopes, expires_at: toRfc3339(expiresAtMs) } });
  return { sessionToken, csrfToken, session };
}

async function revokeSession(context: WriteContext, session: StoredRecord<ConsoleSessionBody>): Promise<void> {
  if (session.status !== "active") return;
  await saveRecord(context.tx, { ...session, status: "revoked", updatedAtMs: context.nowMs, body: { ...session.body, revoked_at_ms: context.nowMs } }, false);
}

/** Signs a session out. Idempotent: an already-revoked session stays revoked. */
export async function endConsoleSession(context: WriteContext, sessionId: string): Promise<void> {
  const session = await loadRecord<ConsoleSessionBody>(context.tx, context.tenantId, "console_session", sessionId);
  if (!session || session.status !== "active") return;
  await revokeSession(context, session);
  await appendEvent(context, "console.session.revoked", { session: { id: sessionId, user_id: session.body.user_id } });
}

/** Revokes every open session of a member (removal, role change). */
export async function endSessionsOfUser(context: WriteContext, userId: string): Promise<number> {
  const open = await listRecordsOf<ConsoleSessionBody>(context.tx, context.tenantId, { kind: "console_session", refId: userId, status: "active", limit: consoleSessionsPerUserMax + 10 });
  for (const session of open) await revokeSession(context, session);
  return open.length;
}

/**
 * Finds the live session a cookie names: the secret matches, it is active and unexpired, and its
 * member is still a member. Null for anything else (read only; no write on the request path).
 */
export async function findConsoleSession(reader: StoreReader, sessionToken: string, nowMs: number): Promise<{ session: StoredRecord<ConsoleSessionBody>; user: UserRow } | null> {
  const parsed = parseConsoleSecret(sessionToken, consoleSessionPrefix);
  if (!parsed) return null;
  const session = await loadRecord<ConsoleSessionBody>(reader, parsed.tenantId, "console_session", parsed.id);
  if (!session || !secretMatches(sessionToken, session.body.secret_hash)) return null;
  if (session.status !== "active" || session.body.expires_at_ms <= nowMs) return null;
  const user = await reader.getUser(parsed.tenantId, session.body.user_id);
  if (!user || user.removedAtMs !== null) return null;
  return { session, user };
}

/** The tenant a console secret claims to belong to (before anything is verified). */
export function tenantOfConsoleSecret(secret: string): string | null {
  for (const prefix of [loginCodePrefix, inviteCodePrefix, consoleSessionPrefix]) {
    const parsed = parseConsoleSecret(secret, prefix);
    if (parsed) return parsed.tenantId;
  }
  return null;
}
