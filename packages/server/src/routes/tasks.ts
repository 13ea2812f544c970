/**
 * `/v1/tasks`: delegated work with a lifecycle, CI status, review, ship and an optional escrowed
 * bounty (docs/tasks.md). Owners and agents with `tasks:write` create; the assignee works
 * (`agents:execute`); a CI system's service-account key reports CI (`ci:write`); owners
 * (`reviews:write`) or the reviewer agent the task names review. An agent sees only the tasks it
 * made, works on, reviews or pays for: any other id is 404, as is every id of another tenant.
 */
import {
  actOnTask,
  ciStatusOf,
  createTask,
  listTasks,
  loadVisibleTask,
  reportTaskCi,
  reviewFeedbackOf,
  reviewTask,
  taskEscrow,
  taskView,
  updateTask,
  wire,
  type Scope,
  type TaskActionInput,
  type TaskCaller,
  type TaskRecord,
} from "@bursar/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { requireAnyScope, requireScope } from "../http/auth.js";
import { ProblemError } from "../http/problem.js";
import { validatePayload } from "../services/schemas.js";
import type { RouteModule } from "./context.js";
import { journalPageOf, notFound, orProblem } from "./context.js";

const tags = ["tasks"];
/** Any of these lets a caller read the tasks it may see (the work, CI and review scopes, and owners' reads). */
const readScopes: readonly Scope[] = ["agents:execute", "tasks:write", "ci:write", "reviews:write", "events:read"];
const transitionErrors = ["not_found", "task_action_forbidden", "task_transition_not_allowed"] as const;

function callerOf(request: FastifyRequest): TaskCaller {
  const principal = request.principal;
  return {
    type: principal.principalType, id: principal.principalId, agentId: principal.agentId,
    mayReviewAsOwner: principal.agentId === null && principal.scopes.includes("reviews:write"),
  };
}

function requireReader(request: FastifyRequest): void {
  requireAnyScope(request, readScopes, `Reading tasks needs one of the scopes ${readScopes.join(", ")}.`);
}

