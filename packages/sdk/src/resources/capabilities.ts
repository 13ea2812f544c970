/**
 * `/v1/capabilities` (owners): pre-approved allowances, like an AP2 open mandate. A spend
 * authorization that presents the token skips the approval threshold while the capability
 * covers its operation, amount and expiry; hard limits (per-transaction maximum, windows,
 * budgets, the wallet) still apply.
 */
import type { Page } from "../pagination.ts";
import type { Capability, CapabilityCreateParams, CapabilityListParams, CapabilityWithToken } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Capabilities extends Resource {
  /**
   * Mints a capability; its `token` is in this answer only: give it to the agent.
   * @example
   * const { token } = await owner.capabilities.create({
   *   agent_id, allowed_operations: ["openai.*"], max_amount: 10_000, currency: "GBP",
   *   expires_at: new Date(Date.now() + 86_400_000).toISOString(),
   * });
   * await agent.spend.authorize({ operation: "openai.chat", amount: 2_000, currency: "GBP", capability_token: token! });
   */
  create(params: CapabilityCreateParams, options?: CallOptions): Promise<CapabilityWithToken> {
    return this.postJson("/v1/capabilities", params, options);
  }
  /** Terms and usage (`used_amount`, `remaining_amount`, `uses`), never the token. @example for await (const capability of await owner.capabilities.list({ status: "active" })) … */
  list(params: CapabilityListParams = {}, options?: CallOptions): Promise<Page<Capability>> {
    return this.paginate("/v1/capabilities", { ...params }, options);
  }
  get(id: string, options?: CallOptions): Promise<Capability> {
    return this.getJson(`/v1/capabilities/${segment(id)}`, undefined, options);
  }
  /** `DELETE /v1/capabilities/{id}`: revokes it at once; presenting it is then `capability_revoked`. */
  delete(id: string, options?: CallOptions): Promise<Capability> {
    return this.deleteJson(`/v1/capabilities/${segment(id)}`, options);
  }
  /** The same as `delete`, by its effect's name. @example await owner.capabilities.revoke(capability.id); */
  revoke(id: string, options?: CallOptions): Promise<Capability> {
    return this.delete(id, options);
  }
}
