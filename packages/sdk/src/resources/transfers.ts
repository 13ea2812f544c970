/** `/v1/transfers`: owner-level double-entry transfers, holds and atomic batches. */
import type { Page } from "../pagination.ts";
import type { Transfer, TransferCreateParams, TransferListParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Transfers extends Resource {
  /** One transfer, or a hold with `pending: true`. */
  create(params: TransferCreateParams, options?: CallOptions): Promise<Transfer> {
    return this.postJson("/v1/transfers", params, options);
  }
  /** Several transfers that succeed or fail as one. */
  async createBatch(transfers: TransferCreateParams[], options?: CallOptions): Promise<Transfer[]> {
    const batch = await this.postJson<{ object: "list"; data: Transfer[] }>("/v1/transfers", { transfers }, options);
    return batch.data;
  }
  get(id: string, options?: CallOptions): Promise<Transfer> {
    return this.getJson(`/v1/transfers/${segment(id)}`, undefined, options);
  }
  list(params: TransferListParams = {}, options?: CallOptions): Promise<Page<Transfer>> {
    return this.paginate("/v1/transfers", { ...params }, options);
  }
  /** Posts a hold, fully or (with `amount`) partly. */
  postPending(id: string, params: { amount?: number } = {}, options?: CallOptions): Promise<Transfer> {
    return this.postJson(`/v1/transfers/${segment(id)}/post`, params, options);
  }
  voidPending(id: string, options?: CallOptions): Promise<Transfer> {
    return this.postJson(`/v1/transfers/${segment(id)}/void`, {}, options);
  }
}
