/** OAuth-style scopes (SPEC 3 "Identity and auth"). */

/** Scopes an agent credential may hold. */
export const agentScopes = ["agents:execute", "transactions:read", "events:read", "payees:read", "budgets:read"] as const;

/** Owner-only scopes: never grantable to an agent credential, whatever a ticket or key asks for. */
export const ownerOnlyScopes = ["agents:config", "approvals:write", "tenant:admin"] as const;

export const allScopes = [...agentScopes, ...ownerOnlyScopes] as const;
export type Scope = (typeof allScopes)[number];

export function isScope(value: string): value is Scope {
  return (allScopes as readonly string[]).includes(value);
}
