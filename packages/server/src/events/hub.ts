/**
 * In-process fan-out of committed events to stream subscribers. Events this process commits are
 * pushed to subscribers straight from memory (publishing-store.ts), so a thousand subscribers
 * cost no database reads. Every `eventStreamCatchUpIntervalMs` the hub reads the journal head of
 * each tenant that has subscribers — one query per tenant, not per subscriber — and publishes
 * what other processes committed. A subscriber that sees a gap in seq reads the gap itself.
 */
import { eventStreamCatchUpIntervalMs, eventStreamPageMax, type JournalEvent, type StoreReader } from "@bursar/core";

/** What the hub needs of a subscriber. */
export interface HubSubscriber {
  offer(events: JournalEvent[]): void;
  /** Ends the stream (server shutting down). */
  end(): void;
}

interface TenantEntry {
  /** Highest seq the hub has published for the tenant. */
  publishedSeq: number;
  subscribers: Set<HubSubscriber>;
}

export class EventHub {
  private readonly tenants = new Map<string, TenantEntry>();
  private readonly timer: NodeJS.Timeout;
  private catchingUp = false;

  constructor(private readonly read: StoreReader, catchUpIntervalMs = eventStreamCatchUpIntervalMs) {
    this.timer = setInterval(() => void this.catchUp().catch(() => undefined), catchUpIntervalMs);
    this.timer.unref();
  }

  /** Number of open subscriptions (metrics, tests). */
  get subscriberCount(): number {
    let count = 0;
    for (const entry of this.tenants.values()) count += entry.subscribers.size;
    return count;
  }

  /** Adds a subscriber that has seen the tenant's journal up to `seenSeq`. */
  subscribe(tenantId: string, subscriber: HubSubscriber, seenSeq: number): void {
    let entry = this.tenants.get(tenantId);
    if (!entry) {
      entry = { publishedSeq: seenSeq, subscribers: new Set() };
      this.tenants.set(tenantId, entry);
    }
    entry.subscribers.add(subscriber);
  }

  unsubscribe(tenantId: string, subscriber: HubSubscriber): void {
    const entry = this.tenants.get(tenantId);
    if (!entry) return;
    entry.subscribers.delete(subscriber);
    if (entry.subscribers.size === 0) this.tenants.delete(tenantId);
  }

  /** Hands committed events to the subscribers of their tenant. Events of one tenant are in seq order. */
  publish(events: JournalEvent[]): void {
    let start = 0;
    while (start < events.length) {
      const tenantId = events[start]!.tenant_id;
      let end = start + 1;
      while (end < events.length && events[end]!.tenant_id === tenantId) end++;
      const entry = this.tenants.get(tenantId);
      if (entry) {
        const batch = events.slice(start, end);
        entry.publishedSeq = Math.max(entry.publishedSeq, batch[batch.length - 1]!.seq);
        for (const subscriber of entry.subscribers) subscriber.offer(batch);
      }
      start = end;
    }
  }

  /** Publishes events other processes committed since the hub last published, per tenant. */
  async catchUp(): Promise<void> {
    if (this.catchingUp) return;
    this.catchingUp = true;
    try {
      for (const [tenantId, entry] of [...this.tenants]) {
        const tenant = await this.read.getTenant(tenantId);
        if (!tenant || tenant.journalSize <= entry.publishedSeq) continue;
        const events = await this.read.listEvents(tenantId, { afterSeq: entry.publishedSeq, limit: eventStreamPageMax, ascending: true });
        this.publish(events);
      }
    } finally {
      this.catchingUp = false;
    }
  }

  /** Ends every open stream; clients reconnect and resume with Last-Event-ID (tests, operations). */
  disconnectAll(): void {
    for (const entry of [...this.tenants.values()]) for (const subscriber of [...entry.subscribers]) subscriber.end();
  }

  /** Ends every stream and stops the timer (server shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.disconnectAll();
    this.tenants.clear();
  }
}
