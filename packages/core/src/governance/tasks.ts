/**
 * Tasks (SPEC 1 `tsk_`, docs/tasks.md): a unit of delegated work with a lifecycle, CI status fed
 * from outside, review, ship, and an optional bounty held in escrow and paid when the work ships.
 *
 * - **Create**: an owner, or an agent delegating to another agent of its tenant (scope
 *   `tasks:write`). A bounty is the payer's spend (the creating agent's wallet, or the agent an
 *   owner names): its policy and wallet are checked first (`bounty_denied`, writing nothing),
 *   then, once the task has an assignee, the escrow is opened and funded in the same write
 *   (task-bounty.ts). An `approval_required` decision leaves the bounty `pending_approval`.
 * - **Lifecycle**: tasks/state-machine.ts is the one transition table; every refusal is 409
 *   `task_transition_not_allowed` with `current_status` and `available_actions`.
 * - **CI**: reports for the current head replace that head's checks by name; reports for any
 *   other head are recorded as stale and change nothing.
 * - **Review**: an owner (`reviews:write`) or the reviewer agent the task names; never the assignee.
 * - **Ship** (Idempotency-Key required at the route): refused unless available; releases the
 *   bounty with evidence of the ship, exactly once (writes of a tenant are serialised and the
 *   status is checked first). **Cancel** refunds it.
 *
 * Events `task.created|updated|submitted|ci_updated|reviewed|shipped|blocked|cancelled`, each
 * with `data.task` (the task as the API shows it), `previous_status`, `changed_fields` and
 * `available_actions`.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { escrowDeadlineSecondsMax, taskCiReportsKeptMax, taskReviewsMax } from "../limits.js";
import { formatMinor } from "../money.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { Predicate } from "../escrow/predicate.js";
import { availableTaskActions, guardTaskAction, type TaskAction, type TaskFacts, type TaskStatus } from "../tasks/state-machine.js";
import type { EscrowIntentBody, EscrowIntentRecord, EvidenceArtifact } from "./escrow-intents.js";
import { findAgentPayee } from "./payees.js";
import type { StoredRecord } from "./records.js";
import type { PayloadValidator } from "./service-requests.js";
import { previewSpend } from "./spending.js";
import { listRecordsOf, loadRecord, recordStamp, saveRecord } from "./store.js";
import {
  bountyDeadlineMs,
  bountyIntentId,
  bountyPredicate,
  bountyStatusOf,
  checkBountyEvidence,
  openBounty,
  parseBountyPredicate,
  refundBounty,
  releaseBounty,
  type ShipEvidence,
} from "./task-bounty.js";

export const taskPriorities = ["low", "medium", "high", "critical"] as const;
export type TaskPriority = (typeof taskPriorities)[number];
export const taskArtifactTypes = ["pull_request", "commit", "doc", "ci_run", "other"] as const;
export const ciCheckStatuses = ["queued", "running", "passed", "failed", "cancelled", "skipped"] as const;
export type CiCheckStatus = (typeof ciCheckStatuses)[number];
export const ciOverallStatuses = ["pending", "running", "passed", "failed"] as const;
export type CiOverallStatus = (typeof ciOverallStatuses)[number];
export const reviewOutcomes = ["approved", "changes_requested"] as const;
export const reviewSeverities = ["must_fix", "should_fix", "note"] as const;
export const shipModes = ["merge", "deploy", "merge_and_deploy"] as const;
export const taskEventTypes = ["created", "updated", "submitted", "ci_updated", "reviewed", "shipped", "blocked", "cancelled"] as const;

export interface TaskArtifact {
  type: (typeof taskArtifactTypes)[number];
  url: string;
  sha256?: string;
}

export interface CiCheck {
  name: string;
  status: CiCheckStatus;
  url?: string;
  duration_ms?: number;
  failure?: string;
}

export interface CiReport {
  id: string;
  head_sha: string;
  /** Not for the task's head when it arrived: recorded, ignored. */
  stale: boolean;
  reporter: { type: string; id: string };
  received_at: string;
  checks: CiCheck[];
}

export interface TaskReview {
  id: string;
  outcome: (typeof reviewOutcomes)[number];
  summary: string;
  comments: Array<{ body: string; severity: (typeof reviewSeverities)[number]; path?: string; line?: number }>;
  reviewer: { type: string; id: string };
  /** The head reviewed: a review of an older head does not count for ship. */
  head_sha: string | null;
  created_at: string;
}

