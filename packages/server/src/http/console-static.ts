/**
 * Serves the owner console (packages/console's build) at `/console`.
 *
 * Security headers on every console answer:
 * - a strict Content-Security-Policy: only our own scripts, styles and API (`default-src 'self'`,
 *   no inline script or style, no `eval`), and `frame-ancestors 'none'` against clickjacking;
 * - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (the login link's code is in
 *   the fragment, which is never sent, but nothing else should leak either),
 *   `Cross-Origin-Opener-Policy: same-origin`.
 * Hashed assets (`/console/assets/*`, names change with content) are cached for a year as
 * immutable; the HTML is revalidated on every load so a new build is picked up at once.
 *
 * The build is read into memory at start-up (a few hundred KiB, bounded below): no file-system
 * path from a request ever reaches `fs`, so there is no path traversal to get wrong.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** The console's files, at most this many bytes in total (the build is ~200 KiB). */
const consoleBuildBytesMax = 16 * 1024 * 1024;
/** And at most this many files. */
const consoleBuildFilesMax = 500;

export const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

interface ConsoleFile {
  body: Buffer;
  type: string;
}

/**
 * Where the build is: `BURSAR_CONSOLE_DIR` when set; else the `@bursar/console` package's `dist`
 * as Node resolves it from here (the sources or a compiled CLI bundle, wherever it lives); else
 * packages/console/dist beside this file in the repository.
 */
export function defaultConsoleDir(): string {
  if (process.env.BURSAR_CONSOLE_DIR) return process.env.BURSAR_CONSOLE_DIR;
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve("@bursar/console/package.json")), "dist");
  } catch {
    return fileURLToPath(new URL("../../../console/dist", import.meta.url));
  }
}

function loadBuild(dir: string): Map<string, ConsoleFile> | null {
  if (!fs.existsSync(path.join(dir, "index.html"))) return null;
  const files = new Map<string, ConsoleFile>();
  let bytes = 0;
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(name);
      else if (entry.isFile()) {
        const body = fs.readFileSync(path.join(dir, name));
        bytes += body.length;
        if (bytes > consoleBuildBytesMax || files.size >= consoleBuildFilesMax) throw new Error(`the console build in ${dir} is larger than ${consoleBuildBytesMax} bytes or ${consoleBuildFilesMax} files`);
        files.set(name, { body, type: contentTypes[path.extname(name)] ?? "application/octet-stream" });
      }
    }
  };
  walk("");
  return files;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", consoleContentSecurityPolicy)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    .header("cross-origin-opener-policy", "same-origin");
}

/**
 * Registers `/console` and `/console/*`. Unknown paths under `/console/` answer the app's HTML
 * (its router shows the screen), so every screen has a URL that can be shared.
 */
export function registerConsole(app: FastifyInstance, dir: string = defaultConsoleDir()): void {
  const build = loadBuild(dir);
  const index = build?.get("index.html") ?? null;
  const send = (reply: FastifyReply, file: ConsoleFile, cache: string) =>
    securityHeaders(reply).header("cache-control", cache).type(file.type).send(file.body);

  const handler = async (request: { params: unknown }, reply: FastifyReply) => {
    if (!build || !index) {
      return securityHeaders(reply).code(503).type("text/plain; charset=utf-8").send("The console is not built: run `npm run build -w @bursar/console` (npm install does it).\n");
    }
    const wanted = ((request.params as { "*"?: string })["*"] ?? "").replace(/^\/+/, "");
    const file = build.get(wanted);
    if (file && wanted !== "index.html") {
      const immutable = wanted.startsWith("assets/");
      return send(reply, file, immutable ? "public, max-age=31536000, immutable" : "no-cache");
    }
    if (wanted.startsWith("assets/")) return securityHeaders(reply).code(404).type("text/plain; charset=utf-8").send("Not found\n");
    return send(reply, index, "no-cache");
  };
  const config = { public: true };
  app.get("/console", { config, schema: { hide: true } }, handler);
  app.get("/console/*", { config, schema: { hide: true } }, handler);
}
