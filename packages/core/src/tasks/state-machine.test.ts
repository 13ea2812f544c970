/**
 * Every task status × every action → the next status or the exact refusal (a TigerBeetle-style
 * state-machine table). Read a row as "a task in this status, asked to do this, answers this":
 * a status is where it goes, `409` is `task_transition_not_allowed` with `current_status` and the
 * `available_actions` of that row (every column that is not 409).
 */
import { describe, expect, it } from "vitest";
import { availableTaskActions, guardTaskAction, taskActions, taskStatuses, type TaskAction, type TaskFacts, type TaskStatus } from "./state-machine.js";

const X = "409";

/** Facts under which everything an in-review task could do is possible: CI failed? no — see below. */
const none: TaskFacts = { blockedFrom: null, ciStatus: "pending", review: null, reviewRequired: true, bountyPending: false };

// Columns in the order of `taskActions`: start, submit, fix, ship, block, resolve_blocker, cancel, review, report_ci.
const withNothingYet: Record<TaskStatus, string[]> = {
  todo: ["in_progress", X, X, X, "blocked", X, "cancelled", X, "todo"],
  in_progress: [X, "in_review", X, X, "blocked", X, "cancelled", X, "in_progress"],
  in_review: [X, X, X, X, "blocked", X, "cancelled", "in_review", "in_review"],
  blocked: [X, X, X, X, X, "todo", "cancelled", X, "blocked"],
  done: [X, X, X, X, X, X, X, X, X],
  cancelled: [X, X, X, X, X, X, X, X, X],
};

/** In review, the facts decide `fix` and `ship`: [facts, fix, ship]. */
const inReview: Array<[string, Partial<TaskFacts>, string, string]> = [
  ["CI pending, no review", {}, X, X],
  ["CI running", { ciStatus: "running" }, X, X],
  ["CI failed", { ciStatus: "failed" }, "in_progress", X],
  ["CI failed, review approved", { ciStatus: "failed", review: "approved" }, "in_progress", X],
  ["CI passed, no review", { ciStatus: "passed" }, X, X],
  ["CI passed, changes requested", { ciStatus: "passed", review: "changes_requested" }, "in_progress", X],
  ["CI passed, approved", { ciStatus: "passed", review: "approved" }, X, "done"],
  ["CI passed, review not required", { ciStatus: "passed", reviewRequired: false }, X, "done"],
  ["CI pending, review not required", { reviewRequired: false }, X, X],
  ["CI passed, approved, bounty funding awaits approval", { ciStatus: "passed", review: "approved", bountyPending: true }, X, X],
];

function outcome(status: TaskStatus, action: TaskAction, facts: TaskFacts): string {
  const guard = guardTaskAction(status, action, facts);
  if (guard.verdict === "proceed") return guard.next;
  expect(guard.code).toBe("task_transition_not_allowed");
  return X;
}

describe("task transition table", () => {
  it("covers every status and action", () => {
    expect(Object.keys(withNothingYet).sort()).toEqual([...taskStatuses].sort());
    for (const row of Object.values(withNothingYet)) expect(row).toHaveLength(taskActions.length);
  });

  for (const status of taskStatuses) {
    for (const [index, action] of taskActions.entries()) {
      it(`${status} × ${action} → ${withNothingYet[status][index]}`, () => {
        expect(outcome(status, action, none)).toBe(withNothingYet[status][index]);
      });
    }
    it(`${status}: available_actions are the columns that are not 409`, () => {
      const expected = taskActions.filter((_, index) => withNothingYet[status][index] !== X);
      expect(availableTaskActions(status, none)).toEqual(expected);
    });
  }

  it.each(inReview)("in_review with %s: fix → %s, ship → %s", (_name, facts, fix, ship) => {
    const all = { ...none, ...facts };
    expect(outcome("in_review", "fix", all)).toBe(fix);
    expect(outcome("in_review", "ship", all)).toBe(ship);
    expect(availableTaskActions("in_review", all).includes("fix")).toBe(fix !== X);
    expect(availableTaskActions("in_review", all).includes("ship")).toBe(ship !== X);
  });

  it.each(["todo", "in_progress", "in_review"] as const)("resolving a blocker returns to %s, the status before", (before) => {
    expect(outcome("blocked", "resolve_blocker", { ...none, blockedFrom: before })).toBe(before);
  });

  it("nothing a final task is asked ever proceeds, whatever the facts", () => {
    for (const status of ["done", "cancelled"] as const) {
      for (const action of taskActions) expect(outcome(status, action, { ...none, ciStatus: "passed", review: "approved" })).toBe(X);
    }
  });
});