/** Who made the task: an owner-side principal, or the agent that delegated it. */
export interface TaskCreator {
  type: string;
  id: string;
  agent_id: string | null;
}

export interface TaskBounty {
  amount: number;
  currency: string;
  /** The task's own predicate over the ship evidence (and-ed with "CI passed"), or null. */
  predicate: Predicate | null;
  payer_agent_id: string;
  escrow_intent_id: string | null;
}

export interface TaskBody {
  title: string;
  description: string | null;
  acceptance_criteria: string[];
  priority: TaskPriority;
  assignee_agent_id: string | null;
  reviewer_agent_id: string | null;
  review_required: boolean;
  creator: TaskCreator;
  due_at: string | null;
  links: Array<{ url: string; title?: string }>;
  labels: string[];
  bounty: TaskBounty | null;
  status: TaskStatus;
  blocker: { reason: string; action_required: string | null } | null;
  blocked_from: TaskStatus | null;
  head_sha: string | null;
  submission: { summary: string; artifacts: TaskArtifact[]; checks: string[]; head_sha: string | null; submitted_at: string } | null;
  /** The current head's checks, by name (the latest report of each). */
  ci_checks: CiCheck[];
  ci_reports: CiReport[];
  reviews: TaskReview[];
  shipped: { mode: (typeof shipModes)[number]; target_environment: string; head_sha: string; shipped_at: string; shipped_by: { type: string; id: string } } | null;
  cancel_reason: string | null;
}
export type TaskRecord = StoredRecord<TaskBody>;

/** Who is calling, as the task rules need it. */
export interface TaskCaller {
  type: string;
  id: string;
  /** The agent the credential acts for, or null for owners and service accounts. */
  agentId: string | null;
  /** Holds `reviews:write` (owners only). */
  mayReviewAsOwner: boolean;
}

// --- reading a task ---

/** CI of the current head: overall status, counts, checks and failures. */
export function ciStatusOf(body: TaskBody) {
  const checks = body.head_sha === null ? [] : body.ci_checks;
  const counts = Object.fromEntries(["queued", "running", "passed", "failed", "cancelled", "skipped"].map((status) => [status, 0])) as Record<CiCheckStatus, number>;
  for (const check of checks) counts[check.status]++;
  const required = body.submission?.checks ?? [];
  const missing = required.filter((name) => !checks.some((check) => check.name === name));
  let overall: CiOverallStatus;
  if (counts.failed + counts.cancelled > 0) overall = "failed";
  else if (counts.queued + counts.running > 0) overall = "running";
  else if (checks.length > 0 && missing.length === 0 && counts.passed > 0) overall = "passed";
  else overall = "pending";
  return {
    head_sha: body.head_sha,
    overall_status: overall,
    summary: { total: checks.length, ...counts },
    required_checks: required,
    missing_checks: missing,
    checks,
    failures: checks.filter((check) => check.status === "failed" || check.status === "cancelled").map((check) => ({ name: check.name, failure: check.failure ?? null, url: check.url ?? null })),
    stale_reports: body.ci_reports.filter((report) => report.stale).length,
    updated_at: body.ci_reports.find((report) => !report.stale && report.head_sha === body.head_sha)?.received_at ?? null,
  };
}

/** The latest review of the current head, when there is one. */
function latestReviewOfHead(body: TaskBody): TaskReview | null {
  for (let i = body.reviews.length - 1; i >= 0; i--) if (body.reviews[i]!.head_sha === body.head_sha) return body.reviews[i]!;
  return null;
}

function factsOf(body: TaskBody, escrow: EscrowIntentRecord | null): TaskFacts {
  const ci = ciStatusOf(body).overall_status;
  return {
    blockedFrom: body.blocked_from,
    ciStatus: ci,
    review: latestReviewOfHead(body)?.outcome ?? null,
    reviewRequired: body.review_required,
    bountyPending: escrow !== null && bountyStatusOf(escrow) === "pending_approval",
  };
}

/** What the task can do next. */
export function taskAvailableActions(task: TaskRecord, escrow: EscrowIntentRecord | null): TaskAction[] {
  return availableTaskActions(task.body.status, factsOf(task.body, escrow));
}

