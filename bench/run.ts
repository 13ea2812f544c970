/**
 * `npm run bench`: Bursar's performance figures, measured in one run on this machine and printed
 * as a table. Targets are ratios within the run (the machine is shared and noisy):
 * - durable HTTP transfers/s ≥ 3 × the single-row `synchronous=FULL` SQLite commit rate;
 * - proof generation at 10^6 journal entries within 2 × its time at 10^3;
 * - DPoP-authenticated `GET /v1/balance` requests/s ≥ 0.6 × the single-core ES256 verify rate,
 *   per server core (the server is one Node process: one core for JavaScript);
 * - durable payment intents/s (DPoP, policy-checked, held, executed on the sandbox rail,
 *   journaled) ≥ 0.4 × that verify rate per server core, with p50/p99 at 32 clients;
 * - durable spend authorize+complete pairs/s and server CPU per pair, beside the payment intent's.
 * Set BENCH_QUICK=1 for a short run (smaller journal, fewer requests); BENCH_ONLY=targets runs one
 * section, and BENCH_TARGETS=balance,pat_proof some measures of the targets section only.
 */
import { spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomUUID, sign, verify } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import {
  appendEvent,
  consistencyProof,
  createAccount,
  createPersonalAccessToken,
  createTenant,
  createTransfers,
  createWebhookEndpoint,
  deposit,
  generateJournalKeyPair,
  inclusionProof,
  leafHash,
  newId,
  nodeHash,
  rootHash,
  type Store,
  type TreeNode,
} from "@bursar/core";
import { loadConfig, openStore, startServer } from "@bursar/server";
import { cpuSecondsOf, serveChild as serveChildWith } from "./cpu-targets.js";
import { baselineOf, formatTargets, runTargets, type TargetRow } from "./targets.js";

const quick = process.env.BENCH_QUICK === "1";
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const rows: Array<{ measure: string; value: string; note: string }> = [];
const record = (measure: string, value: string, note = "") => {
  rows.push({ measure, value, note });
  process.stderr.write(`  ${measure}: ${value} ${note}\n`);
};
const tempDir = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `bursar-bench-${label}-`));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Runs `task(0..count-1)` with `concurrency` in flight; returns the elapsed milliseconds. */
async function runConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return performance.now() - start;
}

