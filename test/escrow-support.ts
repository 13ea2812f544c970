/**
 * Escrow test helpers that sign as a client would, independently of the server's code: RFC 8785
 * through the `canonicalize` package, SHA-256 and signatures through node:crypto, following
 * docs/escrow.md byte for byte (if the server and the doc disagree, these helpers fail).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import canonicalize from "canonicalize";
import type { KeyPair } from "./agents-support.js";
import { expectStatus, type AgentApi } from "./payments-support.js";
import type { Api } from "./agents-support.js";

const digest = (value: unknown) => createHash("sha256").update(canonicalize(value)!, "utf8").digest("base64url");

export function signBytes(key: KeyObject, text: string): string {
  const input = Buffer.from(text, "ascii");
  const signature = key.asymmetricKeyType === "ed25519" ? sign(null, input, key) : sign("sha256", input, { key, dsaEncoding: "ieee-p1363" });
  return signature.toString("base64url");
}

export interface EvidenceKey {
  privateKey: KeyObject;
  publicJwk: Record<string, string>;
}

export function newEvidenceKey(kind: "ed25519" | "p256" = "ed25519"): EvidenceKey {
  const { privateKey, publicKey } = kind === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, publicJwk: publicKey.export({ format: "jwk" }) as Record<string, string> };
}

export interface IntentRequest {
  id: string;
  payee_id: string;
  payee_key_thumbprint: string;
  amount: number;
  currency: string;
  deadline: string;
  evidence_schema: Record<string, unknown>;
  predicate: Record<string, unknown>;
  allowed_operations: string[];
  release_mode: "auto" | "confirm";
  cost_path: string | null;
  [key: string]: unknown;
}

/** The terms of docs/escrow.md, from a request as sent. */
export function termsOf(tenantId: string, payerAgentId: string, request: IntentRequest) {
  return {
    tenant_id: tenantId, intent_id: request.id, payer_agent_id: payerAgentId, payee_id: request.payee_id,
    payee_key_thumbprint: request.payee_key_thumbprint, amount: request.amount, currency: request.currency, deadline: request.deadline,
    release_mode: request.release_mode, cost_path: request.cost_path, evidence_schema_sha256: digest(request.evidence_schema),
    predicate_sha256: digest(request.predicate), allowed_operations_sha256: digest(request.allowed_operations),
  };
}

export function signTerms(key: KeyObject, terms: Record<string, unknown>): string {
  return signBytes(key, `bursar-escrow-intent-v1.${digest(terms)}`);
}

export interface Evidence {
  payload: unknown;
  artifacts: Array<{ sha256: string; uri?: string; media_type?: string }>;
  submitted_at: string;
}

export function signEvidence(key: KeyObject, tenantId: string, intentId: string, payeeId: string, evidence: Evidence) {
  const binding = {
    tenant_id: tenantId, intent_id: intentId, payee_id: payeeId, payload_sha256: digest(evidence.payload),
    artifact_sha256s: evidence.artifacts.map((artifact) => artifact.sha256), submitted_at: evidence.submitted_at,
  };
  return { tenant_id: tenantId, ...evidence, signature: signBytes(key, `bursar-escrow-evidence-v1.${digest(binding)}`) };
}

export const reportSchema = {
  type: "object",
  required: ["status", "pages"],
  properties: { status: { type: "integer" }, pages: { type: "integer", minimum: 0 }, cost: { type: "integer" } },
};
export const reportPredicate = {
  version: 1,
  root: { op: "and", args: [{ op: "eq", left: { ptr: "/payload/status" }, right: { const: 200 } }, { op: "gte", left: { ptr: "/payload/pages" }, right: { const: 10 } }] },
};

let counter = 0;
/** A fresh intent request (unsigned), deadline an hour from `nowMs`. */
export function intentRequest(payee: { id: string; evidence_key_thumbprint: string }, nowMs: number, extra: Partial<IntentRequest> = {}): IntentRequest {
  counter++;
  return {
    id: `int_test${Date.now().toString(36)}${counter}`, payee_id: payee.id, payee_key_thumbprint: payee.evidence_key_thumbprint, amount: 5_000,
    currency: "GBP", deadline: new Date(nowMs + 3_600_000).toISOString(), evidence_schema: reportSchema, predicate: reportPredicate,
    allowed_operations: [], release_mode: "auto", cost_path: null, ...extra,
  };
}

/** Signs `request` with the agent's key and posts it. */
export async function createIntent(agent: AgentApi, key: KeyPair, tenantId: string, agentId: string, request: IntentRequest, extra: Record<string, unknown> = {}) {
  return agent.post("/v1/escrow-intents", { ...request, signature: signTerms(key.privateKey, termsOf(tenantId, agentId, request)), ...extra });
}

export async function payeeWithKey(owner: Api, name: string, key: EvidenceKey): Promise<any> {
  return expectStatus(await owner.post("/v1/payees", { name, currency: "GBP", evidence_public_key: key.publicJwk }), 201);
}
