/**
 * Standard Webhooks 1.0 signatures. The signed content is `<webhook-id>.<webhook-timestamp>.<body>`;
 * `v1` is base64 HMAC-SHA256 keyed with the base64-decoded part of the `whsec_` secret, `v1a` is
 * base64 Ed25519. Several signatures go space-separated in one `webhook-signature` header: during
 * a secret rotation both secrets sign, so a receiver holding either one verifies.
 */
import { createHmac, createPrivateKey, sign, timingSafeEqual } from "node:crypto";
import { webhookSecretPrefix, type WebhookEndpointRow } from "@bursar/core";

/** The HMAC key of a `whsec_` secret. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(webhookSecretPrefix) ? secret.slice(webhookSecretPrefix.length) : secret, "base64");
}

/** The `v1,` signature of `<messageId>.<timestampSeconds>.<body>` with one secret. */
export function hmacSignature(secret: string, messageId: string, timestampSeconds: number, body: string | Buffer): string {
  const hmac = createHmac("sha256", secretKey(secret)).update(`${messageId}.${timestampSeconds}.`, "utf8");
  return `v1,${hmac.update(body).digest("base64")}`;
}

/** Standard Webhooks headers of one message signed with each of `secrets` (`v1` only). */
export function hmacSignedHeaders(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": secrets.map((secret) => hmacSignature(secret, messageId, timestampSeconds, body)).join(" "),
  };
}

/** The three Standard Webhooks headers of a received message, as sent. */
export interface ReceivedSignature {
  id: string;
  timestamp: string;
  signature: string;
}

/** Why a received message does not verify, or null when it does. */
export type SignatureProblem = "missing_headers" | "stale_timestamp" | "no_matching_signature";

/** Header lengths we look at: ids and timestamps are short; a few signatures fit in 1 KiB. */
const messageIdLengthMax = 256;
const signatureHeaderLengthMax = 1024;

/**
 * Verifies a received Standard Webhooks message against any of `secrets` (a rotation's old and
 * new): the timestamp must be within `ageSecondsMax` of now either way (a captured message cannot
 * be replayed later, Standard Webhooks "Verifying"), and one `v1,` signature must equal the HMAC
 * of the raw body bytes as received (re-serialised JSON would not match). Comparison is
 * constant-time (`timingSafeEqual` on equal-length digests), so response timing does not reveal
 * how much of a guessed signature was right.
 */
export function verifyHmacSignature(secrets: readonly string[], received: ReceivedSignature | null, body: Buffer, nowMs: number, ageSecondsMax: number): SignatureProblem | null {
  if (!received || received.id === "" || received.id.length > messageIdLengthMax || received.signature.length > signatureHeaderLengthMax) return "missing_headers";
  if (!/^\d{1,12}$/.test(received.timestamp)) return "missing_headers";
  const timestampSeconds = Number(received.timestamp);
  if (Math.abs(nowMs / 1000 - timestampSeconds) > ageSecondsMax) return "stale_timestamp";
  const offered = received.signature
    .split(" ")
    .filter((part) => part.startsWith("v1,"))
    .map((part) => Buffer.from(part.slice(3), "base64"));
  for (const secret of secrets) {
    const expected = Buffer.from(hmacSignature(secret, received.id, timestampSeconds, body).slice(3), "base64");
    if (offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return null;
  }
  return "no_matching_signature";
}

/** The headers of one delivery attempt. `timestampSeconds` is the attempt's time, not the event's. */
export function signedHeaders(endpoint: WebhookEndpointRow, messageId: string, timestampSeconds: number, body: string, nowMs: number): Record<string, string> {
  const content = `${messageId}.${timestampSeconds}.${body}`;
  const secrets = [endpoint.secret];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAtMs !== null && endpoint.previousSecretExpiresAtMs > nowMs) {
    secrets.push(endpoint.previousSecret);
  }
  const signatures = secrets.map((secret) => hmacSignature(secret, messageId, timestampSeconds, body));
  if (endpoint.ed25519PrivateKeyPkcs8) {
    const key = createPrivateKey({ key: Buffer.from(endpoint.ed25519PrivateKeyPkcs8), format: "der", type: "pkcs8" });
    signatures.push(`v1a,${sign(null, Buffer.from(content, "utf8"), key).toString("base64")}`);
  }
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
