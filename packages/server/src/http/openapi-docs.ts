/**
 * What the OpenAPI document says about each operation beyond its zod schemas, derived from what
 * the route declares, so the reference cannot drift from the code:
 * - security from `config.scopes` / `config.public` (owner-only scopes exclude agent tokens);
 * - error responses from the one status table (problem.ts): the codes every route of its kind can
 *   give (authentication, body parsing, idempotency) plus the route's own `config.errors`,
 *   grouped by status, each with its `code` values enumerated;
 * - an operation id, a curl example (`x-codeSamples`) and the request body example
 *   (`config.example`);
 * - `text/event-stream` answers from `config.streamEvents`.
 * test/openapi.test.ts checks the result: a description and an example on every operation, the
 * Spectral lint, and that the codes the suite saw each route answer are all documented.
 */
import type { RouteOptions } from "fastify";
import { isOwnerOnlyScope, type Scope } from "@bursar/core";
import { idempotentMethods } from "./idempotency.js";
import { problemTable, problemTypeBase, type ProblemCode } from "./problem.js";

/** One Server-Sent Events type a stream sends. */
export interface StreamEventDoc {
  event: string;
  description: string;
}

/** What a streaming route sends (documented as `text/event-stream`). */
export interface StreamDocs {
  events: readonly StreamEventDoc[];
  /** A short excerpt of a stream, as sent. */
  example: string;
}

/** A request example: the body (JSON) and/or a query string. */
export interface RouteExample {
  body?: unknown;
  /** e.g. `status=pending`, appended to the curl example's URL. */
  query?: string;
  /** Extra request headers the curl example sends, e.g. `{accept: "application/json, text/event-stream"}`. */
  headers?: Readonly<Record<string, string>>;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** JSON nesting this route's body may reach, when more than `jsonDepthMax` (http/json.ts). */
    jsonDepthMax?: number;
    /**
     * The result codes this route's handler can answer with, beyond those every route of its
     * kind gives (see `standardErrors`). Documented under their statuses in the OpenAPI document.
     */
    errors?: readonly ProblemCode[];
    /** The request example the reference shows (validated against the body schema by the lint). */
    example?: RouteExample;
    /** A Server-Sent Events route: its event types, for the reference. */
    streamEvents?: StreamDocs;
    /** The OAuth endpoints answer errors as RFC 6749 §5.2 JSON, not as problems. */
    oauthErrors?: boolean;
    /** Overrides the derived operation id. */
    operationId?: string;
  }
}

/** Security scheme names, declared in `securitySchemes`. */
export const securitySchemeNames = {
  ownerToken: "ownerToken",
  apiKey: "apiKey",
  agentToken: "agentToken",
  dpopProof: "dpopProof",
} as const;

export const securitySchemes = {
  [securitySchemeNames.ownerToken]: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "bpat_…",
    description: "An owner's personal access token: `Authorization: Bearer bpat_…` (`bursar init` prints one; `npm start` saves the demo owner's in `.bursar/demo-owner-token`).",
  },
  [securitySchemeNames.apiKey]: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "bsk_…",
    description: "An API key of an agent or a service account: `Authorization: Bearer bsk_…`. Scoped and rate-limited per key.",
  },
  [securitySchemeNames.agentToken]: {
    type: "http",
    scheme: "DPoP",
    description:
      "An agent's DPoP-bound access token from `POST /oauth/token` (RFC 9449): `Authorization: DPoP <token>`, always with a fresh `DPoP` proof header (see `dpopProof`).",
  },
  [securitySchemeNames.dpopProof]: {
    type: "apiKey",
    in: "header",
    name: "DPoP",
    description:
      "The DPoP proof (RFC 9449 §4): a JWT with `typ: dpop+jwt`, signed with the agent's registered key, whose `htm` and `htu` match the request, `iat` within 60 s, a single-use `jti`, and `ath` = SHA-256 of the access token. The SDK signs one per request.",
  },
} as const;

/**
 * Who may call a route with these scopes, as OpenAPI security requirements (any one of them).
 * The scopes themselves go in `x-required-scopes` and the description: OpenAPI gives scope lists
 * a meaning for OAuth 2 schemes only.
 */
