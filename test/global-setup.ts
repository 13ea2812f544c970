/**
 * Once per test run:
 * - rebuild the `bursar` command (esbuild, well under a second), so suites that spawn
 *   `packages/cli/bin/bursar.js` run the code under test, not a stale bundle;
 * - record every error answer any server gives during the run (`BURSAR_TEST_PROBLEM_LOG`, see
 *   packages/server/src/http/problem-recorder.ts; child processes inherit it) and, at the end,
 *   fail the run if a route answered with a code its OpenAPI operation does not document. The
 *   check holds for any subset of the suite: what a run saw must be documented.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
// @ts-expect-error build.mjs is plain JavaScript without declarations
import { buildCli } from "../packages/cli/build.mjs";
import { documentedCodes, openApiDocument, openApiPath } from "./openapi-support.js";

export default async function setup(): Promise<() => Promise<void>> {
  await buildCli();
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bursar-problems-")), "problems.log");
  fs.writeFileSync(log, "");
  process.env.BURSAR_TEST_PROBLEM_LOG = log;
  return async () => {
    const seen = fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
    fs.rmSync(path.dirname(log), { recursive: true, force: true });
    if (seen.length === 0) return;
    const documented = documentedCodes(await openApiDocument());
    const missing = new Set<string>();
    for (const line of seen) {
      const [method, url, code] = line.split(" ");
      const key = `${method} ${openApiPath(url!)}`;
      const codes = documented.get(key);
      // Routes outside the document (test-only routes of unit suites, /docs assets) are skipped.
      if (codes && !codes.has(code!)) missing.add(`${key}: ${code}`);
    }
    if (missing.size > 0) {
      // Vitest reports an error thrown here but still exits 0: fail the run explicitly.
      process.exitCode = 1;
      throw new Error(`Routes answered with error codes their OpenAPI operations do not document (add them to the route's config.errors):\n  ${[...missing].sort().join("\n  ")}`);
    }
  };
}
