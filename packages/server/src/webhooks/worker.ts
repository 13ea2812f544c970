/**
 * The webhook delivery worker. Every poll (and at once when a commit queued deliveries) it claims
 * due deliveries from the store with a lease, sends them, and records each attempt.
 *
 * Guarantees (docs/webhooks.md):
 * - at least once: a delivery leaves `pending` only after a 2xx, a 410, or its last attempt; a
 *   process that dies mid-attempt leaves the lease to run out, and the delivery is due again;
 * - order per endpoint, best effort: a claimed batch goes out in journal order, one request at a
 *   time per endpoint; after a failure the rest of that endpoint's batch waits for its lease,
 *   then goes out while the failed one backs off (no head-of-line blocking), so a retried event
 *   can arrive after newer ones. Receivers order by `seq`;
 * - several processes (PostgreSQL) share the queue: claims skip rows another worker holds.
 */
import {
  canonicalJson,
  invariant,
  webhookAttemptRecordsMax,
  webhookAttemptsMax,
  webhookClaimBatchMax,
  webhookConcurrentDeliveriesMax,
  webhookRetryDelayMaxMs,
  appendEvent,
  webhookEndpointView,
  type Clock,
  type DeliveryAttempt,
  type Store,
  type WebhookDeliveryRow,
} from "@bursar/core";
import type { FastifyBaseLogger } from "fastify";
import { postWebhook, type PostResult } from "./post.js";
import { signedHeaders } from "./signature.js";
import { checkWebhookTarget, parseWebhookUrl } from "./target-guard.js";

export interface DeliveryWorkerOptions {
  /** Explicit opt-in to loopback and private targets (tests, local development). */
  allowPrivateTargets: boolean;
  /** First retry delay; doubles per failed attempt (jittered), capped at webhookRetryDelayMaxMs. */
  retryBaseMs: number;
  attemptTimeoutMs: number;
  pollIntervalMs: number;
}

