import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DpopProofError, ProofKeyCache, verifyDpopProof, type ProofExpectations } from "./dpop.js";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwk = publicKey.export({ format: "jwk" });
const nowMs = Date.UTC(2026, 10, 22, 12, 0, 0);
const token = "access.token.value";
const ath = createHash("sha256").update(token).digest("base64url");
const expectations: ProofExpectations = { method: "GET", url: "https://api.example/v1/balance", accessToken: token, nowMs };

function proof(payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const input = `${b64({ typ: "dpop+jwt", alg: "ES256", jwk, ...header })}.${b64({ jti: "j1", htm: "GET", htu: "https://api.example/v1/balance", iat: nowMs / 1000, ath, ...payload })}`;
  return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

const verify = (value: string | string[] | undefined, expect: Partial<ProofExpectations> = {}) => verifyDpopProof(value, { ...expectations, ...expect }, new ProofKeyCache());

describe("DPoP proof checks (RFC 9449 §4.3)", () => {
  it("accepts a valid proof and reports its key thumbprint", () => {
    const verified = verify(proof());
    expect(verified.jti).toBe("j1");
    expect(verified.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("normalises htu: default port, host case, query and fragment do not matter", () => {
    expect(() => verify(proof({ htu: "https://API.example:443/v1/balance?x=1#frag" }))).not.toThrow();
  });

  const refused: Array<[string, string | string[] | undefined, Partial<ProofExpectations>?]> = [
    ["no header", undefined],
    ["two headers", [proof(), proof()]],
    ["two headers joined", `${proof()}, ${proof()}`],
    ["not a JWS", "abc"],
    ["typ JWT", proof({}, { typ: "JWT" })],
    ["alg none", proof({}, { alg: "none" })],
    ["alg HS256", proof({}, { alg: "HS256" })],
    ["alg EdDSA on a P-256 key", proof({}, { alg: "EdDSA" })],
    ["a private key in jwk", proof({}, { jwk: privateKey.export({ format: "jwk" }) })],
    ["another method", proof({ htm: "POST" })],
    ["another scheme", proof({ htu: "http://api.example/v1/balance" })],
    ["another path", proof({ htu: "https://api.example/v1/agents" })],
    ["iat 61 s old", proof({ iat: nowMs / 1000 - 61 })],
    ["iat 61 s ahead", proof({ iat: nowMs / 1000 + 61 })],
    ["iat as a string", proof({ iat: String(nowMs / 1000) })],
    ["a wrong ath", proof({ ath: "AAAA" })],
    ["no ath with a token", proof({ ath: undefined })],
    ["no jti", proof({ jti: undefined })],
    ["a tampered payload", proof().replace(/\.[^.]+\./, `.${b64({ jti: "j2", htm: "GET", htu: "https://api.example/v1/balance", iat: nowMs / 1000, ath })}.`)],
  ];
  it.each(refused)("refuses %s", (_label, value, expect_) => {
    expect(() => verify(value, expect_)).toThrow(DpopProofError);
  });

  it("accepts iat exactly 60 s either side", () => {
    expect(() => verify(proof({ iat: nowMs / 1000 - 60 }))).not.toThrow();
    expect(() => verify(proof({ iat: nowMs / 1000 + 60 }))).not.toThrow();
  });

  it("asks for a nonce when one is required and missing", () => {
    const error = (() => {
      try {
        verify(proof(), { nonceIsValid: (nonce) => nonce === "n1" });
      } catch (caught) {
        return caught as DpopProofError;
      }
      return null;
    })();
    expect(error?.code).toBe("use_dpop_nonce");
    expect(() => verify(proof({ nonce: "n1" }), { nonceIsValid: (nonce) => nonce === "n1" })).not.toThrow();
  });
});