export function securityFor(scopes: readonly Scope[]): Record<string, string[]>[] {
  const list: string[] = [];
  const owners: Record<string, string[]>[] = [{ [securitySchemeNames.ownerToken]: list }, { [securitySchemeNames.apiKey]: list }];
  // Owner-only scopes never reach an agent credential (SPEC 3 "Scopes").
  if (scopes.some(isOwnerOnlyScope)) return owners;
  return [{ [securitySchemeNames.agentToken]: list, [securitySchemeNames.dpopProof]: [] }, ...owners];
}

// `not_ready`: the shared replay and rate-limit state (Redis) does not answer.
const authErrors: ProblemCode[] = ["unauthorized", "invalid_token", "insufficient_scope", "rate_limited", "not_ready"];
const dpopErrors: ProblemCode[] = ["invalid_dpop_proof", "use_dpop_nonce"];
const bodyErrors: ProblemCode[] = ["validation_failed", "malformed_json", "json_too_deep", "json_forbidden_key", "body_too_large", "unsupported_media_type", "bad_request", "invalid_unicode"];
const idempotencyErrors: ProblemCode[] = ["invalid_idempotency_key", "idempotency_key_payload_mismatch", "idempotency_key_in_use"];

/** What the docs need to know about a route, collected when it is added. */
export interface RouteInfo {
  method: string;
  /** The OpenAPI path (`/v1/agents/{id}`). */
  path: string;
  scopes: readonly Scope[] | null;
  hasBody: boolean;
  hasParams: boolean;
  hasQuery: boolean;
  config: NonNullable<RouteOptions["config"]>;
}

/** Methods whose requests may carry a body Bursar parses (DELETE included: a body sent is parsed). */
const bodyMethods: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The codes every route of its kind answers with, before its own `config.errors`. */
export function standardErrorCodes(info: RouteInfo): ProblemCode[] {
  // invalid_unicode: a lone surrogate in the path, query or headers is refused on every route.
  const codes = new Set<ProblemCode>(["internal_error", "invalid_unicode"]);
  const authenticated = info.scopes !== null;
  if (authenticated) {
    for (const code of authErrors) codes.add(code);
    if (!info.scopes!.some(isOwnerOnlyScope)) for (const code of dpopErrors) codes.add(code);
    if (idempotentMethods.has(info.method)) for (const code of idempotencyErrors) codes.add(code);
    // A console session's cookie on a write without its CSRF token, or from another site (console-auth.ts).
    if (bodyMethods.has(info.method)) codes.add("csrf_check_failed");
  } else if (bodyMethods.has(info.method)) {
    // Unauthenticated writes are limited per source address.
    codes.add("rate_limited");
  }
  if (info.hasBody || bodyMethods.has(info.method)) for (const code of bodyErrors) codes.add(code);
  if (info.hasParams || info.hasQuery) codes.add("validation_failed");
  // A route with an id in its path answers 404 when there is no such thing (or the caller may not see it).
  if (info.hasParams) codes.add("not_found");
  return [...codes];
}

/** The codes a route can answer with: those of its kind, then its own. */
export function routeErrorCodes(info: RouteInfo): ProblemCode[] {
  return [...new Set<ProblemCode>([...standardErrorCodes(info), ...(info.config.errors ?? [])])];
}

/** The JSON Schema of a problem whose `code` is one of `codes`. */
function problemSchema(codes: string[]): Record<string, unknown> {
  return {
    type: "object",
    description: "RFC 9457 problem details",
    properties: {
      type: { type: "string", description: `\`${problemTypeBase}<code>\`` },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string", description: "What went wrong and what to do, in plain English" },
      code: { type: "string", enum: codes, description: "Stable snake_case result code" },
      request_id: { type: "string" },
      available_actions: { type: "array", items: { type: "string" }, description: "What the caller can do next" },
      errors: {
        type: "array",
        description: "Per-field problems",
        items: { type: "object", properties: { path: { type: "string" }, code: { type: "string" }, detail: { type: "string" } }, required: ["path", "code", "detail"] },
      },
    },
    required: ["type", "title", "status", "detail", "code", "request_id"],
  };
}

