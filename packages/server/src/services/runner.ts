/**
 * Runs service requests after the write that holds their price has committed: `sandbox.slow`
 * (after its delay) and tenant HTTP operations (one call each). The outcome is written with
 * `settleServiceRequest`, which captures or releases the hold exactly once. Nothing here is
 * needed for correctness after a crash: a request that never reports fails at its deadline (the
 * sweeper), releasing its hold.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  loadRecord,
  runSandboxOperation,
  sandboxServiceId,
  settleServiceRequest,
  type Clock,
  type ServiceBody,
  type ServiceOutcome,
  type ServiceRequestBody,
  type Store,
} from "@bursar/core";
import { callOperation } from "./http-call.js";

export interface ServiceRunner {
  /** Starts the requests (committed, status running); returns at once. */
  dispatch(tenantId: string, requestIds: readonly string[]): void;
  /** Resolves when the request's run has ended, or after `waitMs`, whichever comes first. */
  waitFor(requestId: string, waitMs: number): Promise<void>;
  /** Resolves when every started request has been settled (tests, shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceRunnerOptions {
  store: Store;
  clock: Clock;
  callTimeoutMs: number;
  sandboxSlowDelayMs: number;
  allowPrivateTargets: boolean;
  log: { error(details: object, message: string): void };
}

export const serviceActor = { type: "system", id: "service_runner" } as const;

export function createServiceRunner(options: ServiceRunnerOptions): ServiceRunner {
  const { store, clock, log } = options;
  const inFlight = new Map<string, Promise<void>>();
  const stop = new AbortController();

  async function outcomeOf(tenantId: string, request: ServiceRequestBody & { id: string }): Promise<ServiceOutcome | null> {
    if (request.service_id === sandboxServiceId) {
      try {
        await sleep(options.sandboxSlowDelayMs, undefined, { signal: stop.signal });
      } catch {
        return null; // shutting down: the deadline settles it
      }
      return { status: "executed", result: runSandboxOperation(request.operation, request.payload) };
    }
    // Any status: a service deleted after the request was accepted still finishes it.
    const service = await loadRecord<ServiceBody>(store.read, tenantId, "service", request.service_id);
    const operation = service?.body.operations.find((candidate) => candidate.name === request.operation);
    if (!operation?.url) return { status: "failed", reason: "service_unavailable" };
    const outcome = await callOperation(operation.url, request.payload, { serviceRequestId: request.id, tenantId }, {
      timeoutMs: operation.timeout_ms ?? options.callTimeoutMs, allowPrivateTargets: options.allowPrivateTargets, signal: stop.signal,
    });
    return stop.signal.aborted ? null : outcome;
  }

  async function run(tenantId: string, requestId: string): Promise<void> {
    const request = await loadRecord<ServiceRequestBody>(store.read, tenantId, "service_request", requestId);
    if (!request || request.body.status !== "running") return;
    const outcome = await outcomeOf(tenantId, { ...request.body, id: request.id });
    if (!outcome) return;
    await store.write(tenantId, (tx) => settleServiceRequest({ tx, tenantId, nowMs: clock.nowMs(), actor: serviceActor }, requestId, outcome));
  }

  return {
    dispatch(tenantId, requestIds) {
      for (const requestId of requestIds) {
        const running: Promise<void> = run(tenantId, requestId)
          .catch((error: unknown) => log.error({ err: error, service_request_id: requestId }, "running a service request failed"))
          .finally(() => inFlight.delete(requestId));
        inFlight.set(requestId, running);
      }
    },
    async waitFor(requestId, waitMs) {
      const running = inFlight.get(requestId);
      if (!running) return;
      const timer = new AbortController();
      await Promise.race([running, sleep(waitMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
    },
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight.values()]);
    },
    async close() {
      stop.abort();
      await this.drain();
    },
  };
}
