/**
 * The SDK's examples run as a newcomer would run them: against a `bursar serve` with its demo
 * tenant, from a directory holding `.bursar/demo-owner-token`. The README quotes each example
 * verbatim, so the quickstart cannot rot.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { killHard, repoRoot, spawnServer, tempDir, type ChildServer } from "./support.js";

const exec = promisify(execFile);
const examples = path.join(repoRoot, "packages/sdk/examples");
/** A resolve hook that points `@bursar/sdk` at its sources. */
const sdkSource = pathToFileURL(path.join(repoRoot, "packages/sdk/src/index.ts")).href;
const sdkSourceHook = `data:text/javascript,${encodeURIComponent(`import { register } from "node:module";
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(`export async function resolve(specifier, context, next) {
  return specifier === "@bursar/sdk" ? { url: ${JSON.stringify(sdkSource)}, shortCircuit: true } : next(specifier, context);
}`)}`)});`)}`;

describe("SDK examples", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
  });

  it("quickstart.mjs pays through governance and verifies the journal, and the README quotes it", async () => {
    const source = fs.readFileSync(path.join(examples, "quickstart.mjs"), "utf8");
    expect(fs.readFileSync(path.join(repoRoot, "packages/sdk/README.md"), "utf8")).toContain(source.trim());

    const home = tempDir("example");
    const server = await spawnServer({ BURSAR_DATA_DIR: path.join(home, ".bursar") }, { demo: true });
    children.push(server);
    // The sources, as the monorepo runs them (test/sdk.package.test.ts runs it on the packed SDK).
    const tsx = pathToFileURL(path.join(repoRoot, "node_modules/tsx/dist/loader.mjs")).href;
    const { stdout } = await exec(process.execPath, ["--import", sdkSourceHook, "--import", tsx, path.join(examples, "quickstart.mjs")], {
      cwd: home,
      env: { ...process.env, BURSAR_API_URL: server.url, BURSAR_CONFIG_DIR: "" },
    });
    expect(stdout).toContain("coffee: completed");
    expect(stdout).toContain("invoice: pending_approval, approval_threshold_reached");
    expect(stdout).toMatch(/paid 500\.00 GBP to Bob Smith \(April invoice\)/);
    expect(stdout).toMatch(/paid 4\.50 GBP to Bob Smith \(Coffee\)/);
    expect(stdout).toContain("Invoice bot has 495.50 GBP left");
    expect(stdout).toMatch(/journal of \d+ entries verified; \S+ is in it/);
    expect(fs.statSync(path.join(home, ".bursar-agent")).mode & 0o777).toBe(0o700);
  }, 120_000);
});
