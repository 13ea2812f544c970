import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url, importPublicJwk, jwkThumbprint, jwsAlgorithmOf, parseCompactJws, signCompactJws, verifyJwsSignature } from "./jose.js";

/** RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its published thumbprint. */
const rfc7638Key = {
  kty: "RSA" as const,
  e: "AQAB",
  n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
};

const p256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicJwk = (key: ReturnType<typeof p256>["publicKey"]) => key.export({ format: "jwk" }) as Record<string, string>;

describe("JWK thumbprints", () => {
  it("matches RFC 7638 §3.1's example", () => {
    expect(jwkThumbprint(rfc7638Key)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });

  it("matches RFC 8037 Appendix A.3's Ed25519 example", () => {
    expect(jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" })).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });

  it("ignores optional members and their order", () => {
    const jwk = publicJwk(p256().publicKey);
    const imported = importPublicJwk({ use: "sig", y: jwk.y, alg: "ES256", x: jwk.x, crv: "P-256", kty: "EC", kid: "mine" });
    expect(imported.ok && imported.value.thumbprint).toBe(jwkThumbprint({ kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! }));
  });
});

describe("public JWK import", () => {
  const valid = publicJwk(p256().publicKey);
  const cases: Array<[string, unknown]> = [
    ["a private key (d)", { ...valid, d: "AAAA" }],
    ["a symmetric key", { kty: "oct", k: "c2VjcmV0" }],
    ["an RSA key", rfc7638Key],
    ["P-384", { ...valid, crv: "P-384" }],
    ["X25519", { kty: "OKP", crv: "X25519", x: valid.x }],
    ["a point off the curve", { ...valid, y: encodeBase64Url(decodeBase64Url(valid.y!)!.map((byte, i) => (i === 31 ? byte ^ 1 : byte))) }],
    ["a short coordinate", { ...valid, x: valid.x!.slice(0, 20) }],
    ["non-base64url characters", { ...valid, x: valid.x!.replace(/.$/, "+") }],
    ["a mismatched alg", { ...valid, alg: "EdDSA" }],
    ["not an object", "EC"],
  ];
  it.each(cases)("refuses %s", (_label, jwk) => {
    const result = importPublicJwk(jwk);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe("invalid_public_key");
  });

  it("accepts P-256 and Ed25519 public keys", () => {
    expect(importPublicJwk(valid)).toMatchObject({ ok: true, value: { algorithm: "ES256" } });
    const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
    expect(importPublicJwk(ed)).toMatchObject({ ok: true, value: { algorithm: "EdDSA" } });
    // WebCrypto exports Ed25519 keys with RFC 9864's fully-specified alg name.
    expect(importPublicJwk({ ...ed, alg: "Ed25519", ext: true, key_ops: ["verify"] })).toMatchObject({ ok: true, value: { algorithm: "EdDSA" } });
  });
});

describe("ES256 signatures (RFC 7518 §3.4)", () => {
  const { privateKey, publicKey } = p256();
  const input = Buffer.from("header.payload");

  it("signs raw 64-byte r||s and verifies it", () => {
    const jws = parseCompactJws(signCompactJws({ alg: "ES256" }, { a: 1 }, privateKey))!;
    expect(jws.signature).toHaveLength(64);
    expect(verifyJwsSignature("ES256", publicKey, jws.signingInput, jws.signature)).toBe(true);
  });

  it("refuses a DER-encoded signature of the same input", () => {
    const der = sign("sha256", input, privateKey);
    expect(der[0]).toBe(0x30);
    expect(verifyJwsSignature("ES256", publicKey, input, der)).toBe(false);
    const raw = sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
    expect(verifyJwsSignature("ES256", publicKey, input, raw)).toBe(true);
  });

  it("refuses a signature by another key, over other bytes, or under the other algorithm", () => {
    const raw = sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
    expect(verifyJwsSignature("ES256", p256().publicKey, input, raw)).toBe(false);
    expect(verifyJwsSignature("ES256", publicKey, Buffer.from("header.payloaD"), raw)).toBe(false);
    expect(verifyJwsSignature("EdDSA", publicKey, input, raw)).toBe(false);
  });
});

describe("compact JWS parsing", () => {
  it.each([["two segments", "a.b"], ["bad base64url", "a+.b.c"], ["a header that is not an object", `${encodeBase64Url("[1]")}.${encodeBase64Url("{}")}.`], ["too long", "a".repeat(9000)]])(
    "refuses %s",
    (_label, text) => expect(parseCompactJws(text)).toBeNull(),
  );
});

describe("algorithm names", () => {
  it.each([["ES256", "ES256"], ["EdDSA", "EdDSA"], ["Ed25519", "EdDSA"], ["none", null], ["HS256", null], ["RS256", null], ["es256", null], [undefined, null]])("%s → %s", (name, algorithm) => {
    expect(jwsAlgorithmOf(name)).toBe(algorithm);
  });
});
