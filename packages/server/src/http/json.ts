/**
 * The only request body parser: strict JSON with a size bound, a depth bound and no prototype
 * keys. It replaces all of Fastify's parsers, so any other media type is a 415.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isWellFormedText, jsonDepthMax, requestBodyBytesMax } from "@bursar/core";
import { ProblemError } from "./problem.js";
import { illFormedUnicode } from "./unicode.js";

/**
 * Parsed bodies as the client sent them, before zod replaced `request.body` with its (defaulted,
 * stripped) output. Idempotency fingerprints these, so two requests that differ only in fields
 * the schema drops still count as different.
 */
const parsedBodies = new WeakMap<FastifyRequest, unknown>();

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * Keep the body's bytes as received (`rawJsonBody`): a signature over the body is over these
     * bytes, and parsed-then-reserialised JSON would not match them.
     */
    rawBody?: boolean;
  }
}

/** Bytes of bodies of `rawBody` routes, as received. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/** The request's body bytes as received, on routes that declare `config.rawBody`. */
export function rawJsonBody(request: FastifyRequest): Buffer | undefined {
  return rawBodies.get(request);
}

/** The request's JSON body as parsed, before validation; `undefined` when it had none. */
export function parsedJsonBody(request: FastifyRequest): unknown {
  return parsedBodies.get(request);
}

/**
 * True when `text` nests arrays and objects deeper than `depthMax`.
 *
 * A scanner before the parse, rather than a walk after it: it rejects before the object graph is
 * built, needs no stack (a recursive walk over 100 000 levels would overflow), and its grammar is
 * only "inside a string or not". On malformed input it may count wrongly, but the parse that
 * follows rejects that input anyway.
 */
export function jsonNestsDeeperThan(text: string, depthMax: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // backslash: skip the escaped character (it may be a quote)
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > depthMax) return true;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON.parse reviver that refuses lone surrogates (`"\ud800"`: see core's unicode.ts) and
 * prototype-poisoning keys. JSON.parse makes `__proto__` an own
 * property, harmless until some code merges the object into another (`Object.assign`, spread into
 * a prototype chain): then it rewrites the prototype. We answer 400 rather than strip the key, as
 * Fastify's secure-json-parse does with `onProtoPoisoning: "error"`: a client sending it is
 * either buggy or attacking. The reviver sees keys after escape decoding, so `"\u005f_proto__"`
 * is caught too.
 */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  // Every key and string of the body passes here once, so this is the one check bodies need.
  if (!isWellFormedText(key) || (typeof value === "string" && !isWellFormedText(value))) throw illFormedUnicode("body");
  if (key === "__proto__") throw new ProblemError("json_forbidden_key", 'The key "__proto__" is not allowed.');
  if (key === "constructor" && typeof value === "object" && value !== null && Object.hasOwn(value, "prototype")) {
    throw new ProblemError("json_forbidden_key", 'The key "constructor.prototype" is not allowed.');
  }
  return value;
}

/** Strict UTF-8 (RFC 8259 §8.1): invalid bytes are an error, not a silent U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses one request body. Empty bodies are fine on routes without a body schema (a DELETE with
 * `Content-Type: application/json` and nothing else) and malformed everywhere else.
 */
export function parseJsonBody(request: FastifyRequest, bytes: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ProblemError("malformed_json", "The request body is not valid UTF-8.");
  }
  if (text.trim() === "") {
    if (request.routeOptions.schema?.body === undefined) return undefined;
    throw new ProblemError("malformed_json", "The request body is empty; send a JSON value.");
  }
  // A route whose body carries a nested language of its own (a predicate) may allow more, so
  // that language's limits answer with its own code (limits.ts `predicateBodyJsonDepthMax`).
  const depthMax = request.routeOptions.config?.jsonDepthMax ?? jsonDepthMax;
  if (jsonNestsDeeperThan(text, depthMax)) {
    throw new ProblemError("json_too_deep", `JSON may nest at most ${depthMax} levels.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text, refusePrototypeKeys);
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    // V8's message quotes part of the body; we do not reflect request input back.
    throw new ProblemError("malformed_json", "The request body is not valid JSON.");
  }
  parsedBodies.set(request, value);
  return value;
}

/** Only UTF-8 JSON is accepted; a declared charset must say so. */
function charsetIsUtf8(contentType: string | undefined): boolean {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "");
  return match === null || /^utf-?8$/i.test(match[1]!);
}

/**
 * Replaces every content-type parser with the strict JSON one. Fastify itself enforces
 * `bodyLimit` while reading, so an oversized body is dropped before it is all in memory: it
 * checks Content-Length first and counts bytes as they arrive (a lying Content-Length or a
 * chunked body cannot slip past).
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  // JSON Merge Patch bodies (RFC 7396, `PATCH /v1/agents/{id}/policy`) are JSON too.
  app.addContentTypeParser(["application/json", "application/merge-patch+json"], { parseAs: "buffer", bodyLimit: requestBodyBytesMax }, (request, body, done) => {
    if (!charsetIsUtf8(request.headers["content-type"])) {
      done(new ProblemError("unsupported_media_type", "JSON bodies must be UTF-8."), undefined);
      return;
    }
    if (request.routeOptions.config.rawBody === true) rawBodies.set(request, body as Buffer);
    try {
      done(null, parseJsonBody(request, body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
