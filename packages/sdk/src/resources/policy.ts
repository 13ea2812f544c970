/** An agent's policy and budgets, and the dry run `policy.check`. */
import type { BudgetList, BudgetsParams, Policy, PolicyCheckParams, PolicyDecision, PolicyPatch, PolicyRules } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class PolicyResource extends Resource {
  /** The policy in force for an agent (an agent reads its own). */
  get(agentId: string, options?: CallOptions): Promise<Policy> {
    return this.getJson(`/v1/agents/${segment(agentId)}/policy`, undefined, options);
  }
  /** Owners: replaces the agent's policy. */
  update(agentId: string, rules: PolicyRules, options?: CallOptions): Promise<Policy> {
    return this.client.request("PUT", `/v1/agents/${segment(agentId)}/policy`, { ...options, body: rules });
  }
  /**
   * Owners: changes only the fields given (JSON Merge Patch, RFC 7396): absent fields stay, `null`
   * clears a nullable limit, `amount_max_minor` and `count_max` merge key by key.
   * @example await bursar.policy.patch(agentId, { approval_threshold_minor: 30000 });
   */
  patch(agentId: string, changes: PolicyPatch, options?: CallOptions): Promise<Policy> {
    return this.client.request("PATCH", `/v1/agents/${segment(agentId)}/policy`, { ...options, body: changes });
  }
  /**
   * What would happen to this action now, and why; changes nothing.
   * @example const { decision, reason_codes } = await bursar.policy.check({ amount: 50000, currency: "GBP", payee: "Bob" });
   */
  check(params: PolicyCheckParams, options?: CallOptions): Promise<PolicyDecision> {
    return this.postJson("/v1/policy/check", params, options);
  }
}

export class Budgets extends Resource {
  list(agentId: string, options?: CallOptions): Promise<BudgetList> {
    return this.getJson(`/v1/agents/${segment(agentId)}/budgets`, undefined, options);
  }
  /** Owners: replaces the agent's budgets with this set. */
  set(agentId: string, params: BudgetsParams, options?: CallOptions): Promise<BudgetList> {
    return this.client.request("PUT", `/v1/agents/${segment(agentId)}/budgets`, { ...options, body: params });
  }
}
