/**
 * Two or more builds measured side by side, the way issue 19's changes were judged on a noisy
 * machine: the same workload against each build in turn, the order reversed every other round,
 * server CPU per request from /proc (bench/cpu-targets.ts), and the range and median per build.
 *
 *   npx tsx bench/side-by-side.ts <workload> [count] [concurrency] [rounds]
 *
 * `BENCH_BUILDS=before=packages/cli-old/bin/bursar.js,after=packages/cli/bin/bursar.js` names the
 * builds (that is the default: copy packages/cli/{bin,dist,package.json} of the earlier build to
 * packages/cli-old first). `BENCH_DATABASE_URL` runs them on PostgreSQL.
 */
import { measureLoad, servedWorkload, workloadArg } from "./cpu-targets.js";

const [workloadText, countText = "2000", concurrencyText = "8", roundsText = "4"] = process.argv.slice(2);
const workload = workloadArg(workloadText);
const count = Number(countText);
const builds = (process.env.BENCH_BUILDS ?? "before=packages/cli-old/bin/bursar.js,after=packages/cli/bin/bursar.js").split(",").map((pair) => pair.split("=") as [string, string]);
const figures = new Map<string, number[]>();
for (let round = 0; round < Number(roundsText); round++) {
  for (const [name, bin] of round % 2 === 0 ? builds : [...builds].reverse()) {
    process.env.BENCH_BURSAR_BIN = bin;
    const served = await servedWorkload(workload, count, process.env.BENCH_DATABASE_URL ?? null);
    const result = await measureLoad([served.child.pid], count, Number(concurrencyText), served.send);
    await served.stop();
    figures.set(name, [...(figures.get(name) ?? []), result.cpuMicros]);
    process.stdout.write(`round ${round + 1} ${name}: ${result.cpuMicros.toFixed(0)} µs server CPU per request, ${result.rate.toFixed(0)}/s, p99 ${result.p99Ms.toFixed(1)} ms\n`);
  }
}
for (const [name, values] of figures) {
  const sorted = [...values].sort((a, b) => a - b);
  process.stdout.write(`${name}: ${sorted.map((value) => value.toFixed(0)).join(", ")} µs (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)})\n`);
}
