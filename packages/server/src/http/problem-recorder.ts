/**
 * Test instrumentation: with `BURSAR_TEST_PROBLEM_LOG=<file>`, every error answer is recorded as
 * `METHOD route code`, so the suite can check that each route's documented error codes include
 * every code it was seen to answer with (test/global-setup.ts). Off unless the variable is set;
 * never set in production. Lines are buffered and appended in batches (and when the app
 * closes), so a fuzz run of thousands of refusals does not pay a write per answer; a process
 * killed with SIGKILL loses its last batch, which only makes the check see less.
 */
import fs from "node:fs";
import type { FastifyInstance } from "fastify";

/** Lines buffered before they are appended to the log. */
const problemLogBatchLinesMax = 200;

export function installProblemRecorder(app: FastifyInstance, file: string | undefined): void {
  if (!file) return;
  let lines: string[] = [];
  const flush = () => {
    if (lines.length === 0) return;
    fs.appendFileSync(file, lines.join(""));
    lines = [];
  };
  app.addHook("onClose", async () => flush());
  app.addHook("onSend", async (request, reply, payload) => {
    const route = request.routeOptions.url;
    if (reply.statusCode < 400 || route === undefined || typeof payload !== "string") return payload;
    let code: unknown;
    try {
      const body = JSON.parse(payload) as { code?: unknown; error?: unknown };
      code = body.code ?? body.error;
    } catch {
      return payload;
    }
    if (typeof code === "string") lines.push(`${request.method} ${route} ${code}\n`);
    if (lines.length >= problemLogBatchLinesMax) flush();
    return payload;
  });
}
