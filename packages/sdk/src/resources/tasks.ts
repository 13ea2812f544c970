/**
 * `/v1/tasks`: delegated work with a lifecycle, CI status, review, ship and an optional escrowed
 * bounty (docs/tasks.md). Every task comes back with `available_actions`; a refused transition
 * throws `ConflictError` with `code: "task_transition_not_allowed"`, `currentStatus` and
 * `availableActions`. `ship` always sends an Idempotency-Key (yours, or one generated once and
 * reused on every retry), so retries pay the bounty once.
 */
import type { Page } from "../pagination.ts";
import type {
  CiReport,
  CiReportParams,
  Task,
  TaskBlockParams,
  TaskCiStatus,
  TaskCreateParams,
  TaskListParams,
  TaskReviewFeedback,
  TaskReviewParams,
  TaskShipParams,
  TaskStatus,
  TaskSubmitParams,
  TaskUpdateParams,
} from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Tasks extends Resource {
  /**
   * Creates a task (owners, or an agent with `tasks:write` delegating to another agent). A
   * `bounty` is held in escrow from the payer's wallet once the task has an assignee.
   * @example const task = await bursar.tasks.create({ title: "Fix the rounding bug", assignee_agent_id: "agt_…", bounty: { amount: 3000, currency: "GBP" } });
   */
  create(params: TaskCreateParams, options?: CallOptions): Promise<Task> {
    return this.postJson("/v1/tasks", params, options);
  }
  /** Changes what the task says, or assigns it once (its bounty is then held). */
  update(id: string, params: TaskUpdateParams, options?: CallOptions): Promise<Task> {
    return this.patchJson(`/v1/tasks/${segment(id)}`, params, options);
  }
  get(id: string, options?: CallOptions): Promise<Task> {
    return this.getJson(`/v1/tasks/${segment(id)}`, undefined, options);
  }
  /** Owners: the tenant's tasks; an agent: the tasks it created. */
  list(params: TaskListParams = {}, options?: CallOptions): Promise<Page<Task>> {
    return this.paginate("/v1/tasks", { ...params }, options);
  }
  /** The calling agent's tasks: those assigned to it. */
  mine(params: { status?: TaskStatus; limit?: number; cursor?: string } = {}, options?: CallOptions): Promise<Page<Task>> {
    return this.paginate("/v1/tasks/mine", { ...params }, options);
  }
  start(id: string, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/start`, {}, options);
  }
  /** in_progress → in_review, with the head submitted and the checks that must pass. */
  submit(id: string, params: TaskSubmitParams, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/submit`, params, options);
  }
  /** Back to work after failing CI or requested changes. */
  fix(id: string, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/fix`, {}, options);
  }
  /** CI of the current head: overall status, counts, checks, failures. */
  ciStatus(id: string, options?: CallOptions): Promise<TaskCiStatus> {
    return this.getJson(`/v1/tasks/${segment(id)}/ci-status`, undefined, options);
  }
  /** A CI system (a service-account key with `ci:write`) reports checks for a head; another head's report is `stale`. */
  reportCi(id: string, params: CiReportParams, options?: CallOptions): Promise<CiReport> {
    return this.postJson(`/v1/tasks/${segment(id)}/ci-reports`, params, options);
  }
  /** An owner (`reviews:write`) or the task's reviewer agent; never the assignee. */
  review(id: string, params: TaskReviewParams, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/reviews`, params, options);
  }
  reviewFeedback(id: string, options?: CallOptions): Promise<TaskReviewFeedback> {
    return this.getJson(`/v1/tasks/${segment(id)}/review-feedback`, undefined, options);
  }
  /**
   * in_review → done, releasing the bounty. Pass your own `idempotencyKey` to make retries across
   * processes answer the first result too.
   * @example await bursar.tasks.ship(task.id, { mode: "merge", target_environment: "production", expected_head_sha: task.head_sha! }, { idempotencyKey: `ship-${task.id}` });
   */
  ship(id: string, params: TaskShipParams, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/ship`, params, options);
  }
  block(id: string, params: TaskBlockParams, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/block`, params, options);
  }
  resolveBlocker(id: string, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/resolve-blocker`, {}, options);
  }
  /** The creator or an owner; a held bounty goes back to the payer. */
  cancel(id: string, params: { reason?: string | null } = {}, options?: CallOptions): Promise<Task> {
    return this.postJson(`/v1/tasks/${segment(id)}/cancel`, params, options);
  }
}
