/**
 * The `targets` section of `npm run bench` (issue 19): server CPU per request as a multiple of
 * one ES256 verification measured in the same run, beside the previous figures of
 * bench/baseline.json and the target.
 *
 * Adding a row: push one more `TargetRow` from a measure below (key, label, the measured
 * `LoadResult`, and the target ratio); give it a `baseline.json` entry once it has a figure.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  agentSession,
  es256VerifyMicros,
  floorChild,
  httpClient,
  measureLoad,
  paymentSender,
  seedSpends,
  seedTenant,
  serveChild,
  stopChild,
  tempDir,
  warmupRequests,
  withStore,
  type LoadResult,
  type Send,
} from "./cpu-targets.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));

export interface TargetRow {
  key: string;
  label: string;
  /** Measured value: a CPU ratio to one ES256 verify, or another figure with `unit`. */
  value: number;
  unit: "x verify" | "ms" | "x" | "/s";
  /** Human-readable target, e.g. "<= 2.0x". */
  target: string;
  met: boolean | null;
  note: string;
}

interface Baseline {
  measured: string;
  rows: Record<string, { value: number; note?: string }>;
}

function readBaseline(): Baseline | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(benchDir, "baseline.json"), "utf8")) as Baseline;
  } catch {
    return null;
  }
}

/** min–max of repeated measures of one figure. */
function range(values: number[], digits = 2): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low.toFixed(digits) === high.toFixed(digits) ? low.toFixed(digits) : `${low.toFixed(digits)}–${high.toFixed(digits)}`;
}

/** Runs `measure` `repeat` times; returns every result (the table shows their range). */
async function repeated(repeat: number, measure: () => Promise<LoadResult>): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (let i = 0; i < repeat; i++) results.push(await measure());
  return results;
}

export interface TargetOptions {
  quick: boolean;
  repeat: number;
  /** PostgreSQL URL for the scale-out rows (skipped when null). */
  databaseUrl: string | null;
  /** Measure keys to run (`BENCH_TARGETS=balance,pat_proof`), or null for all of them. */
  only?: readonly string[] | null;
  log: (line: string) => void;
}

