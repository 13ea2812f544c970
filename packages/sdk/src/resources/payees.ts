/** `/v1/payees`: beneficiaries with the aliases an agent may use ("Bob"). */
import type { Page } from "../pagination.ts";
import type { Payee, PayeeCreateParams, PayeeListParams, PayeeUpdateParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Payees extends Resource {
  /** Owners: a payee and its ledger account. */
  create(params: PayeeCreateParams, options?: CallOptions): Promise<Payee> {
    return this.postJson("/v1/payees", params, options);
  }
  get(id: string, options?: CallOptions): Promise<Payee> {
    return this.getJson(`/v1/payees/${segment(id)}`, undefined, options);
  }
  /** All active payees, or with `q` those a name or alias matches exactly. */
  list(params: PayeeListParams = {}, options?: CallOptions): Promise<Page<Payee>> {
    return this.paginate("/v1/payees", { ...params }, options);
  }
  update(id: string, params: PayeeUpdateParams, options?: CallOptions): Promise<Payee> {
    return this.patchJson(`/v1/payees/${segment(id)}`, params, options);
  }
  delete(id: string, options?: CallOptions): Promise<Payee> {
    return this.deleteJson(`/v1/payees/${segment(id)}`, options);
  }
}
