/**
 * Test instrumentation: with `BURSAR_TEST_PROBLEM_LOG=<file>`, every error answer appends
 * `METHOD route code` to that file, so the suite can check that each route's documented error
 * codes include every code it was seen to answer with (test/global-setup.ts). Off unless the
 * variable is set; never set in production (it writes one line per error answer, synchronously).
 */
import fs from "node:fs";
import type { FastifyInstance } from "fastify";

export function installProblemRecorder(app: FastifyInstance, file: string | undefined): void {
  if (!file) return;
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
    if (typeof code === "string") fs.appendFileSync(file, `${request.method} ${route} ${code}\n`);
    return payload;
  });
}
