/**
 * Standard Webhooks 1.0 signatures. The signed content is `<webhook-id>.<webhook-timestamp>.<body>`;
 * `v1` is base64 HMAC-SHA256 keyed with the base64-decoded part of the `whsec_` secret, `v1a` is
 * base64 Ed25519. Several signatures go space-separated in one `webhook-signature` header: during
 * a secret rotation both secrets sign, so a receiver holding either one verifies.
 */
import { createHmac, createPrivateKey, sign } from "node:crypto";
import { webhookSecretPrefix, type WebhookEndpointRow } from "@bursar/core";

/** The HMAC key of a `whsec_` secret. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(webhookSecretPrefix) ? secret.slice(webhookSecretPrefix.length) : secret, "base64");
}

/** The headers of one delivery attempt. `timestampSeconds` is the attempt's time, not the event's. */
export function signedHeaders(endpoint: WebhookEndpointRow, messageId: string, timestampSeconds: number, body: string, nowMs: number): Record<string, string> {
  const content = `${messageId}.${timestampSeconds}.${body}`;
  const signatures: string[] = [];
  const secrets = [endpoint.secret];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAtMs !== null && endpoint.previousSecretExpiresAtMs > nowMs) {
    secrets.push(endpoint.previousSecret);
  }
  for (const secret of secrets) signatures.push(`v1,${createHmac("sha256", secretKey(secret)).update(content, "utf8").digest("base64")}`);
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
