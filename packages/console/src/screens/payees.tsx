/** Payees: names, aliases and rail details, always rendered as text. */
import { bursar } from "../api.ts";
import { useLoad } from "../hooks.ts";

export function PayeesScreen() {
  const payees = useLoad(() => bursar.payees.list({ limit: 100 }).then((page) => page.data));
  return (
    <section aria-labelledby="payees-title">
      <h1 id="payees-title">Payees</h1>
      {payees.error && <p class="error" role="alert">{payees.error}</p>}
      <table data-testid="payees">
        <thead><tr><th scope="col">Name</th><th scope="col">Aliases</th><th scope="col">Currency</th><th scope="col">Rail</th><th scope="col">Rail details</th><th scope="col">Status</th></tr></thead>
        <tbody>
          {(payees.data ?? []).map((payee) => (
            <tr key={payee.id} data-testid="payee">
              <td data-testid="payee-name">{payee.name}</td>
              <td>{payee.aliases.join(", ")}</td>
              <td>{payee.currency}</td>
              <td>{payee.rail}</td>
              <td><code>{JSON.stringify(payee.rail_details)}</code></td>
              <td>{payee.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
