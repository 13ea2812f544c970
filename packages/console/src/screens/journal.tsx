/**
 * Journal verification in the browser, with the SDK's verifier (the core's WebCrypto code): the
 * checkpoint's Ed25519 signature against the tenant key, and an RFC 9162 consistency proof from
 * the last checkpoint this browser trusted (kept in local storage) to the new one. The result
 * says plainly what was proved, and what was not.
 */
import { useState } from "preact/hooks";
import { browserTrustStore, bursar, errorText, makeClient } from "../api.ts";
import { useLoad } from "../hooks.ts";

interface Outcome {
  ok: boolean;
  lines: string[];
}

async function verifyInBrowser(origin: string): Promise<Outcome> {
  const before = await browserTrustStore.loadJournalTrust(origin);
  // A fresh client: it starts from what local storage holds, as a reload would.
  const client = makeClient();
  try {
    const checkpoint = await client.journal.checkpoint();
    const lines = [`The checkpoint of ${checkpoint.treeSize} entries (root ${checkpoint.rootHash}) is signed by the tenant's journal key.`];
    if (before === null) {
      lines.push("This browser had trusted no checkpoint of this journal before: it now trusts this key and this checkpoint (trust on first use). The next verification proves the journal only grew from here.");
    } else if (before.checkpoint.tree_size === checkpoint.treeSize) {
      lines.push(`It is the same journal of ${checkpoint.treeSize} entries this browser trusted before: nothing was added, nothing rewritten.`);
    } else {
      lines.push(`A consistency proof shows it extends the checkpoint of ${before.checkpoint.tree_size} entries this browser trusted before: every earlier entry is unchanged, the journal only grew.`);
    }
    return { ok: true, lines };
  } catch (error) {
    return { ok: false, lines: [`Refused: ${errorText(error)}`, "Nothing was trusted. The last checkpoint this browser trusted is kept."] };
  } finally {
    await client.close();
  }
}

export function JournalScreen() {
  const authority = useLoad(() => bursar.journal.authority());
  const served = useLoad(() => bursar.request<{ tree_size: number; root_hash: string; time: string; note: string }>("GET", "/v1/journal/checkpoint"));
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [trustTick, setTrustTick] = useState(0);
  const origin = authority.data?.origin ?? "";
  const trusted = useLoad(async () => (origin ? browserTrustStore.loadJournalTrust(origin) : null), [origin, trustTick]);
  const verify = async () => {
    setBusy(true);
    setOutcome(await verifyInBrowser(origin));
    setBusy(false);
    setTrustTick((tick) => tick + 1);
    served.reload();
  };
  return (
    <section aria-labelledby="journal-title">
      <h1 id="journal-title">Journal</h1>
      {authority.error && <p class="error" role="alert">{authority.error}</p>}
      <dl>
        <dt>Journal</dt><dd><code>{origin}</code></dd>
        <dt>Tenant key (Ed25519)</dt><dd><code data-testid="journal-key">{authority.data?.verifier_key}</code></dd>
        <dt>Latest checkpoint</dt><dd>{served.data ? `${served.data.tree_size} entries, root ${served.data.root_hash}, ${served.data.time}` : "…"}</dd>
        <dt>Trusted by this browser</dt><dd data-testid="journal-trusted">{trusted.data ? `${trusted.data.checkpoint.tree_size} entries, root ${trusted.data.checkpoint.root_hash}` : "nothing yet"}</dd>
      </dl>
      <button type="button" onClick={verify} disabled={busy || !origin} data-testid="verify-journal">Verify in this browser</button>
      {outcome && (
        <div role="status" class={outcome.ok ? "proved" : "error"} data-testid="journal-result" data-ok={String(outcome.ok)}>
          {outcome.lines.map((line) => <p key={line}>{line}</p>)}
        </div>
      )}
      {served.data && (
        <details>
          <summary>The signed note</summary>
          <pre>{served.data.note}</pre>
        </details>
      )}
    </section>
  );
}
