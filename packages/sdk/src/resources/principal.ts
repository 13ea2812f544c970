/** `GET /v1/auth/principal`: who the client's credential is. */
import type { Principal as PrincipalView } from "../types.ts";
import { Resource, type CallOptions } from "./resource.ts";

export class PrincipalResource extends Resource {
  /** @example const me = await bursar.principal.get(); me.agent_id; me.scopes; */
  get(options?: CallOptions): Promise<PrincipalView> {
    return this.getJson("/v1/auth/principal", undefined, options);
  }
}
