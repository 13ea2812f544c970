/** Payments: payment intents with legs and statuses, and executed transactions. */
import { bursar, money } from "../api.ts";
import { useLiveEvents, useLoad } from "../hooks.ts";

export function PaymentsScreen() {
  const intents = useLoad(() => bursar.paymentIntents.list({ limit: 50 }).then((page) => page.data));
  const transactions = useLoad(() => bursar.transactions.list({ limit: 50 }).then((page) => page.data));
  useLiveEvents(["payment_intent.*", "transaction.*"], () => {
    intents.reload();
    transactions.reload();
  });
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
        <thead><tr><th scope="col">Id</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Reference</th><th scope="col">Payment intent</th><th scope="col">Created</th></tr></thead>
        <tbody>
          {(transactions.data ?? []).map((transaction) => (
            <tr key={transaction.id}>
              <td><code>{transaction.id}</code></td>
              <td>{money(transaction)}</td>
              <td>{transaction.status}</td>
              <td>{transaction.reference ?? ""}</td>
              <td><code>{transaction.payment_intent_id}</code></td>
              <td>{transaction.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
