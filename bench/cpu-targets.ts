/**
 * Server CPU per request, as a multiple of one ES256 verification measured in the same run
 * (issue 19). The load generator shares the machine's cores, so wall-clock throughput would blame
 * the server for time it waited for the client: each measure reads the server processes' CPU from
 * /proc/<pid>/stat instead, and divides by the requests answered.
 *
 * Adding a row: write a `Measure` (set up what it needs on the `Fixture`, return a `LoadResult`)
 * and list it in `targetMeasures` with its target ratio; the previous figure comes from
 * bench/baseline.json under the same key.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createAccount, createTenant, deposit, type Store } from "@bursar/core";
import { openStore } from "@bursar/server";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tempDir = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `bursar-bench-${label}-`));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const clockTicksPerSecond = 100;

/** CPU seconds (user + system) a process has used, from /proc; null off Linux. */
export function cpuSecondsOf(pid: number | undefined): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return null;
  }
}

/**
 * CPU microseconds of one ES256 (P-256, P1363) verification, node:crypto: CPU time of this
 * process, like the server's, so that other processes on the machine do not inflate it.
 */
export function es256VerifyMicros(durationMs: number): number {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const input = Buffer.from("eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiJ4In0");
  const signature = sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
  let count = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < durationMs) {
    if (!verify("sha256", input, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)) throw new Error("verify failed");
    count++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return (cpu.user + cpu.system) / count;
}