/** OAuth error answers (RFC 6749 §5.2): 400, or 401 for `invalid_client`. */
function oauthErrorResponses(codes: ProblemCode[]): Record<string, unknown> {
  const schema = (list: string[]) => ({
    type: "object",
    properties: { error: { type: "string", enum: list }, error_description: { type: "string" }, request_id: { type: "string" } },
    required: ["error", "error_description"],
  });
  const oauth = codes.filter((code) => code !== "internal_error");
  const responses: Record<string, unknown> = {};
  const bad = oauth.filter((code) => code !== "invalid_client");
  if (bad.length > 0) responses["400"] = { description: "OAuth error (RFC 6749 §5.2)", content: { "application/json": { schema: schema(bad) } } };
  if (oauth.includes("invalid_client")) responses["401"] = { description: "Client authentication failed", content: { "application/json": { schema: schema(["invalid_client"]) } } };
  return responses;
}

/** Error responses grouped by status, each listing its codes and their titles. */
export function errorResponses(codes: ProblemCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) {
    const status = problemTable[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const sorted = [...list].sort();
    responses[String(status)] = {
      description: sorted.map((code) => `\`${code}\`: ${problemTable[code].title}`).join("; "),
      content: {
        "application/problem+json": {
          schema: problemSchema(sorted),
          example: { type: problemTypeBase + sorted[0], title: problemTable[sorted[0]!].title, status, detail: "…", code: sorted[0], request_id: "req_01JD5Y4Q7X8ZK3M2N1P0R9S8T7" },
        },
      },
    };
  }
  return responses;
}

function camel(words: string[]): string {
  return words
    .filter(Boolean)
    .map((word, index) => {
      const parts = word.split(/[-_.]/).filter(Boolean);
      return parts.map((part, partIndex) => (index === 0 && partIndex === 0 ? part.toLowerCase() : part[0]!.toUpperCase() + part.slice(1).toLowerCase())).join("");
    })
    .join("");
}

function singular(word: string): string {
  if (word.endsWith("ies")) return word.slice(0, -3) + "y";
  if (word.endsWith("sses")) return word.slice(0, -2);
  if (word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

/**
 * A readable operation id from the method and path: `GET /v1/agents` → `listAgents`,
 * `GET /v1/agents/{id}` → `getAgent`, `POST /v1/approvals/{id}/approve` → `approveApproval`.
 */
export function operationIdFor(method: string, path: string): string {
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== "v1" && segment !== ".well-known");
  const nouns: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.startsWith("{")) continue;
    const next = segments[i + 1];
    nouns.push(next?.startsWith("{") ? singular(segment) : segment);
  }
  const last = segments[segments.length - 1] ?? "";
  const endsWithId = last.startsWith("{");
  const lastNoun = nouns[nouns.length - 1] ?? "";
  const plural = lastNoun.endsWith("s");
  switch (method) {
    case "GET":
      return camel([endsWithId || !plural ? "get" : "list", ...nouns]);
    case "PUT":
      return camel(["set", ...nouns]);
    case "PATCH":
      return camel(["update", ...nouns]);
    case "DELETE":
      return camel(["delete", ...nouns]);
    default: {
      if (plural && !endsWithId) return camel(["create", ...nouns.slice(0, -1), singular(lastNoun)]);
      // A verb at the end: `POST /v1/transfers/{id}/void` → voidTransfer.
      return camel([lastNoun, ...nouns.slice(0, -1)]);
    }
  }
}

/** Example values of path parameters, by the collection they follow. */
const exampleIds: Record<string, string> = {
  agents: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  accounts: "acc_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  transfers: "tr_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  payees: "pay_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  approvals: "apr_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  "payment-intents": "pi_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  transactions: "txn_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  "service-requests": "sr_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  conversations: "conv_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  "webhook-endpoints": "whe_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  "api-keys": "key_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  "credential-bindings": "cb_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
  "escrow-intents": "int_report-2026-q2",
  "signing-keys": "sk_01JD5Y4Q7X8ZK3M2N1P0R9S8T7",
};

/** The path with example ids in place of its parameters. */
function examplePath(path: string): string {
  const segments = path.split("/");
  return segments.map((segment, i) => (segment.startsWith("{") ? (exampleIds[segments[i - 1] ?? ""] ?? segment.slice(1, -1).toUpperCase()) : segment)).join("/");
}

