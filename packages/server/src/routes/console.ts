/**
 * The owner console's own routes: signing in (a one-time login link, an invite, or a personal
 * access token exchanged for a session), the current session, signing out, and members.
 * The console itself is served by http/console-static.ts; everything else it shows comes from
 * the ordinary API, which a session cookie authenticates like any owner credential.
 */
import {
  acceptInvite, changeMemberRole, checkInvite, consoleSessionLifetimeSecondsMax, createConsoleSession, createInvite, csrfTokenFor,
  endConsoleSession, fail, listMembers, loadRecord, memberView, ok, parseConsoleSecret, loginCodePrefix, redeemCode, removeMember,
  sha256Hex, toRfc3339, wire, type ConsoleSessionBody, type CreatedSession, type Result, type UserRow,
} from "@bursar/core";
import { z } from "zod";
import type { FastifyReply, FastifyRequest } from "fastify";
import { clearSessionCookie, refuseCrossSite, sessionCookie, setSessionCookie } from "../http/console-auth.js";
import { failureToProblem, ProblemError } from "../http/problem.js";
import { baseUrlOf } from "../identity/urls.js";
import type { RouteModule } from "./context.js";

const tags = ["console"];

function sessionView(created: { session: CreatedSession["session"]; csrfToken: string }, user: UserRow) {
  return {
    id: created.session.id,
    object: "console_session" as const,
    tenant_id: created.session.tenantId,
    csrf_token: created.csrfToken,
    scopes: created.session.body.scopes,
    member: memberView(user),
    expires_at: toRfc3339(created.session.body.expires_at_ms),
  };
}

function ownersOnly(request: FastifyRequest): void {
  if (request.principal.principalType !== "user") throw new ProblemError("insufficient_scope", "Only members use the console's routes.");
}

