/** Payees: names, aliases and rail details, always rendered as text; add a payee. Each links to its page (reputation). */
import { useState } from "preact/hooks";
import { bursar, errorText, type ConsoleSession } from "../api.ts";
import { useLoad } from "../hooks.ts";

export function PayeesScreen({ session }: { session: ConsoleSession }) {
  const canConfigure = session.scopes.includes("agents:config");
  const payees = useLoad(() => bursar.payees.list({ limit: 100 }).then((page) => page.data));
  const [name, setName] = useState("");
  const [aliases, setAliases] = useState("");
  const [currency, setCurrency] = useState("GBP");
  const [message, setMessage] = useState<string | null>(null);
  const add = async (event: Event) => {
    event.preventDefault();
    try {
      await bursar.payees.create({ name: name.trim(), currency: currency.trim().toUpperCase(), aliases: aliases.split(",").map((alias) => alias.trim()).filter(Boolean) });
      setMessage("Payee added.");
      setName("");
      setAliases("");
    } catch (error) {
      setMessage(`Not added: ${errorText(error)}`);
    }
    payees.reload();
  };
  return (
    <section aria-labelledby="payees-title">
      <h1 id="payees-title">Payees</h1>
      {payees.error && <p class="error" role="alert">{payees.error}</p>}
      {canConfigure && (
        <form class="filters" onSubmit={add}>
          <label>Name <input value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} /></label>
          <label>Aliases <input placeholder="Bob, Robert" value={aliases} onInput={(event) => setAliases((event.target as HTMLInputElement).value)} /></label>
          <label>Currency <input size={4} value={currency} onInput={(event) => setCurrency((event.target as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={name.trim() === ""}>Add payee</button>
        </form>
      )}
      {message && <p role="status">{message}</p>}
      <table data-testid="payees">
        <thead><tr><th scope="col">Name</th><th scope="col">Aliases</th><th scope="col">Currency</th><th scope="col">Rail</th><th scope="col">Rail details</th><th scope="col">Status</th></tr></thead>
        <tbody>
          {(payees.data ?? []).map((payee) => (
            <tr key={payee.id} data-testid="payee">
              <td data-testid="payee-name"><a href={`/console/payees/${encodeURIComponent(payee.id)}`}>{payee.name}</a></td>
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
