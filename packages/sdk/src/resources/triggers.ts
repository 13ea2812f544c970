/**
 * `/v1/triggers`: owners bind an external event to a governed action of an agent; `fire` sends
 * an event as the external system would, signed per Standard Webhooks with the trigger's secret.
 */
import type { Page } from "../pagination.ts";
import type { PageParams, Trigger, TriggerCreateParams, TriggerFire, TriggerListParams, TriggerUpdateParams, TriggerWithSecret } from "../types.ts";
import { signWebhook } from "../webhooks.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export interface TriggerFireOptions extends CallOptions {
  /** The trigger's `whsec_…` secret (shown once, by `create` or `rotateSecret`). */
  secret: string;
  /** The message id; repeats with the same id act once. Default: a random one. */
  webhookId?: string;
}

export class Triggers extends Resource {
  /**
   * @example
   * const { id, secret } = await owner.triggers.create({ agent_id, name: "Invoices", operation: "payment_intents.create",
   *   payload_template: { payee: "{{supplier}}", amount: "{{amount_minor}}", currency: "GBP" } });
   */
  create(params: TriggerCreateParams, options?: CallOptions): Promise<TriggerWithSecret> {
    return this.postJson("/v1/triggers", params, options);
  }
  list(params: TriggerListParams = {}, options?: CallOptions): Promise<Page<Trigger>> {
    return this.paginate("/v1/triggers", { ...params }, options);
  }
  get(id: string, options?: CallOptions): Promise<Trigger> {
    return this.getJson(`/v1/triggers/${segment(id)}`, undefined, options);
  }
  update(id: string, params: TriggerUpdateParams, options?: CallOptions): Promise<Trigger> {
    return this.patchJson(`/v1/triggers/${segment(id)}`, params, options);
  }
  delete(id: string, options?: CallOptions): Promise<Trigger> {
    return this.deleteJson(`/v1/triggers/${segment(id)}`, options);
  }
  /** A new secret at once (the old one stops verifying); shown once. */
  rotateSecret(id: string, options?: CallOptions): Promise<TriggerWithSecret> {
    return this.postJson(`/v1/triggers/${segment(id)}/rotate-secret`, {}, options);
  }
  /** The fires the trigger accepted, newest first. */
  fires(id: string, params: PageParams = {}, options?: CallOptions): Promise<Page<TriggerFire>> {
    return this.paginate(`/v1/triggers/${segment(id)}/fires`, { ...params }, options);
  }
  /**
   * Fires the trigger with `event`, signed with its secret (Standard Webhooks `v1`). Answers the
   * governed outcome; a retry reuses the same `webhook-id`, so it acts once.
   * @example const fire = await bursar.triggers.fire(trg.id, { supplier: "Bob", amount_minor: 12000 }, { secret });
   */
  async fire(id: string, event: Record<string, unknown>, options: TriggerFireOptions): Promise<TriggerFire> {
    const { secret, webhookId, ...call } = options;
    const messageId = webhookId ?? `msg_${globalThis.crypto.randomUUID()}`;
    // The transport sends JSON.stringify(event): the same bytes as signed here.
    const headers = await signWebhook(JSON.stringify(event), secret, { id: messageId });
    return this.client.request("POST", `/v1/triggers/${segment(id)}/fire`, { ...call, body: event, headers });
  }
}
