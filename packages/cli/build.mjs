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

const rootModules = path.join(path.dirname(packagesDir), "node_modules");

/**
 * Workspace packages are bundled from source; every other bare import stays external. A package
 * npm installed inside a workspace package (packages/server/node_modules/ajv: v8, while the root
 * holds another major for eslint) would resolve to the root's copy from dist/, so such imports
 * point at that package's own copy, by a path relative to the bundle.
 */
const workspaceSources = {
  name: "workspace-sources",
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path === "@bursar/sdk") return { path: path.join(packagesDir, "sdk/src/index.ts") };
      const sdkSubpath = /^@bursar\/sdk\/([a-z-]+)$/.exec(args.path);
      if (sdkSubpath) return { path: path.join(packagesDir, `sdk/src/${sdkSubpath[1]}/index.ts`) };
      if (args.path.startsWith("@bursar/") || args.path.startsWith("node:") || args.pluginData === "nested") return undefined;
      if (args.importer && args.importer.startsWith(packagesDir) && !args.importer.includes(`${path.sep}node_modules${path.sep}`)) {
        const resolved = await builder.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "nested" });
        if (resolved.path && resolved.path.startsWith(packagesDir) && !resolved.path.startsWith(rootModules)) {
          const relative = path.relative(path.join(cliDir, "dist"), resolved.path).split(path.sep).join("/");
          return { path: relative.startsWith(".") ? relative : `./${relative}`, external: true };
        }
      }
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
