/** Wire schemas of escrow intents (`/v1/escrow-intents`), predicates (`/v1/predicates/*`) and reputation receipts. */
import { z } from "zod";
import { escrowStatuses } from "../escrow/state-machine.js";
import { predicateTemplateNames } from "../escrow/templates.js";
import {
  escrowAllowedOperationsMax,
  escrowEvidenceArtifactsMax,
  escrowEvidencePayloadBytesMax,
  escrowEvidenceSchemaBytesMax,
  escrowIntentIdLengthMax,
  predicatePointerLengthMax,
} from "../limits.js";
import { jsonBytes } from "../governance/service-requests.js";
import { amountMinor, currencyCode, metadata, text, timestamp } from "./common.js";
import { operationPattern } from "./policy.js";

const boundedJson = (bytes: number, what: string) =>
  z.unknown().refine((value) => value !== undefined && jsonBytes(value) <= bytes, { message: `${what}: at most ${bytes} bytes of JSON` });
const jsonObject = (bytes: number, what: string) =>
  z.record(z.string(), z.unknown()).refine((value) => jsonBytes(value) <= bytes, { message: `${what}: at most ${bytes} bytes of JSON` });
const signature = z.string().min(1).max(128).describe("Base64url of the raw 64-byte signature (Ed25519, or P-256 r||s)");
const pointer = z.string().max(predicatePointerLengthMax).describe("RFC 6901 JSON Pointer into the evidence document {payload, artifacts, submitted_at}");
const sha256 = z.string().min(1).max(128);

export const predicateJson = jsonObject(16 * 1024, "predicate").describe("Predicate v1 AST {version: 1, root} (docs/escrow.md)");
export const evidenceSchemaJson = jsonObject(escrowEvidenceSchemaBytesMax, "evidence_schema").describe("JSON Schema the evidence payload must validate against");

export const createEscrowIntentBody = z
  .object({
    id: z.string().min(5).max(escrowIntentIdLengthMax).describe("Client-chosen `int_…` id: the idempotency key, and part of the signed terms"),
    agent_id: z.string().max(64).optional().describe("Owners: the paying agent"),
    payee_id: z.string().min(1).max(64),
    payee_key_thumbprint: z.string().min(1).max(64).describe("RFC 7638 thumbprint of the payee's evidence key (GET /v1/payees/{id})"),
    amount: amountMinor,
    currency: currencyCode,
    deadline: z.string().datetime({ offset: true }).describe("RFC 3339; signed as sent"),
    evidence_schema: evidenceSchemaJson,
    predicate: predicateJson,
    allowed_operations: z.array(operationPattern).max(escrowAllowedOperationsMax).default([]).describe("What the work may spend on through the intent's capability"),
    release_mode: z.enum(["auto", "confirm"]).default("auto"),
    cost_path: pointer.nullable().default(null).describe("Where the evidence reports the work's cost: release pays min(cost, what the escrow holds)"),
    description: text.nullable().optional(),
    metadata: metadata.nullable().optional(),
    signature: signature.describe("The payer's signature over the terms (docs/escrow.md, \"What the payer signs\")"),
    signing_key_id: z.string().max(64).optional().describe("The payer's credential binding (`cb_…`) that signed; default: the calling one"),
    fund: z.boolean().default(false).describe("Fund in the same request"),
  })
  .strict();

const artifact = z.object({ sha256, uri: z.string().max(2048).optional(), media_type: z.string().max(200).optional() }).strict();

export const submitEvidenceBody = z
  .object({
    tenant_id: z.string().min(1).max(64).describe("The tenant of the intent (evidence is authenticated by its signature, not by an account)"),
    payload: boundedJson(escrowEvidencePayloadBytesMax, "payload"),
    artifacts: z.array(artifact).max(escrowEvidenceArtifactsMax).default([]),
    submitted_at: z.string().datetime({ offset: true }),
    signature,
  })
  .strict();

export const splitEscrowBody = z.object({ payee_amount: z.number().int().min(0).describe("Minor units to the payee; the rest is refunded") }).strict();
export const disputeEscrowBody = z.object({ reason: text.nullable().optional() }).strict();

const evaluation = z.object({ passed: z.boolean(), failing_node: z.string().nullable(), reason: z.string().nullable(), steps: z.number().int() });
const jwk = z.record(z.string(), z.string());

