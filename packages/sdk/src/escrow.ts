/**
 * Escrow signatures and reputation receipts, on WebCrypto and the SDK's own RFC 8785 (no server
 * code), byte for byte as docs/escrow.md says:
 * - the payer signs ASCII `bursar-escrow-intent-v1.<base64url(SHA-256(JCS(terms)))>`;
 * - the payee signs ASCII `bursar-escrow-evidence-v1.<base64url(SHA-256(JCS(binding)))>`;
 * - the tenant signs a reputation receipt as `bursar-reputation-receipt-v1.<JCS(receipt)>`.
 */
import { canonicalJson } from "./canonical.ts";
import { base64Decode, base64UrlEncode, sha256Base64Url, signBytes, type AgentKey } from "./jose.ts";
import type { EscrowTerms, EvidenceArtifact, SignedReputationReceipt } from "./types.ts";

const encoder = new TextEncoder();

/** Base64url SHA-256 of a JSON value's RFC 8785 form: how schemas, predicates and payloads appear in signed terms. */
export function canonicalDigest(value: unknown): Promise<string> {
  return sha256Base64Url(canonicalJson(value));
}

/** What a create request says, from which the terms are built. */
export interface EscrowTermsInput {
  tenantId: string;
  intentId: string;
  payerAgentId: string;
  payeeId: string;
  payeeKeyThumbprint: string;
  amount: number;
  currency: string;
  deadline: string;
  releaseMode: "auto" | "confirm";
  costPath: string | null;
  evidenceSchema: Record<string, unknown>;
  predicate: Record<string, unknown>;
  allowedOperations: string[];
}

/** The terms a payer signs (docs/escrow.md, "What the payer signs"). */
export async function escrowTerms(input: EscrowTermsInput): Promise<EscrowTerms> {
  return {
    tenant_id: input.tenantId, intent_id: input.intentId, payer_agent_id: input.payerAgentId, payee_id: input.payeeId,
    payee_key_thumbprint: input.payeeKeyThumbprint, amount: input.amount, currency: input.currency, deadline: input.deadline,
    release_mode: input.releaseMode, cost_path: input.costPath, evidence_schema_sha256: await canonicalDigest(input.evidenceSchema),
    predicate_sha256: await canonicalDigest(input.predicate), allowed_operations_sha256: await canonicalDigest(input.allowedOperations),
  };
}

/** Signs terms with the payer's key: base64url of the raw signature. */
export async function signEscrowTerms(key: Pick<AgentKey, "algorithm" | "privateKey">, terms: EscrowTerms): Promise<string> {
  return base64UrlEncode(await signBytes(key, encoder.encode(`bursar-escrow-intent-v1.${await canonicalDigest(terms)}`)));
}

export interface EvidenceInput {
  tenantId: string;
  intentId: string;
  payeeId: string;
  payload: unknown;
  artifacts?: EvidenceArtifact[];
  /** RFC 3339; default now. Must be within 5 minutes of the server's clock. */
  submittedAt?: string;
}

/** The body of `POST /v1/escrow-intents/{id}/evidence`, signed. */
export interface SignedEvidence {
  tenant_id: string;
  payload: unknown;
  artifacts: EvidenceArtifact[];
  submitted_at: string;
  signature: string;
}

/**
 * Signs evidence with the payee's evidence key (the key registered as the payee's
 * `evidence_public_key`): the body to submit with `escrow.submitEvidence` or `submitEscrowEvidence`.
 * @example const body = await signEvidence(payeeKey, { tenantId, intentId, payeeId, payload: { status: 200, pages: 12 } });
 */
export async function signEvidence(key: Pick<AgentKey, "algorithm" | "privateKey">, input: EvidenceInput): Promise<SignedEvidence> {
  const artifacts = input.artifacts ?? [];
  const submittedAt = input.submittedAt ?? new Date().toISOString();
  const binding = {
    tenant_id: input.tenantId, intent_id: input.intentId, payee_id: input.payeeId, payload_sha256: await canonicalDigest(input.payload),
    artifact_sha256s: artifacts.map((artifact) => artifact.sha256), submitted_at: submittedAt,
  };
  const signature = base64UrlEncode(await signBytes(key, encoder.encode(`bursar-escrow-evidence-v1.${await canonicalDigest(binding)}`)));
  return { tenant_id: input.tenantId, payload: input.payload, artifacts, submitted_at: submittedAt, signature };
}

/**
 * Verifies a reputation receipt offline with the tenant's Ed25519 public key (base64 of the raw
 * 32 bytes, as `GET /v1/journal/authority` states it): true when the tenant signed exactly this receipt.
 */
export async function verifyReputationReceipt(signed: SignedReputationReceipt, tenantPublicKeyBase64: string): Promise<boolean> {
  const raw = base64Decode(tenantPublicKeyBase64);
  const signature = base64Decode(signed.signature);
  if (!raw || raw.length !== 32 || !signature || signature.length !== 64) return false;
  if (signed.key_id !== `bursar/${signed.receipt.tenant_id}`) return false;
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "Ed25519" }, false, ["verify"]);
  const message = encoder.encode(`bursar-reputation-receipt-v1.${canonicalJson(signed.receipt)}`);
  return subtle.verify({ name: "Ed25519" }, key, signature as Uint8Array<ArrayBuffer>, message);
}
