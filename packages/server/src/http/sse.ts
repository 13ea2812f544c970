/**
 * Server-sent events (WHATWG HTML §9.2), shared by the event stream and the chat stream: the
 * response head, and one message's text.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ServerResponse } from "node:http";

/**
 * Takes the response over from Fastify and writes the stream's head. `closeConnection` ends the
 * socket with the stream (long-lived streams, so none lingers as keep-alive and delays shutdown).
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, options: { closeConnection?: boolean } = {}): ServerResponse {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-request-id": request.id,
    // Tells nginx-style proxies not to buffer the stream.
    "x-accel-buffering": "no",
    ...(options.closeConnection ? { connection: "close" } : {}),
  });
  return raw;
}

/** One message: `data:` is JSON on one line (JSON.stringify escapes every CR and LF). */
export function sseMessage(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
