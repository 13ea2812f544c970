/**
 * Runs payments on asynchronous rails after the write that holds their money has committed: a
 * sandbox payee with a delay, or the webhook rail. The outcome is written with
 * `settleTransaction`; a rail that answers `submitted` reports later (the webhook rail's
 * callback), and a rail that never answers is failed by the sweeper at the transaction's
 * deadline. Nothing here is needed for correctness after a crash: the deadline covers it.
 */
import { railPaymentOf, settleTransaction, type Clock, type Rail, type RailName, type RailOutcome, type Store } from "@bursar/core";

export interface RailDispatcher {
  /** Starts the transactions (committed, status pending) on their rails; returns at once. */
  dispatch(tenantId: string, transactionIds: readonly string[]): void;
  /** Resolves when every started payment has reported (tests, shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface RailLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const railActor = { type: "system", id: "rail" } as const;

export function createRailDispatcher(options: { store: Store; clock: Clock; rails: readonly Rail[]; attemptTimeoutMs: number; log: RailLog }): RailDispatcher {
  const { store, clock, log } = options;
  const rails = new Map<RailName, Rail>(options.rails.map((rail) => [rail.name, rail]));
  const inFlight = new Set<Promise<void>>();
  const stop = new AbortController();

  async function settle(tenantId: string, transactionId: string, outcome: RailOutcome): Promise<void> {
    await store.write(tenantId, (tx) => settleTransaction({ tx, tenantId, nowMs: clock.nowMs(), actor: railActor }, transactionId, outcome));
  }

  async function run(tenantId: string, transactionId: string): Promise<void> {
    const payment = await railPaymentOf(store.read, tenantId, transactionId);
    if (!payment) return;
    const rail = rails.get(payment.payee.rail);
    if (!rail) return settle(tenantId, transactionId, { status: "failed", reason: "rail_not_configured" });
    let outcome: RailOutcome | { status: "submitted" };
    try {
      outcome = await rail.execute(payment, AbortSignal.any([stop.signal, AbortSignal.timeout(options.attemptTimeoutMs)]));
    } catch (error) {
      if (stop.signal.aborted) return; // shutting down: the deadline settles it
      log.warn({ err: error, transaction_id: transactionId }, "rail execution failed");
      outcome = { status: "failed", reason: "rail_error" };
    }
    if (outcome.status !== "submitted") await settle(tenantId, transactionId, outcome);
  }

  return {
    dispatch(tenantId, transactionIds) {
      for (const transactionId of transactionIds) {
        const running: Promise<void> = run(tenantId, transactionId)
          .catch((error: unknown) => log.error({ err: error, transaction_id: transactionId }, "settling a rail outcome failed"))
          .finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
    },
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async close() {
      stop.abort();
      await this.drain();
    },
  };
}
