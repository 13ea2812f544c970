/**
 * Once per test run: rebuild the `bursar` command (esbuild, well under a second), so suites that
 * spawn `packages/cli/bin/bursar.js` run the code under test, not a stale bundle.
 */
// @ts-expect-error build.mjs is plain JavaScript without declarations
import { buildCli } from "../packages/cli/build.mjs";

export default async function setup(): Promise<void> {
  await buildCli();
}
