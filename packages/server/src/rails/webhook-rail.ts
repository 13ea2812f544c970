/**
 * The webhook rail (SPEC 3 "Rails", docs/rails.md): Bursar POSTs a signed `payment.execute` to
 * the tenant's executor, which moves the money outside Bursar and reports with a signed callback
 * (routes/rails.ts). The request reuses the event webhooks' machinery: the SSRF target guard
 * (checked again at each send, connecting to the checked address only), Standard Webhooks `v1`
 * signatures with the tenant's rail secret, no redirects, a bounded response body.
 *
 * One attempt, never retried: a payment order must not be sent twice by accident. What the
 * answer means:
 * - 2xx: accepted, the outcome comes by callback (`submitted`), unless the body already says
 *   `{"status":"succeeded"|"failed"}`, which settles at once;
 * - another status, a refused target, a network error: failed (`rail_error`), the hold released;
 * - no answer in time: unknown — the executor may have acted — so it stays pending; the callback
 *   or, failing that, the sweeper at the payment's deadline (`rail_timeout`) settles it.
 * A tenant with no executor configured gets `rail_not_configured` at once.
 */
import {
  parseJsonWellFormed,
  canonicalJson,
  formatMinor,
  loadRailConfig,
  railFailureReasonLengthMax,
  railReferenceLengthMax,
  railSecrets,
  toRfc3339,
  type Clock,
  type Rail,
  type RailOutcome,
  type RailPayment,
  type StoreReader,
} from "@bursar/core";
import { postWebhook, type PostResult } from "../webhooks/post.js";
import { hmacSignedHeaders } from "../webhooks/signature.js";
import { checkWebhookTarget, parseWebhookUrl } from "../webhooks/target-guard.js";
import type { RailLog } from "./dispatcher.js";

export interface WebhookRailOptions {
  reader: StoreReader;
  clock: Clock;
  /** Explicit opt-in to loopback and private executors (tests, local development). */
  allowPrivateTargets: boolean;
  /** Time the executor has to answer `payment.execute` (not to pay: that is the callback's). */
  requestTimeoutMs: number;
  /** Where executors send callbacks; read per payment (the server's URL is known once it listens). */
  callbackUrl: () => string;
  log: RailLog;
}

/** The `payment.execute` message (docs/rails.md "Request"). */
export function paymentExecuteMessage(payment: RailPayment, nowMs: number, callbackUrl: string) {
  return {
    type: "payment.execute",
    timestamp: toRfc3339(nowMs),
    data: {
      transaction_id: payment.transactionId,
      payment_intent_id: payment.paymentIntentId,
      escrow_intent_id: payment.escrowIntentId,
      tenant_id: payment.tenantId,
      agent_id: payment.agentId,
      amount: payment.amountMinor,
      amount_display: formatMinor(payment.amountMinor, payment.currency),
      currency: payment.currency,
      reference: payment.reference,
      payee: { id: payment.payee.id, name: payment.payee.name, rail_details: payment.payee.railDetails },
    },
    callback_url: callbackUrl,
  };
}

const reasonPattern = new RegExp(`^[a-z][a-z0-9_]{0,${railFailureReasonLengthMax - 1}}$`);

/** What the executor's answer to `payment.execute` means (see the file comment). */
export function executorAnswerOutcome(result: PostResult): RailOutcome | { status: "submitted" } {
  if (result.timedOut) return { status: "submitted" };
  const status = result.statusCode ?? 0;
  if (status < 200 || status >= 300) return { status: "failed", reason: "rail_error" };
  let answer: unknown = null;
  try {
    answer = result.responseBody === null ? null : parseJsonWellFormed(result.responseBody);
  } catch {
    // Not JSON (or cut at the body bound): an acceptance without an outcome.
  }
  if (typeof answer !== "object" || answer === null) return { status: "submitted" };
  const { status: outcome, reason, rail_reference: railReference } = answer as Record<string, unknown>;
  if (outcome === "succeeded") {
    const reference = typeof railReference === "string" && railReference !== "" && railReference.length <= railReferenceLengthMax ? railReference : null;
    return { status: "completed", railReference: reference };
  }
  if (outcome === "failed") return { status: "failed", reason: typeof reason === "string" && reasonPattern.test(reason) ? reason : "executor_failed" };
  return { status: "submitted" };
}

/** The webhook rail, reading each tenant's configuration from the store at each payment. */
export function createWebhookRail(options: WebhookRailOptions): Rail {
  const { reader, clock, log } = options;
  return {
    name: "webhook",
    async execute(payment, signal) {
      const config = await loadRailConfig(reader, payment.tenantId, "webhook");
      if (!config) return { status: "failed", reason: "rail_not_configured" };
      const url = parseWebhookUrl(config.body.url);
      const target = url ? await checkWebhookTarget(url, options.allowPrivateTargets) : null;
      if (!url || !target?.ok) {
        log.warn({ transaction_id: payment.transactionId, reason: target?.reason ?? "invalid URL" }, "webhook rail: executor target refused");
        return { status: "failed", reason: "rail_error" };
      }
      const nowMs = clock.nowMs();
      const body = canonicalJson(paymentExecuteMessage(payment, nowMs, options.callbackUrl()));
      // The transaction id is the message id: an executor that sees it twice knows it is one payment.
      const headers = hmacSignedHeaders(railSecrets(config, nowMs), payment.transactionId, Math.floor(nowMs / 1000), body);
      const result = await postWebhook(url, target.addresses[0]!, headers, body, options.requestTimeoutMs, signal);
      if (result.error !== null || (result.statusCode ?? 0) >= 300) {
        log.warn({ transaction_id: payment.transactionId, status_code: result.statusCode, error: result.error }, "webhook rail: executor did not accept");
      }
      return executorAnswerOutcome(result);
    },
  };
}
