/**
 * Queues webhook deliveries for a new event. Called by `appendEvent` inside the event's own store
 * transaction: the event and its deliveries commit together or not at all, so a crash can never
 * leave an event that no endpoint will hear about (the outbox pattern).
 */
import { newId } from "../ids.js";
import type { JournalEvent } from "../journal/types.js";
import { webhookEndpointsPerTenantMax } from "../limits.js";
import type { StoreTx } from "../ports.js";
import { matchesEventType } from "./event-types.js";
import type { WebhookDeliveryRow } from "./types.js";

/** The task an event is about (`data.task.id`), when it is about one. */
export function eventTaskId(event: JournalEvent): string | null {
  const task = (event.data as { task?: { id?: unknown } }).task;
  return typeof task?.id === "string" ? task.id : null;
}

/** Inserts one pending delivery per enabled endpoint of the tenant whose filters match. */
export async function queueWebhookDeliveries(tx: StoreTx, event: JournalEvent, nowMs: number): Promise<number> {
  const endpoints = await tx.listEnabledWebhookEndpoints(event.tenant_id, webhookEndpointsPerTenantMax);
  let queued = 0;
  for (const endpoint of endpoints) {
    if (!matchesEventType(endpoint.eventTypes, event.type)) continue;
    if (endpoint.taskIds !== null && !endpoint.taskIds.includes(eventTaskId(event) ?? "")) continue;
    const delivery: WebhookDeliveryRow = {
      id: newId("whd", nowMs),
      tenantId: event.tenant_id,
      endpointId: endpoint.id,
      eventId: event.id,
      eventSeq: event.seq,
      eventType: event.type,
      status: "pending",
      attemptCount: 0,
      nextAttemptAtMs: nowMs,
      lastAttemptAtMs: null,
      attempts: [],
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    await tx.insertWebhookDelivery(delivery);
    queued++;
  }
  return queued;
}