/** The bound: one row per durable commit, as a naive server would do per request. */
function singleRowCommitRate(durationMs: number): number {
  const dir = tempDir("fsync");
  const db = new Database(path.join(dir, "baseline.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  let commits = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    insert.run("x".repeat(100));
    commits++;
  }
  const rate = commits / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

async function setupLedger(store: Store, accounts: number) {
  const { tenant, ownerToken } = await store.write(null, (tx) => createTenant(tx, { name: "bench", ownerName: "bench", nowMs: Date.now() }));
  const tenantId = tenant.id;
  const context = (tx: Parameters<Parameters<Store["write"]>[1]>[0]) => ({ tx, tenantId, nowMs: Date.now(), actor: { type: "system", id: "bench" } as const });
  const ids = await store.write(tenantId, async (tx) => {
    const created: string[] = [];
    for (let i = 0; i < accounts; i++) {
      const account = await createAccount(context(tx), { currency: "GBP", kind: "wallet" });
      if (!account.ok) throw new Error(account.detail);
      const funded = await deposit(context(tx), { accountId: account.value.id, amountMinor: 10 ** 12 });
      if (!funded.ok) throw new Error(funded.detail);
      created.push(account.value.id);
    }
    return created;
  });
  return { tenantId, ids, context, token: ownerToken };
}

async function directTransfers(count: number, concurrency: number) {
  const store = await openStore({ dataDir: tempDir("direct"), databaseUrl: null, databaseSchema: null });
  const { tenantId, ids, context } = await setupLedger(store, 8);
  const elapsedMs = await runConcurrently(count, concurrency, async (i) => {
    const result = await store.write(tenantId, (tx) =>
      createTransfers(context(tx), [{ debitAccountId: ids[i % 8]!, creditAccountId: ids[(i + 1) % 8]!, amountMinor: 1 + (i % 100), currency: "GBP" }]),
    );
    if (!result.ok) throw new Error(result.detail);
  });
  const rate = count / (elapsedMs / 1000);
  const stats = (store as unknown as { stats?: { commits: number; operations: number } }).stats;
  await store.close();
  return { rate, opsPerCommit: stats && stats.commits > 0 ? stats.operations / stats.commits : null };
}

/** `bursar serve` as a child process on the data dir (rate limits lifted: see cpu-targets.ts). */
const serveChild = (dataDir: string) => serveChildWith({ BURSAR_DATA_DIR: dataDir });

async function httpTransfers(count: number, concurrency: number) {
  const dataDir = tempDir("http");
  const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
  const { ids, token } = await setupLedger(bootstrap, 8);
  await bootstrap.close();

  const { child, url } = await serveChild(dataDir);
  // node:http with keep-alive: fetch costs the client several times more CPU per request, and
  // on a 2-core machine the load generator's CPU is the server's competitor.
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const send = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ debit_account_id: ids[i % 8], credit_account_id: ids[(i + 3) % 8], amount: 1 + (i % 100), currency: "GBP" });
      const request = http.request(
        `${url}/v1/transfers`,
        { method: "POST", agent, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () => (response.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${response.statusCode}: ${text}`))));
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  // Warm-up: JIT and caches of the fresh server process, outside the timed window.
  await runConcurrently(1000, 16, send);
  const latencies: number[] = [];
  const elapsedMs = await runConcurrently(count, concurrency, async (i) => {
    const t0 = performance.now();
    await send(i);
    latencies.push(performance.now() - t0);
  });
  const rate = count / (elapsedMs / 1000);
  child.kill("SIGTERM");
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rate, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Builds a journal of `size` synthetic leaves straight into the tree tables, level by level. */
async function buildJournal(store: Store, tenantId: string, size: number) {
  const chunk = 20_000;
  let level: Uint8Array[] = [];
  for (let i = 0; i < size; i++) level.push(leafHash(new TextEncoder().encode(`synthetic event ${i}`)));
  for (let height = 0; level.length > 0; height++) {
    const nodes: TreeNode[] = level.map((hash, index) => ({ level: height, index, hash }));
    for (let i = 0; i < nodes.length; i += chunk) await store.write(tenantId, (tx) => tx.putTreeNodes(tenantId, nodes.slice(i, i + chunk)));
    const parents: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) parents.push(nodeHash(level[i]!, level[i + 1]!));
    level = parents;
  }
  await store.write(tenantId, (tx) => tx.setJournalSize(tenantId, size));
}

async function journalAtSize(size: number, samples: number) {
  const store = await openStore({ dataDir: tempDir(`journal-${size}`), databaseUrl: null, databaseSchema: null });
  // A bare tenant row (no bootstrap events), so the journal has exactly `size` leaves.
  const keys = generateJournalKeyPair();
  const tenant = { id: newId("ten"), name: "journal bench", journalPrivateKeyPkcs8: keys.privateKeyPkcs8, journalPublicKey: keys.publicKey, journalSize: 0, createdAtMs: Date.now() };
  await store.write(null, (tx) => tx.insertTenant(tenant));
  const buildStart = performance.now();
  await buildJournal(store, tenant.id, size);
  const buildMs = performance.now() - buildStart;
  const read = (keys: Parameters<Store["read"]["getTreeNodes"]>[1]) => store.read.getTreeNodes(tenant.id, keys);

  // Proofs for random leaves and sizes. Each measure runs once untimed first, so that both sizes
  // are measured with warm caches (JIT, SQLite page cache, mapped pages), not their first touch.
  const inclusion = async () => {
    await inclusionProof(read, Math.floor(Math.random() * size), size);
    await rootHash(read, size);
  };
  const consistency = () => consistencyProof(read, 1 + Math.floor(Math.random() * (size - 1)), size);
  const timePerCall = async (task: () => Promise<unknown>) => {
    for (let i = 0; i < samples; i++) await task();
    const start = performance.now();
    for (let i = 0; i < samples; i++) await task();
    return (performance.now() - start) / samples;
  };
  const inclusionMs = await timePerCall(inclusion);
  const consistencyMs = await timePerCall(consistency);

  // Appends: one event per durable write, sequentially (latency of one append incl. commit).
  const t0 = performance.now();
  const appends = Math.min(samples, 500);
  for (let i = 0; i < appends; i++) {
    await store.write(tenant.id, (tx) => appendEvent({ tx, tenantId: tenant.id, nowMs: Date.now(), actor: { type: "system", id: "bench" } }, "tenant.created", { i }));
  }
  const appendMs = (performance.now() - t0) / appends;
  await store.close();
  return { buildMs, inclusionMs, consistencyMs, appendMs };
}

/** A server in this process on a fresh SQLite store, with a tenant. */
async function eventsServer(extra: Record<string, unknown> = {}) {
  const config = loadConfig({ dataDir: tempDir("events"), databaseUrl: null, databaseSchema: null, host: "127.0.0.1", port: 0, logLevel: "silent", ...extra });
  const server = await startServer(config);
  const { tenant, ownerToken, owner } = await server.store.write(null, (tx) => createTenant(tx, { name: "bench", ownerName: "bench", nowMs: Date.now() }));
  /** Another owner token (streams are bounded per credential). */
  const mintToken = async () =>
    (await server.store.write(tenant.id, (tx) =>
      createPersonalAccessToken({ tx, tenantId: tenant.id, nowMs: Date.now(), actor: { type: "system", id: "bench" } }, { userId: owner.id, name: "bench", scopes: ["events:read"] }),
    )).token;
  const append = (count: number, concurrency: number) =>
    runConcurrently(count, concurrency, async (i) => {
      // A registered type (appendEvent refuses others) that the tenant's bootstrap never writes.
      await server.store.write(tenant.id, (tx) => appendEvent({ tx, tenantId: tenant.id, nowMs: Date.now(), actor: { type: "system", id: "bench" } }, "transfer.posted", { i }));
    });
  return { server, tenantId: tenant.id, token: ownerToken, mintToken, append };
}

/** Events appended (one durable write each) while 100 SSE subscribers receive every one. */
async function streamFanOut(events: number, subscribers: number) {
  const { server, mintToken, append } = await eventsServer();
  // Streams are bounded per credential (eventStreamsPerCredentialMax): one token per 10.
  const tokens: string[] = [];
  for (let i = 0; i < Math.ceil(subscribers / 10); i++) tokens.push(await mintToken());
  const agent = new http.Agent({ keepAlive: false, maxSockets: subscribers + 8 });
  const received = new Array<number>(subscribers).fill(0);
  const requests: http.ClientRequest[] = [];
  await Promise.all(
    Array.from({ length: subscribers }, (_, index) =>
      new Promise<void>((resolve, reject) => {
        const headers = { authorization: `Bearer ${tokens[Math.floor(index / 10)]}` };
        const request = http.get(`${server.url}/v1/events/stream?type=transfer.*`, { agent, headers }, (response) => {
          if (response.statusCode !== 200) return reject(new Error(`stream ${response.statusCode}`));
          response.setEncoding("utf8");
          let buffered = "";
          response.on("data", (chunk: string) => {
            const messages = (buffered + chunk).split("\n\n");
            buffered = messages.pop()!;
            for (const message of messages) if (message.includes("event: transfer.posted")) received[index]! += 1;
          });
          resolve();
        });
        request.on("error", () => undefined);
        requests.push(request);
      }),
    ),
  );
  const start = performance.now();
  const appendMs = await append(events, 64);
  while (received.some((count) => count < events)) await new Promise((resolve) => setTimeout(resolve, 5));
  const totalMs = performance.now() - start;
  for (const request of requests) request.destroy();
  agent.destroy();
  await server.close();
  return { appendRate: events / (appendMs / 1000), fanOutRate: (events * subscribers) / (totalMs / 1000), totalMs };
}

/** Webhook deliveries per second to a receiver on loopback (server opted in to private targets). */
async function webhookThroughput(events: number) {
  const { server, tenantId, append } = await eventsServer({ allowPrivateWebhookTargets: true, webhookPollIntervalMs: 10 });
  let delivered = 0;
  const receiver = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      delivered++;
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as { port: number }).port;
  await server.store.write(tenantId, (tx) =>
    createWebhookEndpoint({ tx, tenantId, nowMs: Date.now(), actor: { type: "system", id: "bench" } }, { url: `http://127.0.0.1:${port}/hook`, eventTypes: ["transfer.*"] }),
  );
  const start = performance.now();
  await append(events, 64);
  while (delivered < events) await new Promise((resolve) => setTimeout(resolve, 5));
  const totalMs = performance.now() - start;
  await server.close();
  receiver.closeAllConnections();
  receiver.close();
  return { rate: events / (totalMs / 1000) };
}

/** The bound: ES256 signature verifications per second on one core (node:crypto, P1363). */
function es256VerifyRate(durationMs: number): number {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const input = Buffer.from("eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJqdGkiOiJ4In0");
  const signature = sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    if (!verify("sha256", input, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)) throw new Error("verify failed");
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An onboarded agent of a `bursar serve` child: a DPoP-bound token and a proof signer. */
async function agentSession(url: string, ownerToken: string) {
  const json = async (pathname: string, body: unknown, token?: string) => {
    const response = await fetch(url + pathname, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const parsed = (await response.json()) as Record<string, string>;
    if (!response.ok) throw new Error(`${pathname}: ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  const agent = await json("/v1/agents", { name: "bench agent" }, ownerToken);
  const ticket = await json("/v1/registration-tickets", { agent_id: agent.id, scopes: ["agents:execute"] }, ownerToken);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const registration = await json("/v1/registrations", { ticket: ticket.ticket, public_key_jwk: jwk });
  const es256 = (header: object, payload: object) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const assertion = es256({ alg: "ES256" }, { iss: registration.client_id, sub: registration.client_id, aud: url, jti: randomUUID(), iat: now(), exp: now() + 60 });
  const form = new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion });
  const granted = (await (await fetch(`${url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form })).json()) as { access_token: string };
  const accessToken = granted.access_token;
  const ath = createHash("sha256").update(accessToken).digest("base64url");
  return {
    agent,
    json,
    accessToken,
    /** Proofs signed beforehand, so the load generator's signing is not measured. */
    proofs: (count: number, htm: string, htu: string) => Array.from({ length: count }, () => es256({ typ: "dpop+jwt", alg: "ES256", jwk }, { jti: randomUUID(), htm, htu, iat: now(), ath })),
  };
}

/**
 * Sends DPoP requests from `concurrency` keep-alive clients (the first 200 proofs warm up) and
 * measures throughput, latency and the server's CPU use.
 */
async function dpopLoad(child: ReturnType<typeof spawn>, accessToken: string, method: string, htu: string, body: string | null, proofs: string[], concurrency: number) {
  const count = proofs.length - 200;
  const agentPool = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(htu);
  const latencies: number[] = [];
  const send = (proof: string) =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const headers: Record<string, string> = { authorization: `DPoP ${accessToken}`, dpop: proof, ...(body ? { "content-type": "application/json" } : {}) };
      const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method, agent: agentPool, headers }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => {
          latencies.push(performance.now() - started);
          return response.statusCode! < 300 ? resolve() : reject(new Error(`HTTP ${response.statusCode} ${text}`));
        });
      });
      request.on("error", reject);
      request.end(body ?? undefined);
    });
  for (let i = 0; i < 200; i++) await send(proofs[count + i]!); // warm-up
  latencies.length = 0;
  let next = 0;
  const cpuBefore = cpuSecondsOf(child.pid);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await send(proofs[next++]!);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter = cpuSecondsOf(child.pid);
  agentPool.destroy();
  const serverCores = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / seconds;
  latencies.sort((x, y) => x - y);
  return { rate: count / seconds, perCore: serverCores ? count / seconds / serverCores : null, serverCores, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** A `bursar serve` child on a fresh SQLite file with a tenant, its owner token and a funded wallet. */
async function benchServer(label: string) {
  const dataDir = tempDir(label);
  const bootstrap = await openStore({ dataDir, databaseUrl: null, databaseSchema: null });
  const { token: ownerToken } = await setupLedger(bootstrap, 1);
  await bootstrap.close();
  return { ...(await serveChild(dataDir)), ownerToken };
}

/** DPoP-authenticated `GET /v1/balance` through a `bursar serve` child. */
async function dpopBalance(count: number, concurrency: number) {
  const { child, url, ownerToken } = await benchServer("dpop");
  try {
    const session = await agentSession(url, ownerToken);
    const htu = `${url}/v1/balance`;
    return await dpopLoad(child, session.accessToken, "GET", htu, null, session.proofs(count + 200, "GET", htu), concurrency);
  } finally {
    child.kill("SIGTERM");
  }
}

/**
 * Durable payment intents: DPoP-authenticated, policy-checked (per-transaction maximum, daily
 * amount and count limits, so the spend sums are read), held, executed on the sandbox rail and
 * journaled, one intent per request.
 */
async function dpopPayments(count: number, concurrency: number) {
  const { child, url, ownerToken } = await benchServer("payments");
  try {
    const session = await agentSession(url, ownerToken);
    const owner = (method: string, pathname: string, body: unknown) =>
      fetch(url + pathname, { method, headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` }, body: JSON.stringify(body) }).then(async (response) => {
        if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
        return (await response.json()) as Record<string, string>;
      });
    await owner("POST", `/v1/accounts/${session.agent.wallet_account_id}/deposits`, { amount: 1e12 });
    const payee = await owner("POST", "/v1/payees", { name: "Bench payee", currency: "GBP" });
    await owner("PUT", `/v1/agents/${session.agent.id}/policy`, {
      currency: "GBP", per_transaction_max_minor: 10_000, amount_max_minor: { daily: 1e12 }, count_max: { daily: 1e9 }, allowed_payee_ids: null, blocked_payee_ids: [],
      allowed_currencies: null, allowed_services: null, approval_threshold_minor: null, new_payee_requires_approval: false, approval_expiry_seconds: 3600,
    });
    const htu = `${url}/v1/payment-intents`;
    const body = JSON.stringify({ payee_id: payee.id, amount: 100, currency: "GBP", reference: "bench" });
    return await dpopLoad(child, session.accessToken, "POST", htu, body, session.proofs(count + 200, "POST", htu), concurrency);
  } finally {
    child.kill("SIGTERM");
  }
}

/**
 * Durable spend authorization pairs: authorize (policy-checked, held towards the vendor's account,
 * journaled) then complete `consumed` for part of the hold, each request DPoP-authenticated.
 * The completion's URL names the authorization, so its proof is signed when the answer arrives
 * (the load generator's signing is on its own CPU, not the server's).
 */
async function dpopSpendPairs(count: number, concurrency: number) {
  const { child, url, ownerToken } = await benchServer("spend");
  try {
    const session = await agentSession(url, ownerToken);
    await session.json(`/v1/accounts/${session.agent.wallet_account_id}/deposits`, { amount: 1e12 }, ownerToken);
    const policy = {
      currency: "GBP", per_transaction_max_minor: 10_000, amount_max_minor: { daily: 1e12 }, count_max: { daily: 1e9 }, allowed_payee_ids: null, blocked_payee_ids: [],
      allowed_currencies: null, allowed_services: null, approval_threshold_minor: null, new_payee_requires_approval: false, approval_expiry_seconds: 3600,
      allowed_operations: ["openai.*"], operation_limits: { "openai.*": { per_call_max_minor: 5_000, daily_max_minor: 1e12 } },
    };
    const put = await fetch(`${url}/v1/agents/${session.agent.id}/policy`, { method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` }, body: JSON.stringify(policy) });
    if (!put.ok) throw new Error(`policy: ${put.status} ${await put.text()}`);
    const agentPool = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const post = (pathname: string, body: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const headers = { authorization: `DPoP ${session.accessToken}`, dpop: session.proofs(1, "POST", url + pathname)[0]!, "content-type": "application/json" };
        const target = new URL(url);
        const request = http.request({ host: target.hostname, port: target.port, path: pathname, method: "POST", agent: agentPool, headers }, (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () => (response.statusCode! < 300 ? resolve(JSON.parse(text) as Record<string, unknown>) : reject(new Error(`HTTP ${response.statusCode} ${text}`))));
        });
        request.on("error", reject);
        request.end(body);
      });
    const authorizeBody = JSON.stringify({ operation: "openai.chat", amount: 1_000, currency: "GBP" });
    const completeBody = JSON.stringify({ outcome: "consumed", amount: 700 });
    const pair = async () => {
      const authorization = await post("/v1/spend/authorizations", authorizeBody);
      if (authorization.status !== "authorized") throw new Error(`not authorized: ${JSON.stringify(authorization)}`);
      await post(`/v1/spend/authorizations/${String(authorization.id)}/complete`, completeBody);
    };
    for (let i = 0; i < 100; i++) await pair(); // warm-up
    const latencies: number[] = [];
    let next = 0;
    const cpuBefore = cpuSecondsOf(child.pid);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < count) {
          const started = performance.now();
          await pair();
          latencies.push(performance.now() - started);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const cpuAfter = cpuSecondsOf(child.pid);
    agentPool.destroy();
    latencies.sort((x, y) => x - y);
    const cpuPerPairMs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / count;
    return { rate: count / seconds, cpuPerPairMs, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    child.kill("SIGTERM");
  }
}

