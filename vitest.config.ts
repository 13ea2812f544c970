import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Inside the monorepo, @bursar/sdk is its sources (the `bursar-source` export condition for
    // tsc and the CLI); only test/sdk.build.test.ts imports the built package.
    alias: [
      { find: /^@bursar\/sdk$/, replacement: fileURLToPath(new URL("./packages/sdk/src/index.ts", import.meta.url)) },
      { find: /^@bursar\/sdk\/(tools|ai|openai-agents|langchain|x402)$/, replacement: fileURLToPath(new URL("./packages/sdk/src/$1/index.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has 2 cores; crash and concurrency tests spawn servers of their own.
    maxWorkers: 2,
  },
});
