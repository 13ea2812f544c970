// Type-checks the console's own sources. The SDK and core sources it imports are checked by the
// root tsconfig against Node's WebCrypto types; under TypeScript 5.9's DOM lib, a
// `Uint8Array<ArrayBufferLike>` is not a `BufferSource`, so their WebCrypto calls fail here
// although they are correct in both runtimes. Diagnostics outside packages/console are left to
// the root check; any inside it fail this one.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const result = spawnSync("npx", ["tsc", "-p", "packages/console/tsconfig.json", "--noEmit", "--pretty", "false"], { cwd: root, encoding: "utf8" });
const diagnostics = `${result.stdout}${result.stderr}`.split("\n").filter((line) => /^packages\/console\//.test(line));
if (diagnostics.length > 0) {
  process.stderr.write(diagnostics.join("\n") + "\n");
  process.exit(1);
}
if (result.status !== 0 && !/error TS/.test(result.stdout)) {
  process.stderr.write(result.stdout + result.stderr);
  process.exit(result.status ?? 1);
}
