/** Wire schemas of tasks (`/v1/tasks`, docs/tasks.md). */
import { z } from "zod";
import {
  taskAcceptanceCriteriaMax,
  taskArtifactsMax,
  taskChecksMax,
  taskLabelLengthMax,
  taskLabelsMax,
  taskLinksMax,
  taskReviewCommentsMax,
  taskTextLengthMax,
  taskUrlLengthMax,
} from "../limits.js";
import { ciCheckStatuses, ciOverallStatuses, reviewOutcomes, reviewSeverities, shipModes, taskArtifactTypes, taskPriorities } from "../governance/tasks.js";
import { taskActions, taskStatuses } from "../tasks/state-machine.js";
import { amountMinor, currencyCode, idCursor, pageLimit, text, timestamp } from "./common.js";
import { predicateJson } from "./escrow.js";

const longText = z.string().min(1).max(taskTextLengthMax);
const url = z.string().url().max(taskUrlLengthMax);
const agentId = z.string().min(1).max(64);
/** A git object name: 7 to 64 lowercase hex digits (short and full SHA-1, SHA-256). */
export const headSha = z.string().regex(/^[0-9a-f]{7,64}$/, "must be a git commit SHA: 7 to 64 lowercase hex digits");
const checkName = z.string().min(1).max(200);

const link = z.object({ url, title: text.optional() }).strict();
const artifact = z.object({ type: z.enum(taskArtifactTypes), url, sha256: z.string().min(1).max(128).optional().describe("Digest of the artifact: the bounty's predicate can require it") }).strict();

