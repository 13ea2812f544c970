/**
 * Escrow: the tenant's escrow intents (money held for a payee's work, released on payee-signed
 * evidence; docs/escrow.md) and one intent's page: its state, amount, payee, deadline, the
 * predicate in plain English, every evidence attempt with pass/fail and the failing node, and
 * how it settled. Owners release, refund, split or dispute, each after a confirmation, and only
 * the actions the API lists in the intent's `available_actions` are offered (the state machine is
 * the server's: the console never guesses what a state allows).
 */
import { useState } from "preact/hooks";
import type { EscrowIntent, Payee } from "@bursar/sdk";
import { bursar, errorText, type ConsoleSession } from "../api.ts";
import { useLiveList, useLoad } from "../hooks.ts";

/** The settling and holding actions an owner takes from the console, in the order offered. */
const ownerActions = ["release", "refund", "split", "dispute"] as const;
type OwnerAction = (typeof ownerActions)[number];

const statuses = ["open", "funded", "evidence_submitted", "disputed", "released", "refunded", "split", "expired"];

/** `1234` → `12.34` (minor units of a 2-decimal currency, without floating point). */
function major(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const value = Math.abs(minor);
  return `${sign}${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

function usePayeeNames() {
  const payees = useLoad(() => bursar.payees.list({ limit: 100 }).then((page) => page.data).catch(() => [] as Payee[]), []);
  return new Map((payees.data ?? []).map((payee) => [payee.id, payee.name]));
}

async function loadIntents(status: string): Promise<{ value: EscrowIntent[]; journalSeq: number | null }> {
  const page = await bursar.escrow.list({ status: status || undefined, limit: 50 });
  return { value: page.data, journalSeq: page.journalSeq };
}

export function EscrowListScreen() {
  const [status, setStatus] = useState("");
  const intents = useLiveList(() => loadIntents(status), ["escrow_intent.*"], [status]);
  const payeeName = usePayeeNames();
  return (
    <section aria-labelledby="escrow-title">
      <h1 id="escrow-title">Escrow</h1>
      <p class="hint">Money held for a payee's work, released when the payee's signed evidence passes the intent's predicate. {intents.connected ? "Live." : ""}</p>
      <div class="filters">
        <label>Status{" "}
          <select value={status} onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {statuses.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </label>
      </div>
      {intents.error && <p class="error" role="alert">{intents.error}</p>}
      {!intents.loading && (intents.data ?? []).length === 0 && <p data-testid="escrow-empty">No escrow intents.</p>}
      <table data-testid="escrow-intents">
        <caption>Escrow intents</caption>
        <thead><tr><th scope="col">Intent</th><th scope="col">State</th><th scope="col">Amount</th><th scope="col">Payee</th><th scope="col">Deadline</th><th scope="col">Predicate</th><th scope="col">Evidence</th><th scope="col">Settlement</th></tr></thead>
        <tbody>
          {(intents.data ?? []).map((intent) => (
            <tr key={intent.id} data-testid="escrow-intent" data-intent-id={intent.id} data-status={intent.status}>
              <td><a href={`/console/escrow/${encodeURIComponent(intent.id)}`}>{intent.description ?? intent.id}</a></td>
              <td>{intent.status}</td>
              <td>{intent.amount_display} {intent.currency}</td>
              <td>{payeeName.get(intent.payee_id) ?? intent.payee_id}</td>
              <td>{intent.deadline}</td>
              <td>{intent.predicate_summary}</td>
              <td>{intent.attempts.length === 0 ? "none" : `${intent.attempts.filter((attempt) => attempt.passed).length} of ${intent.attempts.length} passed`}</td>
              <td>{intent.settlement ? `${intent.settlement.outcome}: ${major(intent.settlement.payee_amount)} to payee, ${major(intent.settlement.refund_amount)} back` : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** What confirming each action does, in words, before anything is sent. */
function consequence(action: OwnerAction, intent: EscrowIntent, payee: string): string {
  const releasable = `${major(intent.releasable_amount)} ${intent.currency}`;
  switch (action) {
    case "release":
      return `Pay ${releasable} to ${payee}. This settles the escrow and cannot be undone.`;
    case "refund":
      return `Pay ${releasable} back to the paying agent's wallet. This settles the escrow and cannot be undone.`;
    case "split":
      return `Pay part of ${releasable} to ${payee} and the rest back to the paying agent. This settles the escrow and cannot be undone.`;
    case "dispute":
      return "Hold the escrow for an owner's decision: no evidence is accepted and nothing is drawn until it is released, refunded or split.";
  }
}

