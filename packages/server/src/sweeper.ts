/**
 * Background sweeps: expire approvals past their time (releasing what they held), fail payments
 * whose rail missed its deadline (`rail_timeout`, releasing the hold), fail running service
 * requests past their deadline (`deadline_exceeded`, releasing the hold), expire spend
 * authorizations not completed in time (releasing the hold), refund escrow intents past their
 * deadline, expire ledger holds, and
 * drop idempotency records older than the retention window. Each sweep does a bounded amount
 * of work (limits.ts).
 */
import { expireApproval, expireEscrowIntent, expireHold, expireSpendAuthorization, governanceSweepCountMax, holdExpirySweepCountMax, settleServiceRequest, settleTransaction, type Clock, type Store } from "@bursar/core";
import type { FastifyBaseLogger } from "fastify";
import { sweepExpiredIdempotencyRecords } from "./http/idempotency.js";

export interface Sweeper {
  /** Runs one sweep now (tests call this instead of waiting for the timer). */
  sweepOnce(): Promise<{
    expiredApprovals: number;
    timedOutTransactions: number;
    timedOutServiceRequests: number;
    expiredSpendAuthorizations: number;
    expiredEscrowIntents: number;
    expiredHolds: number;
    deletedIdempotencyRecords: number;
  }>;
  stop(): Promise<void>;
}

export function startSweeper(store: Store, clock: Clock, intervalMs: number, log: FastifyBaseLogger): Sweeper {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function sweepOnce() {
    let expiredApprovals = 0;
    for (const { tenantId, id } of await store.read.listDueRecords("approval", clock.nowMs(), governanceSweepCountMax)) {
      const result = await store.write(tenantId, (tx) => expireApproval({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "approval_expiry" } }, id));
      if (result.ok && result.value) expiredApprovals++;
    }
    let timedOutTransactions = 0;
    for (const { tenantId, id } of await store.read.listDueRecords("transaction", clock.nowMs(), governanceSweepCountMax)) {
      const result = await store.write(tenantId, (tx) =>
        settleTransaction({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "rail_deadline" } }, id, { status: "failed", reason: "rail_timeout" }),
      );
      if (result.ok) timedOutTransactions++;
    }
    let timedOutServiceRequests = 0;
    for (const { tenantId, id } of await store.read.listDueRecords("service_request", clock.nowMs(), governanceSweepCountMax)) {
      const result = await store.write(tenantId, (tx) =>
        settleServiceRequest({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "service_deadline" } }, id, { status: "failed", reason: "deadline_exceeded" }),
      );
      if (result.ok && result.value.body.failure_reason === "deadline_exceeded") timedOutServiceRequests++;
    }
    let expiredSpendAuthorizations = 0;
    for (const { tenantId, id } of await store.read.listDueRecords("spend_authorization", clock.nowMs(), governanceSweepCountMax)) {
      const result = await store.write(tenantId, (tx) => expireSpendAuthorization({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "authorization_expiry" } }, id));
      if (result.ok && result.value) expiredSpendAuthorizations++;
    }
    let expiredEscrowIntents = 0;
    for (const { tenantId, id } of await store.read.listDueRecords("escrow_intent", clock.nowMs(), governanceSweepCountMax)) {
      const result = await store.write(tenantId, (tx) => expireEscrowIntent({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "escrow_deadline" } }, id));
      if (result.ok && result.value) expiredEscrowIntents++;
    }
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
    return { expiredApprovals, timedOutTransactions, timedOutServiceRequests, expiredSpendAuthorizations, expiredEscrowIntents, expiredHolds, deletedIdempotencyRecords };
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
