#!/usr/bin/env node
/**
 * Builds the `bursar` command into packages/cli/dist: one ESM bundle of the CLI with the
 * workspace packages (@bursar/core, @bursar/server, @bursar/sdk) compiled in from their sources,
 * split so that `bursar serve` alone loads the server's code, with source maps. Third-party
 * packages (fastify, better-sqlite3, pg, …) stay imports, resolved from node_modules at run time.
 * esbuild takes well under a second, so the test suite rebuilds before it spawns the CLI
 * (test/global-setup.ts) and `npm install` builds in `prepare`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const cliDir = path.dirname(fileURLToPath(import.meta.url));
const packagesDir = path.dirname(cliDir);

/** Workspace packages are bundled from source; every other bare import stays external. */
const workspaceSources = {
  name: "workspace-sources",
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === "@bursar/sdk") return { path: path.join(packagesDir, "sdk/src/index.ts") };
      if (args.path.startsWith("@bursar/")) return undefined;
      return { path: args.path, external: true };
    });
  },
};

export async function buildCli() {
  fs.rmSync(path.join(cliDir, "dist"), { recursive: true, force: true });
  await build({
    absWorkingDir: cliDir,
    entryPoints: { bin: "src/bin.ts" },
    outdir: "dist",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: true,
    // Source paths in stack traces point at the TypeScript files of the repository.
    sourcesContent: false,
    plugins: [workspaceSources],
    logLevel: "warning",
    legalComments: "none",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli();