export interface DeliveryWorker {
  /** Claims and sends what is due now; resolves when those attempts are recorded. */
  runOnce(): Promise<number>;
  /** Asks for a run soon (a commit just queued deliveries). */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * Delay before attempt `failures + 1`: exponential with "equal jitter" (half fixed, half random),
 * so receivers recovering from an outage are not hit by every sender at the same instant.
 */
export function retryDelayMs(failures: number, baseMs: number): number {
  const exponential = Math.min(baseMs * 2 ** Math.min(failures - 1, 40), webhookRetryDelayMaxMs);
  return Math.round(exponential / 2 + Math.random() * (exponential / 2));
}

function attemptRecord(nowMs: number, result: PostResult): DeliveryAttempt {
  return { attemptedAtMs: nowMs, durationMs: result.durationMs, statusCode: result.statusCode, error: result.error, responseBody: result.responseBody };
}

/** Starts the worker's timer; `stop()` waits for the run in progress. */
export function startDeliveryWorker(store: Store, clock: Clock, options: DeliveryWorkerOptions, log: FastifyBaseLogger): DeliveryWorker {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let kicked = false;
  // A lease covers two attempt timeouts: an attempt starts only while a whole timeout still fits.
  const leaseMs = options.attemptTimeoutMs * 2 + 1000;

  /** Sends one delivery and records the attempt; true when the receiver took it (2xx). */
  async function attempt(delivery: WebhookDeliveryRow, leaseUntilMs: number): Promise<boolean> {
    // Past this point the lease may run out mid-attempt and another worker could send too.
    if (clock.nowMs() + options.attemptTimeoutMs >= leaseUntilMs) return false;
    const endpoint = await store.read.getWebhookEndpoint(delivery.tenantId, delivery.endpointId);
    if (!endpoint) return false; // deleted with its deliveries meanwhile
    const startedMs = clock.nowMs();
    let result: PostResult;
    if (!endpoint.enabled) {
      result = { statusCode: null, error: "endpoint disabled", responseBody: null, durationMs: 0 };
    } else {
      const event = await store.read.getEventBySeq(delivery.tenantId, delivery.eventSeq);
      invariant(event && event.id === delivery.eventId, `event ${delivery.eventId} of delivery ${delivery.id} exists`);
      const body = canonicalJson(event);
      const url = parseWebhookUrl(endpoint.url);
      const target = url ? await checkWebhookTarget(url, options.allowPrivateTargets) : { ok: false, reason: "invalid URL", addresses: [] };
      if (!url || !target.ok) {
        result = { statusCode: null, error: `target refused: ${target.reason}`, responseBody: null, durationMs: 0 };
      } else {
        const headers = signedHeaders(endpoint, event.id, Math.floor(clock.nowMs() / 1000), body, clock.nowMs());
        result = await postWebhook(url, target.addresses[0]!, headers, body, options.attemptTimeoutMs);
      }
    }
    await record(delivery, startedMs, result, !endpoint.enabled);
    const status = result.statusCode ?? 0;
    return status >= 200 && status < 300;
  }

  async function record(claimed: WebhookDeliveryRow, startedMs: number, result: PostResult, endpointDisabled: boolean): Promise<void> {
    const nowMs = clock.nowMs();
    await store.write(claimed.tenantId, async (tx) => {
      const current = await tx.getWebhookDelivery(claimed.tenantId, claimed.id);
      if (!current || current.status !== "pending") return;
      const attempts = [...current.attempts, attemptRecord(startedMs, result)].slice(-webhookAttemptRecordsMax);
      const attemptCount = current.attemptCount + 1;
      const status = result.statusCode ?? 0;
      const delivered = status >= 200 && status < 300;
      const gone = status === 410;
      const exhausted = attemptCount >= webhookAttemptsMax || endpointDisabled;
      await tx.updateWebhookDelivery({
        ...current,
        status: delivered ? "delivered" : gone || exhausted ? "failed" : "pending",
        attemptCount,
        attempts,
        lastAttemptAtMs: startedMs,
        nextAttemptAtMs: delivered || gone || exhausted ? current.nextAttemptAtMs : nowMs + retryDelayMs(attemptCount, options.retryBaseMs),
        updatedAtMs: nowMs,
      });
      if (gone) {
        // Standard Webhooks: 410 Gone means the receiver wants no more deliveries.
        const endpoint = await tx.getWebhookEndpoint(claimed.tenantId, claimed.endpointId);
        if (endpoint?.enabled) {
          const disabled = { ...endpoint, enabled: false, disabledReason: "the receiver answered 410 Gone", updatedAtMs: nowMs };
          await tx.updateWebhookEndpoint(disabled);
          await appendEvent({ tx, tenantId: claimed.tenantId, nowMs, actor: { type: "system", id: "webhook_worker" } }, "webhook_endpoint.disabled", {
            webhook_endpoint: webhookEndpointView(disabled),
          });
        }
      }
    });
  }

  async function runOnce(): Promise<number> {
    const nowMs = clock.nowMs();
    const dueAtMs = await store.read.nextWebhookDeliveryDueAtMs();
    if (dueAtMs === null || dueAtMs > nowMs) return 0;
    const leaseUntilMs = nowMs + leaseMs;
    const claimed = await store.write(null, (tx) => tx.claimDueWebhookDeliveries(nowMs, leaseUntilMs, webhookClaimBatchMax));
    if (claimed.length === 0) return 0;
    // One queue per endpoint, in journal order; endpoints in parallel, bounded.
    const byEndpoint = new Map<string, WebhookDeliveryRow[]>();
    for (const delivery of claimed) {
      const key = `${delivery.tenantId}/${delivery.endpointId}`;
      byEndpoint.set(key, [...(byEndpoint.get(key) ?? []), delivery]);
    }
    const queues = [...byEndpoint.values()];
    await Promise.all(
      Array.from({ length: Math.min(webhookConcurrentDeliveriesMax, queues.length) }, async () => {
        for (let queue = queues.shift(); queue; queue = queues.shift()) {
          // After a failure the rest of this endpoint's batch waits for its lease to end: a
          // receiver that is down or timing out costs one attempt per poll, not one per event,
          // and does not hold up the other endpoints' queues.
          for (const delivery of queue) if (!(await attempt(delivery, leaseUntilMs))) break;
        }
      }),
    );
    return claimed.length;
  }

  /** Queues one run after the current one; a run already waiting to start covers later calls. */
  let waiting = false;
  function schedule(): void {
    if (stopped || waiting) return;
    waiting = true;
    running = running
      .then(async () => {
        waiting = false;
        // Keep going while full batches come back, or a commit queued more meanwhile: a backlog
        // drains without waiting for the timer.
        while (!stopped) {
          kicked = false;
          const count = await runOnce();
          if (count < webhookClaimBatchMax && !kicked) break;
        }
      })
      .catch((error: unknown) => log.error({ err: error }, "webhook delivery run failed"));
  }

  const timer = setInterval(schedule, options.pollIntervalMs);
  timer.unref();

  return {
    runOnce,
    kick() {
      if (stopped) return;
      kicked = true;
      schedule();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