export const consoleRoutes: RouteModule = (app, { store, clock, mutate }) => {
  /** Writes a sign-in and answers with the cookie set; failures are problems, nothing is written. */
  async function signIn(request: FastifyRequest, reply: FastifyReply, tenantId: string, run: (context: Parameters<Parameters<typeof mutate>[2]>[0]) => Promise<Result<CreatedSession & { user: UserRow }>>) {
    const result = await store.write(tenantId, (tx) => run({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "console" } }));
    if (!result.ok) throw failureToProblem(result);
    setSessionCookie(request, reply, result.value.sessionToken, consoleSessionLifetimeSecondsMax);
    reply.header("cache-control", "no-store");
    return reply.code(201).send(sessionView(result.value, result.value.user));
  }

  app.post(
    "/v1/console/sessions",
    {
      schema: { tags, summary: "Sign in to the console: a one-time login code, or a personal access token exchanged for a session cookie", description: "Answers with the session and its CSRF token, and sets the session cookie (HttpOnly, SameSite=Strict, Secure unless on loopback). A login code works once; a used, expired or forged one is `invalid_login_code`. A PAT's session holds no more than the token's scopes. Cross-site requests are refused.", body: wire.createConsoleSessionBody, response: { 201: wire.consoleSession } },
      config: { public: true, errors: ["invalid_login_code", "invalid_token", "csrf_check_failed"], example: { body: { personal_access_token: "bpat_…" } } },
    },
    async (request, reply) => {
      refuseCrossSite(request);
      const body = request.body;
      if ("login_code" in body) {
        const code = body.login_code;
        const parsed = parseConsoleSecret(code, loginCodePrefix);
        if (!parsed || !(await store.read.getTenant(parsed.tenantId))) throw failureToProblem(fail("invalid_login_code", "This link is invalid, expired or already used: ask for a new one."));
        return signIn(request, reply, parsed.tenantId, async (context) => {
          const redeemed = await redeemCode(context, code, "login");
          if (!redeemed.ok) return redeemed;
          const user = await context.tx.getUser(context.tenantId, redeemed.value.body.user_id ?? "");
          if (!user || user.removedAtMs !== null) return fail("invalid_login_code", "This link is invalid, expired or already used: ask for a new one.");
          return ok({ ...(await createConsoleSession({ ...context, actor: { type: "user", id: user.id } }, { user, via: "login_code" })), user });
        });
      }
      // One answer for every dead token (unknown, revoked, expired, removed member).
      const dead = new ProblemError("invalid_token", "The access token is invalid, expired or revoked.");
      const row = await store.read.findPersonalAccessTokenByHash(sha256Hex(body.personal_access_token));
      const nowMs = clock.nowMs();
      if (!row || (row.revokedAtMs !== null && row.revokedAtMs <= nowMs) || (row.expiresAtMs !== null && row.expiresAtMs <= nowMs)) throw dead;
      return signIn(request, reply, row.tenantId, async (context) => {
        const user = await context.tx.getUser(context.tenantId, row.userId);
        if (!user || user.removedAtMs !== null) return fail("invalid_login_code", "The access token's member was removed.");
        return ok({ ...(await createConsoleSession({ ...context, actor: { type: "user", id: user.id } }, { user, via: "personal_access_token", scopeCeiling: row.scopes })), user });
      });
    },
  );

  app.post(
    "/v1/console/invites/accept",
    {
      schema: { tags, summary: "Accept a one-time invite: become a member and sign in", description: "Creates the member with the invite's role and signs them in (the session cookie is set). The invite works once.", body: wire.acceptInviteBody, response: { 201: wire.consoleSession } },
      config: { public: true, errors: ["invalid_login_code", "csrf_check_failed"], example: { body: { code: "bci.…", name: "Ada Lovelace" } } },
    },
    async (request, reply) => {
      refuseCrossSite(request);
      const parsed = parseConsoleSecret(request.body.code, "bci");
      if (!parsed || !(await store.read.getTenant(parsed.tenantId))) throw failureToProblem(fail("invalid_login_code", "This link is invalid, expired or already used: ask for a new one."));
      return signIn(request, reply, parsed.tenantId, (context) => acceptInvite(context, { code: request.body.code, name: request.body.name, email: request.body.email }));
    },
  );

  app.get(
    "/v1/console/session",
    { schema: { tags, summary: "The console session this cookie holds, with its CSRF token", description: "For the console after a reload: the member, the session's scopes and its CSRF token. Only a session cookie authenticates this; another credential gets 404.", response: { 200: wire.consoleSession } }, config: { scopes: [], errors: ["not_found"] } },
    async (request, reply) => {
      const token = sessionCookie(request);
      const { principal } = request;
      const session = principal.credentialId.startsWith("cs_") && token !== null
        ? await loadRecord<ConsoleSessionBody>(store.read, principal.tenantId, "console_session", principal.credentialId)
        : null;
      if (!session || token === null) throw new ProblemError("not_found", "This request is not authenticated by a console session.");
      const user = await store.read.getUser(principal.tenantId, principal.principalId);
      if (!user) throw new ProblemError("not_found", "No such member.");
      reply.header("cache-control", "no-store");
      return { ...sessionView({ session, csrfToken: csrfTokenFor(token) }, user), scopes: [...principal.scopes] };
    },
  );

  app.delete(
    "/v1/console/session",
    { schema: { tags, summary: "Sign out: the session is revoked at once", description: "Revokes the session the cookie holds and clears the cookie; the next request with it is 401.", response: { 200: z.object({ object: z.literal("console_session"), id: z.string(), revoked: z.boolean() }) } }, config: { scopes: [], errors: ["not_found"] } },
    async (request, reply) => {
      const { credentialId } = request.principal;
      if (!credentialId.startsWith("cs_")) throw new ProblemError("not_found", "This request is not authenticated by a console session.");
      clearSessionCookie(request, reply);
      return mutate(request, reply, async (context) => ok(await endConsoleSession(context, credentialId)), () => ({ status: 200, body: { object: "console_session" as const, id: credentialId, revoked: true } }));
    },
  );

  app.get(
    "/v1/members",
    { schema: { tags, summary: "The tenant's members and their roles", description: "Every member (removed ones too), oldest first, with their role and the scopes it grants. Members only; agent credentials are refused.", response: { 200: wire.memberList } }, config: { scopes: [] } },
    async (request) => {
      ownersOnly(request);
      return { object: "list" as const, data: (await listMembers(store.read, request.principal.tenantId)).map(memberView) };
    },
  );

  app.post(
    "/v1/members/invites",
    {
      schema: { tags, summary: "Invite a member for a role: a one-time link, shown once", description: "A one-time invite link for a new member with this role, valid up to 7 days. Only an owner invites an owner.", body: wire.createInviteBody, response: { 201: wire.invite } },
      config: { scopes: ["tenant:admin"], secretFields: ["code", "url"], errors: ["member_role_forbidden", "limit_exceeded"], example: { body: { role: "approver" } } },
    },
    async (request, reply) => {
      ownersOnly(request);
      const base = baseUrlOf(request);
      return mutate(
        request,
        reply,
        async (context) => {
          const allowed = await checkInvite(context, request.body.role);
          if (!allowed.ok) return allowed;
          return ok(await createInvite(context, { role: request.body.role, lifetimeSeconds: request.body.expires_in }));
        },
        (created) => ({
          status: 201,
          body: { id: created.id, object: "invite" as const, role: request.body.role, code: created.code, url: `${base}/console/invite#code=${created.code}`, expires_at: toRfc3339(created.expiresAtMs) },
        }),
      );
    },
  );

  app.patch(
    "/v1/members/:id",
    { schema: { tags, summary: "Change a member's role (their sessions end)", description: "Changes the role; the member's sessions end and their tokens are narrowed to the new role. Only an owner changes or grants `owner`; the last owner cannot be demoted.", params: wire.idParam, body: wire.changeMemberBody, response: { 200: wire.member } }, config: { scopes: ["tenant:admin"], errors: ["member_role_forbidden", "last_owner"], example: { body: { role: "viewer" } } } },
    async (request, reply) => {
      ownersOnly(request);
      return mutate(request, reply, (context) => changeMemberRole(context, request.params.id, request.body.role), (user) => ({ status: 200, body: memberView(user) }));
    },
  );

  app.delete(
    "/v1/members/:id",
    { schema: { tags, summary: "Remove a member: their sessions and tokens stop working", description: "Removes the member: their sessions end now and their tokens fail on the next request. Only an owner removes an owner; the last owner cannot be removed.", params: wire.idParam, response: { 200: wire.member } }, config: { scopes: ["tenant:admin"], errors: ["member_role_forbidden", "last_owner"] } },
    async (request, reply) => {
      ownersOnly(request);
      return mutate(request, reply, (context) => removeMember(context, request.params.id), (user) => ({ status: 200, body: memberView(user) }));
    },
  );
};