/** `BENCH_ONLY=http,journal` runs some sections only (store, http, dpop, payments, targets, journal, events). */
const only = process.env.BENCH_ONLY?.split(",") ?? null;
const runs = (section: string) => !only || only.includes(section);

async function main() {
  process.stderr.write(`Bursar bench (${quick ? "quick" : "full"}) on ${os.cpus().length} cores, Node ${process.version}\n`);
  const baseline = singleRowCommitRate(quick ? 1000 : 3000);
  record("single-row FULL-sync SQLite commits/s (bound)", baseline.toFixed(0));

  if (runs("store")) {
    const single = await directTransfers(quick ? 500 : 2000, 1);
    record("durable transfers/s through the store, one per commit", single.rate.toFixed(0), `${(single.rate / baseline).toFixed(2)}x the bound`);
    const direct = await directTransfers(quick ? 2000 : 10_000, 256);
    record(
      "durable transfers/s through the store, 256 in flight",
      direct.rate.toFixed(0),
      `${(direct.rate / baseline).toFixed(2)}x the bound, ${(direct.rate / single.rate).toFixed(2)}x one per commit${direct.opsPerCommit ? `, ${direct.opsPerCommit.toFixed(1)} ops/commit` : ""}`,
    );
  }

  if (runs("http")) {
    const http = await httpTransfers(quick ? 2000 : 8000, 64);
    record("durable transfers/s through HTTP (64 clients)", http.rate.toFixed(0), `${(http.rate / baseline).toFixed(2)}x the bound (target >= 3x)`);
    record("HTTP transfer latency p50", ms(http.p50));
    record("HTTP transfer latency p99", ms(http.p99));
  }

  const verifyRate = runs("dpop") || runs("payments") ? es256VerifyRate(quick ? 1000 : 3000) : 0;
  if (verifyRate) record("ES256 verifies/s, one core (node:crypto; bound)", verifyRate.toFixed(0));
  if (runs("dpop")) {
    const dpop = await dpopBalance(quick ? 4000 : 20_000, 32);
    record("DPoP GET /v1/balance requests/s (32 clients)", dpop.rate.toFixed(0), dpop.serverCores === null ? "" : `server busy ${dpop.serverCores.toFixed(2)} cores`);
    if (dpop.perCore !== null) {
      record("DPoP GET /v1/balance requests/s per server core", dpop.perCore.toFixed(0), `${(dpop.perCore / verifyRate).toFixed(2)}x the ES256 verify rate (target >= 0.6x)`);
    }
  }

  if (runs("payments")) {
    const payments = await dpopPayments(quick ? 1000 : 5000, 32);
    record("durable payment intents/s (DPoP, policy, hold, sandbox rail; 32 clients)", payments.rate.toFixed(0), payments.serverCores === null ? "" : `server busy ${payments.serverCores.toFixed(2)} cores`);
    if (payments.perCore !== null) {
      record("durable payment intents/s per server core", payments.perCore.toFixed(0), `${(payments.perCore / verifyRate).toFixed(2)}x the ES256 verify rate (target >= 0.4x)`);
    }
    record("payment intent latency p50", ms(payments.p50));
    record("payment intent latency p99", ms(payments.p99));
    const intentCpuMs = payments.perCore === null ? null : 1000 / payments.perCore;
    if (intentCpuMs !== null) record("server CPU per durable payment intent", ms(intentCpuMs), `${(intentCpuMs / (1000 / verifyRate)).toFixed(1)}x one ES256 verify`);

    const pairs = await dpopSpendPairs(quick ? 500 : 2500, 32);
    record("durable spend authorize+complete pairs/s (DPoP, policy, hold, partial capture; 32 clients)", pairs.rate.toFixed(0), "two requests per pair");
    if (pairs.cpuPerPairMs !== null) {
      const relative = intentCpuMs === null ? "" : `, ${(pairs.cpuPerPairMs / intentCpuMs).toFixed(2)}x a payment intent`;
      record("server CPU per spend authorize+complete pair", ms(pairs.cpuPerPairMs), `${(pairs.cpuPerPairMs / (1000 / verifyRate)).toFixed(1)}x one ES256 verify${relative}`);
    }
    record("spend pair latency p50 (both requests)", ms(pairs.p50));
    record("spend pair latency p99 (both requests)", ms(pairs.p99));
  }

  let targets: TargetRow[] = [];
  if (runs("targets")) {
    const repeat = Number(process.env.BENCH_REPEAT ?? (quick ? 1 : 2));
    const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.BURSAR_TEST_DATABASE_URL ?? null;
    const only = process.env.BENCH_TARGETS?.split(",") ?? null;
    targets = await runTargets({ quick, repeat, databaseUrl, only, log: (line) => process.stderr.write(`${line}\n`) });
    if (process.env.BENCH_WRITE_BASELINE === "1") {
      fs.writeFileSync(path.join(repoRoot, "bench/baseline.json"), `${JSON.stringify(baselineOf(targets, new Date().toISOString().slice(0, 10)), null, 2)}\n`);
    }
  }

  if (runs("journal")) {
    const small = await journalAtSize(1000, 2000);
    const largeSize = quick ? 100_000 : 1_000_000;
    const large = await journalAtSize(largeSize, 2000);
    const size = largeSize.toExponential(0).replace("e+", "e");
    record("journal append (one durable write) at 1e3", ms(small.appendMs));
    record(`journal append (one durable write) at ${size}`, ms(large.appendMs));
    record("inclusion proof + root at 1e3", ms(small.inclusionMs));
    record(`inclusion proof + root at ${size}`, ms(large.inclusionMs), `${(large.inclusionMs / small.inclusionMs).toFixed(2)}x (target <= 2x)`);
    record("consistency proof at 1e3", ms(small.consistencyMs));
    record(`consistency proof at ${size}`, ms(large.consistencyMs), `${(large.consistencyMs / small.consistencyMs).toFixed(2)}x (target <= 2x)`);
    record(`journal build of ${size} leaves (bench setup)`, `${(large.buildMs / 1000).toFixed(1)} s`);
  }

  if (runs("events")) {
    const subscribers = 100;
    const fanOut = await streamFanOut(quick ? 500 : 2000, subscribers);
    record(`events/s appended with ${subscribers} SSE subscribers`, fanOut.appendRate.toFixed(0), "one durable write per event");
    record(`SSE messages/s fanned out to ${subscribers} subscribers`, fanOut.fanOutRate.toFixed(0), `every event to every subscriber in ${(fanOut.totalMs / 1000).toFixed(2)} s`);
    const webhooks = await webhookThroughput(quick ? 300 : 1000);
    record("webhook deliveries/s to a loopback receiver", webhooks.rate.toFixed(0), "signed, one request per event, in order per endpoint");
  }

  const width = Math.max(...rows.map((r) => r.measure.length));
  const valueWidth = Math.max(...rows.map((r) => r.value.length));
  process.stdout.write(`\n| ${"measure".padEnd(width)} | ${"value".padStart(valueWidth)} | note\n|${"-".repeat(width + 2)}|${"-".repeat(valueWidth + 2)}|------\n`);
  for (const row of rows) process.stdout.write(`| ${row.measure.padEnd(width)} | ${row.value.padStart(valueWidth)} | ${row.note}\n`);
  if (targets.length > 0) process.stdout.write(`\n${formatTargets(targets)}`);
}

await main();
