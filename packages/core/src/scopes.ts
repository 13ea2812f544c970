/** OAuth-style scopes (SPEC 3 "Identity and auth"). */

/**
 * Scopes an agent credential may hold. `agents:spawn` (issue 15): create child agents, each no
 * looser than the caller (docs/teams.md). `tasks:write` (issue 13): create tasks, delegating work
 * to another agent (docs/tasks.md).
 */
export const agentScopes = ["agents:execute", "transactions:read", "events:read", "payees:read", "budgets:read", "agents:spawn", "tasks:write"] as const;

/**
 * Owner-only scopes: never grantable to an agent credential, whatever a ticket or key asks for.
 * `teams:manage`: manage the teams whose `manager_ids` name the member (docs/teams.md).
 * `ci:write` (a CI system's service-account key posts task CI reports) and `reviews:write` (an
 * owner reviews a task): an agent that could report its own CI or review its own work could pay
 * its own bounty (docs/tasks.md).
 */
export const ownerOnlyScopes = ["agents:config", "approvals:write", "tenant:admin", "teams:manage", "ci:write", "reviews:write"] as const;

export const allScopes = [...agentScopes, ...ownerOnlyScopes] as const;
export type Scope = (typeof allScopes)[number];

export function isScope(value: string): value is Scope {
  return (allScopes as readonly string[]).includes(value);
}
