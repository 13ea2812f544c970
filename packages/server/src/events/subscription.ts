/**
 * One stream subscriber: replays from its cursor, then follows the hub. It tracks `seenSeq`, the
 * tenant journal position it has accounted for (sent, or skipped by its filters). An offered
 * event at `seenSeq + 1` is sent from memory; anything further ahead means events are missing
 * (another process wrote them, or publications raced), and the gap is read from the store.
 * Work is chained, so events leave in seq order, each exactly once per connection.
 */
import { eventStreamPageMax, eventTaskId, matchesEventType, type JournalEvent, type StoreReader } from "@bursar/core";
import type { HubSubscriber } from "./hub.js";

export interface StreamFilter {
  /** Type patterns; absent means every type. */
  types?: string[];
  /** Only events about this agent (forced for agent credentials). */
  agentId?: string;
  /** Only events about this task (`data.task.id`); applied here, not in the store's query. */
  taskId?: string;
}

export class Subscription implements HubSubscriber {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly read: StoreReader,
    private readonly tenantId: string,
    private readonly filter: StreamFilter,
    /** Position already accounted for: the cursor of the request. */
    public seenSeq: number,
    /** Writes one event; false when the client is too slow and the stream must end. */
    private readonly send: (event: JournalEvent) => boolean,
    private readonly onEnd: () => void,
  ) {}

  /** Replays everything after the cursor up to the present. Call before subscribing to the hub's offers matter. */
  replay(): Promise<void> {
    return this.enqueue(() => this.readForward());
  }

  offer(events: JournalEvent[]): void {
    void this.enqueue(async () => {
      for (const event of events) {
        if (event.seq <= this.seenSeq) continue;
        if (event.seq !== this.seenSeq + 1) {
          await this.readForward();
          if (event.seq <= this.seenSeq) continue;
        }
        if (!this.deliver(event)) return;
        this.seenSeq = event.seq;
      }
    });
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onEnd();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(() => (this.closed ? undefined : work())).catch(() => this.end());
    return this.chain;
  }

  private matches(event: JournalEvent): boolean {
    if (this.filter.agentId !== undefined && event.agent_id !== this.filter.agentId) return false;
    if (this.filter.taskId !== undefined && eventTaskId(event) !== this.filter.taskId) return false;
    return this.filter.types === undefined || matchesEventType(this.filter.types, event.type);
  }

  private deliver(event: JournalEvent): boolean {
    if (!this.matches(event)) return true;
    if (this.send(event)) return true;
    this.end();
    return false;
  }

  /**
   * Reads matching events after `seenSeq` from the store until caught up. The journal size is read
   * before each page: every event up to it was committed before the page's query, so when the
   * page comes back short, everything up to that size is accounted for.
   */
  private async readForward(): Promise<void> {
    for (;;) {
      const head = (await this.read.getTenant(this.tenantId))?.journalSize ?? 0;
      const page = await this.read.listEvents(this.tenantId, {
        afterSeq: this.seenSeq,
        types: this.filter.types,
        agentId: this.filter.agentId,
        limit: eventStreamPageMax,
        ascending: true,
      });
      for (const event of page) {
        if (this.closed || !this.deliver(event)) return;
        this.seenSeq = event.seq;
      }
      if (page.length < eventStreamPageMax) {
        this.seenSeq = Math.max(this.seenSeq, head);
        return;
      }
    }
  }
}
