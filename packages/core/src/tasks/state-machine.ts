/**
 * The task lifecycle (docs/tasks.md), as one pure function: which action is allowed in which
 * status, what status it leads to, and what a task in a status can do next (`available_actions`).
 * tasks.ts asks it before every change, and state-machine.test.ts checks every status × action.
 *
 * | status      | start       | submit    | fix         | ship        | block   | resolve_blocker   | cancel    | review    | report_ci |
 * |-------------|-------------|-----------|-------------|-------------|---------|-------------------|-----------|-----------|-----------|
 * | todo        | in_progress | —         | —           | —           | blocked | —                 | cancelled | —         | (stays)   |
 * | in_progress | —           | in_review | —           | —           | blocked | —                 | cancelled | —         | (stays)   |
 * | in_review   | —           | —         | in_progress¹| done²       | blocked | —                 | cancelled | (stays)   | (stays)   |
 * | blocked     | —           | —         | —           | —           | —       | the status before | cancelled | —         | (stays)   |
 * | done        | —           | —         | —           | —           | —       | —                 | —         | —         | —         |
 * | cancelled   | —           | —         | —           | —           | —       | —                 | —         | —         | —         |
 *
 * ¹ only when the current head's CI failed or the latest review asked for changes;
 * ² only when CI passed for the current head, the latest review of that head approves (or the task
 *   needs no review), and the bounty is not waiting for an owner's approval of its funding.
 * "—" is `task_transition_not_allowed` (409, with `current_status` and `available_actions`).
 */
import type { ResultCode } from "../result.js";

export const taskStatuses = ["todo", "in_progress", "in_review", "blocked", "done", "cancelled"] as const;
export type TaskStatus = (typeof taskStatuses)[number];
export const finalTaskStatuses: readonly TaskStatus[] = ["done", "cancelled"];

export const taskActions = ["start", "submit", "fix", "ship", "block", "resolve_blocker", "cancel", "review", "report_ci"] as const;
export type TaskAction = (typeof taskActions)[number];

/** What the guard needs to know besides the status. */
export interface TaskFacts {
  /** The status the task had when it was blocked (for `resolve_blocker`). */
  blockedFrom: TaskStatus | null;
  /** CI's overall status for the current head: `passed`, `failed`, or anything else (pending, running). */
  ciStatus: "passed" | "failed" | "pending" | "running";
  /** The latest review of the current head: approved, changes requested, or none. */
  review: "approved" | "changes_requested" | null;
  reviewRequired: boolean;
  /** The bounty's funding waits for an owner's approval (ship would pay nothing yet). */
  bountyPending: boolean;
}

export type TaskGuard = { verdict: "proceed"; next: TaskStatus } | { verdict: "refuse"; code: ResultCode; reason: string };

const refuse = (reason: string): TaskGuard => ({ verdict: "refuse", code: "task_transition_not_allowed", reason });

/** Why `ship` is not available in review, or null when it is. */
function shipBlocker(facts: TaskFacts): string | null {
  if (facts.ciStatus !== "passed") return `CI for the current head is ${facts.ciStatus}`;
  if (facts.reviewRequired && facts.review !== "approved") return facts.review === null ? "the current head has no approving review" : "the latest review requested changes";
  if (facts.bountyPending) return "the bounty's funding waits for an owner's approval";
  return null;
}

/** Whether `action` may happen to a task in `status`, and what status it leads to (see the module comment). */
export function guardTaskAction(status: TaskStatus, action: TaskAction, facts: TaskFacts): TaskGuard {
  const stay: TaskGuard = { verdict: "proceed", next: status };
  if (finalTaskStatuses.includes(status)) return refuse(`the task is ${status}`);
  switch (action) {
    case "cancel":
      return { verdict: "proceed", next: "cancelled" };
    case "report_ci":
      return stay;
    case "block":
      return status === "blocked" ? refuse("the task is already blocked") : { verdict: "proceed", next: "blocked" };
    case "resolve_blocker":
      return status === "blocked" ? { verdict: "proceed", next: facts.blockedFrom ?? "todo" } : refuse("the task is not blocked");
    case "start":
      return status === "todo" ? { verdict: "proceed", next: "in_progress" } : refuse(`only a todo task starts; this one is ${status}`);
    case "submit":
      return status === "in_progress" ? { verdict: "proceed", next: "in_review" } : refuse(`only a task in progress is submitted; this one is ${status}`);
    case "review":
      return status === "in_review" ? stay : refuse(`only a task in review is reviewed; this one is ${status}`);
    case "fix":
      if (status !== "in_review") return refuse(`only a task in review goes back to work; this one is ${status}`);
      return facts.ciStatus === "failed" || facts.review === "changes_requested" ? { verdict: "proceed", next: "in_progress" } : refuse("neither CI failed nor did the latest review request changes");
    case "ship": {
      if (status !== "in_review") return refuse(`only a task in review ships; this one is ${status}`);
      const blocker = shipBlocker(facts);
      return blocker === null ? { verdict: "proceed", next: "done" } : refuse(blocker);
    }
  }
}

/** What a task in `status` can do next: every action the guard lets through. */
export function availableTaskActions(status: TaskStatus, facts: TaskFacts): TaskAction[] {
  return taskActions.filter((action) => guardTaskAction(status, action, facts).verdict === "proceed");
}