function Actions({ intent, payee, onDone }: { intent: EscrowIntent; payee: string; onDone: (updated: EscrowIntent, message: string) => void }) {
  const offered = ownerActions.filter((action) => intent.available_actions.includes(action));
  const [pending, setPending] = useState<OwnerAction | null>(null);
  const [payeeAmount, setPayeeAmount] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (offered.length === 0) return <p class="hint" data-testid="escrow-no-actions">No action is open in state {intent.status}.</p>;
  const splitMinor = (() => {
    const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(payeeAmount.trim());
    return match ? Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0")) : null;
  })();
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      const updated = pending === "release" ? await bursar.escrow.release(intent.id)
        : pending === "refund" ? await bursar.escrow.refund(intent.id)
        : pending === "split" ? await bursar.escrow.split(intent.id, splitMinor ?? -1)
        : await bursar.escrow.dispute(intent.id, reason.trim() || undefined);
      setPending(null);
      onDone(updated, `Escrow ${intent.id}: ${pending} done; now ${updated.status}.`);
    } catch (failure) {
      setError(`Not done: ${errorText(failure)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-testid="escrow-actions">
      {pending === null ? (
        offered.map((action) => (
          <button key={action} type="button" class={action === "release" ? "approve" : action === "refund" ? "reject" : undefined} onClick={() => { setPending(action); setError(null); }}>
            {action[0]!.toUpperCase() + action.slice(1)}…
          </button>
        ))
      ) : (
        <div role="group" aria-labelledby="escrow-confirm-text" class="card" data-testid="escrow-confirm" data-action={pending}>
          <p id="escrow-confirm-text"><strong>Confirm {pending}.</strong> {consequence(pending, intent, payee)}</p>
          {pending === "split" && (
            <p>
              <label>To {payee} ({intent.currency}) <input data-testid="split-payee-amount" inputMode="decimal" value={payeeAmount} onInput={(event) => setPayeeAmount((event.target as HTMLInputElement).value)} /></label>
              {splitMinor !== null && splitMinor <= intent.releasable_amount && <span class="hint"> and {major(intent.releasable_amount - splitMinor)} {intent.currency} back to the payer</span>}
            </p>
          )}
          {pending === "dispute" && <p><label>Reason <input data-testid="dispute-reason" value={reason} onInput={(event) => setReason((event.target as HTMLInputElement).value)} /></label></p>}
          <button type="button" disabled={busy || (pending === "split" && (splitMinor === null || splitMinor > intent.releasable_amount))} onClick={confirm}>Confirm {pending}</button>
          <button type="button" onClick={() => setPending(null)}>Cancel</button>
        </div>
      )}
      {error && <p class="error" role="alert" data-testid="escrow-action-error">{error}</p>}
    </div>
  );
}

export function EscrowScreen({ intentId, session }: { intentId: string; session: ConsoleSession }) {
  // Owners and admins act (the routes want agents:execute, and refund, split and dispute an owner).
  const canAct = session.scopes.includes("agents:execute");
  const loaded = useLoad(() => bursar.escrow.get(intentId), [intentId]);
  const [updated, setUpdated] = useState<EscrowIntent | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const payeeName = usePayeeNames();
  const intent = updated?.id === intentId ? updated : loaded.data;
  if (loaded.error) return <section><h1>Escrow intent</h1><p class="error" role="alert">{loaded.error}</p></section>;
  if (!intent) return <section><h1>Escrow intent</h1><p>Loading…</p></section>;
  const payee = payeeName.get(intent.payee_id) ?? intent.payee_id;
  return (
    <section aria-labelledby="intent-title" data-testid="escrow-detail" data-status={intent.status}>
      <h1 id="intent-title">{intent.description ?? "Escrow intent"}</h1>
      <p><a href="/console/escrow">All escrow intents</a></p>
      <dl>
        <dt>Intent</dt><dd><code>{intent.id}</code></dd>
        <dt>State</dt><dd data-testid="escrow-status">{intent.status}{intent.was_disputed && intent.status !== "disputed" ? " (was disputed)" : ""}</dd>
        <dt>Amount</dt><dd data-testid="escrow-amount">{intent.amount_display} {intent.currency} · drawn {major(intent.drawn_amount)} · releasable {major(intent.releasable_amount)}</dd>
        <dt>Payee</dt><dd><a href={`/console/payees/${encodeURIComponent(intent.payee_id)}`} data-testid="escrow-payee">{payee}</a></dd>
        <dt>Paying agent</dt><dd><a href={`/console/agents/${encodeURIComponent(intent.payer_agent_id)}`}>{intent.payer_agent_id}</a></dd>
        <dt>Deadline</dt><dd>{intent.deadline}</dd>
        <dt>Predicate</dt><dd data-testid="escrow-predicate">{intent.predicate_summary}</dd>
        <dt>Release</dt><dd>{intent.release_mode === "auto" ? "automatic when evidence passes" : "an owner confirms passing evidence"}</dd>
        <dt>Funding</dt><dd>{intent.funded_at ? `held since ${intent.funded_at}` : `not funded (${intent.decision ?? "no decision"}${intent.reason_codes.length ? `: ${intent.reason_codes.join(", ")}` : ""}; approval ${intent.approval_status})`}</dd>
        <dt>Signed by</dt><dd><code>{intent.signature.key_id}</code> ({intent.signature.algorithm})</dd>
        {intent.allowed_operations.length > 0 && <><dt>Work may spend on</dt><dd>{intent.allowed_operations.join(", ")}</dd></>}
        {intent.dispute_reason && <><dt>Dispute</dt><dd>{intent.dispute_reason}</dd></>}
      </dl>
      {message && <p role="status" data-testid="escrow-message">{message}</p>}
      {canAct ? <Actions intent={intent} payee={payee} onDone={(next, text) => { setUpdated(next); setMessage(text); }} /> : <p class="hint">Your role can see escrow intents but not settle them.</p>}
      <table data-testid="escrow-attempts">
        <caption>Evidence attempts ({intent.attempts_remaining} left)</caption>
        <thead><tr><th scope="col">#</th><th scope="col">Submitted</th><th scope="col">Received</th><th scope="col">Result</th><th scope="col">Failing node</th><th scope="col">Why</th></tr></thead>
        <tbody>
          {intent.attempts.map((attempt, index) => (
            <tr key={attempt.binding_sha256 + index} data-testid="escrow-attempt" data-passed={String(attempt.passed)}>
              <td>{index + 1}</td><td>{attempt.submitted_at}</td><td>{attempt.received_at}</td>
              <td>{attempt.passed ? "pass" : "fail"}</td>
              <td>{attempt.failing_node === null ? "—" : <code>{attempt.failing_node}</code>}</td>
              <td>{attempt.reason ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {intent.attempts.length === 0 && <p class="hint">No evidence yet.</p>}
      <h2>Settlement</h2>
      {intent.settlement ? (
        <dl data-testid="escrow-settlement" data-outcome={intent.settlement.outcome}>
          <dt>Outcome</dt><dd>{intent.settlement.outcome}</dd>
          <dt>To the payee</dt><dd data-testid="settlement-payee">{major(intent.settlement.payee_amount)} {intent.currency}</dd>
          <dt>Back to the payer</dt><dd data-testid="settlement-refund">{major(intent.settlement.refund_amount)} {intent.currency}</dd>
          <dt>Drawn by the work</dt><dd>{major(intent.settlement.drawn_amount)} {intent.currency}</dd>
          <dt>Transfers</dt><dd>{intent.settlement.transfer_ids.map((id) => <code key={id}>{id} </code>)}</dd>
          <dt>Settled</dt><dd>{intent.settlement.settled_at}</dd>
        </dl>
      ) : <p data-testid="escrow-unsettled">Not settled.</p>}
      <details>
        <summary>Predicate and evidence schema (JSON)</summary>
        <pre>{JSON.stringify({ predicate: intent.predicate, evidence_schema: intent.evidence_schema }, null, 2)}</pre>
      </details>
    </section>
  );
}
