#!/usr/bin/env node
// The `bursar` command runs its compiled bundle (packages/cli/build.mjs, run by `npm install`'s
// `prepare` and by `npm run build`); stack traces map back to the TypeScript sources.
import fs from "node:fs";

process.setSourceMapsEnabled(true);
const bundle = new URL("../dist/bin.js", import.meta.url);
if (!fs.existsSync(bundle)) {
  process.stderr.write("error: the bursar command is not built yet. Run `npm install` (or `npm run build`) in the repository first.\n");
  process.exit(70);
}
await import(bundle.href);
