/** OAuth-style scopes (SPEC 3 "Identity and auth"). */

/**
 * Scopes an agent credential may hold. `agents:spawn` (issue 15): create child agents, each no
 * looser than the caller (docs/teams.md).
 */
export const agentScopes = ["agents:execute", "transactions:read", "events:read", "payees:read", "budgets:read", "agents:spawn"] as const;

/**
 * Owner-only scopes: never grantable to an agent credential, whatever a ticket or key asks for.
 * `teams:manage`: manage the teams whose `manager_ids` name the member (docs/teams.md).
 */
export const ownerOnlyScopes = ["agents:config", "approvals:write", "tenant:admin", "teams:manage"] as const;

export const allScopes = [...agentScopes, ...ownerOnlyScopes] as const;
export type Scope = (typeof allScopes)[number];

export function isScope(value: string): value is Scope {
  return (allScopes as readonly string[]).includes(value);
}