export const taskRoutes: RouteModule = (app, deps) => {
  const { mutate, store } = deps;

  const view = async (task: TaskRecord) => taskView(task, await taskEscrow(store.read, task));
  const visibleTask = async (request: FastifyRequest, id: string) => orProblem(await loadVisibleTask(store.read, request.principal.tenantId, id, request.principal.agentId));

  app.post(
    "/v1/tasks",
    {
      schema: {
        tags,
        summary: "Create a task, optionally with a bounty held in escrow",
        description:
          "An owner, or an agent delegating work to another agent of its tenant (scope `tasks:write`). With a `bounty`, the payer is the creating agent (an owner names it with `bounty.payer_agent_id`): its policy and wallet are checked first (422 `bounty_denied` writes nothing), then, once the task has an assignee, the amount is held in an escrow intent (`int_<task id>`) to the assignee's wallet, released when the task ships and refunded when it is cancelled or its `due_at` passes. A policy that needs an approval leaves the bounty `pending_approval` (ship waits for it). The answer carries `available_actions`.",
        body: wire.createTaskBody,
        response: { 201: wire.task },
      },
      config: {
        scopes: ["tasks:write"],
        errors: ["agent_disabled", "bounty_denied", "currency_mismatch", "not_found", "predicate_invalid", "self_review_forbidden"],
        example: {
          body: {
            title: "Fix the invoice rounding bug", description: "Totals are off by a penny on multi-line invoices.",
            acceptance_criteria: ["Totals match the ledger to the penny", "A regression test covers it"], priority: "high",
            assignee_agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", due_at: "2026-12-20T17:00:00Z", labels: ["billing"],
            links: [{ url: "https://github.com/acme/books/issues/42", title: "Issue 42" }], bounty: { amount: 3000, currency: "GBP" },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const caller = callerOf(request);
      return mutate(
        request,
        reply,
        (context) =>
          createTask(context, caller, {
            title: body.title, description: body.description ?? null, acceptanceCriteria: body.acceptance_criteria, priority: body.priority,
            assigneeAgentId: body.assignee_agent_id ?? null, reviewerAgentId: body.reviewer_agent_id ?? null, reviewRequired: body.review_required,
            dueAt: body.due_at ?? null, links: body.links, labels: body.labels,
            bounty: body.bounty ? { amountMinor: body.bounty.amount, currency: body.bounty.currency, predicate: body.bounty.predicate ?? null, payerAgentId: body.bounty.payer_agent_id ?? null } : null,
          }),
        ({ task, escrow }) => ({ status: 201, body: taskView(task, escrow) }),
      );
    },
  );

  app.get(
    "/v1/tasks",
    {
      schema: {
        tags,
        summary: "List tasks, newest first",
        description: "Owners and service accounts see the tenant's tasks (filter by `assignee_agent_id`, `status`); an agent sees the tasks it created (`GET /v1/tasks/mine` lists those assigned to it).",
        querystring: wire.taskListQuery,
        response: { 200: wire.journalPage(wire.task) },
      },
      config: { scopes: [], errors: ["not_found"], example: { query: "status=in_review" } },
    },
    async (request) => {
      requireReader(request);
      const { limit, cursor, status, assignee_agent_id } = request.query;
      const own = request.principal.agentId;
      if (own !== null && assignee_agent_id !== undefined && assignee_agent_id !== own) throw notFound("agent", assignee_agent_id);
      const page = await journalPageOf(store, request.principal.tenantId, limit, () => listTasks(store.read, request.principal.tenantId, {
        assigneeAgentId: assignee_agent_id, creatorAgentId: own ?? undefined, status, limit: limit + 1, beforeId: cursor,
      }), (row) => row);
      return { ...page, data: await Promise.all(page.data.map(view)) };
    },
  );

  app.get(
    "/v1/tasks/mine",
    {
      schema: {
        tags,
        summary: "The calling agent's tasks: those assigned to it, newest first",
        description: "For an agent credential: the tasks assigned to it (filter by `status`). An owner has no tasks of its own (400 `validation_failed`: use `GET /v1/tasks?assignee_agent_id=`).",
        querystring: wire.taskListQuery.omit({ assignee_agent_id: true }),
        response: { 200: wire.journalPage(wire.task) },
      },
      config: { scopes: [], example: { query: "status=todo" } },
    },
    async (request) => {
      requireReader(request);
      const own = request.principal.agentId;
      if (own === null) throw new ProblemError("validation_failed", "only an agent credential has tasks of its own; owners list them with GET /v1/tasks?assignee_agent_id=");
      const { limit, cursor, status } = request.query;
      const page = await journalPageOf(store, request.principal.tenantId, limit, () => listTasks(store.read, request.principal.tenantId, { assigneeAgentId: own, status, limit: limit + 1, beforeId: cursor }), (row) => row);
      return { ...page, data: await Promise.all(page.data.map(view)) };
    },
  );

  app.get(
    "/v1/tasks/:id",
    {
      schema: {
        tags,
        summary: "Get a task, with what can be done to it now",
        description: "The task: its status, assignee, head, submission, CI and review status, reviews, bounty (read from its escrow intent) and `available_actions`.",
        params: wire.idParam,
        response: { 200: wire.task },
      },
      config: { scopes: [], errors: ["not_found"] },
    },
    async (request) => {
      requireReader(request);
      return view(await visibleTask(request, request.params.id));
    },
  );

  app.patch(
    "/v1/tasks/:id",
    {
      schema: {
        tags,
        summary: "Change a task, or assign it (its bounty is then held in escrow)",
        description:
          "The agent that made the task, or an owner (`tasks:write`). Absent fields stay. `assignee_agent_id` assigns a `todo` task that has none (once; 409 `task_transition_not_allowed` otherwise): a bounty is then checked against the payer's policy and wallet (422 `bounty_denied` writes nothing) and held in escrow in the same write. A done or cancelled task cannot be changed.",
        params: wire.idParam,
        body: wire.updateTaskBody,
        response: { 200: wire.task },
      },
      config: {
        scopes: ["tasks:write"],
        errors: [...transitionErrors, "agent_disabled", "bounty_denied", "currency_mismatch", "self_review_forbidden"],
        example: { body: { assignee_agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", priority: "critical" } },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const caller = callerOf(request);
      return mutate(
        request,
        reply,
        (context) =>
          updateTask(context, request.params.id, caller, {
            title: body.title, description: body.description, acceptanceCriteria: body.acceptance_criteria, priority: body.priority,
            labels: body.labels, links: body.links, assigneeAgentId: body.assignee_agent_id,
          }),
        ({ task, escrow }) => ({ status: 200, body: taskView(task, escrow) }),
      );
    },
  );

  const act = (request: FastifyRequest, reply: FastifyReply, taskId: string, input: TaskActionInput) => {
    const caller = callerOf(request);
    return mutate(
      request,
      reply,
      (context) => actOnTask(context, taskId, caller, input, validatePayload),
      ({ task, escrow }) => ({ status: 200, body: taskView(task, escrow) }),
    );
  };

  const simple: Array<{ path: string; action: "start" | "fix" | "resolve_blocker"; summary: string; description: string }> = [
    { path: "/v1/tasks/:id/start", action: "start", summary: "Start: todo → in_progress (the assignee or an owner)", description: "The assignee (or an owner) starts work on a `todo` task. Any other status answers 409 `task_transition_not_allowed` with `current_status` and `available_actions`." },
    { path: "/v1/tasks/:id/fix", action: "fix", summary: "Fix: in_review → in_progress after failing CI or requested changes", description: "Back to work when the current head's CI failed or the latest review requested changes (otherwise 409). Submit again with the new head." },
    { path: "/v1/tasks/:id/resolve-blocker", action: "resolve_blocker", summary: "Resolve the blocker: blocked → the status before", description: "Clears the blocker; the task returns to the status it had when it was blocked." },
  ];
  for (const route of simple) {
    app.post(
      route.path,
      { schema: { tags, summary: route.summary, description: route.description, params: wire.idParam, response: { 200: wire.task } }, config: { scopes: ["agents:execute"], errors: [...transitionErrors] } },
      async (request, reply) => act(request, reply, request.params.id, { action: route.action }),
    );
  }

  app.post(
    "/v1/tasks/:id/submit",
    {
      schema: {
        tags,
        summary: "Submit the work for review: in_progress → in_review",
        description: "A summary, artifacts (`pull_request`, `commit`, `doc`, `ci_run`, `other`; a `sha256` lets the bounty's predicate require one), the names of the CI checks that must pass, and the `head_sha` submitted. A new head clears the CI of the old one: CI reports for any other head are stale.",
        params: wire.idParam,
        body: wire.submitTaskBody,
        response: { 200: wire.task },
      },
      config: {
        scopes: ["agents:execute"],
        errors: [...transitionErrors],
        example: {
          body: {
            summary: "Round per line, then sum; regression test added.", head_sha: "4f2a9c1e7b3d5a6f8e0c2b4d6a8f0e1c3b5d7f9a",
            artifacts: [{ type: "pull_request", url: "https://github.com/acme/books/pull/43" }], checks: ["unit", "lint"],
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      return act(request, reply, request.params.id, { action: "submit", summary: body.summary, artifacts: body.artifacts, checks: body.checks, headSha: body.head_sha ?? null });
    },
  );

  app.post(
    "/v1/tasks/:id/block",
    {
      schema: { tags, summary: "Block the task: what stops it and what is needed", description: "Records the blocker (`reason`, `action_required`); `resolve-blocker` returns the task to the status it had.", params: wire.idParam, body: wire.blockTaskBody, response: { 200: wire.task } },
      config: { scopes: ["agents:execute"], errors: [...transitionErrors], example: { body: { reason: "The staging database is down", action_required: "An owner restarts staging" } } },
    },
    async (request, reply) => act(request, reply, request.params.id, { action: "block", reason: request.body.reason, actionRequired: request.body.action_required ?? null }),
  );

  app.post(
    "/v1/tasks/:id/cancel",
    {
      schema: { tags, summary: "Cancel the task; its bounty is refunded", description: "The agent that made the task or an owner. A held bounty goes back to the payer's wallet (its escrow settles `refunded`); a bounty waiting for approval has its approval cancelled and its hold released.", params: wire.idParam, body: wire.cancelTaskBody, response: { 200: wire.task } },
      config: { scopes: ["tasks:write"], errors: [...transitionErrors], example: { body: { reason: "No longer needed" } } },
    },
    async (request, reply) => act(request, reply, request.params.id, { action: "cancel", reason: request.body.reason ?? null }),
  );

  app.post(
    "/v1/tasks/:id/ship",
    {
      schema: {
        tags,
        summary: "Ship: in_review → done, releasing the bounty (Idempotency-Key required)",
        description:
          "Refused (409 `task_transition_not_allowed`) unless `ship` is in `available_actions`: CI passed for the current head and the latest review of it approves (or the task needs no review). `expected_head_sha` must be the task's head (409 `task_head_mismatch`). A held bounty is released to the assignee's wallet with evidence of the ship, exactly once whatever retries arrive; when the task's own predicate fails on that evidence, nothing ships (422 `bounty_predicate_failed`). Send an `Idempotency-Key`: a retry with it answers the first result.",
        params: wire.idParam,
        body: wire.shipTaskBody,
        response: { 200: wire.task },
      },
      config: {
        scopes: ["agents:execute"],
        errors: [...transitionErrors, "bounty_predicate_failed", "task_head_mismatch"],
        example: { body: { mode: "merge_and_deploy", target_environment: "production", expected_head_sha: "4f2a9c1e7b3d5a6f8e0c2b4d6a8f0e1c3b5d7f9a" }, headers: { "Idempotency-Key": "ship-tsk_01JD5Y4Q7X8ZK3M2N1P0R9S8T7-1" } },
      },
    },
    async (request, reply) => {
      if (request.headers["idempotency-key"] === undefined) throw new ProblemError("validation_failed", "ship needs an Idempotency-Key header: retries with it answer the first result");
      const body = request.body;
      return act(request, reply, request.params.id, { action: "ship", mode: body.mode, targetEnvironment: body.target_environment, expectedHeadSha: body.expected_head_sha });
    },
  );

  app.post(
    "/v1/tasks/:id/ci-reports",
    {
      schema: {
        tags,
        summary: "Report CI for a head (a CI system's service-account key, scope ci:write)",
        description:
          "Checks for `head_sha`, each `queued`, `running`, `passed`, `failed`, `cancelled` or `skipped` (with `url`, `duration_ms`, `failure`). For the task's current head they replace that head's checks of the same name; for any other head the report is recorded as stale (`stale: true`) and ignored. The answer (201) carries the CI status after it. docs/tasks.md shows a GitHub Actions step that posts one.",
        params: wire.idParam,
        body: wire.ciReportBody,
        response: { 201: wire.ciReportAnswer },
      },
      config: {
        scopes: ["ci:write"],
        errors: [...transitionErrors],
        example: { body: { head_sha: "4f2a9c1e7b3d5a6f8e0c2b4d6a8f0e1c3b5d7f9a", checks: [{ name: "unit", status: "passed", duration_ms: 41_000, url: "https://github.com/acme/books/actions/runs/1" }, { name: "lint", status: "failed", failure: "src/invoice.ts:12 no-unused-vars" }] } },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return mutate(
        request,
        reply,
        (context) => reportTaskCi(context, request.params.id, caller, { headSha: request.body.head_sha, checks: request.body.checks }),
        ({ task, report }) => ({
          status: 201,
          body: { object: "ci_report", id: report.id, task_id: task.id, head_sha: report.head_sha, stale: report.stale, received_at: report.received_at, ci_status: { task_id: task.id, ...ciStatusOf(task.body) } },
        }),
      );
    },
  );

  app.get(
    "/v1/tasks/:id/ci-status",
    {
      schema: { tags, summary: "CI of the task's current head: overall status, counts, checks, failures", description: "`overall_status`: `failed` when a check failed or was cancelled, `running` while one is queued or running, `passed` when every check passed or was skipped and every required check reported, else `pending`. Stale reports (for other heads) are counted, never used.", params: wire.idParam, response: { 200: wire.taskCiStatus } },
      config: { scopes: [], errors: ["not_found"] },
    },
    async (request) => {
      requireReader(request);
      const task = await visibleTask(request, request.params.id);
      return { task_id: task.id, ...ciStatusOf(task.body) };
    },
  );

  app.post(
    "/v1/tasks/:id/reviews",
    {
      schema: {
        tags,
        summary: "Review the current head: approved or changes_requested",
        description: "An owner with `reviews:write`, or the reviewer agent the task names (`agents:execute`). The assignee can never review its own task (403 `self_review_forbidden`). Only a task in review is reviewed; `changes_requested` offers `fix`, an approval (with passing CI) offers `ship`.",
        params: wire.idParam,
        body: wire.reviewTaskBody,
        response: { 200: wire.task },
      },
      config: {
        scopes: [],
        errors: [...transitionErrors, "limit_exceeded", "self_review_forbidden"],
        example: { body: { outcome: "changes_requested", summary: "Close; one rounding path is untested.", comments: [{ body: "Add a case for a zero-amount line", severity: "must_fix", path: "src/invoice.test.ts", line: 40 }] } },
      },
    },
    async (request, reply) => {
      requireScope(request, request.principal.agentId === null ? "reviews:write" : "agents:execute");
      const caller = callerOf(request);
      const body = request.body;
      return mutate(
        request,
        reply,
        (context) => reviewTask(context, request.params.id, caller, { outcome: body.outcome, summary: body.summary, comments: body.comments }),
        ({ task, escrow }) => ({ status: 200, body: taskView(task, escrow) }),
      );
    },
  );

  app.get(
    "/v1/tasks/:id/review-feedback",
    {
      schema: { tags, summary: "Review feedback: the latest decision on the current head and what must be fixed", description: "The latest review of the current head, its `must_fix` comments when it requested changes, and every review, newest first.", params: wire.idParam, response: { 200: wire.taskReviewFeedback } },
      config: { scopes: [], errors: ["not_found"] },
    },
    async (request) => {
      requireReader(request);
      return reviewFeedbackOf(await visibleTask(request, request.params.id));
    },
  );
};
