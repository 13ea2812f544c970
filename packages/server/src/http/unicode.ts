/**
 * The edge check for well-formed Unicode (core's unicode.ts says why). JSON bodies are checked by
 * the body parser's reviver (json.ts), which sees every key and string once; this hook checks
 * everything else a client sends that a route may read: the query string, the path parameters
 * and the headers. Node decodes headers as latin1 and leaves bad percent-escapes as they are, so
 * today only a body can carry a lone surrogate; the hook keeps that true whatever parser or
 * decoding a later version uses. Refused with 400 `invalid_unicode`, before authentication.
 */
import type { FastifyRequest } from "fastify";
import { isWellFormedText } from "@bursar/core";
import { ProblemError } from "./problem.js";

/** The problem for a string that is not well-formed Unicode, in `where` (body, query, …). */
export function illFormedUnicode(where: string): ProblemError {
  return new ProblemError("invalid_unicode", `A string in the request ${where} is not well-formed Unicode (a lone UTF-16 surrogate such as \\ud800); send UTF-8 text.`);
}

/** True when every key and string of a flat record (query, params, headers) is well formed. */
function wellFormedRecord(record: unknown): boolean {
  if (typeof record !== "object" || record === null) return true;
  for (const [key, value] of Object.entries(record)) {
    if (!isWellFormedText(key)) return false;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) if (typeof item === "string" && !isWellFormedText(item)) return false;
  }
  return true;
}

/**
 * The check of the app's first onRequest hook (after routing, before auth): the problem for the
 * first ill-formed part of the URL, query, path parameters or headers, else null.
 */
export function illFormedUnicodeOf(request: FastifyRequest): ProblemError | null {
  if (!isWellFormedText(request.url)) return illFormedUnicode("URL");
  if (!wellFormedRecord(request.query)) return illFormedUnicode("query string");
  if (!wellFormedRecord(request.params)) return illFormedUnicode("path");
  if (!wellFormedRecord(request.headers)) return illFormedUnicode("headers");
  return null;
}
