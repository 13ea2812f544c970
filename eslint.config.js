import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", ".bursar/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `const { id, ...rest } = x` drops `id` on purpose.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    // Tests read JSON answers of a server under test: their shape is what is being checked.
    files: ["test/**/*.ts", "**/*.test.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // Build scripts of the console run on Node.
    files: ["packages/console/scripts/**"],
    languageOptions: { globals: { URL: "readonly", process: "readonly" } },
  },
  {
    // Examples are scripts a newcomer runs with node: they print.
    files: ["packages/sdk/examples/**"],
    languageOptions: { globals: { console: "readonly", process: "readonly" } },
  },
  {
    // Plain Node scripts: the CLI's launcher and build, test programs run by node.
    files: ["packages/cli/bin/**", "packages/cli/build.mjs", "bench/**/*.mjs"],
    languageOptions: { globals: { console: "readonly", process: "readonly", URL: "readonly", Buffer: "readonly", setImmediate: "readonly" } },
  },
);
