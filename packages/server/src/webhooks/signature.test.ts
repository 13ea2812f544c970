/**
 * Standard Webhooks `v1` signatures, checked against the independent `standardwebhooks` package
 * both ways: what we sign it verifies, what it signs we verify.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { hmacSignedHeaders, verifyHmacSignature } from "./signature.js";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const other = `whsec_${randomBytes(32).toString("base64")}`;
const body = '{"tenant_id":"ten_1","transaction_id":"txn_1","status":"succeeded"}';
const nowMs = Date.UTC(2026, 10, 22, 12, 0, 0);

function signedByLibrary(key: string, id = "msg_1", atMs = nowMs, payload = body) {
  return { id, timestamp: String(Math.floor(atMs / 1000)), signature: new Webhook(key).sign(id, new Date(atMs), payload) };
}

describe("verifyHmacSignature", () => {
  it.each([
    ["the library's signature", [secret], signedByLibrary(secret), null],
    ["either secret of a rotation", [other, secret], signedByLibrary(secret), null],
    ["several offered signatures, one right", [secret], { ...signedByLibrary(secret), signature: `v1,AAAA ${signedByLibrary(secret).signature}` }, null],
    ["another secret", [secret], signedByLibrary(other), "no_matching_signature"],
    ["another body", [secret], signedByLibrary(secret, "msg_1", nowMs, "{}"), "no_matching_signature"],
    ["another message id", [secret], { ...signedByLibrary(secret), id: "msg_2" }, "no_matching_signature"],
    ["a v1a-only header", [secret], { ...signedByLibrary(secret), signature: "v1a,AAAA" }, "no_matching_signature"],
    ["a truncated signature", [secret], { ...signedByLibrary(secret), signature: signedByLibrary(secret).signature.slice(0, 20) }, "no_matching_signature"],
    ["5 minutes old", [secret], signedByLibrary(secret, "msg_1", nowMs - 300_000), null],
    ["over 5 minutes old", [secret], signedByLibrary(secret, "msg_1", nowMs - 301_000), "stale_timestamp"],
    ["over 5 minutes ahead", [secret], signedByLibrary(secret, "msg_1", nowMs + 301_000), "stale_timestamp"],
    ["a timestamp that is not a number", [secret], { ...signedByLibrary(secret), timestamp: "soon" }, "missing_headers"],
    ["an empty id", [secret], { ...signedByLibrary(secret), id: "" }, "missing_headers"],
    ["no headers", [secret], null, "missing_headers"],
  ] as const)("%s", (_what, secrets, received, expected) => {
    expect(verifyHmacSignature(secrets, received, Buffer.from(body), nowMs, 300)).toBe(expected);
  });

  it("what we sign, the library verifies, with either secret of a rotation", () => {
    // The library checks the timestamp against the real clock: sign with the real time.
    const headers = hmacSignedHeaders([other, secret], "txn_1", Math.floor(Date.now() / 1000), body);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const key of [secret, other]) expect(new Webhook(key).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(`whsec_${randomBytes(32).toString("base64")}`).verify(body, headers)).toThrow();
  });
});
