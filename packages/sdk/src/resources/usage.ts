/** `GET /v1/usage`: spent, held and counts per day, agent, team, payee or operation. */
import type { Usage, UsageParams } from "../types.ts";
import { Resource, type CallOptions } from "./resource.ts";

export class UsageResource extends Resource {
  /** @example const { data } = await owner.usage.get({ group_by: "day", from: "2026-11-01", to: "2026-11-30" }); */
  get(params: UsageParams = {}, options?: CallOptions): Promise<Usage> {
    return this.getJson("/v1/usage", { ...params }, options);
  }
}
