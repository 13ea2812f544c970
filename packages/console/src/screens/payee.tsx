/**
 * One payee: its details and its reputation receipt (`GET /v1/payees/{id}/reputation`), a record
 * of how its escrows settled, signed by the tenant's journal key. The receipt is verified in this
 * browser (WebCrypto Ed25519, the SDK's verifier) and the page says plainly what was proved: the
 * signature, and whether the key is the journal key this browser already trusts (pinned by the
 * Journal screen) or only the key the server states now.
 */
import { verifyReputationReceipt, type JournalAuthority, type Payee, type SignedReputationReceipt } from "@bursar/sdk";
import { browserTrustStore, bursar } from "../api.ts";
import { useLoad } from "../hooks.ts";

interface Checked {
  signed: SignedReputationReceipt;
  verified: boolean;
  /** "pinned": the key this browser trusts; "unpinned": none trusted yet; "changed": another key. */
  key: "pinned" | "unpinned" | "changed";
}

async function checkedReceipt(payeeId: string): Promise<Checked> {
  const signed = await bursar.request<SignedReputationReceipt>("GET", `/v1/payees/${encodeURIComponent(payeeId)}/reputation`);
  const authority = await bursar.request<JournalAuthority>("GET", "/v1/journal/authority");
  const trusted = await browserTrustStore.loadJournalTrust(authority.origin);
  const key = trusted === null ? "unpinned" : trusted.verifierKey === authority.verifier_key ? "pinned" : "changed";
  return { signed, key, verified: key !== "changed" && (await verifyReputationReceipt(signed, authority.public_key)) };
}

function percent(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, "0")}%`;
}

function verdict(checked: Checked): string {
  if (checked.key === "changed") return "Refused: the server's journal key is not the one this browser trusts, so this receipt proves nothing.";
  if (!checked.verified) return "Refused: the signature does not verify. This is not the receipt the tenant signed.";
  return checked.key === "pinned"
    ? "Signature verified with the tenant's journal key, the key this browser trusts (pinned when it verified the journal)."
    : "Signature verified with the journal key the server states now. This browser has not pinned that key yet: verify the journal on the Journal screen to pin it.";
}

function Reputation({ payeeId }: { payeeId: string }) {
  const checked = useLoad(() => checkedReceipt(payeeId), [payeeId]);
  if (checked.error) return <p class="error" role="alert">Reputation: {checked.error}</p>;
  if (!checked.data) return <p>Checking the reputation receipt…</p>;
  const { receipt } = checked.data.signed;
  const ok = checked.data.verified;
  return (
    <section aria-labelledby="reputation-title">
      <h2 id="reputation-title">Reputation receipt</h2>
      <p role="status" class={ok ? "proved" : "error"} data-testid="reputation-verdict" data-verified={String(ok)} data-key={checked.data.key}>{verdict(checked.data)}</p>
      <dl>
        <dt>Computed</dt><dd>{receipt.computed_at} (journal position {receipt.journal_seq}){receipt.truncated ? " · truncated: only the most recent escrows counted" : ""}</dd>
        <dt>Signed by</dt><dd><code>{checked.data.signed.key_id}</code></dd>
        <dt>Volume paid</dt><dd data-testid="reputation-volume">{Object.entries(receipt.volume).map(([currency, minor]) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")} ${currency}`).join(", ") || "none"}</dd>
        <dt>Time to release</dt><dd>{receipt.time_to_release_seconds.samples === 0 ? "no releases" : `median ${receipt.time_to_release_seconds.median} s, p90 ${receipt.time_to_release_seconds.p90} s (${receipt.time_to_release_seconds.samples} releases)`}</dd>
      </dl>
      <table data-testid="reputation-counts">
        <caption>Settled escrows</caption>
        <thead><tr><th scope="col">Outcome</th><th scope="col">Count</th><th scope="col">Rate</th></tr></thead>
        <tbody>
          {(["released", "refunded", "split", "expired", "disputed"] as const).map((outcome) => (
            <tr key={outcome} data-outcome={outcome}><td>{outcome}</td><td>{receipt.counts[outcome]}</td><td>{percent(receipt.rates_bps[outcome])}</td></tr>
          ))}
          <tr><td>all settled</td><td data-testid="reputation-settled">{receipt.counts.settled}</td><td></td></tr>
        </tbody>
      </table>
    </section>
  );
}

export function PayeeScreen({ payeeId }: { payeeId: string }) {
  const payee = useLoad(() => bursar.payees.get(payeeId), [payeeId]);
  if (payee.error) return <section><h1>Payee</h1><p class="error" role="alert">{payee.error}</p></section>;
  if (!payee.data) return <section><h1>Payee</h1><p>Loading…</p></section>;
  const row: Payee = payee.data;
  return (
    <section aria-labelledby="payee-title">
      <h1 id="payee-title">{row.name}</h1>
      <p><a href="/console/payees">All payees</a></p>
      <dl>
        <dt>Payee</dt><dd><code>{row.id}</code> · {row.status}</dd>
        <dt>Aliases</dt><dd>{row.aliases.join(", ") || "none"}</dd>
        <dt>Currency</dt><dd>{row.currency}</dd>
        <dt>Rail</dt><dd>{row.rail} <code>{JSON.stringify(row.rail_details)}</code></dd>
        <dt>Evidence key</dt><dd>{row.evidence_key_thumbprint ? <code>{row.evidence_key_thumbprint}</code> : "none (this payee cannot be paid by escrow)"}</dd>
      </dl>
      <Reputation payeeId={row.id} />
    </section>
  );
}
