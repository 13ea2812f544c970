/**
 * `/v1/events`: the tenant's events (the audit log), listed or streamed. The stream is an async
 * iterable that reconnects by itself and resumes after the last event it yielded
 * (`Last-Event-ID`), so a dropped connection loses nothing and repeats nothing.
 */
import { APIError, ConnectionError } from "../errors.ts";
import { eventStreamIdleTimeoutMs, eventStreamReconnectsMax, eventStreamRetryDelayMaxMs } from "../limits.ts";
import type { Page } from "../pagination.ts";
import { readSse } from "../sse.ts";
import { backoffDelay } from "../transport.ts";
import type { BursarEvent, EventListParams } from "../types.ts";
import { Resource, type CallOptions, type Query } from "./resource.ts";

export interface EventStreamParams {
  /** Exact types, `prefix.*` or `*`. */
  type?: string | string[];
  agent_id?: string;
  /** Only events about this task (`task.*` with `data.task.id`). */
  task_id?: string;
  /** Start after this seq (replays from there, then live). */
  after_seq?: number;
  /** Start after this event id (what a previous stream yielded last); wins over `after_seq`. */
  last_event_id?: string;
  /** Ends the iteration (quietly) when aborted. */
  signal?: AbortSignal;
}

function typeQuery(type: string | string[] | undefined): string | undefined {
  return Array.isArray(type) ? type.join(",") : type;
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class Events extends Resource {
  /**
   * Newest first; with `after_seq`, oldest first from there (journal order).
   *
   * @example for await (const event of await bursar.events.list({ type: "transfer.*" })) console.log(event.seq, event.type);
   */
  list(params: EventListParams = {}, options?: CallOptions): Promise<Page<BursarEvent>> {
    return this.paginate("/v1/events", { ...params, type: typeQuery(params.type) }, options);
  }

  /**
   * Events as they happen. Without `after_seq` or `last_event_id`, starts after the newest event
   * this credential can see now (so nothing that happens after the call is missed, even before
   * the connection is up). Ends when `signal` aborts, the client closes, or the server refuses
   * the stream (4xx, e.g. 410 `cursor_expired`, thrown); after `eventStreamReconnectsMax`
   * reconnections in a row that deliver nothing, throws the last connection error.
   *
   * @example
   * for await (const event of bursar.events.stream({ type: "transfer.*" })) {
   *   console.log(event.seq, event.type);
   * }
   */
  async *stream(params: EventStreamParams = {}): AsyncGenerator<BursarEvent> {
    const { signal } = params;
    let lastEventId = params.last_event_id;
    let afterSeq = params.after_seq;
    if (lastEventId === undefined && afterSeq === undefined) {
      const newest = await this.list({ limit: 1, type: params.type, agent_id: params.agent_id }, { signal });
      afterSeq = newest.data[0]?.seq ?? 0;
    }
    let retryMs = 1000;
    let failures = 0;
    while (!signal?.aborted && !this.client.closedSignal.aborted) {
      const connection = new AbortController();
      const abort = () => connection.abort();
      signal?.addEventListener("abort", abort, { once: true });
      let idleTimer: ReturnType<typeof setTimeout> | undefined;
      const touch = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => connection.abort(new ConnectionError("event stream idle")), eventStreamIdleTimeoutMs);
      };
      let lastError: unknown = null;
      try {
        const query: Query = { type: typeQuery(params.type), agent_id: params.agent_id, task_id: params.task_id, after_seq: lastEventId === undefined ? afterSeq : undefined };
        const response = await this.client.stream("GET", "/v1/events/stream", {
          query,
          headers: { accept: "text/event-stream", ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
          signal: connection.signal,
        });
        if (!response.body) throw new ConnectionError("event stream without a body");
        touch();
        for await (const message of readSse(response.body, touch)) {
          if (message.retryMs !== undefined) retryMs = Math.min(message.retryMs, eventStreamRetryDelayMaxMs);
          if (message.data === "") continue;
          const event = JSON.parse(message.data) as BursarEvent;
          lastEventId = message.id ?? event.id;
          failures = 0;
          yield event;
        }
      } catch (error) {
        // The server said no (bad filter, cursor gone, no scope): reconnecting cannot help.
        if (error instanceof APIError && error.status < 500 && error.status !== 408 && error.status !== 429) throw error;
        lastError = error;
      } finally {
        clearTimeout(idleTimer);
        signal?.removeEventListener("abort", abort);
        connection.abort();
      }
      if (signal?.aborted || this.client.closedSignal.aborted) return;
      failures++;
      if (failures > eventStreamReconnectsMax) {
        throw lastError ?? new ConnectionError(`the event stream closed ${failures} times in a row without an event`);
      }
      await wait(Math.max(retryMs, failures > 1 ? backoffDelay(failures) : 0), signal);
    }
  }
}
