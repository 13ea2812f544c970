/**
 * Members of a tenant: the people who answer for the money. An owner or admin invites a member
 * for a role (a one-time link, console/sessions.ts), changes roles and removes members.
 *
 * Rules: only an owner grants, changes or removes the `owner` role; the last owner can be neither
 * demoted nor removed (a tenant nobody can administer is lost). A removed member's sessions end
 * at once, and their personal access tokens stop working on the next request (the auth layer
 * checks `removedAtMs`). A role change ends the member's sessions too, so no session keeps the
 * old role's scopes.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { memberNameLengthMax, tenantMembersMax } from "../limits.js";
import type { OwnerRole, StoreReader, UserRow } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { createConsoleSession, endSessionsOfUser, redeemCode, type CreatedSession } from "./sessions.js";
import { roleScopes } from "./roles.js";

/** A member as the API shows them. */
export function memberView(user: UserRow) {
  return {
    id: user.id,
    object: "member" as const,
    name: user.name,
    email: user.email,
    role: user.role,
    scopes: roleScopes(user.role),
    status: user.removedAtMs === null ? ("active" as const) : ("removed" as const),
    created_at: toRfc3339(user.createdAtMs),
    removed_at: user.removedAtMs === null ? null : toRfc3339(user.removedAtMs),
  };
}

export async function listMembers(reader: StoreReader, tenantId: string): Promise<UserRow[]> {
  return reader.listUsers(tenantId, tenantMembersMax);
}

async function activeOwners(reader: StoreReader, tenantId: string): Promise<number> {
  return (await listMembers(reader, tenantId)).filter((user) => user.role === "owner" && user.removedAtMs === null).length;
}

/** Whether `actor` may touch a member who has (or will get) `role`: owners only for owners. */
function mayManage(actor: UserRow, role: OwnerRole): boolean {
  if (actor.role === "owner") return true;
  return actor.role === "admin" && role !== "owner";
}

/** The actor of a member change must itself be an active owner or admin. */
async function actingMember(context: WriteContext): Promise<Result<UserRow>> {
  const actor = context.actor.type === "user" ? await context.tx.getUser(context.tenantId, context.actor.id) : null;
  if (!actor || actor.removedAtMs !== null || (actor.role !== "owner" && actor.role !== "admin")) {
    return fail("member_role_forbidden", "Only an owner or an admin manages members.");
  }
  return ok(actor);
}

/** Checks that `actor` may invite someone as `role` (the invite itself is `createInvite`). */
export async function checkInvite(context: WriteContext, role: OwnerRole): Promise<Result<UserRow>> {
  const actor = await actingMember(context);
  if (!actor.ok) return actor;
  if (!mayManage(actor.value, role)) return fail("member_role_forbidden", "Only an owner invites an owner.");
  if ((await listMembers(context.tx, context.tenantId)).length >= tenantMembersMax) return fail("limit_exceeded", `A tenant has at most ${tenantMembersMax} members.`);
  return actor;
}

/** Accepts an invite: a new member with the invite's role, signed in at once. */
export async function acceptInvite(context: WriteContext, input: { code: string; name: string; email?: string | null }): Promise<Result<CreatedSession & { user: UserRow }>> {
  const name = input.name.trim();
  if (name === "" || name.length > memberNameLengthMax) return fail("validation_failed", `A name is 1 to ${memberNameLengthMax} characters.`);
  const redeemed = await redeemCode(context, input.code, "invite");
  if (!redeemed.ok) return redeemed;
  const role = redeemed.value.body.role;
  if (role === null) return fail("invalid_login_code", "This link is invalid, expired or already used: ask for a new one.");
  const user: UserRow = { id: newId("usr", context.nowMs), tenantId: context.tenantId, email: input.email ?? null, name, role, createdAtMs: context.nowMs, removedAtMs: null };
  await context.tx.insertUser(user);
  const asMember: WriteContext = { ...context, actor: { type: "user", id: user.id } };
  await appendEvent(asMember, "user.created", { user: { id: user.id, name: user.name, email: user.email, role: user.role }, invite_id: redeemed.value.id });
  const session = await createConsoleSession(asMember, { user, via: "invite" });
  return ok({ ...session, user });
}

async function targetMember(context: WriteContext, userId: string): Promise<Result<UserRow>> {
  const user = await context.tx.getUser(context.tenantId, userId);
  if (!user || user.removedAtMs !== null) return fail("not_found", `No member ${userId}.`);
  return ok(user);
}

/** Changes a member's role; their sessions end (they sign in again with the new role). */
export async function changeMemberRole(context: WriteContext, userId: string, role: OwnerRole): Promise<Result<UserRow>> {
  const actor = await actingMember(context);
  if (!actor.ok) return actor;
  const target = await targetMember(context, userId);
  if (!target.ok) return target;
  if (!mayManage(actor.value, target.value.role) || !mayManage(actor.value, role)) return fail("member_role_forbidden", "Only an owner grants or changes the owner role.");
  if (target.value.role === role) return target;
  if (target.value.role === "owner" && (await activeOwners(context.tx, context.tenantId)) <= 1) return fail("last_owner", "The last owner cannot be demoted: make another member an owner first.");
  const updated: UserRow = { ...target.value, role };
  await context.tx.updateUser(updated);
  await endSessionsOfUser(context, userId);
  await appendEvent(context, "user.role_changed", { user: { id: userId, role, previous_role: target.value.role } });
  return ok(updated);
}

/** Removes a member: their sessions end now, their tokens on the next request. */
export async function removeMember(context: WriteContext, userId: string): Promise<Result<UserRow>> {
  const actor = await actingMember(context);
  if (!actor.ok) return actor;
  const target = await targetMember(context, userId);
  if (!target.ok) return target;
  if (!mayManage(actor.value, target.value.role)) return fail("member_role_forbidden", "Only an owner removes an owner.");
  if (target.value.role === "owner" && (await activeOwners(context.tx, context.tenantId)) <= 1) return fail("last_owner", "The last owner cannot be removed.");
  const removed: UserRow = { ...target.value, removedAtMs: context.nowMs };
  await context.tx.updateUser(removed);
  await endSessionsOfUser(context, userId);
  await appendEvent(context, "user.removed", { user: { id: userId } });
  return ok(removed);
}
