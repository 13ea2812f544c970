/**
 * A Store that tells the server about what each write committed: its events, and whether it
 * queued webhook deliveries. `store.write` resolves after the commit is durable, so publishing
 * then never shows a subscriber an event that could still roll back. Writes by other processes
 * (PostgreSQL scale-out) are not seen here: the hub's periodic catch-up read and the delivery
 * worker's poll cover them (hub.ts, webhooks/worker.ts).
 */
import type { JournalEntryWrite, JournalEvent, Store, StoreTx, TreeNode, WebhookDeliveryRow } from "@bursar/core";

/** What one committed write did that the server reacts to. */
export interface CommittedWrite {
  /** Its events, in journal order. */
  events: JournalEvent[];
  /** Whether it queued a webhook delivery (the worker need not look otherwise). */
  deliveriesQueued: boolean;
}

/** Wraps `store`; `onCommitted` hears of each committed write that appended events or queued deliveries. */
export function publishingStore(store: Store, onCommitted: (write: CommittedWrite) => void): Store {
  const write = async <T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    let committed: CommittedWrite = { events: [], deliveriesQueued: false };
    const value = await store.write(tenantId, (tx) => {
      // A retried transaction (PostgreSQL serialization failure) starts over: forget the last try.
      committed = { events: [], deliveriesQueued: false };
      const seen = committed;
      const recorders: Partial<Record<keyof StoreTx, unknown>> = {
        appendJournal: async (tenantId: string, entries: readonly JournalEntryWrite[], nodes: readonly TreeNode[], size: number) => {
          await tx.appendJournal(tenantId, entries, nodes, size);
          for (const entry of entries) seen.events.push(entry.event);
        },
        insertEvent: async (event: JournalEvent, canonicalBody?: string) => {
          await tx.insertEvent(event, canonicalBody);
          seen.events.push(event);
        },
        insertWebhookDelivery: async (row: WebhookDeliveryRow) => {
          await tx.insertWebhookDelivery(row);
          seen.deliveriesQueued = true;
        },
      };
      // Methods are bound once per write, not on every call: a write makes dozens of calls.
      const bound = new Map<PropertyKey, unknown>();
      const recording = new Proxy(tx, {
        get(target, property) {
          const recorder = recorders[property as keyof StoreTx];
          if (recorder) return recorder;
          const known = bound.get(property);
          if (known !== undefined) return known;
          const value = Reflect.get(target, property, target) as unknown;
          if (typeof value !== "function") return value;
          const method = (value as (...args: unknown[]) => unknown).bind(target);
          bound.set(property, method);
          return method;
        },
      });
      return fn(recording);
    });
    if (committed.events.length > 0 || committed.deliveriesQueued) onCommitted(committed);
    return value;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === "write") return write;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
