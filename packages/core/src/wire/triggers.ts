/** Wire schemas of triggers and their fires (governance/triggers.ts, docs/teams.md). */
import { z } from "zod";
import { clientIdLengthMax, stringLengthMax } from "../limits.js";
import { triggerOperations, triggerOutcomes } from "../governance/triggers.js";
import { idCursor, pageLimit, text, timestamp } from "./common.js";

const template = z
  .record(z.string(), z.unknown())
  .describe("The operation's request body, as JSON, whose strings may hold `{{field}}` placeholders filled from the fired event (a dotted path such as `{{order.total}}`); a string that is one placeholder takes the field's value as it is");

export const createTriggerBody = z
  .object({
    agent_id: z.string().min(1).max(clientIdLengthMax).describe("The agent whose action the trigger runs"),
    name: text,
    description: z.string().max(stringLengthMax).nullable().optional(),
    kind: z.literal("webhook").default("webhook").describe("How events arrive: `webhook`, a Standard Webhooks signed POST to `/v1/triggers/{id}/fire`"),
    operation: z.enum(triggerOperations).describe("The governed API call the trigger makes, as the agent"),
    payload_template: template,
  })
  .strict();

export const updateTriggerBody = z
  .object({
    name: text.optional(),
    description: z.string().max(stringLengthMax).nullable().optional(),
    payload_template: template.optional(),
    status: z.enum(["active", "disabled"]).optional().describe("A disabled trigger refuses fires (409 `trigger_disabled`)"),
  })
  .strict();

export const trigger = z.object({
  object: z.literal("trigger"),
  id: z.string(),
  agent_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  kind: z.literal("webhook"),
  operation: z.enum(triggerOperations),
  payload_template: z.record(z.string(), z.unknown()),
  status: z.enum(["active", "disabled", "deleted"]),
  last_fired_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const triggerWithSecret = trigger.extend({
  secret: z.string().nullable().describe("`whsec_…`, shown once: when the trigger is made or its secret rotated; null on idempotent replays"),
});

export const triggerListQuery = z.object({
  limit: pageLimit(),
  cursor: idCursor,
  agent_id: z.string().max(clientIdLengthMax).optional(),
  status: z.enum(["active", "disabled", "deleted"]).optional(),
});

/** A fire's body: any JSON object, the event the template reads. */
export const triggerFireBody = z.record(z.string(), z.unknown()).describe("The event, as JSON: the fields the template's placeholders name");

export const triggerFire = z.object({
  object: z.literal("trigger_fire"),
  id: z.string(),
  trigger_id: z.string(),
  agent_id: z.string(),
  webhook_id: z.string().describe("The sender's `webhook-id`: a repeat with the same id answers this fire again and acts no more"),
  operation: z.enum(triggerOperations),
  outcome: z.enum(triggerOutcomes).describe("What the governed operation decided: `executed`, `running`, `approval_required`, `blocked` (policy refused it), `failed` (refused before a decision, see `error`)"),
  result: z.record(z.string(), z.unknown()).nullable().describe("The payment intent or service request made, as the API answered it then"),
  payment_intent_id: z.string().nullable(),
  service_request_id: z.string().nullable(),
  approval_id: z.string().nullable(),
  reason_codes: z.array(z.string()),
  error: z.object({ code: z.string(), detail: z.string() }).nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const triggerFireSummary = triggerFire.omit({ result: true });
