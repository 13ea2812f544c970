/** `/v1/api-keys`: scoped, rate-limited bearer keys (`bsk_…`) for agents and service accounts. */
import type { Page } from "../pagination.ts";
import type { ApiKey, ApiKeyCreateParams, ApiKeyUsage, PageParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class ApiKeys extends Resource {
  /** The secret is in `key`, this once. */
  create(params: ApiKeyCreateParams, options?: CallOptions): Promise<ApiKey> {
    return this.postJson("/v1/api-keys", params, options);
  }
  list(params: PageParams = {}, options?: CallOptions): Promise<Page<ApiKey>> {
    return this.paginate("/v1/api-keys", { ...params }, options);
  }
  /** A new key now; the old one keeps working for `grace_period_seconds` (default 0). */
  rotate(id: string, params: { grace_period_seconds?: number } = {}, options?: CallOptions): Promise<ApiKey> {
    return this.postJson(`/v1/api-keys/${segment(id)}/rotate`, params, options);
  }
  usage(id: string, options?: CallOptions): Promise<ApiKeyUsage> {
    return this.getJson(`/v1/api-keys/${segment(id)}/usage`, undefined, options);
  }
  /** `DELETE /v1/api-keys/{id}`: revokes the key at once. */
  delete(id: string, options?: CallOptions): Promise<ApiKey> {
    return this.deleteJson(`/v1/api-keys/${segment(id)}`, options);
  }
  /** The same as `delete`, by its effect's name. */
  revoke(id: string, options?: CallOptions): Promise<ApiKey> {
    return this.delete(id, options);
  }
}
