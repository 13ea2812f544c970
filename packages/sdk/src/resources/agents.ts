/** `/v1/agents`: owners manage agents; an agent credential sees only itself. */
import type { Page } from "../pagination.ts";
import type { Agent, AgentCloneParams, AgentCreateParams, AgentHealth, AgentUpdateParams, BursarEvent, PageParams, SpawnedAgent, SpawnEstimate, SpawnParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Agents extends Resource {
  /** @example const agent = await bursar.agents.create({ name: "Invoice bot" }); */
  create(params: AgentCreateParams, options?: CallOptions): Promise<Agent> {
    return this.postJson("/v1/agents", params, options);
  }
  get(id: string, options?: CallOptions): Promise<Agent> {
    return this.getJson(`/v1/agents/${segment(id)}`, undefined, options);
  }
  update(id: string, params: AgentUpdateParams, options?: CallOptions): Promise<Agent> {
    return this.patchJson(`/v1/agents/${segment(id)}`, params, options);
  }
  /** `DELETE /v1/agents/{id}`: disables the agent and revokes all its credentials (its wallet and history stay). */
  delete(id: string, options?: CallOptions): Promise<Agent> {
    return this.deleteJson(`/v1/agents/${segment(id)}`, options);
  }
  /** The same as `delete`, by its effect's name. */
  disable(id: string, options?: CallOptions): Promise<Agent> {
    return this.delete(id, options);
  }
  /** A new agent with this one's policy, budgets and team; no credentials, an empty wallet. */
  clone(id: string, params: AgentCloneParams = {}, options?: CallOptions): Promise<Agent> {
    return this.postJson(`/v1/agents/${segment(id)}/clone`, params, options);
  }
  /** What could stop the agent now: credential, wallet, limits near exhaustion, pending approvals. */
  health(id: string, options?: CallOptions): Promise<AgentHealth> {
    return this.getJson(`/v1/agents/${segment(id)}/health`, undefined, options);
  }
  /** @example for await (const event of await bursar.agents.activity(agentId)) console.log(event.type); */
  activity(id: string, params: PageParams = {}, options?: CallOptions): Promise<Page<BursarEvent>> {
    return this.paginate(`/v1/agents/${segment(id)}/activity`, { ...params }, options);
  }
  /**
   * An agent (as itself, scope `agents:spawn`) creates a child with budgets carved from what it has
   * left, a policy and scopes no looser than its own; the child registers with the one-time ticket.
   * @example const { agent, registration_ticket } = await bursar.agents.spawn(me, { name: "Researcher", budgets: [{ period: "daily", amount: 2000 }] });
   */
  spawn(id: string, params: SpawnParams, options?: CallOptions): Promise<SpawnedAgent> {
    return this.postJson(`/v1/agents/${segment(id)}/spawn`, params, options);
  }
  /** The dry run of `spawn`: would it pass, and which fields are refused (`errors`); changes nothing. */
  spawnEstimate(id: string, params: SpawnParams, options?: CallOptions): Promise<SpawnEstimate> {
    return this.postJson(`/v1/agents/${segment(id)}/spawn/estimate`, params, options);
  }
  /** @example for await (const agent of await bursar.agents.list()) console.log(agent.name); */
  list(params: PageParams = {}, options?: CallOptions): Promise<Page<Agent>> {
    return this.paginate("/v1/agents", { ...params }, options);
  }
}
