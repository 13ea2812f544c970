/**
 * Triggers (SPEC 1 `trg_`, issue 15 item 5): an owner binds an external event to a governed
 * action of one agent. A trigger names the operation (`payment_intents.create` or
 * `service_requests.create`) and a payload template (trigger-templates.ts); `POST
 * /v1/triggers/{id}/fire`, signed per Standard Webhooks with the trigger's `whsec_` secret, fills
 * the template from the event and runs the operation exactly as the API call would, as the agent,
 * under its policy, budgets and approvals. Statuses: `active`, `disabled`, `deleted`.
 *
 * Each fire is a `trigger_fire` record (`trf_`), found again by the trigger and the sender's
 * `webhook-id` (a record name): a delivery repeated by an at-least-once sender answers the first
 * outcome and acts once. The check and the record are in the write that acts, and writes of one
 * tenant are serialised, so two copies racing cannot both act.
 *
 * The secret is kept as is, like a webhook endpoint's or the rail's: an HMAC key must be usable
 * to verify. It is shown once (when the trigger is made or its secret rotated), never journaled,
 * never in a view.
 */
import type { AgentRow, StoreReader } from "../ports.js";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { triggersPerAgentMax } from "../limits.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { newWebhookSecret } from "../webhooks/endpoints.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";
import { checkTemplate, type TemplateValue } from "./trigger-templates.js";

/** The governed operations a trigger may run: the API calls of the same names. */
export const triggerOperations = ["payment_intents.create", "service_requests.create"] as const;
export type TriggerOperation = (typeof triggerOperations)[number];
export const triggerKinds = ["webhook"] as const;
export const triggerStatuses = ["active", "disabled", "deleted"] as const;
export type TriggerStatus = (typeof triggerStatuses)[number];

/** What a fire did: the operation's own outcome, named as service requests name theirs. */
export const triggerOutcomes = ["executed", "running", "approval_required", "blocked", "failed"] as const;
export type TriggerOutcome = (typeof triggerOutcomes)[number];

export interface TriggerBody {
  agent_id: string;
  name: string;
  description: string | null;
  kind: "webhook";
  operation: TriggerOperation;
  payload_template: Record<string, TemplateValue>;
  status: TriggerStatus;
  secret: string;
  last_fired_at: string | null;
}
export type TriggerRecord = StoredRecord<TriggerBody>;

export interface TriggerFireBody {
  trigger_id: string;
  agent_id: string;
  webhook_id: string;
  operation: TriggerOperation;
  outcome: TriggerOutcome;
  /** The payment intent or service request the fire made, as the API showed it then; null when none was made. */
  result: Record<string, unknown> | null;
  payment_intent_id: string | null;
  service_request_id: string | null;
  approval_id: string | null;
  reason_codes: string[];
  /** Why the operation was refused before it was decided (an unknown payee, an invalid payload). */
  error: { code: string; detail: string } | null;
}
export type TriggerFireRecord = StoredRecord<TriggerFireBody>;

/** The public view: never the secret. */
export function triggerView(trigger: TriggerRecord) {
  const { secret: _secret, ...body } = trigger.body;
  return { object: "trigger" as const, ...recordStamp(trigger, toRfc3339), ...body };
}

export function triggerFireView(fire: TriggerFireRecord) {
  return { object: "trigger_fire" as const, ...recordStamp(fire, toRfc3339), ...fire.body };
}

/** The record name that finds a fire again by its trigger and the sender's `webhook-id`. */
export function triggerFireNameKey(triggerId: string, webhookId: string): string {
  return `${triggerId} ${webhookId}`;
}

export interface CreateTriggerInput {
  name: string;
  description?: string | null;
  operation: TriggerOperation;
  payload_template: Record<string, TemplateValue>;
}

/**
 * Creates a trigger for `agent`; returns it with its secret (shown once). Refuses a template
 * that does not check (`template_invalid`) and an agent past `triggersPerAgentMax`.
 * Event: `trigger.created`.
 */
export async function createTrigger(context: WriteContext, agent: AgentRow, input: CreateTriggerInput): Promise<Result<{ trigger: TriggerRecord; secret: string }>> {
  if (agent.status !== "active") return fail("agent_disabled", `agent ${agent.id} is disabled`);
  const checked = checkTemplate(input.payload_template);
  if (!checked.ok) return checked;
  const existing = await context.tx.countRecords(context.tenantId, { kind: "trigger", agentId: agent.id, status: "active" }, triggersPerAgentMax);
  if (existing >= triggersPerAgentMax) return fail("limit_exceeded", `an agent has at most ${triggersPerAgentMax} active triggers`);
  const secret = newWebhookSecret();
  const trigger: TriggerRecord = {
    tenantId: context.tenantId, kind: "trigger", id: newId("trg", context.nowMs), agentId: agent.id, status: "active", refId: null, dueAtMs: null,
    createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      agent_id: agent.id, name: input.name, description: input.description ?? null, kind: "webhook", operation: input.operation,
      payload_template: input.payload_template, status: "active", secret, last_fired_at: null,
    },
  };
  await saveRecord(context.tx, trigger, true);
  await appendEvent(context, "trigger.created", { trigger: triggerView(trigger) }, agent.id);
  return ok({ trigger, secret });
}