/** The task as the API shows it; `escrow` is its bounty's escrow intent (null without one). */
export function taskView(task: TaskRecord, escrow: EscrowIntentRecord | null) {
  const body = task.body;
  const { ci_checks: _checks, ci_reports: _reports, bounty, ...rest } = body;
  return {
    object: "task" as const,
    ...recordStamp(task, toRfc3339),
    ...rest,
    bounty: bounty && {
      amount: bounty.amount,
      amount_display: formatMinor(bounty.amount, bounty.currency),
      currency: bounty.currency,
      predicate: bounty.predicate as unknown as Record<string, unknown> | null,
      payer_agent_id: bounty.payer_agent_id,
      escrow_intent_id: bounty.escrow_intent_id,
      status: escrow ? bountyStatusOf(escrow) : ("unassigned" as const),
      paid_amount: escrow?.body.settlement?.payee_amount ?? 0,
    },
    ci_status: ciStatusOf(body).overall_status,
    review_status: latestReviewOfHead(body)?.outcome ?? null,
    available_actions: taskAvailableActions(task, escrow),
  };
}

/** The bounty escrow of a task, when it has one. */
export async function taskEscrow(reader: StoreReader, task: TaskRecord): Promise<EscrowIntentRecord | null> {
  const id = task.body.bounty?.escrow_intent_id;
  return id ? loadRecord<EscrowIntentBody>(reader, task.tenantId, "escrow_intent", id) : null;
}

/** Whether an agent credential may see the task: it made, works on, reviews or pays for it. */
export function isTaskParty(task: TaskRecord, agentId: string): boolean {
  const body = task.body;
  return body.creator.agent_id === agentId || body.assignee_agent_id === agentId || body.reviewer_agent_id === agentId || body.bounty?.payer_agent_id === agentId;
}

/** The task `caller` may see, or `not_found`. */
export async function loadVisibleTask(reader: StoreReader, tenantId: string, taskId: string, agentId: string | null): Promise<Result<TaskRecord>> {
  const task = await loadRecord<TaskBody>(reader, tenantId, "task", taskId);
  if (!task || (agentId !== null && !isTaskParty(task, agentId))) return fail("not_found", `task ${taskId} not found`);
  return ok(task);
}

async function emit(context: WriteContext, type: (typeof taskEventTypes)[number], task: TaskRecord, escrow: EscrowIntentRecord | null, previousStatus: TaskStatus | null, changedFields: string[]) {
  const view = taskView(task, escrow);
  await appendEvent(context, `task.${type}`, { task: view, previous_status: previousStatus, changed_fields: changedFields, available_actions: view.available_actions }, task.agentId);
}

// --- creating ---

export interface CreateTaskInput {
  title: string;
  description: string | null;
  acceptanceCriteria: string[];
  priority: TaskPriority;
  assigneeAgentId: string | null;
  reviewerAgentId: string | null;
  reviewRequired: boolean;
  dueAt: string | null;
  links: Array<{ url: string; title?: string }>;
  labels: string[];
  bounty: { amountMinor: number; currency: string; predicate: unknown; payerAgentId: string | null } | null;
}

async function activeAgent(reader: StoreReader, tenantId: string, agentId: string, role: string): Promise<Result<AgentRow>> {
  const agent = await reader.getAgent(tenantId, agentId);
  if (!agent) return fail("not_found", `agent ${agentId} not found`);
  if (agent.status !== "active") return fail("agent_disabled", `the ${role} ${agentId} is disabled`);
  return ok(agent);
}

/**
 * Creates a task (see the module comment). `creatorAgent` is the delegating agent (null for an
 * owner). Fails, writing nothing: `validation_failed`, `not_found` (an agent it names),
 * `agent_disabled`, `currency_mismatch`, `predicate_invalid`, `bounty_denied`.
 */
