/** Scope rules of agent credentials (SPEC 3 "Scopes"). */
import { fail, ok, type Result } from "../result.js";
import { ownerOnlyScopes, type Scope } from "../scopes.js";

/** True for `agents:config`, `approvals:write`, `tenant:admin`. */
export function isOwnerOnlyScope(scope: string): boolean {
  return (ownerOnlyScopes as readonly string[]).includes(scope);
}

/**
 * Refuses owner-only scopes for a credential that acts as an agent (ticket ceilings,
 * registrations, token requests, agent API keys): whatever a request says, an agent never gets
 * to configure agents, approve its own spending or administer the tenant.
 */
export function checkAgentScopes(scopes: readonly string[]): Result<Scope[]> {
  const forbidden = scopes.filter(isOwnerOnlyScope);
  if (forbidden.length > 0) return fail("owner_only_scope", `an agent credential can never hold ${forbidden.join(", ")}`);
  return ok([...new Set(scopes)] as Scope[]);
}

/** Scopes of `requested` missing from `ceiling`. */
export function scopesOutside(requested: readonly string[], ceiling: readonly string[]): string[] {
  return requested.filter((scope) => !ceiling.includes(scope));
}
