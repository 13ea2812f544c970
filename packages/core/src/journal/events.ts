/**
 * Appending to a tenant's journal. Every state change calls `appendEvent` inside the same store
 * transaction as the change itself, so the journal and the state can never disagree.
 *
 * One pass per write: the first append of a write reads the journal size and the tree's right
 * edge (the perfect subtrees of the current size, one batched read), later appends extend that
 * edge in memory, and the entries and every node they complete are stored together just before
 * the commit (`StoreTx.appendJournal`: multi-row inserts, one size update). Each event's
 * canonical JSON is computed once: the leaf hashes it and the store keeps it.
 */
import { canonicalJson } from "../canonical.js";
import { newId } from "../ids.js";
import { journalSizeMax } from "../limits.js";
import type { JournalEntryWrite, StoreTx } from "../ports.js";
import { invariant } from "../result.js";
import { toRfc3339 } from "../time.js";
import { leafHash, nodeHash } from "./merkle.js";
import { queueWebhookDeliveries } from "../webhooks/queue.js";
import { isKnownEventType } from "../webhooks/event-catalog.js";
import type { Actor, JournalEvent, TreeNode, TreeNodeKey } from "./types.js";

/** What a domain operation knows when it changes state. */
export interface WriteContext {
  tx: StoreTx;
  tenantId: string;
  nowMs: number;
  actor: Actor;
}

/** A write's journal appends for one tenant, not yet stored. */
interface JournalSession {
  /** Journal size including this write's entries so far. */
  size: number;
  /** The right edge of the tree of `size` leaves: the root of its perfect subtree at each level present. */
  edge: Map<number, Uint8Array>;
  entries: JournalEntryWrite[];
  nodes: TreeNode[];
}

/** Sessions by transaction (each write has its own StoreTx), then by tenant. */
const sessions = new WeakMap<StoreTx, Map<string, JournalSession>>();

/** The perfect subtrees whose concatenation is the tree of `size` leaves (its right edge): one per set bit. */
export function journalEdgeKeys(size: number): TreeNodeKey[] {
  const keys: TreeNodeKey[] = [];
  for (let level = 0; 2 ** level <= size; level++) {
    const count = Math.floor(size / 2 ** level);
    if (count % 2 === 1) keys.push({ level, index: count - 1 });
  }
  return keys;
}

async function sessionOf(tx: StoreTx, tenantId: string): Promise<JournalSession> {
  let byTenant = sessions.get(tx);
  const existing = byTenant?.get(tenantId);
  if (existing) return existing;
  const tenant = await tx.getTenant(tenantId);
  invariant(tenant, `tenant ${tenantId} exists`);
  const keys = journalEdgeKeys(tenant.journalSize);
  const hashes = keys.length === 0 ? [] : await tx.getTreeNodes(tenantId, keys);
  const session: JournalSession = { size: tenant.journalSize, edge: new Map(keys.map((key, i) => [key.level, hashes[i]!])), entries: [], nodes: [] };
  if (!byTenant) {
    byTenant = new Map();
    sessions.set(tx, byTenant);
  }
  byTenant.set(tenantId, session);
  tx.beforeCommit(async () => {
    byTenant.delete(tenantId);
    if (session.entries.length > 0) await tx.appendJournal(tenantId, session.entries, session.nodes, session.size);
  });
  return session;
}

/**
 * Adds leaf `size` to the tree in memory: the leaf node and every perfect subtree it completes
 * (one per trailing 1 bit of `size`, each joining the edge's subtree of that level).
 */
function extendEdge(session: JournalSession, leaf: Uint8Array): void {
  const size = session.size;
  session.nodes.push({ level: 0, index: size, hash: leaf });
  let hash = leaf;
  let level = 0;
  while (Math.floor(size / 2 ** level) % 2 === 1) {
    const left = session.edge.get(level);
    invariant(left, `journal edge has its level-${level} subtree`);
    session.edge.delete(level);
    hash = nodeHash(left, hash);
    level++;
    session.nodes.push({ level, index: Math.floor(size / 2 ** level), hash });
  }
  session.edge.set(level, hash);
  session.size = size + 1;
}

const encoder = new TextEncoder();

/**
 * Appends one event to the tenant's journal and Merkle tree, and queues a webhook delivery for
 * each enabled endpoint whose filters match, all in the caller's transaction. Returns the event
 * (its `seq` is final; the rows are written when the write's callback returns).
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
  const session = await sessionOf(tx, tenantId);
  invariant(session.size < journalSizeMax, "journal below its size bound");
  const event: JournalEvent = {
    id: newId("evt", context.nowMs),
    seq: session.size + 1,
    type,
    tenant_id: tenantId,
    agent_id: agentId,
    created_at: toRfc3339(context.nowMs),
    actor: context.actor,
    data,
  };
  const canonicalBody = canonicalJson(event);
  extendEdge(session, leafHash(encoder.encode(canonicalBody)));
  session.entries.push({ event, canonicalBody });
  await queueWebhookDeliveries(tx, event, context.nowMs);
  return event;
}
