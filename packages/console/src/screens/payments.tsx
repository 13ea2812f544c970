/**
 * Payments: payment intents with legs and statuses, executed transactions, service requests and
 * spend authorizations (authorize → complete holds for things paid outside Bursar). Live from
 * the journal position the lists were read at.
 */
import type { PageBody, PaymentIntent, SpendAuthorization, Transaction } from "@bursar/sdk";
import { bursar, money } from "../api.ts";
import { useLiveList } from "../hooks.ts";

interface PaymentLists {
  intents: PaymentIntent[];
  transactions: Transaction[];
  spends: SpendAuthorization[];
  services: ServiceRequest[];
}

/**
 * The four lists, and the earliest journal position among them: the live stream starts there, so
 * whatever changed after any of them was read is replayed (hooks.ts useLiveList).
 */
async function loadPayments(): Promise<{ value: PaymentLists; journalSeq: number | null }> {
  const [intents, transactions, spends, services] = await Promise.all([
    bursar.paymentIntents.list({ limit: 50 }),
    bursar.transactions.list({ limit: 50 }),
    bursar.spend.list({ limit: 50 }),
    // No SDK resource lists service requests yet: the SDK's generic request, same session and CSRF handling.
    bursar.request<PageBody<ServiceRequest>>("GET", "/v1/service-requests", { query: { limit: 50 } }),
  ]);
  const positions = [intents.journalSeq, transactions.journalSeq, spends.journalSeq, services.journal_seq ?? null];
  const journalSeq = positions.some((seq) => seq === null) ? null : Math.min(...(positions as number[]));
  return { value: { intents: intents.data, transactions: transactions.data, spends: spends.data, services: services.data }, journalSeq };
}

export function PaymentsScreen() {
  const lists = useLiveList(loadPayments, ["payment_intent.*", "transaction.*", "spend_authorization.*", "service_request.*"]);
  const empty = { data: null, error: lists.error };
  const pick = <K extends keyof PaymentLists>(key: K) => (lists.data ? { data: lists.data[key], error: null } : empty);
  const intents = pick("intents");
  const transactions = pick("transactions");
  const spends = pick("spends");
  const services = pick("services");
  return (
    <section aria-labelledby="payments-title">
      <h1 id="payments-title">Payments</h1>
      {intents.error && <p class="error" role="alert">{intents.error}</p>}
      <table data-testid="payment-intents">
        <caption>Payment intents</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Amount</th><th scope="col">Legs</th><th scope="col">Approval</th><th scope="col">Execution</th><th scope="col">Reference</th><th scope="col">Created</th></tr></thead>
        <tbody>
          {(intents.data ?? []).map((intent) => (
            <tr key={intent.id} data-testid="payment-intent" data-intent-id={intent.id} data-execution={intent.execution_status}>
              <td><code>{intent.id}</code></td>
              <td>{intent.amount_display ?? ""} {intent.currency ?? ""}</td>
              <td>{intent.legs.map((leg) => `${leg.payee_name}: ${leg.amount_display} ${leg.currency} (${leg.status})`).join("; ")}</td>
              <td>{intent.approval_status}</td>
              <td>{intent.execution_status}</td>
              <td>{intent.reference ?? ""}</td>
              <td>{intent.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table data-testid="transactions">
        <caption>Transactions</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Reference</th><th scope="col">For</th><th scope="col">Created</th></tr></thead>
        <tbody>
          {(transactions.data ?? []).map((transaction) => (
            <tr key={transaction.id}>
              <td><code>{transaction.id}</code></td>
              <td>{money(transaction)}</td>
              <td>{transaction.status}</td>
              <td>{transaction.reference ?? ""}</td>
              {/* A payment intent's leg, or an escrow intent's payout. */}
              <td><code>{transaction.payment_intent_id ?? transaction.escrow_intent_id}</code></td>
              <td>{transaction.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table data-testid="spend-authorizations">
        <caption>Spend authorizations</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Operation</th><th scope="col">Vendor</th><th scope="col">Held</th><th scope="col">Consumed</th><th scope="col">Status</th><th scope="col">Approval</th><th scope="col">Expires</th></tr></thead>
        <tbody>
          {(spends.data ?? []).map((spend) => (
            <tr key={spend.id} data-testid="spend-authorization">
              <td><code>{spend.id}</code></td><td><code>{spend.operation}</code></td><td>{spend.vendor}</td>
              <td>{spend.amount_display} {spend.currency}</td><td>{spend.consumed_amount_display ?? ""}</td>
              <td>{spend.status}</td><td>{spend.approval_status}</td><td>{spend.expires_at ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {spends.error && <p class="hint">Spend authorizations: {spends.error}</p>}
      <table data-testid="service-requests">
        <caption>Service requests</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Service</th><th scope="col">Operation</th><th scope="col">Price</th><th scope="col">Status</th><th scope="col">Reasons</th></tr></thead>
        <tbody>
          {(services.data ?? []).map((request) => (
            <tr key={request.id}>
              <td><code>{request.id}</code></td><td>{request.service}</td><td>{request.operation}</td>
              <td>{request.amount_display} {request.currency}</td><td>{request.status}</td><td>{request.reason_codes.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {services.error && <p class="hint">Service requests: {services.error}</p>}
    </section>
  );
}

interface ServiceRequest {
  id: string;
  service: string;
  operation: string;
  amount_display: string;
  currency: string;
  status: string;
  reason_codes: string[];
}