export async function createTask(context: WriteContext, caller: TaskCaller, input: CreateTaskInput): Promise<Result<{ task: TaskRecord; escrow: EscrowIntentRecord | null }>> {
  const { tx, tenantId, nowMs } = context;
  const dueAtMs = input.dueAt === null ? null : Date.parse(input.dueAt);
  if (dueAtMs !== null && (!Number.isFinite(dueAtMs) || dueAtMs <= nowMs)) return fail("validation_failed", "due_at must be in the future");
  let assignee: AgentRow | null = null;
  if (input.assigneeAgentId !== null) {
    const found = await activeAgent(tx, tenantId, input.assigneeAgentId, "assignee");
    if (!found.ok) return found;
    assignee = found.value;
  }
  if (input.reviewerAgentId !== null) {
    if (input.reviewerAgentId === input.assigneeAgentId) return fail("self_review_forbidden", "the reviewer cannot be the assignee: an assignee never reviews its own task");
    const found = await activeAgent(tx, tenantId, input.reviewerAgentId, "reviewer");
    if (!found.ok) return found;
  }
  let bounty: TaskBounty | null = null;
  let payer: AgentRow | null = null;
  if (input.bounty) {
    // The bounty is the payer's spend: a delegating agent pays from its own wallet; an owner names the agent.
    const payerId = caller.agentId ?? input.bounty.payerAgentId;
    if (payerId === null) return fail("validation_failed", "an owner's bounty names its payer with bounty.payer_agent_id");
    if (caller.agentId !== null && input.bounty.payerAgentId !== null && input.bounty.payerAgentId !== caller.agentId) return fail("not_found", `agent ${input.bounty.payerAgentId} not found`);
    const found = await activeAgent(tx, tenantId, payerId, "payer");
    if (!found.ok) return found;
    payer = found.value;
    if (assignee && assignee.id === payer.id) return fail("validation_failed", "a bounty's payer cannot be its assignee");
    if (dueAtMs !== null && dueAtMs > nowMs + escrowDeadlineSecondsMax * 1000) {
      return fail("validation_failed", `a task with a bounty is due at most ${escrowDeadlineSecondsMax / 86_400} days ahead (its escrow's longest deadline)`);
    }
    let predicate: Predicate | null = null;
    if (input.bounty.predicate !== undefined && input.bounty.predicate !== null) {
      const parsed = parseBountyPredicate(input.bounty.predicate);
      if (!parsed.ok) return parsed;
      const combined = parseBountyPredicate(bountyPredicate(parsed.value));
      if (!combined.ok) return combined;
      predicate = parsed.value;
    }
    const checked = await checkBountyFunding(tx, tenantId, payer, assignee, input.bounty.amountMinor, input.bounty.currency, nowMs);
    if (!checked.ok) return checked;
    bounty = { amount: input.bounty.amountMinor, currency: input.bounty.currency, predicate, payer_agent_id: payer.id, escrow_intent_id: null };
  }
  const id = newId("tsk", nowMs);
  const task: TaskRecord = {
    tenantId, kind: "task", id, agentId: assignee?.id ?? null, status: "todo", refId: caller.agentId, dueAtMs: null, createdAtMs: nowMs, updatedAtMs: nowMs,
    body: {
      title: input.title, description: input.description, acceptance_criteria: input.acceptanceCriteria, priority: input.priority,
      assignee_agent_id: assignee?.id ?? null, reviewer_agent_id: input.reviewerAgentId, review_required: input.reviewRequired,
      creator: { type: caller.type, id: caller.id, agent_id: caller.agentId }, due_at: input.dueAt, links: input.links, labels: input.labels, bounty,
      status: "todo", blocker: null, blocked_from: null, head_sha: null, submission: null, ci_checks: [], ci_reports: [], reviews: [], shipped: null,
      cancel_reason: null,
    },
  };
  await saveRecord(tx, task, true);
  let escrow: EscrowIntentRecord | null = null;
  if (bounty && payer && assignee) escrow = await fundTaskBounty(context, task, payer, assignee, dueAtMs);
  await emit(context, "created", task, escrow, null, []);
  return ok({ task, escrow });
}

/** The payer's policy and wallet, checked before anything is written (a deny writes nothing). */
async function checkBountyFunding(reader: StoreReader, tenantId: string, payer: AgentRow, assignee: AgentRow | null, amountMinor: number, currency: string, nowMs: number): Promise<Result<null>> {
  const payerWallet = await reader.getAccount(tenantId, payer.walletAccountId);
  invariant(payerWallet, `agent ${payer.id} has its wallet`);
  if (payerWallet.currency !== currency) return fail("currency_mismatch", `the payer's wallet is in ${payerWallet.currency}, not ${currency}`);
  if (assignee) {
    const assigneeWallet = await reader.getAccount(tenantId, assignee.walletAccountId);
    invariant(assigneeWallet, `agent ${assignee.id} has its wallet`);
    if (assigneeWallet.currency !== currency) return fail("currency_mismatch", `the assignee's wallet is in ${assigneeWallet.currency}, not ${currency}`);
  }
  const payee = assignee ? await findAgentPayee(reader, tenantId, assignee.id) : null;
  // A payee not created yet is checked as one never paid (rules on new payees apply).
  const { decision } = await previewSpend(reader, payer, { kind: "payment", amountMinor, currency, payeeId: payee?.id ?? "pay_new" }, nowMs);
  if (decision.decision === "deny") {
    const failure = fail("bounty_denied", `the payer's policy or wallet refuses a bounty of ${formatMinor(amountMinor, currency)} ${currency}: ${decision.reason_codes.join(", ")}`);
    return { ...failure, availableActions: decision.available_actions };
  }
  return ok(null);
}

