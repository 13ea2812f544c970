/**
 * The published shape of @bursar/sdk: build it (tsup), import the built package by its name as
 * ESM and as CommonJS in child processes (plain node, so the package's `exports` decide what
 * loads), use it against a real server, and lint the package with publint and
 * @arethetypeswrong/cli. The rest of the suite runs the sources.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createTestTenant, repoRoot, startTestServer, tempDir, type TestTenant } from "./support.js";

const run = promisify(execFile);
const sdkDir = path.join(repoRoot, "packages/sdk");
const bin = (name: string) => path.join(repoRoot, "node_modules/.bin", name);

let server: RunningServer;
let tenant: TestTenant;
beforeAll(async () => {
  await run(bin("tsup"), [], { cwd: sdkDir });
  server = await startTestServer("sqlite");
  tenant = await createTestTenant(server.store);
}, 240_000);
afterAll(async () => {
  await server?.close();
});

/** What both module systems run: an owner call, a verified checkpoint, a webhook check. */
const script = (load: string, resolve: string) => `
${load}
const bursar = new sdk.Bursar({ token: process.env.TOKEN, baseUrl: process.env.URL });
const principal = await bursar.principal.get();
const checkpoint = await bursar.journal.checkpoint();
const empty = (await new sdk.FileCredentialStore({ dir: process.env.EMPTY_DIR }).load()) === null;
let refused = null;
try { await sdk.verifyWebhook("{}", { "webhook-id": "a", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA" }, "whsec_AAAA"); }
catch (error) { refused = error instanceof sdk.WebhookVerificationError ? error.reason : String(error); }
const loaded = typeof require === "function" ? Object.keys(require.cache).filter((k) => /node_modules\\/(zod|canonicalize)\\//.test(k)) : [];
const resolved = ${resolve};
console.log(JSON.stringify({ resolved, empty, principal: principal.principal_type, treeSize: checkpoint.treeSize, refused, isError: new sdk.ConfigError("x") instanceof sdk.BursarError, loaded }));
`;

async function runChild(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, env: { ...process.env, TOKEN: tenant.token, URL: server.url, EMPTY_DIR: tempDir("sdk-build-store") } });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

