/**
 * One call of a tenant's HTTP operation: the payload POSTed as JSON to the operation's URL.
 *
 * The tenant chooses the URL and Bursar calls it, so this is the webhook SSRF problem again and
 * gets the same guard (webhooks/target-guard.ts): every address the host resolves to is checked
 * at each call, and the connection goes to the very address that was checked (DNS rebinding).
 * Redirects are never followed (node:http does not; a 3xx is a failed call — following one would
 * let a public target bounce us to a private address). The call is bounded in time, connect to
 * last byte, and in the response bytes read: an answer larger than `serviceResultBytesMax`
 * fails the request instead of being cut (a cut JSON document is not a result).
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { parseJsonWellFormed, serviceResultBytesMax, type ServiceOutcome } from "@bursar/core";
import { checkWebhookTarget, parseWebhookUrl } from "../webhooks/target-guard.js";

export interface CallOptions {
  timeoutMs: number;
  /** Explicit opt-in (tests, local development): loopback and private targets allowed. */
  allowPrivateTargets: boolean;
  /** Aborts the call (server shutdown); the request's deadline then settles it. */
  signal: AbortSignal;
}

/** Headers the operation receives besides the JSON content type. */
export interface CallHeaders {
  serviceRequestId: string;
  tenantId: string;
}

/** Calls the operation and turns its answer into the request's outcome; never throws. */
export async function callOperation(urlText: string, payload: unknown, ids: CallHeaders, options: CallOptions): Promise<ServiceOutcome> {
  const url = parseWebhookUrl(urlText);
  if (!url) return { status: "failed", reason: "service_url_forbidden" };
  const target = await checkWebhookTarget(url, options.allowPrivateTargets);
  if (!target.ok) return { status: "failed", reason: "service_url_forbidden" };
  const address = target.addresses[0]!;
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) (callback as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const body = JSON.stringify(payload);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: ServiceOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", abort);
      request.destroy();
      resolve(outcome);
    };
    const request = transport.request(url, {
      method: "POST",
      lookup: pinned,
      agent: false,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        accept: "application/json",
        "user-agent": "Bursar-Services/1",
        // The service may deduplicate on it: a request is called at most once, but say so anyway.
        "idempotency-key": ids.serviceRequestId,
        "bursar-service-request-id": ids.serviceRequestId,
        "bursar-tenant-id": ids.tenantId,
      },
    });
    const timer = setTimeout(() => finish({ status: "failed", reason: "service_timeout" }), options.timeoutMs);
    const abort = () => finish({ status: "failed", reason: "aborted" });
    options.signal.addEventListener("abort", abort);
    request.on("error", () => finish({ status: "failed", reason: "service_unreachable" }));
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) return finish({ status: "failed", reason: `service_http_${status}` });
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > serviceResultBytesMax) return finish({ status: "failed", reason: "result_too_large" });
        chunks.push(chunk);
      });
      response.on("error", () => finish({ status: "failed", reason: "service_unreachable" }));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (text.trim() === "") return finish({ status: "executed", result: null });
        try {
          finish({ status: "executed", result: parseJsonWellFormed(text) });
        } catch {
          finish({ status: "failed", reason: "service_invalid_response" });
        }
      });
    });
    request.end(body);
  });
}