export interface LoadResult {
  requests: number;
  /** Server CPU (all server processes) per request, µs. */
  cpuMicros: number;
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Untimed requests before each measure. The server's hot paths reach V8's optimising tier only
 * after thousands of calls: measured after 200 requests, a health check cost 4x what it costs
 * warm, so a short warm-up measures the JIT, not the request.
 */
export const warmupRequests = Number(process.env.BENCH_WARMUP ?? 1500);

/** One request: resolves when answered with a 2xx, rejects otherwise. */
export type Send = (i: number) => Promise<void>;

/**
 * Sends `count` requests with `concurrency` in flight (after `warmup` untimed ones) and measures
 * the server processes' CPU over the timed part.
 */
export async function measureLoad(pids: Array<number | undefined>, count: number, concurrency: number, send: Send, warmup = warmupRequests): Promise<LoadResult> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, 8) }, async () => {
    while (next < warmup) await send(next++);
  }));
  const latencies: number[] = [];
  const cpu = (): number => pids.reduce<number>((sum, pid) => sum + (cpuSecondsOf(pid) ?? Number.NaN), 0);
  const cpuBefore = cpu();
  const start = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < count) {
        const i = warmup + sent++;
        const t0 = performance.now();
        await send(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpuSeconds = cpu() - cpuBefore;
  latencies.sort((a, b) => a - b);
  return { requests: count, cpuMicros: (cpuSeconds * 1e6) / count, rate: count / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** A keep-alive HTTP client for one base URL. */
export function httpClient(baseUrl: string, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(baseUrl);
  const request = (method: string, pathname: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const sent = http.request(
        { host: target.hostname, port: target.port, path: pathname, method, agent, headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) } },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode!, text }));
        },
      );
      sent.on("error", reject);
      sent.end(body);
    });
  const ok = async (method: string, pathname: string, headers: Record<string, string>, body?: string) => {
    const answer = await request(method, pathname, headers, body);
    if (answer.status >= 300) throw new Error(`${method} ${pathname}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
    return answer.text;
  };
  return { request, ok, close: () => agent.destroy() };
}

/**
 * Starts `bursar serve` as a child process; resolves with it and its URL. Rate limit lifted.
 * `BENCH_BURSAR_BIN` serves another build instead (a copy of packages/cli made from an earlier
 * commit, kept inside the repository so its imports resolve), for side-by-side comparisons.
 */
export async function serveChild(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const bin = process.env.BENCH_BURSAR_BIN ? path.resolve(process.env.BENCH_BURSAR_BIN) : path.join(repoRoot, "packages/cli/bin/bursar.js");
  // The bench is one credential and one address sending thousands of requests a second.
  return listeningChild([...profile, bin, "serve", "--port", "0", "--no-demo", "--quiet"], {
    BURSAR_RATE_LIMIT_PER_MINUTE: "1000000000", BURSAR_SOURCE_RATE_LIMIT_PER_MINUTE: "1000000000", ...env,
  });
}

/** bench/floor-server.mjs (a bare Fastify server: the floor under Bursar's own cost) as a child. */
export function floorChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  return listeningChild([path.join(repoRoot, "bench/floor-server.mjs"), path.join(dataDir, "floor.dat")], {});
}

/** A Node child running `args`, once it printed `listening on <url>`. */
async function listeningChild(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, url };
}

/** Stops a child and waits for it (SIGTERM lets it flush and close its store). */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A tenant made straight in the store: its owner token and `accounts` funded GBP accounts. */
export async function seedTenant(store: Store, accounts: number, name = "bench") {
  const { tenant, ownerToken } = await store.write(null, (tx) => createTenant(tx, { name, ownerName: name, nowMs: Date.now() }));
  const tenantId = tenant.id;
  const ids = await store.write(tenantId, async (tx) => {
    const context = { tx, tenantId, nowMs: Date.now(), actor: { type: "system", id: "bench" } as const };
    const created: string[] = [];
    for (let i = 0; i < accounts; i++) {
      const account = await createAccount(context, { currency: "GBP", kind: "wallet" });
      if (!account.ok) throw new Error(account.detail);
      const funded = await deposit(context, { accountId: account.value.id, amountMinor: 10 ** 12 });
      if (!funded.ok) throw new Error(funded.detail);
      created.push(account.value.id);
    }
    return created;
  });
  return { tenantId, ownerToken, accountIds: ids };
}

export interface AgentSession {
  agentId: string;
  walletAccountId: string;
  clientId: string;
  accessToken: string;
  privateKey: KeyObject;
  /** DPoP proofs signed beforehand, so the load generator's signing is outside the measure. */
  proofs(count: number, htm: string, htu: string): string[];
  /** Client assertions (RFC 7523) for `POST /oauth/token`, signed beforehand. */
  assertions(count: number): string[];
}

/**
 * Onboards an agent through HTTP (ticket, registration, token) with a funded wallet, a payee and
 * a policy (per-transaction maximum, daily and all-time amount and count limits).
 */
export async function agentSession(url: string, ownerToken: string): Promise<AgentSession & { payeeId: string }> {
  const owner = async (method: string, pathname: string, body: unknown) => {
    const response = await fetch(url + pathname, { method, headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` }, body: JSON.stringify(body) });
    const parsed = (await response.json()) as Record<string, string>;
    if (!response.ok) throw new Error(`${pathname}: ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  const agent = await owner("POST", "/v1/agents", { name: `bench agent ${randomUUID().slice(0, 8)}` });
  const ticket = await owner("POST", "/v1/registration-tickets", { agent_id: agent.id, scopes: ["agents:execute"] });
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const registered = await fetch(`${url}/v1/registrations`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ticket: ticket.ticket, public_key_jwk: jwk }) });
  const registration = (await registered.json()) as Record<string, string>;
  if (!registered.ok) throw new Error(`registration: ${JSON.stringify(registration)}`);
  const es256 = (header: object, payload: object) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const clientId = registration.client_id!;
  const assertions = (count: number) =>
    Array.from({ length: count }, () => es256({ alg: "ES256" }, { iss: clientId, sub: clientId, aud: url, jti: randomUUID(), iat: now(), exp: now() + 240 }));
  const form = new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertions(1)[0]! });
  const granted = (await (await fetch(`${url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form })).json()) as { access_token: string };
  const accessToken = granted.access_token;
  const ath = createHash("sha256").update(accessToken).digest("base64url");
  await owner("POST", `/v1/accounts/${agent.wallet_account_id}/deposits`, { amount: 1e12 });
  const payee = await owner("POST", "/v1/payees", { name: `Bench payee ${randomUUID().slice(0, 8)}`, currency: "GBP" });
  await owner("PUT", `/v1/agents/${agent.id}/policy`, {
    currency: "GBP", per_transaction_max_minor: 10_000, amount_max_minor: { daily: 1e12, all_time: 1e14 }, count_max: { daily: 1e9, all_time: 1e12 },
    allowed_payee_ids: null, blocked_payee_ids: [], allowed_currencies: null, allowed_services: null, approval_threshold_minor: null,
    new_payee_requires_approval: false, approval_expiry_seconds: 3600,
  });
  return {
    agentId: agent.id!,
    walletAccountId: agent.wallet_account_id!,
    clientId,
    accessToken,
    privateKey,
    payeeId: payee.id!,
    proofs: (count, htm, htu) => Array.from({ length: count }, () => es256({ typ: "dpop+jwt", alg: "ES256", jwk }, { jti: randomUUID(), htm, htu, iat: now(), ath })),
    assertions,
  };
}

/** Payment-intent requests of one agent session, proofs signed beforehand. */
export function paymentSender(client: ReturnType<typeof httpClient>, url: string, session: AgentSession & { payeeId: string }, count: number): Send {
  const proof = proofSource(session, "POST", `${url}/v1/payment-intents`);
  const body = JSON.stringify({ payee_id: session.payeeId, amount: 100, currency: "GBP", reference: "bench" });
  void count;
  return async () => {
    await client.ok("POST", "/v1/payment-intents", { authorization: `DPoP ${session.accessToken}`, dpop: proof(), "content-type": "application/json" }, body);
  };
}

