/**
 * verifyWebhook against an independent signer: the `standardwebhooks` package for `v1`, and
 * node:crypto Ed25519 for `v1a` (the library has no asymmetric signer). Every rule has a probe
 * that tries to break it.
 */
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WebhookVerificationError, parseWebhookEvent, verifyWebhook } from "./index.ts";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const event = { id: "evt_1", seq: 7, type: "transfer.posted", tenant_id: "ten_1", agent_id: null, created_at: "2026-11-29T12:00:00.000Z", actor: { type: "system", id: "sys" }, data: { n: 1 } };
const body = JSON.stringify(event);

function signed(payload = body, at = new Date(), key = secret, id = "evt_1") {
  const signature = new Webhook(key).sign(id, at, payload);
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signature };
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).reason;
}

describe("verifyWebhook (v1, HMAC-SHA256)", () => {
  it("accepts what standardwebhooks signs, from plain objects, Headers and bytes", async () => {
    const headers = signed();
    await verifyWebhook(body, headers, secret);
    await verifyWebhook(new TextEncoder().encode(body), new Headers(headers), secret);
    await verifyWebhook(body, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])), secret);
    expect(await parseWebhookEvent(body, headers, secret)).toEqual(event);
    // And what we accept, the reference library accepts too.
    expect(new Webhook(secret).verify(body, headers)).toEqual(event);
  });

  it("refuses a changed body, another secret, a changed id, and missing headers", async () => {
    const headers = signed();
    expect(await reason(verifyWebhook(body.replace('"n":1', '"n":2'), headers, secret))).toBe("no_matching_signature");
    expect(await reason(verifyWebhook(body, headers, `whsec_${randomBytes(32).toString("base64")}`))).toBe("no_matching_signature");
    expect(await reason(verifyWebhook(body, { ...headers, "webhook-id": "evt_2" }, secret))).toBe("no_matching_signature");
    expect(await reason(verifyWebhook(body, { ...headers, "webhook-signature": "v1," }, secret))).toBe("no_matching_signature");
    expect(await reason(verifyWebhook(body, { ...headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v1a,") }, secret))).toBe("no_matching_signature");
    expect(await reason(verifyWebhook(body, { "webhook-id": "x", "webhook-timestamp": "1" }, secret))).toBe("missing_headers");
    expect(await reason(verifyWebhook(body, { ...headers, "webhook-timestamp": "soon" }, secret))).toBe("invalid_timestamp");
  });

  it("refuses timestamps outside the tolerance, both ways, and honours a custom tolerance", async () => {
    const old = signed(body, new Date(Date.now() - 301_000));
    expect(await reason(verifyWebhook(body, old, secret))).toBe("timestamp_out_of_tolerance");
    const future = signed(body, new Date(Date.now() + 301_000));
    expect(await reason(verifyWebhook(body, future, secret))).toBe("timestamp_out_of_tolerance");
    await verifyWebhook(body, old, secret, { toleranceSeconds: 600 });
    await verifyWebhook(body, signed(body, new Date(Date.now() - 299_000)), secret);
  });

  it("during a rotation, accepts either secret among several signatures", async () => {
    const next = `whsec_${randomBytes(32).toString("base64")}`;
    const at = new Date();
    const headers = signed(body, at, secret);
    const both = { ...headers, "webhook-signature": `${new Webhook(next).sign("evt_1", at, body)} ${headers["webhook-signature"]}` };
    await verifyWebhook(body, both, next);
    await verifyWebhook(body, both, secret);
    await verifyWebhook(body, headers, [next, secret]);
  });
});

describe("verifyWebhook (v1a, Ed25519)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const whpk = `whpk_${Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("base64")}`;

  function ed25519Signed(payload = body) {
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(`evt_1.${ts}.${payload}`), privateKey).toString("base64");
    return { "webhook-id": "evt_1", "webhook-timestamp": ts, "webhook-signature": `v1,${"A".repeat(44)} v1a,${signature}` };
  }

  it("accepts a v1a signature with the whpk_ key and refuses a changed body or another key", async () => {
    await verifyWebhook(body, ed25519Signed(), whpk);
    expect(await reason(verifyWebhook(body + " ", ed25519Signed(), whpk))).toBe("no_matching_signature");
    const other = generateKeyPairSync("ed25519").publicKey;
    const otherWhpk = `whpk_${Buffer.from(other.export({ format: "jwk" }).x!, "base64url").toString("base64")}`;
    expect(await reason(verifyWebhook(body, ed25519Signed(), otherWhpk))).toBe("no_matching_signature");
    // A v1a signature is not checked as an HMAC, nor the other way round.
    expect(await reason(verifyWebhook(body, ed25519Signed(), secret))).toBe("no_matching_signature");
  });
});
