/**
 * The signed bytes of docs/escrow.md, checked three ways against the test vector printed there:
 * the server's core, the SDK (WebCrypto and its own RFC 8785), and the document's own text. If
 * any of them drifts, this fails.
 */
import { createPrivateKey, sign } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalDigest, canonicalJson, escrowTermsSigningInput, evidenceSigningInput, verifyDetachedSignature, importPublicJwk } from "@bursar/core";
import { agentKeyFromCryptoKeys, escrowTerms, signEscrowTerms, signEvidence } from "@bursar/sdk";
import { repoRoot } from "./support.js";

const seedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const publicJwk = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" } as const;
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seedHex, "hex")]), format: "der", type: "pkcs8" });
const doc = fs.readFileSync(path.join(repoRoot, "docs/escrow.md"), "utf8");

const request = {
  tenantId: "ten_01JEXAMPLE0000000000000000", intentId: "int_report-2026-q2", payerAgentId: "agt_01JEXAMPLE0000000000000000",
  payeeId: "pay_01JEXAMPLE0000000000000000", payeeKeyThumbprint: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", amount: 5000, currency: "GBP",
  deadline: "2026-12-31T00:00:00Z", releaseMode: "auto" as const, costPath: null,
  evidenceSchema: { type: "object", required: ["status"] },
  predicate: { version: 1, root: { op: "eq", left: { ptr: "/payload/status" }, right: { const: 200 } } },
  allowedOperations: ["tools.*"],
};
const expected = {
  canonical: '{"allowed_operations_sha256":"bJXAOYw0k6QJ_ZFUfL7-c1xPEO7ni8tYyQTnJAhr_cA","amount":5000,"cost_path":null,"currency":"GBP","deadline":"2026-12-31T00:00:00Z","evidence_schema_sha256":"dqDtq8v0Fh5t1AhAMt2mX3B9H7eJk4nfFwf0PMHMQok","intent_id":"int_report-2026-q2","payee_id":"pay_01JEXAMPLE0000000000000000","payee_key_thumbprint":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","payer_agent_id":"agt_01JEXAMPLE0000000000000000","predicate_sha256":"CTyUmHnPxnrhG7c9zphePaP4obVXsiiYPo1fyMl-Ln4","release_mode":"auto","tenant_id":"ten_01JEXAMPLE0000000000000000"}',
  input: "bursar-escrow-intent-v1.Dv5eZuLUw1uXvngOSq28gb8LQW8v02FWRXaCBa4OXQ0",
  signature: "nosTPUuHrMxbZkax8ye7UlryDHnaikN5JghpKBOIxcDPqqvnHek4gsLR5yoCLos8nNUWoioe-3mXnMni0TyWCA",
  evidenceInput: "bursar-escrow-evidence-v1.Jm2ZssP5Urv70k-i6TVJXmXKC5oG7lRCxacupuKSVC4",
  evidenceSignature: "MLaEopfIRPQjipA00YpNl1_lSKO47oFaNE5YRYbbhTSoAZQYL-dfp83Tj1Z11BDyTgAj35A7Hg0gnugkWox-Cw",
};
const artifact = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg";

describe("docs/escrow.md test vector", () => {
  it("the document prints the vector", () => {
    for (const value of [seedHex, publicJwk.x, ...Object.values(expected), artifact]) expect(doc).toContain(value);
  });

  it("the server's core produces it and verifies it", async () => {
    const sdkTerms = await escrowTerms(request);
    expect(canonicalJson(sdkTerms)).toBe(expected.canonical);
    const input = escrowTermsSigningInput(sdkTerms);
    expect(input.toString("ascii")).toBe(expected.input);
    expect(sign(null, input, privateKey).toString("base64url")).toBe(expected.signature);
    const key = importPublicJwk(publicJwk);
    if (!key.ok) throw new Error(key.detail);
    expect(verifyDetachedSignature("EdDSA", key.value.key, input, expected.signature)).toBe(true);
    expect(key.value.thumbprint).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    const binding = {
      tenant_id: request.tenantId, intent_id: request.intentId, payee_id: request.payeeId, payload_sha256: canonicalDigest({ status: 200 }),
      artifact_sha256s: [artifact], submitted_at: "2026-12-01T12:00:00Z",
    };
    expect(evidenceSigningInput(binding).toString("ascii")).toBe(expected.evidenceInput);
    expect(verifyDetachedSignature("EdDSA", key.value.key, evidenceSigningInput(binding), expected.evidenceSignature)).toBe(true);
  });

  it("the SDK signs the same bytes (WebCrypto, its own RFC 8785)", async () => {
    const subtle = globalThis.crypto.subtle;
    const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
    const cryptoPrivate = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    const agentKey = await agentKeyFromCryptoKeys(cryptoPrivate, publicJwk);
    expect(await signEscrowTerms(agentKey, await escrowTerms(request))).toBe(expected.signature);
    const evidence = await signEvidence(agentKey, { tenantId: request.tenantId, intentId: request.intentId, payeeId: request.payeeId, payload: { status: 200 }, artifacts: [{ sha256: artifact }], submittedAt: "2026-12-01T12:00:00Z" });
    expect(evidence.signature).toBe(expected.evidenceSignature);
  });
});