describe("@bursar/sdk build", () => {
  it("emits the agent-tool subpaths; frameworks are never imported statically (optional peers)", () => {
    for (const name of ["tools", "ai", "openai-agents", "langchain", "x402"]) {
      for (const ext of ["js", "cjs", "d.ts", "d.cts"]) expect(fs.existsSync(path.join(sdkDir, "dist", `${name}.${ext}`)), `${name}.${ext}`).toBe(true);
      const code = fs.readFileSync(path.join(sdkDir, "dist", `${name}.js`), "utf8");
      // zod is the registry's one runtime peer; `ai` is types only; @openai/agents a dynamic import.
      expect(code).not.toMatch(/from ["'](ai|@openai\/agents|langchain|@langchain\/[a-z/-]+|@x402\/[a-z/-]+)["']/);
      expect(code).not.toMatch(/from ["']@bursar\/core/);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8"));
    for (const peer of Object.keys(pkg.peerDependencies)) expect(pkg.peerDependenciesMeta[peer].optional, peer).toBe(true);
  });

  it("emits ESM, CJS and declarations with no runtime dependency", () => {
    for (const file of ["index.js", "index.cjs", "index.d.ts", "index.d.cts"]) expect(fs.existsSync(path.join(sdkDir, "dist", file)), file).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const file of ["index.js", "index.cjs"]) {
      const code = fs.readFileSync(path.join(sdkDir, "dist", file), "utf8");
      // The journal verifier is bundled; nothing is imported but node built-ins (lazily).
      expect(code).not.toMatch(/from ["'](zod|canonicalize|@bursar\/core)/);
      expect(code).not.toMatch(/require\(["'](zod|canonicalize|@bursar\/core)/);
      expect(code).toContain("verifyConsistency");
    }
  });

  it("loads by name as ESM (import) and works against a real server", async () => {
    const out = await runChild(["--input-type=module", "-e", script(`const sdk = await import("@bursar/sdk");`, `import.meta.resolve("@bursar/sdk")`)]);
    expect(out).toMatchObject({ principal: "user", refused: "timestamp_out_of_tolerance", isError: true, empty: true });
    expect(out.resolved).toMatch(/packages\/sdk\/dist\/index\.js$/);
    expect(out.treeSize).toBeGreaterThan(0);
  });

  it("loads by name as CommonJS (require) and works against a real server", async () => {
    const out = await runChild(["--input-type=commonjs", "-e", `(async () => { ${script(`const sdk = require("@bursar/sdk");`, `require.resolve("@bursar/sdk")`)} })().catch((e) => { console.error(e); process.exit(1); });`]);
    expect(out).toMatchObject({ principal: "user", refused: "timestamp_out_of_tolerance", isError: true, loaded: [], empty: true });
    expect(out.resolved).toMatch(/packages\/sdk\/dist\/index\.cjs$/);
  });

  it("packs into a tarball that installs and runs, as ESM and as CommonJS, in a project outside the repository", async () => {
    // The SDK README's install lines, as written: pack in the repository, install the tarball.
    const packed = tempDir("sdk-pack");
    const { stdout } = await run("npm", ["pack", "-w", "@bursar/sdk", "--pack-destination", packed, "--json"], { cwd: repoRoot });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info!.files.map((file) => file.path);
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/index.js", "dist/index.cjs", "dist/index.d.ts"]));
    expect(files.filter((file) => file.startsWith("src/"))).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8"));
    expect(JSON.stringify(manifest.exports)).not.toContain("src/");
    expect(fs.readFileSync(path.join(sdkDir, "README.md"), "utf8")).toContain("npm install ./bursar-sdk-0.1.0.tgz");

    const project = tempDir("sdk-project");
    expect(path.relative(repoRoot, project).startsWith("..")).toBe(true);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "uses-bursar", private: true, version: "1.0.0" }));
    fs.copyFileSync(path.join(packed, info!.filename), path.join(project, info!.filename));
    await run("npm", ["install", "--no-audit", "--no-fund", "--offline", `./${info!.filename}`], { cwd: project });
    const installed = path.join(project, "node_modules/@bursar/sdk");
    expect(fs.realpathSync(installed).startsWith(project)).toBe(true);
    expect(fs.existsSync(path.join(installed, "LICENSE"))).toBe(true);

    const env = { ...process.env, TOKEN: tenant.token, URL: server.url, EMPTY_DIR: tempDir("sdk-pack-store") };
    fs.writeFileSync(path.join(project, "esm.mjs"), script(`const sdk = await import("@bursar/sdk");`, `import.meta.resolve("@bursar/sdk")`));
    fs.writeFileSync(path.join(project, "cjs.cjs"), `(async () => { ${script(`const sdk = require("@bursar/sdk");`, `require.resolve("@bursar/sdk")`)} })().catch((e) => { console.error(e); process.exit(1); });`);
    for (const [program, entry] of [["esm.mjs", "dist/index.js"], ["cjs.cjs", "dist/index.cjs"]] as const) {
      const ran = await run(process.execPath, [program], { cwd: project, env });
      const out = JSON.parse(ran.stdout.trim().split("\n").pop()!);
      expect(out, program).toMatchObject({ principal: "user", refused: "timestamp_out_of_tolerance", isError: true, empty: true });
      expect(out.treeSize).toBeGreaterThan(0);
      const resolved = String(out.resolved).startsWith("file:") ? fileURLToPath(out.resolved) : String(out.resolved);
      expect(fs.realpathSync(resolved), program).toBe(fs.realpathSync(path.join(installed, entry)));
    }
  }, 180_000);

  it("passes publint and arethetypeswrong", async () => {
    const publint = await run(bin("publint"), [sdkDir], { cwd: repoRoot });
    expect(publint.stdout).toContain("All good");
    // Exits non-zero on any problem in any resolution mode (node10, node16 CJS/ESM, bundler).
    const attw = await run(bin("attw"), ["--pack", sdkDir, "--format", "ascii"], { cwd: repoRoot });
    expect(attw.stdout).toContain("No problems found");
  }, 180_000);
});
