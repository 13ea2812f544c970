/**
 * Test helpers for the http tests: a real SQLite store in a temporary directory, a seeded owner
 * with a personal access token, and a listening server. Test-only; nothing in production imports it.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { newId, newSecret, sha256Hex, type Clock, type Scope, type Store } from "@bursar/core";
import { openSqliteStore } from "../store/sqlite/index.js";

/** A store in a fresh temporary directory; `dispose` closes it and deletes the directory. */
export async function openTestStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  const directory = await mkdtemp(path.join(tmpdir(), "bursar-http-"));
  const store = await openSqliteStore({ path: path.join(directory, "bursar.sqlite") });
  await store.migrate();
  return {
    store,
    async dispose() {
      await store.close().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public timeMs: number = Date.UTC(2026, 0, 1)) {}
  nowMs(): number {
    return this.timeMs;
  }
}

export interface SeededOwner {
  tenantId: string;
  userId: string;
  tokenId: string;
  /** The bearer token (`bpat_…`). */
  token: string;
}

/** Inserts a tenant and its owner, with one personal access token. */
export async function seedOwner(
  store: Store,
  nowMs: number,
  token: { scopes: Scope[]; expiresAtMs?: number | null; revokedAtMs?: number | null },
): Promise<SeededOwner> {
  const keys = generateKeyPairSync("ed25519");
  const publicJwk = keys.publicKey.export({ format: "jwk" });
  const tenantId = newId("ten", nowMs);
  const userId = newId("usr", nowMs);
  await store.write(null, async (tx) => {
    await tx.insertTenant({
      id: tenantId,
      name: "Test tenant",
      journalPrivateKeyPkcs8: new Uint8Array(keys.privateKey.export({ format: "der", type: "pkcs8" })),
      journalPublicKey: new Uint8Array(Buffer.from(publicJwk.x!, "base64url")),
      journalSize: 0,
      createdAtMs: nowMs,
    });
    await tx.insertUser({ id: userId, tenantId, email: null, name: "Owner", role: "owner", createdAtMs: nowMs, removedAtMs: null });
  });
  const secret = await addToken(store, { tenantId, userId }, nowMs, token);
  const row = await store.read.findPersonalAccessTokenByHash(sha256Hex(secret));
  return { tenantId, userId, tokenId: row!.id, token: secret };
}

/** Adds a personal access token for an existing owner. */
export async function addToken(
  store: Store,
  owner: Pick<SeededOwner, "tenantId" | "userId">,
  nowMs: number,
  token: { scopes: Scope[]; expiresAtMs?: number | null; revokedAtMs?: number | null },
): Promise<string> {
  const secret = newSecret("bpat");
  await store.write(owner.tenantId, (tx) =>
    tx.insertPersonalAccessToken({
      id: newId("pat", nowMs),
      tenantId: owner.tenantId,
      userId: owner.userId,
      tokenHash: sha256Hex(secret),
      name: "test",
      scopes: token.scopes,
      createdAtMs: nowMs,
      expiresAtMs: token.expiresAtMs ?? null,
      revokedAtMs: token.revokedAtMs ?? null,
    }),
  );
  return secret;
}

/** Listens on an ephemeral loopback port; returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (typeof address !== "object" || address === null) throw new Error("not listening on TCP");
  return `http://127.0.0.1:${address.port}`;
}

/** Sends one request over real HTTP and reads the JSON answer (null when the body is empty). */
export async function send(
  baseUrl: string,
  method: string,
  pathname: string,
  options: { token?: string; idempotencyKey?: string; json?: unknown; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | null; text: string }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  let body: string | Uint8Array | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(baseUrl + pathname, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? null : (JSON.parse(text) as Record<string, unknown>), text };
}