export async function runTargets(options: TargetOptions): Promise<TargetRow[]> {
  const { quick, repeat, log } = options;
  const n = (full: number, short: number) => (quick ? short : full);
  const wants = (...keys: string[]) => !options.only || keys.some((key) => options.only!.includes(key));
  const verifies: number[] = [es256VerifyMicros(n(2000, 800))];
  log(`  ES256 verify: ${verifies[0]!.toFixed(1)} µs`);
  const results = new Map<string, LoadResult[]>();
  const put = (key: string, measured: LoadResult[]) => {
    results.set(key, measured);
    log(`  ${key}: ${measured.map((m) => `${m.cpuMicros.toFixed(0)} µs cpu, ${m.rate.toFixed(0)}/s, p99 ${m.p99Ms.toFixed(1)} ms`).join(" | ")}`);
  };

  // The floor: a bare Fastify server (bench/floor-server.mjs) under the same load generator. What
  // it costs here is what any request costs before Bursar's code runs (the PAT proof's target is
  // about one such request), and its fsync'd POST shows what one request in flight costs more
  // than 32 on this machine (waking and sleeping per request) for a write that does nothing else.
  if (wants("floor")) {
    const floor = await floorChild(tempDir("floor"));
    const client = httpClient(floor.url, 64);
    try {
      put("floor_get", await repeated(repeat, () => measureLoad([floor.child.pid], n(10_000, 3000), 32, async () => void (await client.ok("GET", "/floor", {})))));
      const commit = async () => void (await client.ok("POST", "/floor/commit", { "content-type": "application/json" }, "{}"));
      put("floor_commit", await repeated(repeat, () => measureLoad([floor.child.pid], n(8000, 2000), 32, commit)));
      put("floor_commit_1", await repeated(repeat, () => measureLoad([floor.child.pid], n(3000, 800), 1, commit)));
    } finally {
      client.close();
      await stopChild(floor.child);
    }
  }

  // One SQLite server for the single-tenant rows.
  if (wants("balance", "transfer", "transfer_1", "batch_100", "pat_proof", "payment", "payment_8", "oauth_token", "spend_pair")) {
    const dataDir = tempDir("targets");
    const seeded = await withStore({ dataDir, databaseUrl: null, databaseSchema: null }, (store) => seedTenant(store, 8));
    const { child, url } = await serveChild({ BURSAR_DATA_DIR: dataDir });
    const client = httpClient(url, 64);
    try {
      const session = await agentSession(url, seeded.ownerToken);
      const ids = seeded.accountIds;
      const ownerHeaders = { authorization: `Bearer ${seeded.ownerToken}`, "content-type": "application/json" };

      const balanceHtu = `${url}/v1/balance`;
      if (wants("balance")) put("balance", await repeated(repeat, async () => {
        const count = n(10_000, 3000);
        const proofs = session.proofs(count + warmupRequests, "GET", balanceHtu);
        return measureLoad([child.pid], count, 32, async (i) => void (await client.ok("GET", "/v1/balance", { authorization: `DPoP ${session.accessToken}`, dpop: proofs[i]! })));
      }));

      const transfer = (i: number) => JSON.stringify({ debit_account_id: ids[i % 8], credit_account_id: ids[(i + 3) % 8], amount: 1 + (i % 100), currency: "GBP" });
      if (wants("transfer")) put("transfer", await repeated(repeat, () => measureLoad([child.pid], n(8000, 2000), 32, async (i) => void (await client.ok("POST", "/v1/transfers", ownerHeaders, transfer(i))))));
      if (wants("transfer_1")) put("transfer_1", await repeated(repeat, () => measureLoad([child.pid], n(3000, 800), 1, async (i) => void (await client.ok("POST", "/v1/transfers", ownerHeaders, transfer(i))))));

      const batchBody = (i: number) => JSON.stringify({ transfers: Array.from({ length: 100 }, (_, k) => ({ debit_account_id: ids[(i + k) % 8], credit_account_id: ids[(i + k + 1) % 8], amount: 1 + k, currency: "GBP" })) });
      if (wants("batch_100")) put("batch_100", await repeated(repeat, async () => {
        const measured = await measureLoad([child.pid], n(300, 100), 8, async (i) => void (await client.ok("POST", "/v1/transfers", ownerHeaders, batchBody(i))), 20);
        return { ...measured, cpuMicros: measured.cpuMicros / 100 };
      }));

      // The journal has grown by every transfer above: prove an old event in today's tree.
      const journal = JSON.parse(await client.ok("GET", "/v1/journal/checkpoint", { authorization: `Bearer ${seeded.ownerToken}` })) as { tree_size: number };
      const proofPath = (i: number) => `/v1/journal/proofs/inclusion?seq=${1 + ((i * 7919) % (journal.tree_size - 1))}&tree_size=${journal.tree_size}`;
      if (wants("pat_proof")) put("pat_proof", await repeated(repeat, () => measureLoad([child.pid], n(10_000, 3000), 32, async (i) => void (await client.ok("GET", proofPath(i), { authorization: `Bearer ${seeded.ownerToken}` })))));

      if (wants("payment")) put("payment", await repeated(repeat, async () => {
        const count = n(4000, 1000);
        return measureLoad([child.pid], count, 32, paymentSender(client, url, session, count + warmupRequests));
      }));
      if (wants("payment_8")) put("payment_8", await repeated(repeat, async () => {
        const count = n(2000, 600);
        return measureLoad([child.pid], count, 8, paymentSender(client, url, session, count + warmupRequests));
      }));

      if (wants("oauth_token")) put("oauth_token", await repeated(repeat, async () => {
        const count = n(3000, 800);
        const assertions = session.assertions(count + warmupRequests);
        const form = (i: number) =>
          new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertions[i]! }).toString();
        return measureLoad([child.pid], count, 32, async (i) => void (await client.ok("POST", "/oauth/token", { "content-type": "application/x-www-form-urlencoded" }, form(i))));
      }));

      // Spend authorizations: authorize, then complete `consumed` for part of the hold (the
      // completion's URL names the authorization, so its proof is signed when the answer arrives).
      const policy = await fetch(`${url}/v1/agents/${session.agentId}/policy`, {
        method: "PUT",
        headers: ownerHeaders,
        body: JSON.stringify({
          currency: "GBP", per_transaction_max_minor: 10_000, amount_max_minor: { daily: 1e12 }, count_max: { daily: 1e9 }, allowed_payee_ids: null, blocked_payee_ids: [],
          allowed_currencies: null, allowed_services: null, approval_threshold_minor: null, new_payee_requires_approval: false, approval_expiry_seconds: 3600,
          allowed_operations: ["openai.*"], operation_limits: { "openai.*": { per_call_max_minor: 5_000, daily_max_minor: 1e12 } },
        }),
      });
      if (!policy.ok) throw new Error(`spend policy: ${policy.status} ${await policy.text()}`);
      const dpopPost = async (pathname: string, body: string) =>
        JSON.parse(await client.ok("POST", pathname, { authorization: `DPoP ${session.accessToken}`, dpop: session.proofs(1, "POST", url + pathname)[0]!, "content-type": "application/json" }, body)) as { id: string };
      if (wants("spend_pair")) put("spend_pair", await repeated(repeat, () =>
        measureLoad([child.pid], n(2000, 500), 32, async () => {
          const authorization = await dpopPost("/v1/spend/authorizations", JSON.stringify({ operation: "openai.chat", amount: 1_000, currency: "GBP" }));
          await dpopPost(`/v1/spend/authorizations/${authorization.id}/complete`, JSON.stringify({ outcome: "consumed", amount: 700 }));
        }, Math.ceil(warmupRequests / 2)),
      ));
    } finally {
      client.close();
      await stopChild(child);
    }
  }

  // Payment CPU against the agent's history: 100 vs 100,000 prior spends under an all-time limit.
  if (wants("payment_history")) {
    const dataDir = tempDir("history");
    const config = { dataDir, databaseUrl: null, databaseSchema: null };
    const seeded = await withStore(config, (store) => seedTenant(store, 1));
    let server = await serveChild({ BURSAR_DATA_DIR: dataDir });
    const short = await agentSession(server.url, seeded.ownerToken);
    const long = await agentSession(server.url, seeded.ownerToken);
    await stopChild(server.child);
    const historyMax = n(100_000, 100_000);
    await withStore(config, async (store) => {
      await seedSpends(store, seeded.tenantId, short.agentId, 100);
      await seedSpends(store, seeded.tenantId, long.agentId, historyMax);
    });
    server = await serveChild({ BURSAR_DATA_DIR: dataDir });
    const client = httpClient(server.url, 32);
    try {
      const count = n(2000, 600);
      const shortResults: LoadResult[] = [];
      const longResults: LoadResult[] = [];
      // Alternated, so that drift on the shared machine affects both alike.
      for (let i = 0; i < Math.max(2, repeat); i++) {
        shortResults.push(await measureLoad([server.child.pid], count, 32, paymentSender(client, server.url, short, count + warmupRequests)));
        longResults.push(await measureLoad([server.child.pid], count, 32, paymentSender(client, server.url, long, count + warmupRequests)));
      }
      put("payment_history_100", shortResults);
      put("payment_history_100k", longResults);
    } finally {
      client.close();
      await stopChild(server.child);
    }
  }

  // Usage over a year (issue 15): GET /v1/usage by day for an agent with 1,000 spends, then one
  // with 100,000, over the same year. The daily rollup (migration 22) makes both read ~365 rows.
  if (wants("usage")) {
    const dataDir = tempDir("usage");
    const config = { dataDir, databaseUrl: null, databaseSchema: null };
    const seeded = await withStore(config, (store) => seedTenant(store, 1));
    let server = await serveChild({ BURSAR_DATA_DIR: dataDir });
    const small = await agentSession(server.url, seeded.ownerToken);
    const large = await agentSession(server.url, seeded.ownerToken);
    await stopChild(server.child);
    await withStore(config, async (store) => {
      await seedSpends(store, seeded.tenantId, small.agentId, 1_000);
      await seedSpends(store, seeded.tenantId, large.agentId, 100_000);
    });
    server = await serveChild({ BURSAR_DATA_DIR: dataDir });
    const client = httpClient(server.url, 8);
    const from = new Date(Date.now() - 366 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const headers = { authorization: `Bearer ${seeded.ownerToken}` };
    const usageSender = (agentId: string): Send => async () => {
      await client.ok("GET", `/v1/usage?agent_id=${agentId}&group_by=day&from=${from}`, headers);
    };
    try {
      const count = n(1000, 300);
      const smallResults: LoadResult[] = [];
      const largeResults: LoadResult[] = [];
      for (let i = 0; i < Math.max(2, repeat); i++) {
        smallResults.push(await measureLoad([server.child.pid], count, 8, usageSender(small.agentId), 200));
        largeResults.push(await measureLoad([server.child.pid], count, 8, usageSender(large.agentId), 200));
      }
      put("usage_1k", smallResults);
      put("usage_100k", largeResults);
    } finally {
      client.close();
      await stopChild(server.child);
    }
  }

  // 4 tenants × 8 clients: one SQLite process, then two processes on one PostgreSQL.
  const scaleOut = async (label: string, env: Array<Record<string, string>>, config: { dataDir: string; databaseUrl: string | null; databaseSchema: string | null }) => {
    const tenants = await withStore(config, async (store) => Promise.all([0, 1, 2, 3].map((t) => seedTenant(store, 1, `bench ${t}`))));
    const servers: Array<Awaited<ReturnType<typeof serveChild>>> = [];
    for (const processEnv of env) servers.push(await serveChild(processEnv));
    const clients = servers.map((server) => httpClient(server.url, 32));
    try {
      const sessions = await Promise.all(tenants.map((tenant, t) => agentSession(servers[t % servers.length]!.url, tenant.ownerToken)));
      return await repeated(repeat, async () => {
        const perTenant = n(1000, 300);
        // Each tenant's 8 clients go to one process (tenants alternate between processes).
        const senders = sessions.map((session, t) => paymentSender(clients[t % servers.length]!, servers[t % servers.length]!.url, session, perTenant + Math.ceil(warmupRequests / 4) + 1));
        return measureLoad(servers.map((server) => server.child.pid), perTenant * 4, 32, (i) => senders[i % 4]!(Math.floor(i / 4)));
      });
    } finally {
      for (const client of clients) client.close();
      for (const server of servers) await stopChild(server.child);
    }
    void label;
  };
  if (wants("tenants_sqlite")) {
    const dataDir = tempDir("scale-sqlite");
    put("tenants_sqlite", await scaleOut("sqlite", [{ BURSAR_DATA_DIR: dataDir }], { dataDir, databaseUrl: null, databaseSchema: null }));
  }
  if (options.databaseUrl && wants("tenants_postgres")) {
    const schema = `bench_${Date.now().toString(36)}`;
    const env = { BURSAR_DATABASE_URL: options.databaseUrl, BURSAR_DATABASE_SCHEMA: schema };
    put("tenants_postgres", await scaleOut("postgres", [env, env], { dataDir: tempDir("scale-pg"), databaseUrl: options.databaseUrl, databaseSchema: schema }));
  }

  verifies.push(es256VerifyMicros(n(2000, 800)));
  const verifyMicros = verifies.reduce((a, b) => a + b, 0) / verifies.length;
  log(`  ES256 verify (mean of start and end): ${verifyMicros.toFixed(1)} µs (${range(verifies, 1)})`);

  const rows: TargetRow[] = [];
  const ratios = (key: string) => (results.get(key) ?? []).map((m) => m.cpuMicros / verifyMicros);
  const cpuRow = (key: string, label: string, targetMax: number | null) => {
    const values = ratios(key);
    if (values.length === 0) return;
    const micros = (results.get(key) ?? []).map((m) => m.cpuMicros);
    rows.push({
      key, label, value: Math.max(...values), unit: "x verify",
      target: targetMax === null ? (key === "oauth_token" ? "keep ahead" : key.startsWith("floor") ? "" : "none yet") : `<= ${targetMax.toFixed(1)}x`,
      met: targetMax === null ? null : Math.max(...values) <= targetMax,
      note: `${range(values)}x; ${range(micros, 0)} µs server CPU`,
    });
  };
  rows.push({ key: "verify", label: "one ES256 verify (node:crypto, this run)", value: verifyMicros, unit: "ms", target: "", met: null, note: `${range(verifies, 1)} µs` });
  rows[rows.length - 1]!.value = verifyMicros / 1000;
  cpuRow("floor_get", "floor: bare Fastify GET, no auth or store (32 clients)", null);
  const floorOne = results.get("floor_commit_1");
  const floorMany = results.get("floor_commit");
  if (floorOne && floorMany) {
    const quotient = Math.max(...floorOne.map((m) => m.cpuMicros)) / Math.min(...floorMany.map((m) => m.cpuMicros));
    const extra = Math.min(...floorOne.map((m) => m.cpuMicros)) - Math.max(...floorMany.map((m) => m.cpuMicros));
    rows.push({ key: "floor_commit_1_vs_32", label: "floor: bare Fastify fsync'd POST, 1 in flight ÷ 32", value: quotient, unit: "x", target: "", met: null, note: `${range(floorOne.map((m) => m.cpuMicros), 0)} µs vs ${range(floorMany.map((m) => m.cpuMicros), 0)} µs: ≥ ${extra.toFixed(0)} µs more per request alone` });
  }
  cpuRow("balance", "DPoP GET /v1/balance (32 clients)", 2.0);
  cpuRow("pat_proof", "PAT journal inclusion proof (32 clients)", 1.0);
  cpuRow("transfer", "owner POST /v1/transfers (32 clients)", 2.0);
  cpuRow("batch_100", "batch of 100 transfers, per transfer", 0.3);
  cpuRow("payment", "durable payment intent (32 clients)", 4.0);
  cpuRow("oauth_token", "POST /oauth/token (32 clients)", null);
  cpuRow("spend_pair", "spend authorize + complete pair (32 clients; two requests, CPU per pair)", null);
  const latency = results.get("payment_8");
  if (latency) {
    const p99 = latency.map((m) => m.p99Ms);
    rows.push({ key: "payment_8_p99", label: "payment intent p99, 8 in flight", value: Math.max(...p99), unit: "ms", target: "<= 10 ms", met: Math.max(...p99) <= 10, note: `${range(p99)} ms; ${range(ratios("payment_8"))}x verify` });
  }
  const one = results.get("transfer_1");
  const many = results.get("transfer");
  if (one && many) {
    const quotient = Math.max(...one.map((m) => m.cpuMicros)) / Math.min(...many.map((m) => m.cpuMicros));
    rows.push({ key: "transfer_1_vs_32", label: "transfer CPU, 1 in flight ÷ 32 in flight", value: quotient, unit: "x", target: "<= 1.2x", met: quotient <= 1.2, note: `${range(one.map((m) => m.cpuMicros), 0)} µs vs ${range(many.map((m) => m.cpuMicros), 0)} µs` });
  }
  const short = results.get("payment_history_100");
  const long = results.get("payment_history_100k");
  if (short && long) {
    const quotient = Math.min(...long.map((m) => m.cpuMicros)) / Math.min(...short.map((m) => m.cpuMicros));
    rows.push({ key: "payment_history", label: "payment CPU, 100,000 prior spends ÷ 100 (all-time limit)", value: quotient, unit: "x", target: "<= 1.2x", met: quotient <= 1.2, note: `best of each: ${range(long.map((m) => m.cpuMicros), 0)} µs vs ${range(short.map((m) => m.cpuMicros), 0)} µs` });
  }
  const usageSmall = results.get("usage_1k");
  const usageLarge = results.get("usage_100k");
  if (usageSmall && usageLarge) {
    const quotient = Math.min(...usageLarge.map((m) => m.cpuMicros)) / Math.min(...usageSmall.map((m) => m.cpuMicros));
    rows.push({ key: "usage_history", label: "GET /v1/usage by day over a year, 100,000 spends ÷ 1,000", value: quotient, unit: "x", target: "<= 1.2x", met: quotient <= 1.2, note: `best of each: ${range(usageLarge.map((m) => m.cpuMicros), 0)} µs vs ${range(usageSmall.map((m) => m.cpuMicros), 0)} µs; p50 ${range(usageLarge.map((m) => m.p50Ms))} vs ${range(usageSmall.map((m) => m.p50Ms))} ms` });
  }
  const sqlite = results.get("tenants_sqlite");
  const postgres = results.get("tenants_postgres");
  if (sqlite) {
    rows.push({ key: "tenants_sqlite_rate", label: "payment intents/s, 4 tenants x 8 clients, SQLite, 1 process", value: Math.max(...sqlite.map((m) => m.rate)), unit: "/s", target: "", met: null, note: `${range(sqlite.map((m) => m.rate), 0)}/s; ${range(ratios("tenants_sqlite"))}x verify CPU per intent` });
  }
  if (sqlite && postgres) {
    const rate = Math.max(...postgres.map((m) => m.rate)) / Math.max(...sqlite.map((m) => m.rate));
    rows.push({ key: "tenants_postgres_rate", label: "PostgreSQL (2 processes) intents/s ÷ SQLite's", value: rate, unit: "x", target: ">= 0.5x", met: rate >= 0.5, note: `${range(postgres.map((m) => m.rate), 0)}/s` });
    const cpu = Math.min(...postgres.map((m) => m.cpuMicros)) / Math.min(...sqlite.map((m) => m.cpuMicros));
    rows.push({ key: "tenants_postgres_cpu", label: "PostgreSQL server CPU per intent ÷ SQLite's", value: cpu, unit: "x", target: "<= 1.5x", met: cpu <= 1.5, note: `${range(postgres.map((m) => m.cpuMicros), 0)} µs (server processes only, not the database's)` });
  }
  return rows;
}

