#!/usr/bin/env node
// Runs the TypeScript sources through tsx until the packages ship a compiled build (as `bursar`
// does); the resolve hook points @bursar/sdk and its subpaths at their sources in the monorepo.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

const sdkSources = new globalThis.URL("../../sdk/src/", import.meta.url).href;
const hook = `export async function resolve(specifier, context, next) {
  const match = /^@bursar\\/sdk(?:\\/([a-z-]+))?$/.exec(specifier);
  if (match) return next(${JSON.stringify(sdkSources)} + (match[1] ? match[1] + "/index.ts" : "index.ts"), context);
  return next(specifier, context);
}`;
registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
register();
/* global process */
const { runStdio } = await import("../src/stdio.ts");
await runStdio().catch((error) => {
  process.stderr.write(`bursar-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