/** Opens and funds the task's bounty escrow, now that it has an assignee. */
async function fundTaskBounty(context: WriteContext, task: TaskRecord, payer: AgentRow, assignee: AgentRow, dueAtMs: number | null): Promise<EscrowIntentRecord> {
  const bounty = task.body.bounty!;
  const escrow = await openBounty(context, {
    taskId: task.id, title: task.body.title, payer, assignee, amountMinor: bounty.amount, currency: bounty.currency, predicate: bounty.predicate,
    deadlineMs: bountyDeadlineMs(dueAtMs, context.nowMs),
  });
  bounty.escrow_intent_id = escrow.id;
  invariant(escrow.id === bountyIntentId(task.id), "the bounty escrow is named after its task");
  await saveRecord(context.tx, task, false);
  return escrow;
}

// --- changing a task ---

export interface UpdateTaskInput {
  title?: string;
  description?: string | null;
  acceptanceCriteria?: string[];
  priority?: TaskPriority;
  labels?: string[];
  links?: Array<{ url: string; title?: string }>;
  assigneeAgentId?: string;
}

/**
 * Changes what a task says, or assigns it (event `task.updated` with `changed_fields`). The agent
 * that made it or an owner. Assigning is once, while the task is `todo` and has no assignee: a
 * bounty is then checked against the payer's policy and wallet (`bounty_denied`, writing nothing)
 * and held in escrow in the same write. Fails: `not_found`, `task_action_forbidden`,
 * `task_transition_not_allowed` (a done or cancelled task; assigning one already assigned or
 * started), `agent_disabled`, `currency_mismatch`, `bounty_denied`, `validation_failed`.
 */
export async function updateTask(context: WriteContext, taskId: string, caller: TaskCaller, input: UpdateTaskInput): Promise<Result<{ task: TaskRecord; escrow: EscrowIntentRecord | null }>> {
  const { tx, tenantId, nowMs } = context;
  const loaded = await loadVisibleTask(tx, tenantId, taskId, caller.agentId);
  if (!loaded.ok) return loaded;
  const task = loaded.value;
  const body = task.body;
  let escrow = await taskEscrow(tx, task);
  if (caller.agentId !== null && caller.agentId !== body.creator.agent_id) return forbidden("only the agent that made the task, or an owner, may change it");
  const refusedUpdate = (reason: string) => ({ ...fail("task_transition_not_allowed", `the task cannot be changed: ${reason}`), currentStatus: body.status, availableActions: taskAvailableActions(task, escrow) });
  if (body.status === "done" || body.status === "cancelled") return refusedUpdate(`it is ${body.status}`);
  let assignee: AgentRow | null = null;
  if (input.assigneeAgentId !== undefined && input.assigneeAgentId !== body.assignee_agent_id) {
    if (body.assignee_agent_id !== null || body.status !== "todo") return refusedUpdate("a task is assigned once, while it is todo and unassigned");
    const found = await activeAgent(tx, tenantId, input.assigneeAgentId, "assignee");
    if (!found.ok) return found;
    assignee = found.value;
    if (body.reviewer_agent_id === assignee.id) return fail("self_review_forbidden", "the task's reviewer cannot be its assignee");
    if (body.bounty) {
      if (body.bounty.payer_agent_id === assignee.id) return fail("validation_failed", "a bounty's payer cannot be its assignee");
      const payer = await activeAgent(tx, tenantId, body.bounty.payer_agent_id, "payer");
      if (!payer.ok) return payer;
      const dueAtMs = body.due_at === null ? null : Date.parse(body.due_at);
      if (dueAtMs !== null && dueAtMs <= nowMs) return fail("validation_failed", "the task is past its due_at: its bounty could not be held");
      const checked = await checkBountyFunding(tx, tenantId, payer.value, assignee, body.bounty.amount, body.bounty.currency, nowMs);
      if (!checked.ok) return checked;
    }
  }
  const changed: string[] = [];
  const set = <K extends keyof TaskBody>(field: K, value: TaskBody[K] | undefined) => {
    if (value === undefined || JSON.stringify(body[field]) === JSON.stringify(value)) return;
    body[field] = value;
    changed.push(field);
  };
  set("title", input.title);
  set("description", input.description);
  set("acceptance_criteria", input.acceptanceCriteria);
  set("priority", input.priority);
  set("labels", input.labels);
  set("links", input.links);
  if (assignee) {
    body.assignee_agent_id = assignee.id;
    task.agentId = assignee.id;
    changed.push("assignee_agent_id");
  }
  if (changed.length === 0) return ok({ task, escrow });
  task.updatedAtMs = nowMs;
  await saveRecord(tx, task, false);
  if (assignee && body.bounty) {
    const payer = await tx.getAgent(tenantId, body.bounty.payer_agent_id);
    invariant(payer, `the payer of ${task.id} exists`);
    escrow = await fundTaskBounty(context, task, payer, assignee, body.due_at === null ? null : Date.parse(body.due_at));
    changed.push("bounty");
  }
  await emit(context, "updated", task, escrow, body.status, changed);
  return ok({ task, escrow });
}

