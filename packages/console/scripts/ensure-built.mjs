// Builds the owner console. `npm install` (root `prepare`) runs it with `--always`, so a pulled
// change is rebuilt; `npm start` (root `prestart`) runs it without, to build only a missing build
// (an install with --ignore-scripts). Without Vite (an install with --omit=dev) it warns and
// leaves the server to answer /console with 503 and how to build, rather than failing the install.
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const built = existsSync(fileURLToPath(new URL("../dist/index.html", import.meta.url)));
if (built && !process.argv.includes("--always")) process.exit(0);
try {
  createRequire(import.meta.url).resolve("vite/package.json");
} catch {
  process.stderr.write("bursar: Vite is not installed (npm install --omit=dev?), so the owner console is not built; /console will say so.\n");
  process.exit(0);
}
execSync("npm run build -w @bursar/console", { stdio: "inherit", cwd: root });
