/**
 * A Store that tells the server about the events each write committed. `store.write` resolves
 * after the commit is durable, so publishing then never shows a subscriber an event that could
 * still roll back. Writes by other processes (PostgreSQL scale-out) are not seen here: the hub's
 * periodic catch-up read covers them (hub.ts).
 */
import type { JournalEntryWrite, JournalEvent, Store, StoreTx, TreeNode } from "@bursar/core";

/** Wraps `store`; `onCommitted` gets each committed write's events, in journal order. */
export function publishingStore(store: Store, onCommitted: (events: JournalEvent[]) => void): Store {
  const write = async <T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    let appended: JournalEvent[] = [];
    const value = await store.write(tenantId, (tx) => {
      // A retried transaction (PostgreSQL serialization failure) starts over: forget the last try.
      appended = [];
      const recording = new Proxy(tx, {
        get(target, property) {
          if (property === "appendJournal") {
            return async (tenantId: string, entries: readonly JournalEntryWrite[], nodes: readonly TreeNode[], size: number) => {
              await target.appendJournal(tenantId, entries, nodes, size);
              for (const entry of entries) appended.push(entry.event);
            };
          }
          if (property === "insertEvent") {
            return async (event: JournalEvent, canonicalBody?: string) => {
              await target.insertEvent(event, canonicalBody);
              appended.push(event);
            };
          }
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      return fn(recording);
    });
    if (appended.length > 0) onCommitted(appended);
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
