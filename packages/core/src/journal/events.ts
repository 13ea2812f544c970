/**
 * Appending to a tenant's journal. Every state change calls `appendEvent` inside the same store
 * transaction as the change itself, so the journal and the state can never disagree.
 */
import { canonicalJson } from "../canonical.js";
import { newId } from "../ids.js";
import { journalSizeMax } from "../limits.js";
import type { StoreTx } from "../ports.js";
import { invariant } from "../result.js";
import { toRfc3339 } from "../time.js";
import { leafHash } from "./merkle.js";
import { appendLeaf } from "./tree.js";
import { queueWebhookDeliveries } from "../webhooks/queue.js";
import { isKnownEventType } from "../webhooks/event-catalog.js";
import type { Actor, JournalEvent } from "./types.js";

/** What a domain operation knows when it changes state. */
export interface WriteContext {
  tx: StoreTx;
  tenantId: string;
  nowMs: number;
  actor: Actor;
}

/**
 * Appends one event to the tenant's journal and Merkle tree, and queues a webhook delivery for
 * each enabled endpoint whose filters match, all in the caller's transaction. Returns the event.
 */
export async function appendEvent(
  context: WriteContext,
  type: string,
  data: Record<string, unknown>,
  agentId: string | null = null,
): Promise<JournalEvent> {
  const { tx, tenantId } = context;
  // Receivers type events from the catalog (the OpenAPI webhooks section): an unregistered type
  // is a bug, caught by the first test that writes it.
  invariant(isKnownEventType(type), `event type ${type} is registered in webhooks/event-catalog.ts`);
  const tenant = await tx.getTenant(tenantId);
  invariant(tenant, `tenant ${tenantId} exists`);
  const size = tenant.journalSize;
  invariant(size < journalSizeMax, "journal below its size bound");
  const event: JournalEvent = {
    id: newId("evt", context.nowMs),
    seq: size + 1,
    type,
    tenant_id: tenantId,
    agent_id: agentId,
    created_at: toRfc3339(context.nowMs),
    actor: context.actor,
    data,
  };
  const body = canonicalJson(event);
  const leaf = leafHash(new TextEncoder().encode(body));
  const nodes = await appendLeaf((keys) => tx.getTreeNodes(tenantId, keys), size, leaf);
  await tx.insertEvent(event, body);
  await tx.putTreeNodes(tenantId, nodes);
  await tx.setJournalSize(tenantId, size + 1);
  await queueWebhookDeliveries(tx, event, context.nowMs);
  return event;
}
