/** `/v1/accounts`: ledger accounts and sandbox deposits (owner-level). */
import type { Page } from "../pagination.ts";
import type { Account, AccountCreateParams, DepositParams, PageParams, Transfer } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Accounts extends Resource {
  create(params: AccountCreateParams, options?: CallOptions): Promise<Account> {
    return this.postJson("/v1/accounts", params, options);
  }
  get(id: string, options?: CallOptions): Promise<Account> {
    return this.getJson(`/v1/accounts/${segment(id)}`, undefined, options);
  }
  list(params: PageParams = {}, options?: CallOptions): Promise<Page<Account>> {
    return this.paginate("/v1/accounts", { ...params }, options);
  }
  /**
   * Funds an account from the tenant's funding account (sandbox rail).
   *
   * @example await owner.accounts.deposit(agent.wallet_account_id, { amount: 50_000 }); // £500.00
   */
  deposit(id: string, params: DepositParams, options?: CallOptions): Promise<Transfer> {
    return this.postJson(`/v1/accounts/${segment(id)}/deposits`, params, options);
  }
}
