/** Request ids: every log line and every response carries one (SPEC 3 "Conventions"). */
import type { IncomingMessage } from "node:http";
import { newId } from "@bursar/core";

/**
 * What an incoming `X-Request-Id` may look like. The id is echoed into a response header and
 * into every log line, so anything else is replaced: no control characters to forge log lines
 * or split headers, no quotes or spaces to break log parsers, and a bound on length so a client
 * cannot bloat every line we write.
 */
export const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

/** The request's id: the caller's `X-Request-Id` when it is safe, else a fresh `req_…`. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers["x-request-id"];
  if (typeof incoming === "string" && requestIdPattern.test(incoming)) return incoming;
  return newId("req");
}