// --- acting on a task ---

/** A transition refused: 409 with the status found and what is available. */
function refused(task: TaskRecord, escrow: EscrowIntentRecord | null, action: TaskAction, reason: string) {
  return {
    ...fail("task_transition_not_allowed", `${action} is not available: ${reason}`),
    currentStatus: task.body.status,
    availableActions: taskAvailableActions(task, escrow),
  };
}

function forbidden(detail: string) {
  return fail("task_action_forbidden", detail);
}

/** Whether `caller` may do `action` (the scope was checked by the route). */
function authorize(task: TaskRecord, caller: TaskCaller, action: TaskAction): Result<null> {
  const body = task.body;
  const owner = caller.agentId === null;
  const assignee = caller.agentId !== null && caller.agentId === body.assignee_agent_id;
  const creator = caller.agentId !== null && caller.agentId === body.creator.agent_id;
  switch (action) {
    case "start":
    case "submit":
    case "fix":
    case "block":
    case "resolve_blocker":
      return owner || assignee ? ok(null) : forbidden(`only the assignee or an owner may ${action} this task`);
    case "ship":
      return owner || assignee || creator ? ok(null) : forbidden("only the assignee, the agent that made the task, or an owner may ship it");
    case "cancel":
      return owner || creator ? ok(null) : forbidden("only the agent that made the task, or an owner, may cancel it");
    case "review":
      if (caller.agentId !== null && caller.agentId === body.assignee_agent_id) return fail("self_review_forbidden", "an assignee can never review its own task");
      if (owner) return caller.mayReviewAsOwner ? ok(null) : forbidden("reviewing as an owner needs the scope reviews:write");
      return caller.agentId === body.reviewer_agent_id ? ok(null) : forbidden("only an owner or the reviewer agent the task names may review it");
    case "report_ci":
      return assignee ? fail("task_action_forbidden", "an assignee cannot report its own CI") : ok(null);
  }
}

export type TaskActionInput =
  | { action: "start" }
  | { action: "submit"; summary: string; artifacts: TaskArtifact[]; checks: string[]; headSha: string | null }
  | { action: "fix" }
  | { action: "block"; reason: string; actionRequired: string | null }
  | { action: "resolve_blocker" }
  | { action: "cancel"; reason: string | null }
  | { action: "ship"; mode: (typeof shipModes)[number]; targetEnvironment: string; expectedHeadSha: string };

/**
 * Runs a lifecycle action (see the module comment): loads the task the caller may see, checks who
 * may act, asks the transition table, then changes it. Fails, writing nothing: `not_found`,
 * `task_action_forbidden`, `self_review_forbidden`, `task_transition_not_allowed`,
 * `task_head_mismatch` (ship), `bounty_predicate_failed` (ship).
 */
