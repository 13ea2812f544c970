/**
 * Idempotency keys (SPEC 3 "Conventions"; STYLE habit 4). A POST, PATCH or DELETE with
 * `Idempotency-Key` runs at most once per (tenant, principal, method, route, key); a retry gets
 * the first answer back with `Idempotent-Replayed: true`.
 *
 * Flow: the preHandler (after auth, after validation) claims the key in the store; the handler
 * runs; the answer is recorded before it leaves, so a client that gets the answer and retries at
 * once already sees the replay. Routes that change state record it in the same transaction as
 * the change (`takeIdempotencyClaim`, used by routes/context.ts `answer`); for anything else the
 * onSend hook records it. 5xx answers release the claim instead: a failure we
 * caused must not be replayed forever. A request that fails auth or schema validation never
 * claims the key (it did not run), so fixing the request and retrying with the same key works.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  canonicalJson,
  idempotencyClaimTimeoutMs,
  idempotencyKeyLengthMax,
  idempotencyRetentionMs,
  idempotencySweepCountMax,
  sha256Hex,
  type Clock,
  type IdempotencyRecord,
  type IdempotencyScope,
  type Store,
} from "@bursar/core";
import type { Principal } from "./auth.js";
import { parsedJsonBody } from "./json.js";
import { ProblemError } from "./problem.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * Response fields shown once (API keys, tickets, webhook secrets), as dotted paths into the
     * JSON body (`"token"`, `"key.secret"`). The replay copy stores null in their place.
     */
    secretFields?: readonly string[];
    /**
     * The route an Idempotency-Key is scoped to, when it is not this route's own pattern: two
     * routes that carry one operation (`POST /v1/chat` and `POST /v1/chat/stream` both run one
     * chat turn) share a scope, so one key runs the operation once whichever route carries it.
     */
    idempotencyRoute?: string;
  }
}

/** Methods that change state and therefore take `Idempotency-Key`. */
export const idempotentMethods: ReadonlySet<string> = new Set(["POST", "PATCH", "DELETE"]);

/** 1–255 visible ASCII characters (no spaces or controls, so it is safe in logs and headers). */
const idempotencyKeyPattern = new RegExp(`^[\\x21-\\x7e]{1,${idempotencyKeyLengthMax}}$`);

/** Claims held by requests in flight; the onSend hook completes or releases them. */
const claims = new WeakMap<FastifyRequest, IdempotencyScope>();

/**
 * What makes two requests "the same": SHA-256 of the RFC 8785 canonical form of the body as the
 * client sent it (key order and whitespace do not matter). The path parameters are included: the
 * scope holds the route pattern, so without them a key reused on `DELETE /v1/api-keys/key_B`
 * would replay the answer of `key_A` and tell the client B was deleted.
 */
export function requestFingerprint(request: FastifyRequest): string {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = parsedJsonBody(request) ?? null;
  return sha256Hex(canonicalJson(Object.keys(params).length === 0 ? body : { params, body }));
}

/** Replays a stored answer. Stored error bodies are problems; other bodies are JSON. */
function replay(reply: FastifyReply, record: IdempotencyRecord): FastifyReply {
  const status = record.responseStatus ?? 200;
  const body = record.responseBody ?? "";
  reply.code(status).header("idempotent-replayed", "true");
  if (body === "") return reply.send();
  return reply.type(status >= 400 ? "application/problem+json" : "application/json").send(body);
}

/**
 * preHandler of every authenticated POST/PATCH/DELETE. Without the header it does nothing; with
 * it, it claims the key, or answers with the replay or a 409.
 */
