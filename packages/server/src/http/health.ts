/** Liveness, readiness and metrics (SPEC 3 "Discovery, health"). All public. */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import { readinessTimeoutMs } from "@bursar/core";
import { z } from "zod";
import { ProblemError } from "./problem.js";


const status = z.object({ status: z.literal("ok") });

/** Resolves with `promise`, or rejects once `timeoutMs` has passed. */
async function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Registers `/healthz`, `/readyz` and `/metrics`. */
export function healthRoutes(registry: Registry): FastifyPluginAsyncZod {
  return async function health(app) {
    app.get("/healthz", {
      config: { public: true },
      schema: { summary: "The process is up", description: "Answers 200 while the process runs; for liveness probes. Never touches the store.", tags: ["health"], response: { 200: status } },
    }, async () => ({ status: "ok" as const }));

    app.get("/readyz", {
      config: { errors: ["not_ready"], public: true },
      schema: { summary: "The store answers a trivial read", description: "Answers 200 when the store answers a trivial read, else 503 `not_ready`; for readiness probes and load balancers.", tags: ["health"], response: { 200: status } },
    }, async (request) => {
      try {
        await within(app.store.read.countTenants(), readinessTimeoutMs);
      } catch (error) {
        // The reason goes to the log; the body says only "not ready" (it may name hosts or paths).
        request.log.warn({ err: error }, "store not ready");
        throw new ProblemError("not_ready", "The store does not answer.");
      }
      return { status: "ok" as const };
    });

    app.get("/metrics", {
      config: { public: true },
      schema: { summary: "Prometheus metrics (text exposition format)", description: "Prometheus text exposition: request counts and latencies by route pattern, and the process's default metrics.", tags: ["health"] },
    }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  };
}
