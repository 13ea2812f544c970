/**
 * A CPU profile of a `bursar serve` child under one workload of the targets bench:
 * `npx tsx bench/profile.ts <balance|pat_proof|transfer|batch_100|payment|oauth_token> [count] [concurrency] [dir]`.
 * Writes the child's .cpuprofile into `dir` (default a temp dir) and prints its path. With
 * `BENCH_DATABASE_URL` set the child runs on PostgreSQL (a fresh schema) instead of SQLite.
 */
import fs from "node:fs";
import { measureLoad, servedWorkload, tempDir, workloadArg } from "./cpu-targets.js";

const [workloadText = "payment", countText = "2000", concurrencyText = "32", dirArg] = process.argv.slice(2);
const workload = workloadArg(workloadText);
const count = Number(countText);
const profileDir = dirArg ?? tempDir("profile");
process.env.BENCH_CPU_PROF = profileDir;
const served = await servedWorkload(workload, count, process.env.BENCH_DATABASE_URL ?? null);
const result = await measureLoad([served.child.pid], count, Number(concurrencyText), served.send);
process.stdout.write(`${workload}: ${result.cpuMicros.toFixed(0)} µs server CPU per request, ${result.rate.toFixed(0)}/s, p99 ${result.p99Ms.toFixed(1)} ms\n`);
await served.stop();
for (const file of fs.readdirSync(profileDir)) process.stdout.write(`${profileDir}/${file}\n`);
