/**
 * The approvals inbox (the landing screen): pending approvals, live over SSE, each with its
 * agent, payee, amount, legs, the policy's reasons, what remains of the limits, and an expiry
 * countdown; approve or reject with a note. Keys: j/k move, a approves, r rejects. The stream
 * opens from the journal position the list was read at, so an approval raised in between appears.
 * Below it, the budget requests waiting on an owner or a team's manager (budget-requests.tsx).
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Approval, PaymentIntent } from "@bursar/sdk";
import { bursar, errorText, type ConsoleSession } from "../api.ts";
import { useLiveList, useLoad, useNow } from "../hooks.ts";
import { BudgetRequestsPanel } from "./budget-requests.tsx";

interface Item {
  approval: Approval;
  intent: PaymentIntent | null;
}

function countdown(expiresAt: string, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((Date.parse(expiresAt) - nowMs) / 1000));
  if (seconds === 0) return "expired";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : `${m}m ${String(s).padStart(2, "0")}s`;
}

function remainingText(remaining: Record<string, number | null> | undefined): string {
  if (!remaining) return "";
  return Object.entries(remaining).filter(([, value]) => value !== null).map(([key, value]) => `${key.replace(/_/g, " ")}: ${value}`).join(" · ");
}

/** The inbox's approvals, and the journal position they were read at (the live stream starts there). */
async function loadInbox(status: string, agentId: string): Promise<{ value: Item[]; journalSeq: number | null }> {
  const page = await bursar.approvals.list({ status: status || undefined, agent_id: agentId || undefined, limit: 50 });
  const value = await Promise.all(page.data.map(async (approval) => ({
    approval,
    intent: approval.payment_intent_id ? await bursar.request<PaymentIntent>("GET", `/v1/payment-intents/${approval.payment_intent_id}`).catch(() => null) : null,
  })));
  return { value, journalSeq: page.journalSeq };
}

export function ApprovalsScreen({ session }: { session: ConsoleSession }) {
  const canDecide = session.scopes.includes("approvals:write");
  const [status, setStatus] = useState("pending");
  const [agentId, setAgentId] = useState("");
  // Live without a gap: the stream opens from the position the list was read at (hooks.ts useLiveList).
  const inbox = useLiveList(() => loadInbox(status, agentId), ["approval.*", "payment_intent.*", "service_request.*"], [status, agentId]);
  const agents = useLoad(() => bursar.agents.list({ limit: 100 }).then((page) => page.data).catch(() => []), []);
  const agentName = useMemo(() => new Map((agents.data ?? []).map((agent) => [agent.id, agent.name])), [agents.data]);
  const now = useNow();
  const [selected, setSelected] = useState(0);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const items = inbox.data ?? [];

  const decide = async (approval: Approval, verdict: "approve" | "reject") => {
    const note = notes[approval.id]?.trim() || null;
    try {
      await (verdict === "approve" ? bursar.approvals.approve(approval.id, { note }) : bursar.approvals.reject(approval.id, { note }));
      setMessage(`${verdict === "approve" ? "Approved" : "Rejected"} ${approval.id}.`);
    } catch (error) {
      setMessage(`Could not ${verdict} ${approval.id}: ${errorText(error)}`);
    }
    inbox.reload();
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
      if (event.key === "j") setSelected((index) => Math.min(index + 1, Math.max(items.length - 1, 0)));
      if (event.key === "k") setSelected((index) => Math.max(index - 1, 0));
      const item = items[selected];
      if (!item || !canDecide || item.approval.status !== "pending") return;
      if (event.key === "a") void decide(item.approval, "approve");
      if (event.key === "r") void decide(item.approval, "reject");
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  });

  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p class="hint">
        {inbox.connected ? "Live: new approvals appear without a reload." : "Connecting to the live feed…"}
        {canDecide ? " Keys: j/k to move, a to approve, r to reject." : " Your role can see approvals but not decide them."}
      </p>
      <div class="filters">
        <label>Status{" "}
          <select value={status} onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}>
            <option value="pending">pending</option>
            <option value="approved">approved</option>
            <option value="rejected">rejected</option>
            <option value="expired">expired</option>
            <option value="">all</option>
          </select>
        </label>
        <label>Agent{" "}
          <select value={agentId} onChange={(event) => setAgentId((event.target as HTMLSelectElement).value)}>
            <option value="">all agents</option>
            {(agents.data ?? []).map((agent) => <option key={agent.id} value={agent.id}>{agent.name}</option>)}
          </select>
        </label>
      </div>
      {message && <p role="status" data-testid="decision-message">{message}</p>}
      {inbox.error && <p class="error" role="alert">{inbox.error}</p>}
      {!inbox.loading && items.length === 0 && <p data-testid="inbox-empty">Nothing is waiting for a decision.</p>}
      <ul class="cards" data-testid="approvals">
        {items.map(({ approval, intent }, index) => (
          <li key={approval.id} class={`card${index === selected ? " selected" : ""}`} data-testid="approval" data-approval-id={approval.id} data-status={approval.status}>
            <h2>
              <span data-testid="approval-amount">{approval.amount_display} {approval.currency}</span>
              {" to "}
              <span data-testid="approval-payee">{intent?.legs.map((leg) => leg.payee_name).join(", ") ?? approval.subject_type.replace("_", " ")}</span>
            </h2>
            <dl>
              <dt>Agent</dt><dd>{agentName.get(approval.agent_id) ?? approval.agent_id}</dd>
              <dt>Why it waits</dt><dd data-testid="approval-reasons">{approval.reason_codes.join(", ") || "—"}</dd>
              {intent?.reference && <><dt>Reference</dt><dd>{intent.reference}</dd></>}
              <dt>Status</dt><dd>{approval.status}{intent ? ` · payment ${intent.execution_status}` : ""}</dd>
              {approval.status === "pending" && <><dt>Expires in</dt><dd data-testid="approval-expiry">{countdown(approval.expires_at, now)}</dd></>}
              {approval.note && <><dt>Note</dt><dd>{approval.note}</dd></>}
            </dl>
            {intent && (
              <table>
                <caption>Legs</caption>
                <thead><tr><th scope="col">#</th><th scope="col">Payee</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Limits left after it</th></tr></thead>
                <tbody>
                  {intent.legs.map((leg) => (
                    <tr key={leg.index}>
                      <td>{leg.index}</td><td>{leg.payee_name}</td><td>{leg.amount_display} {leg.currency}</td><td>{leg.status}</td><td>{remainingText(leg.remaining) || "no limit applies"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {canDecide && approval.status === "pending" && (
              <div class="decide">
                <label for={`note-${approval.id}`}>Note</label>
                <input id={`note-${approval.id}`} value={notes[approval.id] ?? ""} onInput={(event) => setNotes({ ...notes, [approval.id]: (event.target as HTMLInputElement).value })} />
                <button type="button" class="approve" onClick={() => decide(approval, "approve")}>Approve</button>
                <button type="button" class="reject" onClick={() => decide(approval, "reject")}>Reject</button>
              </div>
            )}
          </li>
        ))}
      </ul>
      <BudgetRequestsPanel session={session} />
    </section>
  );
}