export const createTaskBody = z
  .object({
    title: text,
    description: longText.nullable().optional(),
    acceptance_criteria: z.array(text).max(taskAcceptanceCriteriaMax).default([]),
    priority: z.enum(taskPriorities).default("medium"),
    assignee_agent_id: agentId.nullable().optional().describe("The agent that does the work (an agent of this tenant)"),
    reviewer_agent_id: agentId.nullable().optional().describe("An agent the owner designates to review (never the assignee)"),
    review_required: z.boolean().default(true).describe("false: ship needs passing CI only"),
    due_at: z.string().datetime({ offset: true }).nullable().optional().describe("RFC 3339; with a bounty, at most 30 days ahead: the bounty is refunded if the task has not shipped by then"),
    links: z.array(link).max(taskLinksMax).default([]),
    labels: z.array(z.string().min(1).max(taskLabelLengthMax)).max(taskLabelsMax).default([]),
    bounty: z
      .object({
        amount: amountMinor,
        currency: currencyCode,
        predicate: predicateJson.nullable().optional().describe("Predicate v1 over the ship evidence (docs/tasks.md), and-ed with `ci_status == passed`"),
        payer_agent_id: agentId.optional().describe("Owners: the agent whose wallet pays. An agent pays from its own wallet"),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

export const updateTaskBody = z
  .object({
    title: text.optional(),
    description: longText.nullable().optional(),
    acceptance_criteria: z.array(text).max(taskAcceptanceCriteriaMax).optional(),
    priority: z.enum(taskPriorities).optional(),
    labels: z.array(z.string().min(1).max(taskLabelLengthMax)).max(taskLabelsMax).optional(),
    links: z.array(link).max(taskLinksMax).optional(),
    assignee_agent_id: agentId.optional().describe("Assigns a todo task that has no assignee (once); its bounty is then held in escrow"),
  })
  .strict();

export const submitTaskBody = z
  .object({
    summary: longText,
    artifacts: z.array(artifact).max(taskArtifactsMax).default([]),
    checks: z.array(checkName).max(taskChecksMax).default([]).describe("Names of the CI checks that must pass for this head"),
    head_sha: headSha.optional().describe("The commit submitted: CI reports for any other head are stale"),
  })
  .strict();

export const blockTaskBody = z.object({ reason: longText, action_required: longText.nullable().optional() }).strict();
export const cancelTaskBody = z.object({ reason: longText.nullable().optional() }).strict();
export const shipTaskBody = z
  .object({
    mode: z.enum(shipModes),
    target_environment: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, "lowercase letters, digits, ., _ or -"),
    expected_head_sha: headSha.describe("Ship refuses (409 task_head_mismatch) unless this is the task's head"),
  })
  .strict();

const ciCheck = z
  .object({
    name: checkName,
    status: z.enum(ciCheckStatuses),
    url: url.optional(),
    duration_ms: z.number().int().min(0).max(7 * 24 * 3_600_000).optional(),
    failure: longText.optional().describe("What failed, in a sentence or a log excerpt"),
  })
  .strict();
export const ciReportBody = z.object({ head_sha: headSha, checks: z.array(ciCheck).min(1).max(taskChecksMax) }).strict();

const comment = z
  .object({ body: longText, severity: z.enum(reviewSeverities), path: z.string().min(1).max(1024).optional(), line: z.number().int().min(1).max(10_000_000).optional() })
  .strict();
export const reviewTaskBody = z
  .object({ outcome: z.enum(reviewOutcomes), summary: longText, comments: z.array(comment).max(taskReviewCommentsMax).default([]) })
  .strict();

export const taskListQuery = z.object({
  limit: pageLimit(),
  cursor: idCursor,
  status: z.enum(taskStatuses).optional(),
  assignee_agent_id: agentId.optional().describe("Owners: tasks assigned to this agent"),
});

const principalRef = z.object({ type: z.string(), id: z.string() });
const review = z.object({
  id: z.string(),
  outcome: z.enum(reviewOutcomes),
  summary: z.string(),
  comments: z.array(z.object({ body: z.string(), severity: z.enum(reviewSeverities), path: z.string().optional(), line: z.number().int().optional() })),
  reviewer: principalRef,
  head_sha: z.string().nullable(),
  created_at: timestamp,
});
const check = z.object({ name: z.string(), status: z.enum(ciCheckStatuses), url: z.string().optional(), duration_ms: z.number().int().optional(), failure: z.string().optional() });

export const task = z.object({
  object: z.literal("task"),
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  acceptance_criteria: z.array(z.string()),
  priority: z.enum(taskPriorities),
  assignee_agent_id: z.string().nullable(),
  reviewer_agent_id: z.string().nullable(),
  review_required: z.boolean(),
  creator: z.object({ type: z.string(), id: z.string(), agent_id: z.string().nullable() }),
  due_at: z.string().nullable(),
  links: z.array(z.object({ url: z.string(), title: z.string().optional() })),
  labels: z.array(z.string()),
  bounty: z
    .object({
      amount: z.number().int(),
      amount_display: z.string(),
      currency: z.string(),
      predicate: z.record(z.string(), z.unknown()).nullable(),
      payer_agent_id: z.string(),
      escrow_intent_id: z.string().nullable(),
      status: z.enum(["unassigned", "pending_approval", "unfunded", "held", "disputed", "released", "refunded", "split", "expired"]),
      paid_amount: z.number().int().describe("What the escrow paid the assignee"),
    })
    .nullable(),
  status: z.enum(taskStatuses),
  blocker: z.object({ reason: z.string(), action_required: z.string().nullable() }).nullable(),
  blocked_from: z.enum(taskStatuses).nullable(),
  head_sha: z.string().nullable(),
  submission: z
    .object({ summary: z.string(), artifacts: z.array(z.object({ type: z.enum(taskArtifactTypes), url: z.string(), sha256: z.string().optional() })), checks: z.array(z.string()), head_sha: z.string().nullable(), submitted_at: timestamp })
    .nullable(),
  ci_status: z.enum(ciOverallStatuses).describe("CI of the current head (details: GET /v1/tasks/{id}/ci-status)"),
  review_status: z.enum(reviewOutcomes).nullable().describe("The latest review of the current head"),
  reviews: z.array(review),
  shipped: z.object({ mode: z.enum(shipModes), target_environment: z.string(), head_sha: z.string(), shipped_at: timestamp, shipped_by: principalRef }).nullable(),
  cancel_reason: z.string().nullable(),
  available_actions: z.array(z.enum(taskActions)).describe("What can be done to the task now (also inside every 409)"),
  created_at: timestamp,
  updated_at: timestamp,
});

export const taskCiStatus = z.object({
  task_id: z.string(),
  head_sha: z.string().nullable(),
  overall_status: z.enum(ciOverallStatuses),
  summary: z.object({ total: z.number().int(), queued: z.number().int(), running: z.number().int(), passed: z.number().int(), failed: z.number().int(), cancelled: z.number().int(), skipped: z.number().int() }),
  required_checks: z.array(z.string()),
  missing_checks: z.array(z.string()),
  checks: z.array(check),
  failures: z.array(z.object({ name: z.string(), failure: z.string().nullable(), url: z.string().nullable() })),
  stale_reports: z.number().int().describe("Reports kept for another head than the current one: recorded, ignored"),
  updated_at: timestamp.nullable(),
});

export const ciReportAnswer = z.object({
  object: z.literal("ci_report"),
  id: z.string(),
  task_id: z.string(),
  head_sha: z.string(),
  stale: z.boolean().describe("true: the report is for another head than the task's; recorded and ignored"),
  received_at: timestamp,
  ci_status: taskCiStatus,
});

export const taskReviewFeedback = z.object({
  task_id: z.string(),
  head_sha: z.string().nullable(),
  review_required: z.boolean(),
  latest_decision: review.nullable(),
  must_fix: z.array(review.shape.comments.element),
  reviews: z.array(review),
});

export const taskEventData = z.strictObject({
  task,
  previous_status: z.enum(taskStatuses).nullable(),
  changed_fields: z.array(z.string()),
  available_actions: z.array(z.enum(taskActions)),
});