/** The table: measure, previous (baseline.json), now, target, met. */
export function formatTargets(rows: TargetRow[]): string {
  const baseline = readBaseline();
  const format = (value: number, unit: TargetRow["unit"]) => (unit === "x verify" || unit === "x" ? `${value.toFixed(2)}x` : unit === "ms" ? `${value.toFixed(2)} ms` : value.toFixed(0));
  const table = rows.map((row) => {
    const previous = baseline?.rows[row.key];
    return [row.label, previous ? format(previous.value, row.unit) : "", format(row.value, row.unit), row.target, row.met === null ? "" : row.met ? "met" : "NOT met", row.note];
  });
  const header = ["target (server CPU ÷ one ES256 verify unless stated)", `before (${baseline?.measured ?? "no baseline"})`, "now", "target", "", "note"];
  const widths = header.map((cell, i) => Math.max(cell.length, ...table.map((line) => line[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |\n`;
  return line(header) + line(widths.map((w) => "-".repeat(w))) + table.map(line).join("");
}

/** bench/baseline.json from this run's rows (BENCH_WRITE_BASELINE=1). */
export function baselineOf(rows: TargetRow[], measured: string): Baseline {
  return { measured, rows: Object.fromEntries(rows.map((row) => [row.key, { value: Number(row.value.toFixed(4)), note: row.note }])) };
}
