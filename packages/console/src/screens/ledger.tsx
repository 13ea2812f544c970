/** Ledger: accounts with posted and pending balances, recent transfers and holds; deposits into a wallet. */
import { useState } from "preact/hooks";
import { bursar, errorText, toMinor, type ConsoleSession } from "../api.ts";
import { useLoad } from "../hooks.ts";

export function LedgerScreen({ session }: { session: ConsoleSession }) {
  const canAdmin = session.scopes.includes("tenant:admin");
  const accounts = useLoad(() => bursar.accounts.list({ limit: 100 }).then((page) => page.data));
  const transfers = useLoad(() => bursar.transfers.list({ limit: 50 }).then((page) => page.data));
  const [target, setTarget] = useState("");
  const [amount, setAmount] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const deposit = async (event: Event) => {
    event.preventDefault();
    const minor = toMinor(amount);
    if (minor === null || !target) return setMessage("Choose a wallet and an amount such as 25.00.");
    try {
      await bursar.accounts.deposit(target, { amount: minor, reference: "console deposit" });
      setMessage("Deposited.");
      accounts.reload();
      transfers.reload();
    } catch (error) {
      setMessage(`Not deposited: ${errorText(error)}`);
    }
  };
  const wallets = (accounts.data ?? []).filter((account) => account.kind === "wallet");
  return (
    <section aria-labelledby="ledger-title">
      <h1 id="ledger-title">Ledger</h1>
      {accounts.error && <p class="error" role="alert">{accounts.error}</p>}
      <table data-testid="accounts">
        <caption>Accounts</caption>
        <thead><tr><th scope="col">Account</th><th scope="col">Kind</th><th scope="col">Currency</th><th scope="col">Balance</th><th scope="col">Available</th><th scope="col">Debits posted / pending</th><th scope="col">Credits posted / pending</th></tr></thead>
        <tbody>
          {(accounts.data ?? []).map((account) => (
            <tr key={account.id}>
              <td>{account.name ?? ""} <code>{account.id}</code></td><td>{account.kind}</td><td>{account.currency}</td>
              <td>{account.balance_display}</td><td>{account.available_display}</td>
              <td>{account.debits_posted} / {account.debits_pending}</td><td>{account.credits_posted} / {account.credits_pending}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {canAdmin && (
        <form onSubmit={deposit} class="filters">
          <label>Wallet{" "}
            <select value={target} onChange={(event) => setTarget((event.target as HTMLSelectElement).value)}>
              <option value="">choose…</option>
              {wallets.map((account) => <option key={account.id} value={account.id}>{account.name ?? account.id}</option>)}
            </select>
          </label>
          <label>Amount <input inputMode="decimal" value={amount} onInput={(event) => setAmount((event.target as HTMLInputElement).value)} /></label>
          <button type="submit">Deposit (sandbox)</button>
        </form>
      )}
      {message && <p role="status">{message}</p>}
      <table data-testid="transfers">
        <caption>Transfers and holds</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Hold expires</th><th scope="col">Reference</th></tr></thead>
        <tbody>
          {(transfers.data ?? []).map((transfer) => (
            <tr key={transfer.id}>
              <td><code>{transfer.id}</code></td><td>{transfer.amount_display} {transfer.currency}</td><td>{transfer.status}</td>
              <td>{transfer.expires_at ?? ""}</td><td>{transfer.reference ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
