/**
 * Budget requests (issue 15, docs/teams.md): an agent asks for more budget per period; an owner
 * or admin (`agents:config`), or a manager of the agent's team (`teams:manage`, named on the
 * team), approves all or less, or rejects with a note. Shown beside the approvals inbox and on a
 * team's page (that team's requests), live over the event stream (`budget_request.*`) from the
 * journal position the list was read at. Decide buttons appear only on a pending request the
 * member may decide; the API refuses anyone else anyway.
 */
import { useMemo, useState } from "preact/hooks";
import type { BudgetRequest, Team } from "@bursar/sdk";
import { bursar, errorText, toMinor, type ConsoleSession } from "../api.ts";
import { useLiveList, useLoad } from "../hooks.ts";

/** `1234` → `12.34` (minor units of a 2-decimal currency). */
function major(minor: number): string {
  const value = Math.abs(minor);
  return `${minor < 0 ? "-" : ""}${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

async function loadRequests(status: string, teamId: string | undefined): Promise<{ value: BudgetRequest[]; journalSeq: number | null }> {
  const page = await bursar.request<{ data: BudgetRequest[]; journal_seq?: number }>("GET", "/v1/budget-requests", { query: { status: status || undefined, limit: 100 } });
  const value = teamId === undefined ? page.data : page.data.filter((row) => row.team_id === teamId);
  return { value, journalSeq: page.journal_seq ?? null };
}

/** Whether this member may decide a request (the route's own rule: agents:config, or a manager of the team with teams:manage). */
function mayDecide(session: ConsoleSession, request: BudgetRequest, teams: Map<string, Team>): boolean {
  if (session.scopes.includes("agents:config")) return true;
  if (!session.scopes.includes("teams:manage") || request.team_id === null) return false;
  return teams.get(request.team_id)?.manager_ids.includes(session.member.id) ?? false;
}

function actionText(action: BudgetRequest["action"]): string {
  if (!action) return "—";
  const target = action.payee ?? action.service ?? action.operation ?? action.request_id ?? "";
  return `${action.kind.replace(/_/g, " ")} of ${major(action.amount)} ${action.currency}${target ? ` (${target})` : ""}`;
}

function Decide({ request, onDone }: { request: BudgetRequest; onDone: (text: string) => void }) {
  const [pending, setPending] = useState<"approve" | "reject" | null>(null);
  const [amount, setAmount] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const amountMinor = amount.trim() === "" ? request.amount : toMinor(amount);
  const amountValid = amountMinor !== null && amountMinor > 0 && amountMinor <= request.amount;
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      const body = pending === "approve" ? { amount: amountMinor ?? undefined, note: note.trim() || undefined } : { note: note.trim() || undefined };
      const decided = await bursar.request<BudgetRequest>("POST", `/v1/budget-requests/${encodeURIComponent(request.id)}/${pending}`, { body });
      setPending(null);
      onDone(pending === "approve" ? `Approved ${major(decided.approved_amount ?? 0)} ${decided.currency} more ${decided.period} (${decided.raised ?? "budget"} raised).` : `Rejected the request ${decided.id}.`);
    } catch (failure) {
      setError(`Not done: ${errorText(failure)}`);
    } finally {
      setBusy(false);
    }
  };
  const id = `budget-confirm-${request.id}`;
  return (
    <div class="decide" data-testid="budget-request-actions">
      {pending === null ? (
        <>
          <button type="button" class="approve" onClick={() => { setPending("approve"); setError(null); }}>Approve…</button>
          <button type="button" class="reject" onClick={() => { setPending("reject"); setError(null); }}>Reject…</button>
        </>
      ) : (
        <div role="group" aria-labelledby={id} class="card" data-testid="budget-request-confirm" data-action={pending}>
          <p id={id}>
            <strong>Confirm {pending}.</strong>{" "}
            {pending === "approve"
              ? `Raises the agent's ${request.period} ${request.team_id ? "team allocation (within the pool)" : "budget"} by the amount below (at most the ${request.amount_display} ${request.currency} asked).`
              : "Nothing changes; the agent sees the note."}
          </p>
          {pending === "approve" && (
            <p><label>Amount ({request.currency}) <input data-testid="budget-approve-amount" inputMode="decimal" placeholder={request.amount_display} value={amount} onInput={(event) => setAmount((event.target as HTMLInputElement).value)} /></label></p>
          )}
          <p><label>Note <input data-testid="budget-decide-note" value={note} onInput={(event) => setNote((event.target as HTMLInputElement).value)} /></label></p>
          <button type="button" disabled={busy || (pending === "approve" && !amountValid)} onClick={confirm}>Confirm {pending}</button>
          <button type="button" onClick={() => setPending(null)}>Cancel</button>
        </div>
      )}
      {error && <p class="error" role="alert" data-testid="budget-request-error">{error}</p>}
    </div>
  );
}

