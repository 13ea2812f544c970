import { defineConfig } from "vite";

// Built into dist/ and served by `bursar serve` at /console (packages/server/src/http/console-static.ts).
// `bursar-source` resolves @bursar/sdk and @bursar/core to their TypeScript sources (no SDK build needed).
export default defineConfig({
  base: "/console/",
  resolve: { conditions: ["bursar-source", "browser", "module", "import", "default"] },
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
