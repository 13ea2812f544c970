/**
 * `GET /v1/events`: the tenant's journal as an audit log, with filters and cursor pagination.
 * `GET /v1/events/stream`: the same events as Server-Sent Events (WHATWG HTML §9.2), replayed
 * from a cursor and then live. Both apply the same filters, and for an agent credential both
 * show only the events about that agent.
 */
import {
  eventStreamBufferedBytesMax,
  eventStreamHeartbeatMs,
  eventStreamRetryMs,
  eventStreamsPerCredentialMax,
  eventTypeFiltersMax,
  parseEventTypeFilter,
  wire,
  type JournalEvent,
} from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { ProblemError } from "../http/problem.js";
import { Subscription } from "../events/subscription.js";
import { openEventStream, sseMessage } from "../http/sse.js";
import type { RouteModule } from "./context.js";

/** The type filter as patterns, or a 400. */
function typeFilter(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const patterns = parseEventTypeFilter(text, eventTypeFiltersMax);
  if (!patterns) {
    throw new ProblemError("validation_failed", `type takes up to ${eventTypeFiltersMax} comma-separated event types, \`prefix.*\` or \`*\`.`);
  }
  return patterns;
}

/**
 * A credential that acts for an agent (its DPoP token, or an API key bound to it) sees only
 * events about that agent, whatever it asks for.
 */
function agentFilter(request: FastifyRequest, asked: string | undefined): string | undefined {
  return request.principal.agentId ?? asked;
}


