/**
 * Tasks (issue 13, docs/tasks.md): delegated work with a lifecycle, CI, review, ship and an
 * optional escrowed bounty. The list filters by status and stays live over `task.*` events from
 * the journal position it was read at (`journal_seq`). A task's page shows what it asks
 * (description, acceptance criteria), who does it, the CI of its current head and each check, the
 * reviews and their must-fix comments, the bounty with its escrow intent, and its history (the
 * task's `task.*` events, replayed from the start of the journal and then live). Owners act only
 * on what the task's `available_actions` lists (the state machine is the server's): cancel,
 * resolve the blocker, review (with `reviews:write`), and ship against the head they saw; each is
 * confirmed first.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Task, TaskCiStatus, TaskReviewFeedback, TaskStatus } from "@bursar/sdk";
import { bursar, errorText, type ConsoleSession } from "../api.ts";
import { useLiveList, useLoad } from "../hooks.ts";

const statuses: TaskStatus[] = ["todo", "in_progress", "in_review", "blocked", "done", "cancelled"];

/** `1234` → `12.34` (minor units of a 2-decimal currency). */
function major(minor: number): string {
  const value = Math.abs(minor);
  return `${minor < 0 ? "-" : ""}${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

function useAgentNames(): Map<string, string> {
  const agents = useLoad(() => bursar.agents.list({ limit: 100 }).then((page) => page.data).catch(() => []), []);
  return useMemo(() => new Map((agents.data ?? []).map((agent) => [agent.id, agent.name])), [agents.data]);
}

async function loadTasks(status: string): Promise<{ value: Task[]; journalSeq: number | null }> {
  const page = await bursar.tasks.list({ status: (status || undefined) as TaskStatus | undefined, limit: 100 });
  return { value: page.data, journalSeq: page.journalSeq };
}

export function TasksScreen() {
  const [status, setStatus] = useState("");
  const tasks = useLiveList(() => loadTasks(status), ["task.*"], [status]);
  const agentName = useAgentNames();
  const rows = tasks.data ?? [];
  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Tasks</h1>
      <p class="hint">Work delegated to agents, with CI, review and an optional bounty held in escrow. {tasks.connected ? "Live." : "Connecting to the live feed…"}</p>
      <div class="filters">
        <label>Status{" "}
          <select value={status} onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {statuses.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </label>
      </div>
      {tasks.error && <p class="error" role="alert">{tasks.error}</p>}
      {!tasks.loading && rows.length === 0 && <p data-testid="tasks-empty">No tasks.</p>}
      <table data-testid="tasks">
        <caption>Tasks</caption>
        <thead><tr><th scope="col">Task</th><th scope="col">Status</th><th scope="col">Priority</th><th scope="col">Assignee</th><th scope="col">CI</th><th scope="col">Review</th><th scope="col">Bounty</th><th scope="col">Updated</th></tr></thead>
        <tbody>
          {rows.map((task) => (
            <tr key={task.id} data-testid="task" data-task-id={task.id} data-status={task.status}>
              <td><a href={`/console/tasks/${encodeURIComponent(task.id)}`} data-testid="task-title">{task.title}</a></td>
              <td>{task.status}</td>
              <td>{task.priority}</td>
              <td>{task.assignee_agent_id ? agentName.get(task.assignee_agent_id) ?? task.assignee_agent_id : "unassigned"}</td>
              <td>{task.ci_status}</td>
              <td>{task.review_status ?? (task.review_required ? "—" : "not required")}</td>
              <td>{task.bounty ? `${task.bounty.amount_display} ${task.bounty.currency} (${task.bounty.status})` : "—"}</td>
              <td>{task.updated_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

type OwnerAction = "cancel" | "resolve_blocker" | "review" | "ship";

const actionLabel: Record<OwnerAction, string> = { cancel: "Cancel task", resolve_blocker: "Resolve blocker", review: "Review", ship: "Ship" };

function consequence(action: OwnerAction, task: Task): string {
  switch (action) {
    case "cancel":
      return task.bounty ? `Cancels the task; its bounty of ${task.bounty.amount_display} ${task.bounty.currency} goes back to the payer. This cannot be undone.` : "Cancels the task. This cannot be undone.";
    case "resolve_blocker":
      return `Clears the blocker; the task returns to ${task.blocked_from ?? "the status it had"}.`;
    case "review":
      return `Records your review of head ${task.head_sha ?? "(none)"}: an approval (with passing CI) offers ship, requested changes offer fix.`;
    case "ship":
      return `Ships head ${task.head_sha ?? "(none)"}: the task is done${task.bounty ? ` and its bounty of ${task.bounty.amount_display} ${task.bounty.currency} is paid to the assignee` : ""}. Refused if the head has moved since you read it.`;
  }
}

function TaskActions({ task, session, onDone }: { task: Task; session: ConsoleSession; onDone: (next: Task, text: string) => void }) {
  const offered = (["resolve_blocker", "review", "ship", "cancel"] as const).filter((action) => task.available_actions.includes(action) && (action !== "review" || session.scopes.includes("reviews:write")));
  const [pending, setPending] = useState<OwnerAction | null>(null);
  const [reason, setReason] = useState("");
  const [outcome, setOutcome] = useState<"approved" | "changes_requested">("approved");
  const [summary, setSummary] = useState("");
  const [mustFix, setMustFix] = useState("");
  const [mode, setMode] = useState<"merge" | "deploy" | "merge_and_deploy">("merge");
  const [environment, setEnvironment] = useState("production");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The head the owner saw when they opened the dialog: ship says it, and the server refuses a moved head.
  const [expectedHead, setExpectedHead] = useState<string | null>(null);
  /** Each dialog starts blank (a second review is not the first one's leftovers), with the head the owner sees now. */
  const open = (action: OwnerAction) => {
    setReason("");
    setOutcome("approved");
    setSummary("");
    setMustFix("");
    setError(null);
    setExpectedHead(task.head_sha);
    setPending(action);
  };
  if (offered.length === 0) return <p class="hint" data-testid="task-no-actions">No owner action is open in status {task.status}.</p>;
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      const next = pending === "cancel" ? await bursar.tasks.cancel(task.id, { reason: reason.trim() || null })
        : pending === "resolve_blocker" ? await bursar.tasks.resolveBlocker(task.id)
        : pending === "review" ? await bursar.tasks.review(task.id, { outcome, summary: summary.trim(), comments: mustFix.trim() ? [{ body: mustFix.trim(), severity: "must_fix" }] : [] })
        : await bursar.tasks.ship(task.id, { mode, target_environment: environment.trim(), expected_head_sha: expectedHead ?? "" });
      setPending(null);
      onDone(next, `${actionLabel[pending]}: done; the task is now ${next.status}.`);
    } catch (failure) {
      setError(`Not done: ${errorText(failure)}`);
    } finally {
      setBusy(false);
    }
  };
  const invalid = (pending === "review" && summary.trim() === "") || (pending === "ship" && (environment.trim() === "" || !expectedHead));
  return (
    <div data-testid="task-actions">
      {pending === null ? (
        offered.map((action) => (
          <button key={action} type="button" class={action === "ship" ? "approve" : action === "cancel" ? "reject" : undefined} onClick={() => open(action)}>
            {actionLabel[action]}…
          </button>
        ))
      ) : (
        <div role="group" aria-labelledby="task-confirm-text" class="card" data-testid="task-confirm" data-action={pending}>
          <p id="task-confirm-text"><strong>Confirm: {actionLabel[pending].toLowerCase()}.</strong> {consequence(pending, task)}</p>
          {pending === "cancel" && <p><label>Reason <input data-testid="task-cancel-reason" value={reason} onInput={(event) => setReason((event.target as HTMLInputElement).value)} /></label></p>}
          {pending === "review" && (
            <>
              <p><label>Outcome{" "}
                <select data-testid="task-review-outcome" value={outcome} onChange={(event) => setOutcome((event.target as HTMLSelectElement).value as "approved" | "changes_requested")}>
                  <option value="approved">approved</option>
                  <option value="changes_requested">changes requested</option>
                </select>
              </label></p>
              <p><label>Summary <input data-testid="task-review-summary" value={summary} onInput={(event) => setSummary((event.target as HTMLInputElement).value)} /></label></p>
              <p><label>Must fix (optional) <input data-testid="task-review-must-fix" value={mustFix} onInput={(event) => setMustFix((event.target as HTMLInputElement).value)} /></label></p>
            </>
          )}
          {pending === "ship" && (
            <>
              <p>Expected head: <code data-testid="task-ship-head">{expectedHead ?? "none"}</code></p>
              <p><label>Mode{" "}
                <select value={mode} onChange={(event) => setMode((event.target as HTMLSelectElement).value as "merge" | "deploy" | "merge_and_deploy")}>
                  <option value="merge">merge</option>
                  <option value="deploy">deploy</option>
                  <option value="merge_and_deploy">merge and deploy</option>
                </select>
              </label></p>
              <p><label>Target environment <input value={environment} onInput={(event) => setEnvironment((event.target as HTMLInputElement).value)} /></label></p>
            </>
          )}
          <button type="button" disabled={busy || invalid} onClick={confirm}>Confirm {actionLabel[pending].toLowerCase()}</button>
          <button type="button" onClick={() => setPending(null)}>Back</button>
        </div>
      )}
      {error && <p class="error" role="alert" data-testid="task-action-error">{error}</p>}
    </div>
  );
}

interface HistoryRow {
  id: string;
  type: string;
  at: string;
  from: string | null;
  to: string;
  changed: string[];
}

/**
 * The task's history and live changes: its `task.*` events streamed from the start of the
 * journal (the stream's `task_id` filter), so the replay is the history and every later event
 * both extends it and reloads the task.
 */
function useTaskHistory(taskId: string, onChange: () => void): HistoryRow[] {
  const [rows, setRows] = useState<HistoryRow[]>([]);
  useEffect(() => {
    setRows([]);
    const controller = new AbortController();
    // The replay arrives in a burst: one reload of the task after it, not one per event.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const changed = () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, 100);
    };
    void (async () => {
      try {
        for await (const event of bursar.events.stream({ type: ["task.*"], task_id: taskId, after_seq: 0, signal: controller.signal })) {
          const data = event.data as { task?: Task; previous_status?: string | null; changed_fields?: string[] };
          setRows((previous) => previous.some((row) => row.id === event.id) ? previous : [...previous, { id: event.id, type: event.type, at: event.created_at, from: data.previous_status ?? null, to: data.task?.status ?? "", changed: data.changed_fields ?? [] }]);
          changed();
        }
      } catch {
        // The stream ended (signed out, server gone): the page still shows what it read.
      }
    })();
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [taskId]);
  return rows;
}

export function TaskScreen({ taskId, session }: { taskId: string; session: ConsoleSession }) {
  const loaded = useLoad(() => Promise.all([bursar.tasks.get(taskId), bursar.tasks.ciStatus(taskId), bursar.tasks.reviewFeedback(taskId)]), [taskId]);
  const history = useTaskHistory(taskId, loaded.reload);
  const [message, setMessage] = useState<string | null>(null);
  const agentName = useAgentNames();
  const members = useLoad(() => bursar.request<{ data: Array<{ id: string; name: string }> }>("GET", "/v1/members").then((page) => page.data).catch(() => []), []);
  const memberName = new Map((members.data ?? []).map((member) => [member.id, member.name]));
  /** A reviewer or creator: an agent's or a member's name where known. */
  const who = (party: { type: string; id: string }) => party.type === "agent" ? agentName.get(party.id) ?? party.id : memberName.get(party.id) ?? `${party.type} ${party.id}`;
  if (loaded.error) return <section><h1>Task</h1><p class="error" role="alert">{loaded.error}</p></section>;
  if (!loaded.data) return <section><h1>Task</h1><p>Loading…</p></section>;
  const [task, ci, feedback] = loaded.data as [Task, TaskCiStatus, TaskReviewFeedback];
  const agent = (id: string | null) => id === null ? "none" : <a href={`/console/agents/${encodeURIComponent(id)}`}>{agentName.get(id) ?? id}</a>;
  const canAct = session.scopes.includes("agents:execute") || session.scopes.includes("tasks:write");
  return (
    <section aria-labelledby="task-title" data-testid="task-detail" data-status={task.status}>
      <h1 id="task-title">{task.title}</h1>
      <p><a href="/console/tasks">All tasks</a></p>
      <dl>
        <dt>Task</dt><dd><code>{task.id}</code></dd>
        <dt>Status</dt><dd data-testid="task-status">{task.status}{task.blocker ? ` (blocked: ${task.blocker.reason}${task.blocker.action_required ? `; needs: ${task.blocker.action_required}` : ""})` : ""}</dd>
        <dt>Priority</dt><dd>{task.priority}</dd>
        <dt>Assignee</dt><dd data-testid="task-assignee">{agent(task.assignee_agent_id)}</dd>
        <dt>Reviewer</dt><dd>{task.reviewer_agent_id ? agent(task.reviewer_agent_id) : task.review_required ? "an owner" : "no review required"}</dd>
        <dt>Created by</dt><dd>{task.creator.agent_id ? agent(task.creator.agent_id) : who(task.creator)}</dd>
        {task.due_at && <><dt>Due</dt><dd>{task.due_at}</dd></>}
        <dt>Head</dt><dd><code data-testid="task-head">{task.head_sha ?? "none yet"}</code></dd>
        <dt>Bounty</dt>
        <dd data-testid="task-bounty">
          {task.bounty ? (
            <>
              {task.bounty.amount_display} {task.bounty.currency} · {task.bounty.status}{task.bounty.paid_amount > 0 ? ` · ${major(task.bounty.paid_amount)} paid` : ""}
              {task.bounty.escrow_intent_id && <> · <a href={`/console/escrow/${encodeURIComponent(task.bounty.escrow_intent_id)}`} data-testid="task-escrow-link">escrow {task.bounty.escrow_intent_id}</a></>}
            </>
          ) : "none"}
        </dd>
        {task.shipped && <><dt>Shipped</dt><dd>{task.shipped.mode} to {task.shipped.target_environment} at {task.shipped.shipped_at}</dd></>}
        {task.cancel_reason && <><dt>Cancelled because</dt><dd>{task.cancel_reason}</dd></>}
      </dl>
      {message && <p role="status" data-testid="task-message">{message}</p>}
      {canAct ? <TaskActions task={task} session={session} onDone={(_next, text) => { setMessage(text); loaded.reload(); }} /> : <p class="hint">Your role can see tasks but not act on them.</p>}
      <h2>Description</h2>
      <p data-testid="task-description">{task.description ?? "No description."}</p>
      <h2>Acceptance criteria</h2>
      {task.acceptance_criteria.length === 0 ? <p>None.</p> : <ul data-testid="task-criteria">{task.acceptance_criteria.map((line, index) => <li key={index}>{line}</li>)}</ul>}
      {task.submission && (
        <>
          <h2>Submission</h2>
          <p>{task.submission.summary}</p>
          <ul>{task.submission.artifacts.map((artifact) => <li key={artifact.url}>{artifact.type}: <a href={artifact.url} rel="noreferrer noopener">{artifact.url}</a></li>)}</ul>
        </>
      )}
      <table data-testid="task-ci">
        <caption>CI of the current head: <span data-testid="task-ci-status">{ci.overall_status}</span>{ci.missing_checks.length ? ` (waiting for ${ci.missing_checks.join(", ")})` : ""}{ci.stale_reports ? ` · ${ci.stale_reports} stale report(s) ignored` : ""}</caption>
        <thead><tr><th scope="col">Check</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Failure</th></tr></thead>
        <tbody>
          {ci.checks.map((check) => (
            <tr key={check.name} data-testid="task-check" data-status={check.status}>
              <td>{check.url ? <a href={check.url} rel="noreferrer noopener">{check.name}</a> : check.name}</td>
              <td>{check.status}</td>
              <td>{check.duration_ms === undefined ? "—" : `${(check.duration_ms / 1000).toFixed(1)} s`}</td>
              <td>{check.failure ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Reviews</h2>
      {feedback.must_fix.length > 0 && (
        <div class="card" data-testid="task-must-fix">
          <p><strong>Must fix before it ships:</strong></p>
          <ul>{feedback.must_fix.map((comment, index) => <li key={index}>{comment.body}{comment.path ? ` (${comment.path}${comment.line ? `:${comment.line}` : ""})` : ""}</li>)}</ul>
        </div>
      )}
      {feedback.reviews.length === 0 ? <p>No reviews yet.</p> : (
        <ul class="cards" data-testid="task-reviews">
          {feedback.reviews.map((review) => (
            <li key={review.id} class="card" data-testid="task-review" data-outcome={review.outcome}>
              <p><strong>{review.outcome.replace("_", " ")}</strong> by {who(review.reviewer)} of head <code>{review.head_sha ?? "—"}</code> at {review.created_at}</p>
              <p>{review.summary}</p>
              {review.comments.length > 0 && <ul>{review.comments.map((comment, index) => <li key={index}>{comment.severity.replace("_", " ")}: {comment.body}</li>)}</ul>}
            </li>
          ))}
        </ul>
      )}
      <table data-testid="task-history">
        <caption>History</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Changed</th></tr></thead>
        <tbody>
          {history.map((row) => (
            <tr key={row.id} data-testid="task-event"><td>{row.at}</td><td>{row.type}</td><td>{row.from && row.from !== row.to ? `${row.from} → ${row.to}` : row.to}</td><td>{row.changed.join(", ")}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
