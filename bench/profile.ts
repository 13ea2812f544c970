/**
 * A CPU profile of a `bursar serve` child under one workload of the targets bench:
 * `npx tsx bench/profile.ts <balance|pat_proof|transfer|batch_100|payment|oauth_token> [count] [concurrency] [dir]`.
 * Writes the child's .cpuprofile into `dir` (default a temp dir) and prints its path. With
 * `BENCH_DATABASE_URL` set the child runs on PostgreSQL (a fresh schema) instead of SQLite.
 */
import fs from "node:fs";
import { agentSession, httpClient, measureLoad, paymentSender, seedTenant, serveChild, stopChild, tempDir, warmupRequests, withStore } from "./cpu-targets.js";

const [workload = "payment", countText = "2000", concurrencyText = "32", dirArg] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const profileDir = dirArg ?? tempDir("profile");
const dataDir = tempDir("profile-data");
const databaseUrl = process.env.BENCH_DATABASE_URL ?? null;
const databaseSchema = databaseUrl ? `bench_profile_${Date.now().toString(36)}` : null;
const seeded = await withStore({ dataDir, databaseUrl, databaseSchema }, (store) => seedTenant(store, 8));
process.env.BENCH_CPU_PROF = profileDir;
const { child, url } = await serveChild(databaseUrl && databaseSchema ? { BURSAR_DATABASE_URL: databaseUrl, BURSAR_DATABASE_SCHEMA: databaseSchema } : { BURSAR_DATA_DIR: dataDir });
const client = httpClient(url, 64);
const session = await agentSession(url, seeded.ownerToken);
const ids = seeded.accountIds;
const owner = { authorization: `Bearer ${seeded.ownerToken}`, "content-type": "application/json" };
const sends: Record<string, () => (i: number) => Promise<void>> = {
  balance: () => {
    // Indices run past `count` by the warm-up requests.
    const proofs = session.proofs(count + warmupRequests, "GET", `${url}/v1/balance`);
    return async (i) => void (await client.ok("GET", "/v1/balance", { authorization: `DPoP ${session.accessToken}`, dpop: proofs[i]! }));
  },
  pat_proof: () => async (i) => void (await client.ok("GET", `/v1/journal/proofs/inclusion?seq=${1 + (i % 5)}&tree_size=6`, { authorization: `Bearer ${seeded.ownerToken}` })),
  transfer: () => async (i) => void (await client.ok("POST", "/v1/transfers", owner, JSON.stringify({ debit_account_id: ids[i % 8], credit_account_id: ids[(i + 3) % 8], amount: 1, currency: "GBP" }))),
  batch_100: () => async (i) => void (await client.ok("POST", "/v1/transfers", owner, JSON.stringify({ transfers: Array.from({ length: 100 }, (_, k) => ({ debit_account_id: ids[(i + k) % 8], credit_account_id: ids[(i + k + 1) % 8], amount: 1 + k, currency: "GBP" })) }))),
  payment: () => paymentSender(client, url, session, count + warmupRequests),
  oauth_token: () => {
    const assertions = session.assertions(count + warmupRequests);
    return async (i) => void (await client.ok("POST", "/oauth/token", { "content-type": "application/x-www-form-urlencoded" }, new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertions[i]! }).toString()));
  },
};
const result = await measureLoad([child.pid], count, concurrency, sends[workload]!());
process.stdout.write(`${workload}: ${result.cpuMicros.toFixed(0)} µs server CPU per request, ${result.rate.toFixed(0)}/s, p99 ${result.p99Ms.toFixed(1)} ms\n`);
client.close();
await stopChild(child);
for (const file of fs.readdirSync(profileDir)) process.stdout.write(`${profileDir}/${file}\n`);