export async function actOnTask(context: WriteContext, taskId: string, caller: TaskCaller, input: TaskActionInput, validate: PayloadValidator): Promise<Result<{ task: TaskRecord; escrow: EscrowIntentRecord | null }>> {
  const { tx, tenantId, nowMs } = context;
  const loaded = await loadVisibleTask(tx, tenantId, taskId, caller.agentId);
  if (!loaded.ok) return loaded;
  const task = loaded.value;
  let escrow = await taskEscrow(tx, task);
  const allowed = authorize(task, caller, input.action);
  if (!allowed.ok) return allowed;
  const guard = guardTaskAction(task.body.status, input.action, factsOf(task.body, escrow));
  if (guard.verdict === "refuse") return refused(task, escrow, input.action, guard.reason);
  const body = task.body;
  const previous = body.status;
  const changed: string[] = ["status"];
  let eventType: (typeof taskEventTypes)[number] = "updated";
  switch (input.action) {
    case "submit":
      body.submission = { summary: input.summary, artifacts: input.artifacts, checks: input.checks, head_sha: input.headSha ?? body.head_sha, submitted_at: toRfc3339(nowMs) };
      changed.push("submission");
      if (input.headSha !== null && input.headSha !== body.head_sha) {
        body.head_sha = input.headSha;
        body.ci_checks = [];
        changed.push("head_sha", "ci_status");
      }
      eventType = "submitted";
      break;
    case "block":
      body.blocker = { reason: input.reason, action_required: input.actionRequired };
      body.blocked_from = previous;
      changed.push("blocker");
      eventType = "blocked";
      break;
    case "resolve_blocker":
      body.blocker = null;
      body.blocked_from = null;
      changed.push("blocker");
      break;
    case "cancel":
      body.cancel_reason = input.reason;
      if (escrow) {
        escrow = await refundBounty(context, escrow.id);
        changed.push("bounty");
      }
      eventType = "cancelled";
      break;
    case "ship": {
      if (input.expectedHeadSha !== body.head_sha) {
        return { ...fail("task_head_mismatch", `the task's head is ${body.head_sha ?? "none"}, not ${input.expectedHeadSha}`), currentStatus: body.status, availableActions: taskAvailableActions(task, escrow) };
      }
      const review = latestReviewOfHead(body);
      const evidence: ShipEvidence = {
        taskId: task.id, headSha: body.head_sha!, ciStatus: ciStatusOf(body).overall_status,
        review: review ? { outcome: review.outcome, review_id: review.id } : null,
        ship: { mode: input.mode, target_environment: input.targetEnvironment },
        artifacts: (body.submission?.artifacts ?? []).filter((artifact) => artifact.sha256 !== undefined).map((artifact): EvidenceArtifact => ({ sha256: artifact.sha256!, uri: artifact.url, media_type: artifact.type })),
      };
      if (escrow && bountyStatusOf(escrow) === "held") {
        const evaluation = checkBountyEvidence(escrow, evidence, nowMs);
        if (!evaluation.passed) {
          return fail("bounty_predicate_failed", `the bounty's predicate fails at ${evaluation.failing_node ?? "/root"}: ${evaluation.reason ?? "not passed"}; nothing shipped`);
        }
        escrow = await releaseBounty(context, escrow.id, evidence, validate);
        changed.push("bounty");
      }
      body.shipped = { mode: input.mode, target_environment: input.targetEnvironment, head_sha: body.head_sha!, shipped_at: toRfc3339(nowMs), shipped_by: { type: caller.type, id: caller.id } };
      changed.push("shipped");
      eventType = "shipped";
      break;
    }
    case "start":
    case "fix":
      break;
  }
  body.status = guard.next;
  task.status = guard.next;
  task.updatedAtMs = nowMs;
  await saveRecord(tx, task, false);
  await emit(context, eventType, task, escrow, previous, changed);
  return ok({ task, escrow });
}

export interface CiReportInput {
  headSha: string;
  checks: CiCheck[];
}

/**
 * Records a CI report. For the current head its checks replace that head's checks of the same
 * name (event `task.ci_updated`); for any other head it is kept as stale and changes nothing (no
 * event: nothing about the task changed). Fails: `not_found`, `task_action_forbidden` (the
 * assignee), `task_transition_not_allowed` (a done or cancelled task).
 */
