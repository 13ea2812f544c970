/**
 * Server-sent events (WHATWG HTML §9.2), shared by the event stream and the chat stream: the
 * response head, and one message's text.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import type { ServerResponse } from "node:http";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's GET answers a long-lived stream (see `answerHeadWithoutStream`). */
    stream?: boolean;
  }
}

/** The head of every stream answer (besides the headers hooks set). */
const streamHead = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  // Tells nginx-style proxies not to buffer the stream.
  "x-accel-buffering": "no",
} as const;

/**
 * onRoute hook: the HEAD twin Fastify adds to a stream route (`config.stream`) answers the
 * stream's head and ends (RFC 9110 §9.3.2: HEAD is GET without content). Without this it ran the
 * GET handler, which opened a stream that never ended over a socket that sends no body, held
 * one of the credential's stream slots, and never answered: ten HEADs locked a credential out of
 * streaming. Authentication, rate limiting and validation still run as for the GET.
 */
export function answerHeadWithoutStream(route: RouteOptions): void {
  if (route.method !== "HEAD" || route.config?.stream !== true) return;
  route.handler = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(200).headers(streamHead).send();
}

/**
 * Takes the response over from Fastify and writes the stream's head. `closeConnection` ends the
 * socket with the stream (long-lived streams, so none lingers as keep-alive and delays shutdown).
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, options: { closeConnection?: boolean } = {}): ServerResponse {
  // Headers hooks already set on the reply (RateLimit and RateLimit-Policy from the auth hook,
  // X-Request-Id) are Fastify's until it sends them; a hijacked reply never does, so they are
  // copied into the head here: a stream answers with the same headers as every other response.
  const earlier = Object.fromEntries(Object.entries(reply.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined));
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...earlier,
    ...streamHead,
    "x-request-id": request.id,
    ...(options.closeConnection ? { connection: "close" } : {}),
  });
  return raw;
}

/** One message: `data:` is JSON on one line (JSON.stringify escapes every CR and LF). */
export function sseMessage(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
