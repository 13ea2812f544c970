/**
 * Member roles (SPEC 1: `owner`, `admin`, `approver`, `viewer`) and the scopes each grants: the
 * one place a role becomes scopes. A console session holds its member's role's scopes; a
 * personal access token holds at most them (packages/server/src/http/auth.ts and
 * console-auth.ts narrow it on every request), so the API enforces the role, not just the
 * console's buttons.
 *
 * | role     | reads | approve | agents, policies, tickets | members, keys, webhooks, ledger |
 * |----------|-------|---------|---------------------------|---------------------------------|
 * | owner    | yes   | yes     | yes                       | yes (and may grant `owner`)     |
 * | admin    | yes   | yes     | yes                       | yes (never touches an owner)    |
 * | approver | yes   | yes     | no (teams they manage: yes) | no                            |
 * | viewer   | yes   | no      | no                        | no                              |
 *
 * "Reads" means every read: the API guards a resource's reads and writes with one scope
 * (`GET /v1/agents` and `POST /v1/agents` both want `agents:config`, the ledger's reads want
 * `tenant:admin`), so a role that reads everything but writes little holds two sets: the scopes
 * it may use on a safe request (RFC 9110 §9.2.1: GET and HEAD, which change nothing, and the
 * routes that declare themselves side-effect free, such as the policy dry run) and the scopes it
 * may use on any other. No read answer carries a secret (keys, webhook and rail secrets are shown
 * once, on the write that makes them), so reading with a write scope grants only sight.
 */
import type { OwnerRole } from "../ports.js";
import { allScopes, isScope, type Scope } from "../scopes.js";

export const memberRoles = ["owner", "admin", "approver", "viewer"] as const satisfies readonly OwnerRole[];

/** Which kind of request a scope is used on: `read` (a safe request) or `write` (any other). */
export type MemberAccess = "read" | "write";

/** The read scopes of SPEC 3, which every member holds for writes too (they guard no write). */
const readScopes = ["transactions:read", "events:read", "payees:read", "budgets:read"] as const satisfies readonly Scope[];

const scopesByRole: Record<OwnerRole, Record<MemberAccess, readonly Scope[]>> = {
  owner: { read: allScopes, write: allScopes },
  admin: { read: allScopes, write: allScopes },
  // A team manager is often an approver: `teams:manage` reaches only the teams naming them.
  approver: { read: allScopes, write: [...readScopes, "approvals:write", "teams:manage"] },
  viewer: { read: allScopes, write: readScopes },
};

/**
 * The scopes a role grants for one kind of request (`write` unless said). Unknown roles (a stored
 * value since renamed) grant nothing.
 *
 * @example
 * roleScopes("viewer", "read").includes("agents:config"); // true: a viewer reads agents
 * roleScopes("viewer").includes("agents:config"); // false: and never changes them
 */
export function roleScopes(role: string, access: MemberAccess = "write"): Scope[] {
  return [...(scopesByRole[role as OwnerRole]?.[access] ?? [])];
}

/**
 * What a member's credential may use: the credential's own scopes (a PAT's, a session's) narrowed
 * by the member's current role, for writes (`scopes`) and for safe requests (`readScopes`).
 * `held.read` defaults to `held.write` (a PAT holds one list; so did sessions made before
 * sessions recorded their reading scopes). Unknown strings grant nothing.
 */
export function memberScopes(role: string, held: { write: readonly string[]; read?: readonly string[] }): { scopes: Scope[]; readScopes: Scope[] } {
  const narrow = (list: readonly string[], access: MemberAccess) => {
    const allowed = roleScopes(role, access);
    return list.filter(isScope).filter((scope) => allowed.includes(scope));
  };
  return { scopes: narrow(held.write, "write"), readScopes: narrow(held.read ?? held.write, "read") };
}

export function isMemberRole(value: string): value is OwnerRole {
  return (memberRoles as readonly string[]).includes(value);
}
