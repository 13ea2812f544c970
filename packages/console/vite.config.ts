import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Built into dist/ and served by `bursar serve` at /console (packages/server/src/http/console-static.ts).
// @bursar/sdk is bundled from its TypeScript sources (as vitest and tsc see it), never a stale build.
export default defineConfig({
  base: "/console/",
  resolve: { alias: [{ find: /^@bursar\/sdk$/, replacement: fileURLToPath(new URL("../sdk/src/index.ts", import.meta.url)) }] },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The CSP forbids inline script: never inline the module preload polyfill or small assets.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
