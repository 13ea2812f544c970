/**
 * Errors Node's HTTP parser (llhttp) raises before a request exists: no route, no hook and no
 * reply object ever sees them, so Fastify's default writes a bare JSON line without a request
 * id. This handler answers them like every other error: RFC 9457 problem+json with a stable
 * `code` and an `X-Request-Id`, then closes the connection (the parser's state is unknown after a
 * framing error, so nothing more can be read from that socket safely).
 *
 * The refusals themselves are llhttp's, in strict mode, and they are what keeps request smuggling
 * out (RFC 9112 §6.1, §6.3, §11.2): a Content-Length beside Transfer-Encoding, two Content-Lengths,
 * a bad chunk size, control characters or NUL in a header (RFC 9110 §5.5), a malformed request line.
 */
import type { Socket } from "node:net";
import { newId } from "@bursar/core";
import { ProblemError, problemBody, type ProblemCode } from "./problem.js";

/** What one parser error is, for the client. */
interface ClientProblem {
  code: ProblemCode;
  detail: string;
}

const malformed: ClientProblem = { code: "malformed_request", detail: "The request is not well-formed HTTP/1.1 (RFC 9112)." };

/** llhttp and Node error codes, and the problem each becomes; anything else is `malformed`. */
const clientProblems: Record<string, ClientProblem> = {
  HPE_HEADER_OVERFLOW: { code: "headers_too_large", detail: "The request line and headers are larger than the server accepts." },
  ERR_HTTP_REQUEST_TIMEOUT: { code: "request_timeout", detail: "The request was not received in time." },
  ERR_HTTP_HEADERS_TIMEOUT: { code: "request_timeout", detail: "The request headers were not received in time." },
  HPE_INVALID_METHOD: { code: "method_not_implemented", detail: "The request method is not one the server knows (RFC 9110 §9.1)." },
  HPE_INVALID_HEADER_TOKEN: { code: "malformed_request", detail: "A header name or value holds a character HTTP does not allow (RFC 9110 §5.5)." },
  HPE_UNEXPECTED_CONTENT_LENGTH: { code: "malformed_request", detail: "Content-Length and Transfer-Encoding together, or two Content-Lengths, are refused (RFC 9112 §6.3)." },
  HPE_INVALID_CONTENT_LENGTH: { code: "malformed_request", detail: "Content-Length is not a single decimal number (RFC 9110 §8.6)." },
  HPE_INVALID_TRANSFER_ENCODING: { code: "malformed_request", detail: "Transfer-Encoding must end with chunked (RFC 9112 §6.1)." },
  HPE_INVALID_CHUNK_SIZE: { code: "malformed_request", detail: "The chunked body is malformed (RFC 9112 §7.1)." },
  HPE_STRICT: { code: "malformed_request", detail: "The chunked body is malformed (RFC 9112 §7.1)." },
  HPE_INVALID_URL: { code: "malformed_request", detail: "The request target is malformed (RFC 9112 §3.2)." },
  HPE_INVALID_VERSION: { code: "malformed_request", detail: "Only HTTP/1.0 and HTTP/1.1 are spoken here." },
};

/** The problem for a parser error code. */
export function clientProblem(errorCode: string | undefined): ClientProblem {
  return (errorCode && clientProblems[errorCode]) || malformed;
}

/** The raw HTTP/1.1 answer for a parser error: head and problem body, closing the connection. */
export function clientErrorResponse(errorCode: string | undefined, requestId: string = newId("req")): string {
  const { code, detail } = clientProblem(errorCode);
  const problem = new ProblemError(code, detail);
  const body = JSON.stringify(problemBody(problem, requestId));
  return [
    `HTTP/1.1 ${problem.status} ${problemReason(problem.status)}`,
    "content-type: application/problem+json",
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    "connection: close",
    "",
    body,
  ].join("\r\n");
}

function problemReason(status: number): string {
  const reasons: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large", 501: "Not Implemented" };
  return reasons[status] ?? "Bad Request";
}

/**
 * Fastify's `clientErrorHandler`. A reset connection, or one whose answer has already begun (an
 * error in a body that a route is reading and answering), gets nothing written: a second status
 * line there would corrupt the answer in flight.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.end(clientErrorResponse(error.code));
  else socket.destroy();
}
