/**
 * Background sweeps: expire holds whose time has passed, and drop idempotency records older
 * than the retention window. Each sweep does a bounded amount of work (limits.ts).
 */
import { expireHold, holdExpirySweepCountMax, type Clock, type Store } from "@bursar/core";
import type { FastifyBaseLogger } from "fastify";
import { sweepExpiredIdempotencyRecords } from "./http/idempotency.js";

export interface Sweeper {
  /** Runs one sweep now (tests call this instead of waiting for the timer). */
  sweepOnce(): Promise<{ expiredHolds: number; deletedIdempotencyRecords: number }>;
  stop(): Promise<void>;
}

export function startSweeper(store: Store, clock: Clock, intervalMs: number, log: FastifyBaseLogger): Sweeper {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function sweepOnce() {
    const nowMs = clock.nowMs();
    const due = await store.read.listExpiredHolds(nowMs, holdExpirySweepCountMax);
    let expiredHolds = 0;
    for (const { tenantId, transferId } of due) {
      const result = await store.write(tenantId, (tx) =>
        expireHold({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "hold_expiry" } }, transferId),
      );
      // Not pending any more means it was posted or voided meanwhile: nothing to do.
      if (result.ok) expiredHolds++;
    }
    const deletedIdempotencyRecords = await sweepExpiredIdempotencyRecords(store, clock);
    return { expiredHolds, deletedIdempotencyRecords };
  }

  const timer = setInterval(() => {
    running = running
      .then(() => (stopped ? undefined : sweepOnce()))
      .catch((error: unknown) => log.error({ err: error }, "sweep failed"));
  }, intervalMs);
  timer.unref();

  return {
    sweepOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