export async function idempotencyPreHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (!idempotentMethods.has(request.method)) return undefined;
  const key = request.headers["idempotency-key"];
  if (key === undefined) return undefined;
  // A repeated header arrives joined by ", ", which the pattern rejects: ambiguous, so refused.
  if (typeof key !== "string" || !idempotencyKeyPattern.test(key)) {
    throw new ProblemError("invalid_idempotency_key", `Idempotency-Key must be 1 to ${idempotencyKeyLengthMax} visible ASCII characters.`);
  }
  // Public routes have no principal to scope the key to; the key is ignored there.
  const principal = request.principal as Principal | null;
  if (!principal) return undefined;
  const { store, clock } = request.server;
  const nowMs = clock.nowMs();
  const scope: IdempotencyScope = {
    tenantId: principal.tenantId,
    principalId: principal.principalId,
    method: request.method,
    route: request.routeOptions.config.idempotencyRoute ?? request.routeOptions.url ?? request.url,
    key,
  };
  const record: IdempotencyRecord = {
    ...scope,
    fingerprint: requestFingerprint(request),
    state: "in_progress",
    responseStatus: null,
    responseBody: null,
    createdAtMs: nowMs,
    expiresAtMs: nowMs + idempotencyRetentionMs,
  };
  const existing = await store.write(principal.tenantId, (tx) => tx.claimIdempotencyKey(record, nowMs - idempotencyClaimTimeoutMs));
  if (existing === null) {
    claims.set(request, scope);
    return undefined;
  }
  if (existing.fingerprint !== record.fingerprint) {
    throw new ProblemError("idempotency_key_payload_mismatch", "This Idempotency-Key was used with a different request; use a new key.");
  }
  if (existing.state === "in_progress") {
    throw new ProblemError("idempotency_key_in_use", "A request with this Idempotency-Key is still running; retry later.", {
      headers: { "retry-after": "1" },
    });
  }
  return replay(reply, existing);
}

/**
 * Takes the request's claim, if any, so that the caller records the answer itself — in the same
 * transaction as the operation, so a crash can never leave an applied operation whose key would
 * run it again. The onSend hook then leaves the claim alone.
 */
export function takeIdempotencyClaim(request: FastifyRequest): IdempotencyScope | undefined {
  const scope = claims.get(request);
  claims.delete(request);
  return scope;
}

/** Gives a taken claim back (nothing was recorded): the onSend hook records or releases it. */
export function returnIdempotencyClaim(request: FastifyRequest, scope: IdempotencyScope): void {
  claims.set(request, scope);
}

/** The replay copy of a JSON answer of this route: serialised, shown-once fields removed. */
export function recordedBody(request: FastifyRequest, body: unknown): string {
  return withoutSecrets(JSON.stringify(body), request.routeOptions.config.secretFields ?? []);
}

/** The body to store: shown-once fields replaced by null. Unparseable bodies with secrets store nothing. */
export function withoutSecrets(body: string, secretFields: readonly string[]): string {
  if (secretFields.length === 0 || body === "") return body;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return "";
  }
  for (const field of secretFields) {
    const path = field.split(".");
    let parent: unknown = value;
    for (const segment of path.slice(0, -1)) {
      parent = typeof parent === "object" && parent !== null ? (parent as Record<string, unknown>)[segment] : undefined;
    }
    const last = path[path.length - 1]!;
    if (typeof parent === "object" && parent !== null && Object.hasOwn(parent, last)) {
      (parent as Record<string, unknown>)[last] = null;
    }
  }
  return JSON.stringify(value);
}

/** The response payload as text; streams are not recorded (no route streams a POST answer). */
function payloadText(payload: unknown): string {
  if (typeof payload === "string") return payload;
  if (Buffer.isBuffer(payload)) return payload.toString("utf8");
  return "";
}

/**
 * onSend hook: stores the answer (status < 500) or releases the claim (5xx). Awaited by Fastify
 * before the first byte goes out, so the record is durable before the client can retry.
 *
 * If the store fails here the handler's effects are already committed, so we still send the real
 * answer and log: the claim then stays in progress until `idempotencyClaimTimeoutMs`, blocking
 * duplicates for that long; after that a retry would run again (money-moving routes also carry
 * client transfer ids, which the ledger deduplicates on its own).
 */
export async function idempotencyOnSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const scope = claims.get(request);
  if (!scope) return payload;
  claims.delete(request);
  const { store } = request.server;
  try {
    if (reply.statusCode >= 500) {
      await store.write(scope.tenantId, (tx) => tx.releaseIdempotencyKey(scope));
    } else {
      const stored = withoutSecrets(payloadText(payload), request.routeOptions.config.secretFields ?? []);
      await store.write(scope.tenantId, (tx) => tx.completeIdempotencyKey(scope, reply.statusCode, stored));
    }
  } catch (error) {
    request.log.error({ err: error, idempotency_key: scope.key }, "idempotency record not written");
  }
  return payload;
}


/**
 * Deletes expired idempotency records, at most `idempotencySweepCountMax` per call. The lead's
 * sweeper calls this periodically; returns how many it deleted.
 */
export async function sweepExpiredIdempotencyRecords(store: Store, clock: Clock): Promise<number> {
  return store.write(null, (tx) => tx.deleteExpiredIdempotencyRecords(clock.nowMs(), idempotencySweepCountMax));
}
