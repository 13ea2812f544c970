// `npm start` on a fresh clone: build the console once if `npm install` did not (e.g. --ignore-scripts).
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/index.html", import.meta.url));
if (!existsSync(dist)) execSync("npm run build -w @bursar/console", { stdio: "inherit", cwd: fileURLToPath(new URL("../../..", import.meta.url)) });
