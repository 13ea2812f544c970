/**
 * Member roles (SPEC 1: `owner`, `admin`, `approver`, `viewer`) and the scopes each grants. A
 * console session holds its member's role's scopes; a personal access token holds at most them
 * (packages/server/src/http/auth.ts narrows it on every request), so the API enforces the role,
 * not just the console's buttons.
 *
 * | role     | reads | approve | agents, policies, tickets | members, keys, webhooks, ledger |
 * |----------|-------|---------|---------------------------|---------------------------------|
 * | owner    | yes   | yes     | yes                       | yes (and may grant `owner`)     |
 * | admin    | yes   | yes     | yes                       | yes (never touches an owner)    |
 * | approver | yes   | yes     | no (teams they manage: yes) | no                            |
 * | viewer   | yes   | no      | no                        | no                              |
 */
import type { OwnerRole } from "../ports.js";
import { allScopes, type Scope } from "../scopes.js";

export const memberRoles = ["owner", "admin", "approver", "viewer"] as const satisfies readonly OwnerRole[];

/** What every member may read. `agents:execute` is not here: an owner never acts as an agent. */
const readScopes = ["transactions:read", "events:read", "payees:read", "budgets:read"] as const satisfies readonly Scope[];

const scopesByRole: Record<OwnerRole, readonly Scope[]> = {
  owner: allScopes,
  admin: allScopes,
  // A team manager is often an approver: `teams:manage` reaches only the teams naming them.
  approver: [...readScopes, "approvals:write", "teams:manage"],
  viewer: readScopes,
};

/** The scopes a role grants. Unknown roles (a stored value since renamed) grant nothing. */
export function roleScopes(role: string): Scope[] {
  return [...(scopesByRole[role as OwnerRole] ?? [])];
}

export function isMemberRole(value: string): value is OwnerRole {
  return (memberRoles as readonly string[]).includes(value);
}
