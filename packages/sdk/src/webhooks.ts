/**
 * Verifying webhooks (Standard Webhooks 1.0). The signed content is
 * `<webhook-id>.<webhook-timestamp>.<raw body>`; `v1,<base64>` is HMAC-SHA256 keyed with the
 * base64-decoded part of a `whsec_` secret, `v1a,<base64>` an Ed25519 signature checked with the
 * endpoint's `whpk_` public key. Comparison is WebCrypto's `verify`, which is constant-time (a
 * byte-by-byte `===` would leak how much of a forged signature is right, one timing at a time).
 * The timestamp must be within the tolerance (5 minutes by default) either way, which bounds how
 * long a captured delivery can be replayed; deduplicate on `webhook-id` to close the rest.
 */
import { WebhookVerificationError } from "./errors.ts";
import { base64Decode } from "./jose.ts";
import { webhookBodyBytesMax, webhookSignaturesMax, webhookToleranceSecondsDefault } from "./limits.ts";
import type { BursarEvent } from "./types.ts";

/** Headers as fetch, Node's `IncomingMessage.headers`, or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** Seconds either side of now; default `webhookToleranceSecondsDefault` (300). */
  toleranceSeconds?: number;
  /** The time to check against (tests); default now. */
  nowMs?: number;
}

const secretPrefix = "whsec_";
const publicKeyPrefix = "whpk_";
const encoder = new TextEncoder();

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const direct = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(direct) ? direct[0] : direct;
}

async function verifyOne(secret: string, scheme: string, signature: Uint8Array, content: Uint8Array): Promise<boolean> {
  const subtle = globalThis.crypto.subtle;
  if (secret.startsWith(publicKeyPrefix)) {
    if (scheme !== "v1a") return false;
    const raw = base64Decode(secret.slice(publicKeyPrefix.length));
    if (!raw || raw.length !== 32) throw new WebhookVerificationError("invalid_secret", "a whpk_ key is base64 of a 32-byte Ed25519 public key");
    const key = await subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    return signature.length === 64 && subtle.verify({ name: "Ed25519" }, key, signature, content);
  }
  if (scheme !== "v1") return false;
  const raw = base64Decode(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret);
  if (!raw || raw.length === 0) throw new WebhookVerificationError("invalid_secret", "a whsec_ secret is base64 after its prefix");
  const key = await subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return subtle.verify("HMAC", key, signature, content);
}

/**
 * Verifies a webhook delivery; resolves when it is authentic and fresh, throws
 * `WebhookVerificationError` otherwise. `payload` must be the raw body, byte for byte (parsing and
 * re-serialising JSON changes it). `secret` is the endpoint's `whsec_…` secret, or its `whpk_…`
 * public key for `v1a`; pass several during a rotation.
 *
 * @example
 * await verifyWebhook(rawBody, request.headers, process.env.BURSAR_WEBHOOK_SECRET!);
 */
export async function verifyWebhook(payload: string | Uint8Array, headers: WebhookHeaders, secret: string | string[], options: VerifyWebhookOptions = {}): Promise<void> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatureHeader = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatureHeader) throw new WebhookVerificationError("missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required");
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not a number of seconds");
  const toleranceSeconds = options.toleranceSeconds ?? webhookToleranceSecondsDefault;
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    throw new WebhookVerificationError("timestamp_out_of_tolerance", `webhook-timestamp is more than ${toleranceSeconds} s from now`);
  }
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  if (body.length > webhookBodyBytesMax) throw new WebhookVerificationError("payload_too_large", `the payload is larger than ${webhookBodyBytesMax} bytes`);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) throw new WebhookVerificationError("invalid_secret", "no secret given");
  const signatures = signatureHeader.split(" ").filter(Boolean).slice(0, webhookSignaturesMax);
  for (const entry of signatures) {
    const comma = entry.indexOf(",");
    if (comma < 0) continue;
    const scheme = entry.slice(0, comma);
    const signature = base64Decode(entry.slice(comma + 1));
    if (!signature) continue;
    for (const candidate of secrets) if (await verifyOne(candidate, scheme, signature, content)) return;
  }
  throw new WebhookVerificationError("no_matching_signature", "no signature matches the secret");
}

/**
 * Verifies a delivery (see `verifyWebhook`), then parses its body as a Bursar event.
 *
 * @example
 * const event = await parseWebhookEvent(rawBody, request.headers, secret);
 * if (event.type === "transfer.posted") ...
 */
export async function parseWebhookEvent(payload: string | Uint8Array, headers: WebhookHeaders, secret: string | string[], options: VerifyWebhookOptions = {}): Promise<BursarEvent> {
  await verifyWebhook(payload, headers, secret, options);
  const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw new WebhookVerificationError("invalid_payload", "the payload is not JSON");
  }
  const e = event as Partial<BursarEvent> | null;
  if (!e || typeof e.id !== "string" || typeof e.type !== "string" || typeof e.seq !== "number") {
    throw new WebhookVerificationError("invalid_payload", "the payload is not a Bursar event");
  }
  return e as BursarEvent;
}

/**
 * Signs a message as a Standard Webhooks sender does: the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (`v1,` HMAC-SHA256) headers for `payload`, the exact body to send. Used to
 * fire triggers; also what a test sender needs.
 *
 * @example
 * const headers = await signWebhook(body, secret, { id: "msg_1" });
 */
export async function signWebhook(payload: string, secret: string, options: { id: string; timestampSeconds?: number }): Promise<Record<string, string>> {
  const timestamp = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const raw = base64Decode(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret);
  if (!raw || raw.length === 0) throw new WebhookVerificationError("invalid_secret", "a whsec_ secret is base64 after its prefix");
  const key = await globalThis.crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, encoder.encode(`${options.id}.${timestamp}.${payload}`)));
  let binary = "";
  for (const byte of signature) binary += String.fromCharCode(byte);
  return { "webhook-id": options.id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${btoa(binary)}` };
}