export const eventRoutes: RouteModule = (app, { store, eventHub }) => {
  app.get(
    "/v1/events",
    {
      schema: {
        tags: ["events"],
        summary: "List events (the audit log)",
        description:
          "Newest first by default; `cursor` is the next_cursor of the previous page. With `after_seq`, oldest first from that point (journal order), and `cursor` continues forward. `type` takes exact types, `prefix.*` or `*`.",
        querystring: wire.eventsQuery,
        response: { 200: wire.page(wire.event) },
      },
      config: { errors: ["seq_out_of_range"], example: {"query": "type=payment_intent.*&limit=20"}, scopes: ["events:read"] },
    },
    async (request) => {
      const { limit, cursor, after_seq, type, agent_id } = request.query;
      const ascending = after_seq !== undefined;
      const cursorSeq = cursor;
      const events = await store.read.listEvents(request.principal.tenantId, {
        limit: limit + 1,
        ascending,
        afterSeq: ascending ? (cursorSeq ?? after_seq) : undefined,
        beforeSeq: ascending ? undefined : cursorSeq,
        types: typeFilter(type),
        agentId: agentFilter(request, agent_id),
      });
      const data = events.slice(0, limit);
      const hasMore = events.length > limit;
      return { data, has_more: hasMore, next_cursor: hasMore ? String(data[data.length - 1]!.seq) : null };
    },
  );

  /** Open streams per credential, in this process. */
  const openStreams = new Map<string, number>();

  app.get(
    "/v1/events/stream",
    {
      schema: {
        tags: ["events"],
        summary: "Stream events (Server-Sent Events)",
        description:
          "`id:` is the event id, `event:` its type, `data:` the event JSON. `task_id` keeps only the events about one task (`task.*`, with `data.task.id`). Resumes after `Last-Event-ID` (or `?after_seq=`), then goes live; without either, live events only. " +
          `Comment lines every ${eventStreamHeartbeatMs / 1000} s keep proxies from closing the connection. An unknown Last-Event-ID answers 410 cursor_expired. ` +
          `At most ${eventStreamsPerCredentialMax} open streams per credential (429).`,
        querystring: wire.eventStreamQuery,
      },
      config: {
        scopes: ["events:read"],
        stream: true,
        errors: ["cursor_expired", "seq_out_of_range"],
        example: { query: "type=payment_intent.*" },
        streamEvents: {
          events: [
            { event: "<event type>", description: "one event per message: `id:` is the event id, `event:` its type (e.g. `payment_intent.created`), `data:` the event as `GET /v1/events` lists it" },
            { event: "(comment)", description: `a heartbeat line every ${eventStreamHeartbeatMs / 1000} s` },
          ],
          example: 'retry: 3000\n\nid: evt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7\nevent: payment_intent.created\ndata: {"id":"evt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7","seq":12,"type":"payment_intent.created","data":{}}\n\n: heartbeat\n\n',
        },
      },
    },
    async (request, reply) => {
      if (!eventHub) throw new Error("event stream route registered without an event hub");
      const principal = request.principal;
      const tenantId = principal.tenantId;
      const filter = { types: typeFilter(request.query.type), agentId: agentFilter(request, request.query.agent_id), taskId: request.query.task_id };
      const tenant = await store.read.getTenant(tenantId);
      if (!tenant) throw new Error("authenticated principal without a tenant");

      // The cursor. Last-Event-ID wins over after_seq: it is what the client saw last.
      const lastEventId = request.headers["last-event-id"];
      let cursorSeq = tenant.journalSize;
      if (typeof lastEventId === "string" && lastEventId !== "") {
        // The journal is kept forever, so an id this tenant does not have was never ours to
        // give (another tenant's, or made up): answer as for a cursor that is gone.
        const seq = lastEventId.length <= 64 ? await store.read.getEventSeqById(tenantId, lastEventId) : null;
        if (seq === null) throw new ProblemError("cursor_expired", "Last-Event-ID names no event of this tenant; reconnect without it, or with after_seq.");
        cursorSeq = seq;
      } else if (request.query.after_seq !== undefined) {
        if (request.query.after_seq > tenant.journalSize) {
          throw new ProblemError("seq_out_of_range", `after_seq is beyond the journal (size ${tenant.journalSize}).`);
        }
        cursorSeq = request.query.after_seq;
      }

      const open = openStreams.get(principal.credentialId) ?? 0;
      if (open >= eventStreamsPerCredentialMax) {
        throw new ProblemError("rate_limited", `At most ${eventStreamsPerCredentialMax} open streams per credential.`, { headers: { "retry-after": "5" } });
      }
      openStreams.set(principal.credentialId, open + 1);

      // A stream ends only when one side gives up or the server shuts down: the socket goes with it.
      const raw = openEventStream(request, reply, { closeConnection: true });
      raw.write(`: stream open\nretry: ${eventStreamRetryMs}\n\n`);

      let ended = false;
      const heartbeat = setInterval(() => raw.write(": heartbeat\n\n"), eventStreamHeartbeatMs);
      const finish = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        eventHub.unsubscribe(tenantId, subscription);
        const count = (openStreams.get(principal.credentialId) ?? 1) - 1;
        if (count <= 0) openStreams.delete(principal.credentialId);
        else openStreams.set(principal.credentialId, count);
        // The socket goes too: a half-closed client (it aborted, but its socket lingers) must not
        // keep a connection that would hold up shutdown.
        const socket = request.raw.socket;
        if (raw.writableEnded || raw.destroyed) socket.destroy();
        else raw.end(() => socket.destroy());
      };
      // A client that reads slower than events arrive would make us buffer without bound: past
      // the limit it is dropped, and resumes from its Last-Event-ID without losing anything.
      const send = (event: JournalEvent) => {
        if (ended || raw.writableLength > eventStreamBufferedBytesMax) return false;
        raw.write(sseMessage(event.type, event, event.id));
        return true;
      };
      const subscription = new Subscription(store.read, tenantId, filter, cursorSeq, send, finish);
      // Replay is queued before the hub can offer anything, and the hub is joined in the same
      // tick: every event committed from now on is offered after the replay, none is missed.
      void subscription.replay();
      eventHub.subscribe(tenantId, subscription, tenant.journalSize);
      // The response's close fires when the client goes away (the request's fires once its body is read).
      raw.on("close", () => subscription.end());
      raw.on("error", () => subscription.end());
    },
  );
};
