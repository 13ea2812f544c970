#!/usr/bin/env node
// Runs the TypeScript sources through tsx until the packages ship a compiled build. The resolve
// hook adds the `bursar-source` export condition, so `@bursar/sdk` is its sources here too.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

const hook = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "bursar-source"] });
}`;
registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
register();
await import("../src/bin.ts");
