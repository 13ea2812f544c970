/** Wire schemas of webhook endpoints, deliveries and the event stream. */
import { z } from "zod";
import { eventTypeFiltersMax, journalSizeMax, stringLengthMax, webhookUrlLengthMax } from "../limits.js";
import { eventTypePattern } from "../webhooks/event-types.js";
import { queryInteger, timestamp } from "./common.js";

const eventTypes = z
  .array(z.string().regex(eventTypePattern, "an event type, `prefix.*` or `*`"))
  .min(1)
  .max(eventTypeFiltersMax)
  .describe("Event types to receive: exact (`transfer.posted`), `prefix.*` or `*`");

const taskIds = z
  .array(z.string().regex(/^tsk_[A-Za-z0-9]{1,60}$/, "a task id (tsk_…)"))
  .min(1)
  .max(eventTypeFiltersMax)
  .describe("Only events about these tasks (`data.task.id`); other events are not sent to this endpoint");

const url = z.string().min(1).max(webhookUrlLengthMax).describe("http or https URL; private and loopback targets are refused");

export const createWebhookEndpointBody = z.object({
  url,
  event_types: eventTypes.default(["*"]),
  task_ids: taskIds.nullable().optional(),
  description: z.string().max(stringLengthMax).nullable().optional(),
  enabled: z.boolean().optional(),
  signature_schemes: z
    .array(z.enum(["v1", "v1a"]))
    .min(1)
    .max(2)
    .optional()
    .describe("`v1` (HMAC-SHA256, always on) and optionally `v1a` (Ed25519)"),
});

export const updateWebhookEndpointBody = z.object({
  url: url.optional(),
  event_types: eventTypes.optional(),
  task_ids: taskIds.nullable().optional().describe("null removes the task filter"),
  description: z.string().max(stringLengthMax).nullable().optional(),
  enabled: z.boolean().optional(),
});

export const rotateWebhookSecretBody = z
  .object({
    overlap_seconds: z.number().int().min(0).max(7 * 24 * 3600).default(24 * 3600).describe("How long the old secret keeps signing"),
  })
  .optional();

export const webhookEndpoint = z.object({
  id: z.string(),
  object: z.literal("webhook_endpoint"),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  task_ids: z.array(z.string()).nullable().describe("The task filter, or null for none"),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  signature_schemes: z.array(z.enum(["v1", "v1a"])),
  public_key: z.string().nullable().describe("`whpk_` + base64 Ed25519 public key, for `v1a`"),
  previous_secret_expires_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const webhookEndpointWithSecret = webhookEndpoint.extend({
  secret: z.string().nullable().describe("`whsec_…`, shown once; null when an idempotent replay answers"),
});

export const webhookDelivery = z.object({
  id: z.string(),
  object: z.literal("webhook_delivery"),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_seq: z.number().int(),
  event_type: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempt_count: z.number().int(),
  next_attempt_at: timestamp.nullable(),
  last_attempt_at: timestamp.nullable(),
  attempts: z.array(
    z.object({
      attempted_at: timestamp,
      duration_ms: z.number().int(),
      status_code: z.number().int().nullable(),
      error: z.string().nullable(),
      response_body: z.string().nullable(),
    }),
  ),
  created_at: timestamp,
});

export const deliveryParams = z.object({ id: z.string().min(1).max(64), delivery_id: z.string().min(1).max(64) });

export const eventStreamQuery = z.object({
  after_seq: queryInteger(0, journalSizeMax).optional().describe("Replay events after this seq; `Last-Event-ID` wins when both are sent"),
  type: z.string().max(1000).optional().describe("Comma-separated event types, `prefix.*` or `*`"),
  agent_id: z.string().max(64).optional(),
  task_id: z.string().regex(/^tsk_[A-Za-z0-9]{1,60}$/, "a task id (tsk_…)").optional().describe("Only events about this task (`data.task.id`)"),
});
