/** `/v1/webhook-endpoints`: subscriptions, deliveries, secret rotation, manual retries. */
import type { Page } from "../pagination.ts";
import type { PageParams, WebhookDelivery, WebhookEndpoint, WebhookEndpointCreateParams, WebhookEndpointUpdateParams, WebhookEndpointWithSecret } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class WebhookEndpoints extends Resource {
  /** The signing secret (`whsec_…`) is in the answer once; keep it for `verifyWebhook`. */
  create(params: WebhookEndpointCreateParams, options?: CallOptions): Promise<WebhookEndpointWithSecret> {
    return this.postJson("/v1/webhook-endpoints", params, options);
  }
  get(id: string, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.getJson(`/v1/webhook-endpoints/${segment(id)}`, undefined, options);
  }
  update(id: string, params: WebhookEndpointUpdateParams, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.patchJson(`/v1/webhook-endpoints/${segment(id)}`, params, options);
  }
  delete(id: string, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.deleteJson(`/v1/webhook-endpoints/${segment(id)}`, options);
  }
  list(params: PageParams = {}, options?: CallOptions): Promise<Page<WebhookEndpoint>> {
    return this.paginate("/v1/webhook-endpoints", { ...params }, options);
  }
  /** A new secret; the old one keeps signing for `overlap_seconds` (default one day). */
  rotateSecret(id: string, params: { overlap_seconds?: number } = {}, options?: CallOptions): Promise<WebhookEndpointWithSecret> {
    return this.postJson(`/v1/webhook-endpoints/${segment(id)}/rotate-secret`, params, options);
  }
  deliveries(id: string, params: PageParams = {}, options?: CallOptions): Promise<Page<WebhookDelivery>> {
    return this.paginate(`/v1/webhook-endpoints/${segment(id)}/deliveries`, { ...params }, options);
  }
  retryDelivery(id: string, deliveryId: string, options?: CallOptions): Promise<WebhookDelivery> {
    return this.postJson(`/v1/webhook-endpoints/${segment(id)}/deliveries/${segment(deliveryId)}/retry`, {}, options);
  }
}
