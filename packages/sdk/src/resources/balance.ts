/** `GET /v1/balance`: the calling agent's wallet balance (owners name the agent). */
import type { Balance as BalanceView } from "../types.ts";
import { Resource, type CallOptions } from "./resource.ts";

export class BalanceResource extends Resource {
  /** @example const { balance_display, currency } = await bursar.balance.get(); */
  get(params: { agent_id?: string } = {}, options?: CallOptions): Promise<BalanceView> {
    return this.getJson("/v1/balance", { ...params }, options);
  }
}