export const escrowIntent = z.object({
  object: z.literal("escrow_intent"),
  id: z.string(),
  terms: z.object({
    tenant_id: z.string(), intent_id: z.string(), payer_agent_id: z.string(), payee_id: z.string(), payee_key_thumbprint: z.string(),
    amount: z.number().int(), currency: z.string(), deadline: z.string(), release_mode: z.enum(["auto", "confirm"]), cost_path: z.string().nullable(),
    evidence_schema_sha256: z.string(), predicate_sha256: z.string(), allowed_operations_sha256: z.string(),
  }).describe("Exactly what the payer signed: `bursar-escrow-intent-v1.` + base64url(SHA-256(RFC 8785 JSON of terms)) (docs/escrow.md)"),
  signature: z.object({ key_id: z.string(), algorithm: z.enum(["ES256", "EdDSA"]), public_key_jwk: jwk, value: z.string() }),
  payer_agent_id: z.string(),
  payee_id: z.string(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  deadline: z.string(),
  release_mode: z.enum(["auto", "confirm"]),
  cost_path: z.string().nullable(),
  evidence_schema: z.record(z.string(), z.unknown()),
  predicate: z.record(z.string(), z.unknown()),
  predicate_summary: z.string().describe("The predicate in plain English (as `POST /v1/predicates/test` words it)"),
  allowed_operations: z.array(z.string()),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  status: z.enum(escrowStatuses),
  decision: z.enum(["allow", "approval_required", "deny"]).nullable(),
  reason_codes: z.array(z.string()),
  remaining: z.record(z.string(), z.number().int().nullable()),
  approval_id: z.string().nullable(),
  approval_status: z.enum(["not_required", "pending", "approved", "rejected", "expired", "cancelled"]),
  hold_transfer_id: z.string().nullable(),
  escrow_account_id: z.string().nullable(),
  funded_at: timestamp.nullable(),
  capability_id: z.string().nullable(),
  drawn_amount: z.number().int(),
  releasable_amount: z.number().int(),
  attempts: z.array(z.object({
    binding_sha256: z.string(), submitted_at: z.string(), received_at: timestamp, passed: z.boolean(), failing_node: z.string().nullable(), reason: z.string().nullable(),
  })),
  attempts_remaining: z.number().int(),
  accepted_evidence: z.object({ payload: z.unknown(), artifacts: z.array(artifact), submitted_at: z.string(), evaluation }).nullable(),
  last_evaluation: evaluation.nullable(),
  disputed_at: timestamp.nullable(),
  dispute_reason: z.string().nullable(),
  was_disputed: z.boolean(),
  settlement: z.object({
    outcome: z.enum(["released", "refunded", "split", "expired"]), payee_amount: z.number().int(), refund_amount: z.number().int(),
    drawn_amount: z.number().int(), transfer_ids: z.array(z.string()),
    transaction_id: z.string().nullable().describe("The payout's transaction on the payee's rail (`/v1/transactions/{id}`); null when nothing went to the payee"),
    settled_at: timestamp,
  }).nullable(),
  payout: z.object({
    transaction_id: z.string(), action: z.enum(["release", "split"]), payee_amount: z.number().int(), refund_amount: z.number().int(),
    previous_status: z.enum(["funded", "evidence_submitted", "disputed"]), started_at: timestamp,
  }).nullable().describe("While `payout_pending`: the payout running on the payee's rail (docs/escrow.md \"Payout\")"),
  failed_payouts: z.array(z.object({ transaction_id: z.string(), payee_amount: z.number().int(), failure_reason: z.string(), failed_at: timestamp }))
    .describe("Payouts the payee's rail failed, newest last (the money went back into escrow)"),
  available_actions: z.array(z.string()),
  created_at: timestamp,
  updated_at: timestamp,
});

export const escrowCapability = z.object({
  escrow_intent_id: z.string(),
  capability_id: z.string(),
  token: z.string().describe("Capability token: present it as `capability_token` on spend authorizations to draw on the escrow"),
});

export const predicatePreviewBody = z
  .object({ template: z.enum(predicateTemplateNames), parameters: z.record(z.string(), z.unknown()).default({}) })
  .strict();
export const predicatePreview = z.object({ predicate: z.record(z.string(), z.unknown()), cost_path: z.string().nullable(), summary: z.string() });

export const predicateTestBody = z
  .object({
    predicate: predicateJson,
    evidence: z.object({
      payload: boundedJson(escrowEvidencePayloadBytesMax, "payload"),
      artifacts: z.array(artifact).max(escrowEvidenceArtifactsMax).default([]),
      submitted_at: z.string().datetime({ offset: true }).optional(),
    }).strict(),
    evidence_schema: evidenceSchemaJson.optional(),
    amount: amountMinor.optional(),
    currency: currencyCode.optional(),
    deadline: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export const predicateTest = z.object({
  valid: z.boolean().describe("The payload validates against evidence_schema (true when none is given)"),
  errors: z.array(z.object({ path: z.string(), code: z.string(), detail: z.string() })),
  evaluation: evaluation.nullable(),
  summary: z.string(),
});

export const reputationReceipt = z.object({
  receipt: z.object({
    version: z.literal(1),
    tenant_id: z.string(),
    payee_id: z.string(),
    journal_seq: z.number().int(),
    computed_at: timestamp,
    counts: z.object({ settled: z.number().int(), released: z.number().int(), refunded: z.number().int(), split: z.number().int(), expired: z.number().int(), disputed: z.number().int() }),
    rates_bps: z.object({ released: z.number().int(), refunded: z.number().int(), split: z.number().int(), expired: z.number().int(), disputed: z.number().int() }),
    volume: z.record(z.string(), z.number().int()),
    time_to_release_seconds: z.object({ median: z.number().int().nullable(), p90: z.number().int().nullable(), samples: z.number().int() }),
    truncated: z.boolean(),
  }),
  signature: z.string().describe("Base64url Ed25519 signature by the tenant's journal key over `bursar-reputation-receipt-v1.` + canonical JSON of `receipt`"),
  key_id: z.string(),
});

export const createSigningKeyBody = z
  .object({ public_key_jwk: z.record(z.string().max(16), z.string().max(200)).describe("Ed25519 (OKP) or P-256 (EC) public JWK"), name: text.nullable().optional() })
  .strict();
export const signingKey = z.object({
  object: z.literal("signing_key"),
  id: z.string(),
  owner_id: z.string(),
  name: z.string().nullable(),
  public_key_jwk: jwk,
  algorithm: z.enum(["ES256", "EdDSA"]),
  thumbprint: z.string(),
  status: z.enum(["active", "revoked"]),
  revoked_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
