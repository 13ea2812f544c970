/**
 * One webhook POST: pinned to an address the SSRF guard checked, bounded in time and in the
 * response bytes read, redirects never followed (node:http does not follow them; a 3xx is just a
 * failed attempt — following one would let a public target bounce us to a private address).
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { webhookResponseBodyBytesMax } from "@bursar/core";

export interface PostResult {
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
  /**
   * True when no answer came in time (or `signal` aborted): the receiver may have got the
   * request and acted on it, so the outcome is unknown rather than a failure.
   */
  timedOut?: boolean;
}

/**
 * POSTs `body` to `url`, connecting only to `address` (DNS is not consulted again: a rebinding
 * answer between the check and the connection cannot redirect us). TLS still verifies the
 * certificate against the URL's host name.
 */
export function postWebhook(
  url: URL,
  address: { address: string; family: number },
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PostResult> {
  const startedMs = performance.now();
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
      resolve({ ...result, durationMs: Math.round(performance.now() - startedMs) });
    };
    const request = transport.request(url, {
      method: "POST",
      lookup: pinned,
      agent: false,
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "Bursar-Webhooks/1" },
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish({ statusCode: null, error: `timed out after ${timeoutMs} ms`, responseBody: null, timedOut: true });
    }, timeoutMs);
    function abort() {
      request.destroy();
      finish({ statusCode: null, error: "aborted", responseBody: null, timedOut: true });
    }
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
    request.on("error", (error) => finish({ statusCode: null, error: `network error: ${error.message}`, responseBody: null }));
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = () => {
        const text = Buffer.concat(chunks).toString("utf8");
        finish({ statusCode: response.statusCode ?? null, error: null, responseBody: text === "" ? null : text });
      };
      response.on("data", (chunk: Buffer) => {
        if (kept < webhookResponseBodyBytesMax) {
          const part = chunk.subarray(0, webhookResponseBodyBytesMax - kept);
          chunks.push(part);
          kept += part.length;
        }
        // Enough read: the rest of a large (or endless) body is not our problem.
        if (kept >= webhookResponseBodyBytesMax) {
          done();
          response.destroy();
        }
      });
      response.on("end", done);
      response.on("error", done);
    });
    request.end(body);
  });
}
