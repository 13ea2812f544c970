import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Inside the monorepo, @bursar/sdk (and its subpaths) is its sources (tsconfig `paths` for tsc,
    // the CLI's build bundles them); test/sdk.build.test.ts and test/sdk.package.test.ts use the built package.
    alias: [
      { find: /^@bursar\/sdk$/, replacement: fileURLToPath(new URL("./packages/sdk/src/index.ts", import.meta.url)) },
      { find: /^@bursar\/sdk\/(tools|ai|openai-agents|langchain|x402)$/, replacement: fileURLToPath(new URL("./packages/sdk/src/$1/index.ts", import.meta.url)) },
    ],
  },
  test: {
    globalSetup: ["test/global-setup.ts"],
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has 2 cores; crash and concurrency tests spawn servers of their own.
    maxWorkers: 2,
  },
});
