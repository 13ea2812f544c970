/**
 * The SDK's JOSE against the RFCs' own vectors (RFC 8037 Appendix A: Ed25519 JWK thumbprint and
 * a deterministic JWS) and against node:crypto as an independent verifier for ES256.
 */
import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { agentKeyFromCryptoKeys, exportPrivateKeyPem, generateAgentKey, importPrivateKeyPem, jwkThumbprint, signJws } from "./jose.ts";

// RFC 8037 Appendix A.1.
const rfc8037 = {
  kty: "OKP",
  crv: "Ed25519",
  d: "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
} as const;

describe("jose", () => {
  it("RFC 8037 A.3: the Ed25519 JWK thumbprint", async () => {
    expect(await jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: rfc8037.x })).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });

  it("RFC 8037 A.4: the Ed25519 JWS of 'Example of Ed25519 signing'", async () => {
    const privateKey = await crypto.subtle.importKey("jwk", { ...rfc8037 }, { name: "Ed25519" }, false, ["sign"]);
    const key = await agentKeyFromCryptoKeys(privateKey, { kty: "OKP", crv: "Ed25519", x: rfc8037.x });
    // signJws signs JSON payloads; the vector's payload is a string, so sign its bytes the same way.
    const jws = await signJws(key, {}, {});
    expect(jws.split(".")[0]).toBe("eyJhbGciOiJFZERTQSJ9");
    const input = `eyJhbGciOiJFZERTQSJ9.${Buffer.from("Example of Ed25519 signing").toString("base64url")}`;
    const signature = Buffer.from(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, new TextEncoder().encode(input))).toString("base64url");
    expect(`${input}.${signature}`).toBe(
      "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
    );
  });

  it.each(["ES256", "EdDSA"] as const)("%s: a JWS node:crypto verifies, a PEM round trip keeps the key, the thumbprint matches node's JWK", async (algorithm) => {
    const key = await generateAgentKey(algorithm, { extractable: true });
    const jws = await signJws(key, { typ: "dpop+jwt", jwk: key.publicJwk }, { htm: "GET", htu: "https://x.test/v1", iat: 1, jti: "j" });
    const [header, payload, signature] = jws.split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toEqual({ typ: "dpop+jwt", jwk: key.publicJwk, alg: algorithm });
    const publicKey = createPublicKey({ key: key.publicJwk, format: "jwk" });
    const ok = verify(algorithm === "ES256" ? "sha256" : null, Buffer.from(`${header}.${payload}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
    expect(ok).toBe(true);

    const pem = await exportPrivateKeyPem(key);
    const again = await importPrivateKeyPem(pem);
    expect(again.publicJwk).toEqual(key.publicJwk);
    expect(again.thumbprint).toBe(key.thumbprint);
    expect(again.privateKey.extractable).toBe(false);
    await expect(exportPrivateKeyPem(again)).rejects.toThrow(/not extractable/);
  });

  it("refuses what is not an agent key", async () => {
    await expect(importPrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")).rejects.toThrow();
    await expect(importPrivateKeyPem("not a pem")).rejects.toThrow(/PKCS#8/);
  });
});
