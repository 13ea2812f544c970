/**
 * Test support shared by the cross-package suites: stores of every kind, in-process servers,
 * child-process servers, and a tiny HTTP client. Every run gets its own SQLite directory or
 * PostgreSQL schema, so runs cannot collide.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTenant, newId, type Clock, type Store } from "@bursar/core";
import { loadConfig, openStore, startServer, type RunningServer, type ServerConfig } from "@bursar/server";
import pg from "pg";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The PostgreSQL suite runs when this is set (`.ci/run` sets it). */
export const postgresUrl = process.env.BURSAR_TEST_DATABASE_URL ?? null;

export type StoreKind = "sqlite" | "postgres";

/** The store kinds this run covers: SQLite always, PostgreSQL when configured. */
export const storeKinds: StoreKind[] = postgresUrl ? ["sqlite", "postgres"] : ["sqlite"];

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `bursar-${label}-`));
}

/** Store settings for a fresh, private database of the given kind. */
export function freshStoreConfig(kind: StoreKind) {
  if (kind === "postgres") {
    return { dataDir: tempDir("unused"), databaseUrl: postgresUrl, databaseSchema: `t_${newId("req").slice(4).toLowerCase()}` };
  }
  return { dataDir: tempDir("sqlite"), databaseUrl: null, databaseSchema: null };
}

/** Drops a test run's PostgreSQL schema, so test databases do not fill up with leftovers. */
export async function dropSchema(schema: string | null): Promise<void> {
  if (!schema || !postgresUrl) return;
  const connection = new pg.Client({ connectionString: postgresUrl });
  await connection.connect();
  try {
    await connection.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await connection.end();
  }
}

/** Opens a fresh store; closing it also drops its PostgreSQL schema. */
export async function openFreshStore(kind: StoreKind): Promise<Store> {
  const config = freshStoreConfig(kind);
  const store = await openStore(config);
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await dropSchema(config.databaseSchema);
  };
  return store;
}

/** A clock tests can move. */
export class TestClock implements Clock {
  constructor(public ms = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestTenant {
  tenantId: string;
  ownerId: string;
  token: string;
}

/** Creates a tenant straight in the store (what `bursar init` does). */
export async function createTestTenant(store: Store, name = "Test"): Promise<TestTenant> {
  const created = await store.write(null, (tx) => createTenant(tx, { name, ownerName: "Owner", nowMs: Date.now() }));
  return { tenantId: created.tenant.id, ownerId: created.owner.id, token: created.ownerToken };
}

/**
 * Starts an in-process server on a random loopback port with a fresh store (or the store
 * `config` names). Closing it drops the fresh PostgreSQL schema it made, never one it was given.
 */
export async function startTestServer(kind: StoreKind, options: { clock?: Clock; config?: Partial<ServerConfig> } = {}): Promise<RunningServer> {
  const fresh = freshStoreConfig(kind);
  const config = loadConfig({ ...fresh, host: "127.0.0.1", port: 0, logLevel: "silent", sweepIntervalMs: 3_600_000, ...options.config });
  const server = await startServer(config, { clock: options.clock });
  const close = server.close.bind(server);
  server.close = async () => {
    await close();
    if (config.databaseSchema === fresh.databaseSchema) await dropSchema(config.databaseSchema);
  };
  return server;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A minimal JSON client: the SDK is not involved in these tests. */
export function client(baseUrl: string, token?: string) {
  async function call<T = any>(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(baseUrl + pathname, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
  return {
    get: <T = any>(pathname: string, headers?: Record<string, string>) => call<T>("GET", pathname, undefined, headers),
    post: <T = any>(pathname: string, body?: unknown, headers?: Record<string, string>) => call<T>("POST", pathname, body ?? {}, headers),
    call,
  };
}

/** Reads every page of a list endpoint. */
export async function listAll<T = any>(api: ReturnType<typeof client>, pathname: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = pathname.includes("?") ? "&" : "?";
    const response: ApiResponse = await api.get(`${pathname}${separator}limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    if (response.status !== 200) throw new Error(`${pathname}: ${response.status} ${JSON.stringify(response.body)}`);
    items.push(...response.body.data);
    cursor = response.body.next_cursor;
  } while (cursor);
  return items;
}

/** A `bursar serve` child process (for crash tests): real process, real signals. */
export interface ChildServer {
  url: string;
  process: ChildProcess;
  /** Everything the child wrote to stdout. */
  stdout(): string;
  /** Everything the child wrote to stderr (for failure messages). */
  stderr(): string;
}

/** Starts `bursar serve` on a random port; without `demo: true`, no demo tenant is created. */
export async function spawnServer(env: Record<string, string>, options: { demo?: boolean } = {}): Promise<ChildServer> {
  const args = ["serve", "--port", "0", "--quiet", ...(options.demo ? [] : ["--no-demo"])];
  const child = spawn(process.execPath, [path.join(repoRoot, "packages/cli/bin/bursar.js"), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      // The start-up message is written at once; wait for its end.
      if (match && stdout.endsWith("\n")) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  return { url, process: child, stdout: () => stdout, stderr: () => stderr };
}

/** Kills a child with SIGKILL and waits for it to be gone. */
/**
 * The two-process race set-up: one tenant in a fresh PostgreSQL schema (`config`), then two
 * `bursar serve` processes sharing it, pushed onto `children` (the caller kills them).
 */
export async function twoServersOnPostgres(config: ReturnType<typeof freshStoreConfig>, children: ChildServer[]): Promise<TestTenant> {
  const store = await openStore(config);
  const tenant = await createTestTenant(store);
  await store.close();
  const env = { BURSAR_DATA_DIR: config.dataDir, BURSAR_DATABASE_URL: config.databaseUrl!, BURSAR_DATABASE_SCHEMA: config.databaseSchema! };
  children.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
  return tenant;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
