/**
 * The published build of @bursar/sdk: ESM + CJS + declarations in dist/. `@bursar/core`'s journal
 * verifier (WebCrypto only) is bundled in, so the package has no runtime dependencies. Inside the
 * monorepo nothing needs this build: tsconfig `paths`, the vitest alias and the CLI's bundle use src/.
 */
import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", tools: "src/tools/index.ts", ai: "src/ai/index.ts", "openai-agents": "src/openai-agents/index.ts", langchain: "src/langchain/index.ts", x402: "src/x402/index.ts" },
  format: ["esm", "cjs"],
  dts: { compilerOptions: { allowImportingTsExtensions: true, customConditions: [] } },
  target: "node20",
  platform: "neutral",
  clean: true,
  sourcemap: true,
  splitting: false,
  treeshake: true,
  noExternal: ["@bursar/core"],
  external: ["node:fs/promises", "node:path", "node:os"],
  tsconfig: "tsconfig.build.json",
});