/** A curl command a reader can paste (with `BURSAR_API_URL` and `BURSAR_TOKEN` set). */
export function curlExample(info: RouteInfo): string {
  const query = info.config.example?.query ? `?${info.config.example.query}` : "";
  const lines = [`curl -s${info.method === "GET" ? "" : ` -X ${info.method}`} "$BURSAR_API_URL${examplePath(info.path)}${query}"`];
  if (info.config.oauthErrors) lines.push(`  -H 'content-type: application/x-www-form-urlencoded'`);
  else if (info.scopes !== null) lines.push(`  -H "Authorization: Bearer $BURSAR_TOKEN"`);
  if (info.config.streamEvents) lines.push(`  -H 'accept: text/event-stream' -N`);
  for (const [name, value] of Object.entries(info.config.example?.headers ?? {})) lines.push(`  -H '${name}: ${value}'`);
  const body = info.config.example?.body;
  if (body !== undefined) {
    if (info.config.oauthErrors) lines.push(`  --data '${String(body)}'`);
    else lines.push(`  -H 'content-type: application/json'`, `  -d '${JSON.stringify(body)}'`);
  }
  return lines.join(" \\\n");
}

type Operation = Record<string, unknown> & { responses?: Record<string, unknown>; requestBody?: { content?: Record<string, Record<string, unknown>> } };

/** Adds what the route declares to its generated operation. */
export function documentOperation(operation: Operation, info: RouteInfo): void {
  operation.operationId = info.config.operationId ?? operationIdFor(info.method, info.path);
  if (info.scopes !== null) {
    operation.security = securityFor(info.scopes);
    operation["x-required-scopes"] = [...info.scopes];
    const who = info.scopes.some(isOwnerOnlyScope) ? "Owners (personal access token) and API keys" : "Agents (DPoP), owners and API keys";
    const scopes = info.scopes.length > 0 ? `, with the scope${info.scopes.length > 1 ? "s" : ""} ${info.scopes.map((scope) => `\`${scope}\``).join(", ")}` : "";
    operation.description = `${String(operation.description ?? "").trim()}\n\n**Who:** ${who}${scopes}.`.trim();
  } else operation.security = [];
  const responses = operation.responses ?? {};
  // The success answer generated from a zod schema says "Default Response": say what it is.
  for (const [status, response] of Object.entries(responses)) {
    const answer = response as { description?: string };
    if (answer.description === "Default Response") answer.description = status === "201" ? "Created" : status === "202" ? "Accepted" : status === "204" ? "No content" : "OK";
  }
  if (info.config.streamEvents) {
    const events = info.config.streamEvents.events;
    responses["200"] = {
      description: `A Server-Sent Events stream. Event types: ${events.map((event) => `\`${event.event}\` (${event.description})`).join("; ")}.`,
      content: { "text/event-stream": { schema: { type: "string", description: "WHATWG HTML §9.2 event stream" }, example: info.config.streamEvents.example } },
    };
  }
  if (info.config.oauthErrors) {
    // The OAuth errors are RFC 6749 JSON; what the edge refuses first (body size, media type,
    // source rate limit) is a problem like anywhere else.
    const oauth = info.config.errors ?? [];
    const problems = standardErrorCodes(info).filter((code) => !oauth.includes(code) && code !== "validation_failed");
    const oauthResponses = oauthErrorResponses([...oauth]) as Record<string, { description: string; content: Record<string, unknown> }>;
    const problemResponses = errorResponses(problems) as Record<string, { description: string; content: Record<string, unknown> }>;
    for (const [status, response] of Object.entries(problemResponses)) {
      const existing = oauthResponses[status];
      if (existing) oauthResponses[status] = { description: `${existing.description}; ${response.description}`, content: { ...existing.content, ...response.content } };
      else oauthResponses[status] = response;
    }
    Object.assign(responses, oauthResponses);
  } else Object.assign(responses, errorResponses(routeErrorCodes(info)));
  operation.responses = responses;
  const example = info.config.example?.body;
  const media = operation.requestBody?.content;
  if (example !== undefined && typeof example === "object" && media?.["application/json"]) {
    media["application/json"].example = example;
  }
  operation["x-codeSamples"] = [{ lang: "Shell", label: "curl", source: curlExample(info) }];
}
