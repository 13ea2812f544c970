/** Payment intents, the approvals they may wait on, and the transactions they execute. */
import type { Page } from "../pagination.ts";
import type { Approval, PaymentIntent, PaymentIntentCreateParams, RecordListParams, Transaction } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class PaymentIntents extends Resource {
  /**
   * Asks to pay: each leg is decided by policy, its money held, then paid or sent for approval.
   * A denied payment is an intent too: read `decision`, `reason_codes`, `available_actions`.
   * @example const intent = await bursar.paymentIntents.create({ payee: "Bob", amount: 50000, currency: "GBP", reference: "April invoice" });
   */
  create(params: PaymentIntentCreateParams & { agent_id?: string }, options?: CallOptions): Promise<PaymentIntent> {
    return this.postJson("/v1/payment-intents", params, options);
  }
  get(id: string, options?: CallOptions): Promise<PaymentIntent> {
    return this.getJson(`/v1/payment-intents/${segment(id)}`, undefined, options);
  }
  list(params: RecordListParams = {}, options?: CallOptions): Promise<Page<PaymentIntent>> {
    return this.paginate("/v1/payment-intents", { ...params }, options);
  }
}

export class Approvals extends Resource {
  get(id: string, options?: CallOptions): Promise<Approval> {
    return this.getJson(`/v1/approvals/${segment(id)}`, undefined, options);
  }
  /** @example for await (const approval of await bursar.approvals.list({ status: "pending" })) … */
  list(params: RecordListParams = {}, options?: CallOptions): Promise<Page<Approval>> {
    return this.paginate("/v1/approvals", { ...params }, options);
  }
  /** Owners only: an agent's credential can never approve. */
  approve(id: string, params: { note?: string | null } = {}, options?: CallOptions): Promise<Approval> {
    return this.postJson(`/v1/approvals/${segment(id)}/approve`, params, options);
  }
  reject(id: string, params: { note?: string | null } = {}, options?: CallOptions): Promise<Approval> {
    return this.postJson(`/v1/approvals/${segment(id)}/reject`, params, options);
  }
}

export class Transactions extends Resource {
  get(id: string, options?: CallOptions): Promise<Transaction> {
    return this.getJson(`/v1/transactions/${segment(id)}`, undefined, options);
  }
  /** @example for await (const transaction of await bursar.transactions.list()) console.log(transaction.amount_display); */
  list(params: RecordListParams = {}, options?: CallOptions): Promise<Page<Transaction>> {
    return this.paginate("/v1/transactions", { ...params }, options);
  }
}