/** The budget requests, pending by default; `teamId` narrows to one team's. */
export function BudgetRequestsPanel({ session, teamId }: { session: ConsoleSession; teamId?: string }) {
  const [status, setStatus] = useState("pending");
  const requests = useLiveList(() => loadRequests(status, teamId), ["budget_request.*"], [status, teamId]);
  // The teams (who manages what) are read again when a request names a team not read yet: a team made after the page opened.
  const teamIds = [...new Set((requests.data ?? []).map((request) => request.team_id).filter((id) => id !== null))].sort().join(",");
  const teams = useLoad(() => bursar.request<{ data: Team[] }>("GET", "/v1/teams", { query: { limit: 100 } }).then((page) => page.data).catch(() => [] as Team[]), [teamIds]);
  const agents = useLoad(() => bursar.agents.list({ limit: 100 }).then((page) => page.data).catch(() => []), []);
  const teamById = useMemo(() => new Map((teams.data ?? []).map((team) => [team.id, team])), [teams.data]);
  const agentName = useMemo(() => new Map((agents.data ?? []).map((agent) => [agent.id, agent.name])), [agents.data]);
  const [message, setMessage] = useState<string | null>(null);
  const rows = requests.data ?? [];
  const headingId = `budget-requests-title${teamId ? "-team" : ""}`;
  return (
    <section aria-labelledby={headingId} data-testid="budget-requests-panel">
      <h2 id={headingId}>Budget requests</h2>
      <p class="hint">
        Agents asking for more budget per period. {requests.connected ? "Live." : "Connecting to the live feed…"}
        {session.scopes.includes("agents:config") || session.scopes.includes("teams:manage") ? "" : " Your role can see budget requests but not decide them."}
      </p>
      <div class="filters">
        <label>Budget request status{" "}
          <select value={status} onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}>
            <option value="pending">pending</option>
            <option value="approved">approved</option>
            <option value="rejected">rejected</option>
            <option value="">all</option>
          </select>
        </label>
      </div>
      {message && <p role="status" data-testid="budget-request-message">{message}</p>}
      {requests.error && <p class="error" role="alert">{requests.error}</p>}
      {!requests.loading && rows.length === 0 && <p data-testid="budget-requests-empty">No budget requests{status ? ` ${status}` : ""}.</p>}
      <ul class="cards" data-testid="budget-requests">
        {rows.map((request) => (
          <li key={request.id} class="card" data-testid="budget-request" data-request-id={request.id} data-status={request.status}>
            <h3>
              <span data-testid="budget-request-amount">{request.amount_display} {request.currency}</span> more {request.period} for{" "}
              <a href={`/console/agents/${encodeURIComponent(request.agent_id)}`}>{agentName.get(request.agent_id) ?? request.agent_id}</a>
            </h3>
            <dl>
              <dt>Why</dt><dd data-testid="budget-request-reason">{request.reason}</dd>
              <dt>Blocked action</dt><dd>{actionText(request.action)}</dd>
              <dt>Team</dt><dd>{request.team_id ? <a href={`/console/teams/${encodeURIComponent(request.team_id)}`}>{teamById.get(request.team_id)?.name ?? request.team_id}</a> : "none (raises the agent's budget)"}</dd>
              <dt>Status</dt><dd data-testid="budget-request-status">{request.status}{request.approved_amount !== null ? ` · ${major(request.approved_amount)} ${request.currency} approved (${request.raised ?? ""})` : ""}</dd>
              <dt>Asked</dt><dd>{request.created_at}</dd>
              {request.note && <><dt>Note</dt><dd>{request.note}</dd></>}
            </dl>
            {request.status === "pending" && mayDecide(session, request, teamById) && <Decide request={request} onDone={(text) => { setMessage(text); requests.reload(); }} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