/**
 * Fresh DPoP proofs, signed in chunks just before they are needed: a proof's `iat` must be within
 * 60 s of its use, and a slow measure (a loaded machine, a long history) outlasts that.
 */
export function proofSource(session: AgentSession, htm: string, htu: string): () => string {
  let ready: string[] = [];
  return () => {
    if (ready.length === 0) ready = session.proofs(64, htm, htu);
    return ready.pop()!;
  };
}

/** Opens the child's store from this process too (SQLite allows it; the child is idle meanwhile). */
export async function withStore<T>(config: { dataDir: string; databaseUrl: string | null; databaseSchema: string | null }, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Writes `count` settled spends of an agent, spread over the past year, in chunks. */
export async function seedSpends(store: Store, tenantId: string, agentId: string, count: number): Promise<void> {
  const chunk = 5_000;
  const nowMs = Date.now();
  const yearMs = 365 * 24 * 3600 * 1000;
  for (let start = 0; start < count; start += chunk) {
    await store.write(tenantId, async (tx) => {
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        const atMs = nowMs - yearMs + Math.floor((i / count) * (yearMs - 3600_000));
        await tx.insertSpend({ tenantId, id: `tr_seed${agentId.slice(4)}${String(i).padStart(8, "0")}`, agentId, amountMinor: 1, currency: "GBP", payeeId: null, operation: null, atMs, state: "settled" });
      }
    });
  }
}

/** The workloads `servedWorkload` runs (bench/profile.ts, bench/side-by-side.ts). */
export const workloads = ["balance", "pat_proof", "transfer", "batch_100", "payment", "oauth_token"] as const;
export type Workload = (typeof workloads)[number];

/**
 * A fresh store seeded as the targets bench seeds it, a `bursar serve` child on it (SQLite in a
 * temp dir, or a fresh schema when `databaseUrl` is set; `BENCH_BURSAR_BIN` picks the build),
 * and the sender of `workload`'s requests. `stop` closes both.
 */
export async function servedWorkload(workload: Workload, count: number, databaseUrl: string | null): Promise<{ child: ChildProcess; send: Send; stop: () => Promise<void> }> {
  const dataDir = tempDir("workload-data");
  const databaseSchema = databaseUrl ? `bench_workload_${Date.now().toString(36)}` : null;
  const seeded = await withStore({ dataDir, databaseUrl, databaseSchema }, (store) => seedTenant(store, 8));
  const { child, url } = await serveChild(databaseUrl && databaseSchema ? { BURSAR_DATABASE_URL: databaseUrl, BURSAR_DATABASE_SCHEMA: databaseSchema } : { BURSAR_DATA_DIR: dataDir });
  const client = httpClient(url, 64);
  const session = await agentSession(url, seeded.ownerToken);
  const ids = seeded.accountIds;
  const owner = { authorization: `Bearer ${seeded.ownerToken}`, "content-type": "application/json" };
  // Indices run past `count` by the warm-up requests.
  const total = count + warmupRequests;
  const senders: Record<Workload, () => Send> = {
    balance: () => {
      const proofs = session.proofs(total, "GET", `${url}/v1/balance`);
      return async (i) => void (await client.ok("GET", "/v1/balance", { authorization: `DPoP ${session.accessToken}`, dpop: proofs[i]! }));
    },
    pat_proof: () => async (i) => void (await client.ok("GET", `/v1/journal/proofs/inclusion?seq=${1 + (i % 5)}&tree_size=6`, { authorization: `Bearer ${seeded.ownerToken}` })),
    transfer: () => async (i) => void (await client.ok("POST", "/v1/transfers", owner, JSON.stringify({ debit_account_id: ids[i % 8], credit_account_id: ids[(i + 3) % 8], amount: 1, currency: "GBP" }))),
    batch_100: () => async (i) => void (await client.ok("POST", "/v1/transfers", owner, JSON.stringify({ transfers: Array.from({ length: 100 }, (_, k) => ({ debit_account_id: ids[(i + k) % 8], credit_account_id: ids[(i + k + 1) % 8], amount: 1 + k, currency: "GBP" })) }))),
    payment: () => paymentSender(client, url, session, total),
    oauth_token: () => {
      const assertions = session.assertions(total);
      return async (i) => void (await client.ok("POST", "/oauth/token", { "content-type": "application/x-www-form-urlencoded" }, new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertions[i]! }).toString()));
    },
  };
  return { child, send: senders[workload](), stop: async () => (client.close(), await stopChild(child)) };
}

/** The workload named on a command line, or a usage error. */
export function workloadArg(name: string | undefined): Workload {
  const found = workloads.find((workload) => workload === name);
  if (!found) throw new Error(`name a workload: ${workloads.join(", ")}`);
  return found;
}

export { tempDir };
