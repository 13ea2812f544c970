#!/usr/bin/env node
// Runs the TypeScript sources through tsx until the packages ship a compiled build (as `bursar`
// does); the resolve hook adds the `bursar-source` export condition so @bursar/sdk is its sources.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

const hook = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "bursar-source"] });
}`;
registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
register();
/* global process */
const { runStdio } = await import("../src/stdio.ts");
await runStdio().catch((error) => {
  process.stderr.write(`bursar-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