export interface UpdateTriggerInput {
  name?: string;
  description?: string | null;
  payload_template?: Record<string, TemplateValue>;
  status?: "active" | "disabled";
}

async function liveTrigger(context: WriteContext, triggerId: string): Promise<Result<TriggerRecord>> {
  const trigger = await loadRecord<TriggerBody>(context.tx, context.tenantId, "trigger", triggerId);
  if (!trigger || trigger.body.status === "deleted") return fail("not_found", `trigger ${triggerId} not found`);
  return ok(trigger);
}

/** Renames, re-templates, disables or re-enables a trigger. Event: `trigger.updated`. */
export async function updateTrigger(context: WriteContext, triggerId: string, input: UpdateTriggerInput): Promise<Result<TriggerRecord>> {
  const found = await liveTrigger(context, triggerId);
  if (!found.ok) return found;
  if (input.payload_template !== undefined) {
    const checked = checkTemplate(input.payload_template);
    if (!checked.ok) return checked;
  }
  const trigger = found.value;
  const body: TriggerBody = {
    ...trigger.body,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.payload_template !== undefined ? { payload_template: input.payload_template } : {}),
    ...(input.status !== undefined ? { status: input.status } : {}),
  };
  const updated: TriggerRecord = { ...trigger, status: body.status, updatedAtMs: context.nowMs, body };
  await saveRecord(context.tx, updated, false);
  await appendEvent(context, "trigger.updated", { trigger: triggerView(updated) }, trigger.agentId);
  return ok(updated);
}

/** Deletes a trigger: later fires answer not found. Its fires stay. Event: `trigger.deleted`. */
export async function deleteTrigger(context: WriteContext, triggerId: string): Promise<Result<TriggerRecord>> {
  const found = await liveTrigger(context, triggerId);
  if (!found.ok) return found;
  const trigger = found.value;
  const deleted: TriggerRecord = { ...trigger, status: "deleted", updatedAtMs: context.nowMs, body: { ...trigger.body, status: "deleted" } };
  await saveRecord(context.tx, deleted, false);
  await appendEvent(context, "trigger.deleted", { trigger: triggerView(deleted) }, trigger.agentId);
  return ok(deleted);
}

/** Replaces the trigger's secret at once (the old one stops verifying); the new one is shown once. Event: `trigger.secret_rotated`. */
export async function rotateTriggerSecret(context: WriteContext, triggerId: string): Promise<Result<{ trigger: TriggerRecord; secret: string }>> {
  const found = await liveTrigger(context, triggerId);
  if (!found.ok) return found;
  const secret = newWebhookSecret();
  const trigger: TriggerRecord = { ...found.value, updatedAtMs: context.nowMs, body: { ...found.value.body, secret } };
  await saveRecord(context.tx, trigger, false);
  await appendEvent(context, "trigger.secret_rotated", { trigger: triggerView(trigger) }, trigger.agentId);
  return ok({ trigger, secret });
}

/** The fire of this trigger with this `webhook-id`, if one was recorded. */
export async function findTriggerFire(reader: StoreReader, tenantId: string, triggerId: string, webhookId: string): Promise<TriggerFireRecord | null> {
  const [id] = await reader.findRecordIdsByName(tenantId, "trigger_fire", triggerFireNameKey(triggerId, webhookId), 1);
  return id === undefined ? null : loadRecord<TriggerFireBody>(reader, tenantId, "trigger_fire", id);
}

/**
 * Records a fire and what it did, in the write that did it, and stamps the trigger's
 * `last_fired_at`. Event: `trigger.fired`.
 */
export async function recordTriggerFire(
  context: WriteContext,
  trigger: TriggerRecord,
  webhookId: string,
  outcome: Omit<TriggerFireBody, "trigger_id" | "agent_id" | "webhook_id" | "operation">,
): Promise<TriggerFireRecord> {
  const fire: TriggerFireRecord = {
    tenantId: context.tenantId, kind: "trigger_fire", id: newId("trf", context.nowMs), agentId: trigger.agentId, status: outcome.outcome, refId: trigger.id,
    dueAtMs: null, createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: { trigger_id: trigger.id, agent_id: trigger.body.agent_id, webhook_id: webhookId, operation: trigger.body.operation, ...outcome },
  };
  await saveRecord(context.tx, fire, true);
  await context.tx.setRecordNames(context.tenantId, "trigger_fire", fire.id, [triggerFireNameKey(trigger.id, webhookId)]);
  await saveRecord(context.tx, { ...trigger, updatedAtMs: context.nowMs, body: { ...trigger.body, last_fired_at: toRfc3339(context.nowMs) } }, false);
  const { result: _result, ...summary } = triggerFireView(fire);
  await appendEvent(context, "trigger.fired", { trigger_fire: summary }, trigger.agentId);
  return fire;
}
