/**
 * What escrow signatures cover, byte for byte (docs/escrow.md has a test vector).
 *
 * A principal (the paying agent) signs an intent's terms; a payee signs each evidence submission.
 * Each signature is over ASCII bytes `<domain>.<digest>`, where `<digest>` is the base64url
 * (unpadded) SHA-256 of the RFC 8785 canonical JSON of the terms or binding, and `<domain>` is
 * `bursar-escrow-intent-v1` or `bursar-escrow-evidence-v1`. The domain keeps a signature of one
 * kind from ever verifying as another: not as the other escrow kind, not as a JWS (whose signing
 * input starts with a base64url header, `eyJ…`), not as a checkpoint note (`bursar/…`).
 * Signatures are the raw 64 bytes (Ed25519, or P-256 `r || s` as in RFC 7518 §3.4), base64url.
 */
import { createHash, type KeyObject } from "node:crypto";
import { canonicalJson } from "../canonical.js";
import { decodeBase64Url, verifyJwsSignature, type JwsAlgorithm } from "../identity/jose.js";

export const escrowIntentSignatureDomain = "bursar-escrow-intent-v1";
export const escrowEvidenceSignatureDomain = "bursar-escrow-evidence-v1";

/** Base64url SHA-256 of a JSON value's canonical form: how schemas, predicates and payloads are named in signed bytes. */
export function canonicalDigest(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value), "utf8").digest("base64url");
}

/** The terms a principal signs. Every field is fixed at creation and shown by `GET /v1/escrow-intents/{id}`. */
export interface EscrowTerms {
  tenant_id: string;
  intent_id: string;
  payer_agent_id: string;
  payee_id: string;
  /** RFC 7638 thumbprint of the payee's evidence key: the key that must sign the evidence. */
  payee_key_thumbprint: string;
  amount: number;
  currency: string;
  /** RFC 3339, exactly as sent. */
  deadline: string;
  release_mode: "auto" | "confirm";
  cost_path: string | null;
  evidence_schema_sha256: string;
  predicate_sha256: string;
  allowed_operations_sha256: string;
}

/** What a payee signs for one evidence submission. */
export interface EvidenceBinding {
  tenant_id: string;
  intent_id: string;
  payee_id: string;
  payload_sha256: string;
  /** The artifacts' own `sha256` values, in the order listed. */
  artifact_sha256s: string[];
  /** RFC 3339, exactly as sent. */
  submitted_at: string;
}

/** The ASCII bytes a principal signs for `terms`. */
export function escrowTermsSigningInput(terms: EscrowTerms): Buffer {
  return Buffer.from(`${escrowIntentSignatureDomain}.${canonicalDigest(terms)}`, "ascii");
}

/** The ASCII bytes a payee signs for one evidence submission. */
export function evidenceSigningInput(binding: EvidenceBinding): Buffer {
  return Buffer.from(`${escrowEvidenceSignatureDomain}.${canonicalDigest(binding)}`, "ascii");
}

/** Whether `signature` (base64url, 64 bytes) verifies over `input` with `key`. Never throws. */
export function verifyDetachedSignature(algorithm: JwsAlgorithm, key: KeyObject, input: Buffer, signature: string): boolean {
  const bytes = typeof signature === "string" && signature.length <= 128 ? decodeBase64Url(signature) : null;
  return bytes !== null && verifyJwsSignature(algorithm, key, input, bytes);
}