export async function reportTaskCi(context: WriteContext, taskId: string, caller: TaskCaller, input: CiReportInput): Promise<Result<{ task: TaskRecord; escrow: EscrowIntentRecord | null; report: CiReport }>> {
  const { tx, tenantId, nowMs } = context;
  const loaded = await loadVisibleTask(tx, tenantId, taskId, caller.agentId);
  if (!loaded.ok) return loaded;
  const task = loaded.value;
  const escrow = await taskEscrow(tx, task);
  const allowed = authorize(task, caller, "report_ci");
  if (!allowed.ok) return allowed;
  const guard = guardTaskAction(task.body.status, "report_ci", factsOf(task.body, escrow));
  if (guard.verdict === "refuse") return refused(task, escrow, "report_ci", guard.reason);
  const body = task.body;
  const stale = body.head_sha === null || input.headSha !== body.head_sha;
  const report: CiReport = { id: newId("cir", nowMs), head_sha: input.headSha, stale, reporter: { type: caller.type, id: caller.id }, received_at: toRfc3339(nowMs), checks: input.checks };
  body.ci_reports = [report, ...body.ci_reports].slice(0, taskCiReportsKeptMax);
  const previousCi = ciStatusOf(body).overall_status;
  if (!stale) {
    const byName = new Map(body.ci_checks.map((check) => [check.name, check]));
    for (const check of input.checks) byName.set(check.name, check);
    body.ci_checks = [...byName.values()];
  }
  task.updatedAtMs = nowMs;
  await saveRecord(tx, task, false);
  if (!stale) await emit(context, "ci_updated", task, escrow, body.status, previousCi === ciStatusOf(body).overall_status ? ["ci_checks"] : ["ci_checks", "ci_status"]);
  return ok({ task, escrow, report });
}

export interface ReviewInput {
  outcome: (typeof reviewOutcomes)[number];
  summary: string;
  comments: TaskReview["comments"];
}

/**
 * Records a review of the current head (event `task.reviewed`). Fails: `not_found`,
 * `self_review_forbidden` (the assignee), `task_action_forbidden` (anyone but an owner with
 * `reviews:write` or the named reviewer agent), `task_transition_not_allowed` (not in review),
 * `limit_exceeded` (the task has all the reviews it may keep).
 */
export async function reviewTask(context: WriteContext, taskId: string, caller: TaskCaller, input: ReviewInput): Promise<Result<{ task: TaskRecord; escrow: EscrowIntentRecord | null; review: TaskReview }>> {
  const { tx, tenantId, nowMs } = context;
  const loaded = await loadVisibleTask(tx, tenantId, taskId, caller.agentId);
  if (!loaded.ok) return loaded;
  const task = loaded.value;
  const escrow = await taskEscrow(tx, task);
  const allowed = authorize(task, caller, "review");
  if (!allowed.ok) return allowed;
  const guard = guardTaskAction(task.body.status, "review", factsOf(task.body, escrow));
  if (guard.verdict === "refuse") return refused(task, escrow, "review", guard.reason);
  if (task.body.reviews.length >= taskReviewsMax) return fail("limit_exceeded", `a task keeps at most ${taskReviewsMax} reviews`);
  const review: TaskReview = { id: newId("rev", nowMs), outcome: input.outcome, summary: input.summary, comments: input.comments, reviewer: { type: caller.type, id: caller.id }, head_sha: task.body.head_sha, created_at: toRfc3339(nowMs) };
  task.body.reviews = [...task.body.reviews, review];
  task.updatedAtMs = nowMs;
  await saveRecord(tx, task, false);
  await emit(context, "reviewed", task, escrow, task.body.status, ["reviews", "review_status"]);
  return ok({ task, escrow, review });
}

/** Review feedback: the latest decision on the current head, every review, and what must be fixed. */
export function reviewFeedbackOf(task: TaskRecord) {
  const latest = latestReviewOfHead(task.body);
  return {
    task_id: task.id,
    head_sha: task.body.head_sha,
    review_required: task.body.review_required,
    latest_decision: latest,
    must_fix: latest && latest.outcome === "changes_requested" ? latest.comments.filter((comment) => comment.severity === "must_fix") : [],
    reviews: [...task.body.reviews].reverse(),
  };
}

/** Tasks of a tenant, newest first: by assignee, creator agent and status. */
export async function listTasks(reader: StoreReader, tenantId: string, query: { assigneeAgentId?: string; creatorAgentId?: string; status?: string; limit: number; beforeId?: string }): Promise<TaskRecord[]> {
  return listRecordsOf<TaskBody>(reader, tenantId, { kind: "task", agentId: query.assigneeAgentId, refId: query.creatorAgentId, status: query.status, limit: query.limit, beforeId: query.beforeId });
}
