/**
 * Escrow intents (SPEC 1 `int_`, docs/escrow.md): money held for a payee's work, released on
 * payee-signed evidence that passes a predicate. The same ledger, policy, approvals and journal
 * as payments:
 *
 * - **Create** (`open`): the paying agent signs the terms (escrow/signing.ts); the server verifies
 *   the signature against the agent's credential-binding key and stores it, so anyone can
 *   re-verify. The client chooses the id, so the id is the idempotency key: the same id with the
 *   same terms and signature answers the intent; with anything else, `escrow_intent_exists`.
 * - **Fund**: the payer's policy decides (kind `payment`, payee rules included, counting in the
 *   shared windows) and the amount is held from the wallet towards the intent's own escrow account
 *   (kind `escrow`) in the same write. `allow` posts the hold at once (`funded`); an
 *   `approval_required` decision keeps it held, waiting for an owner, like a payment; `deny` holds
 *   nothing and leaves the intent `open` with the reasons.
 * - **Evidence**: signed by the payee's evidence key, validated against the schema, then the
 *   predicate decides: pass → released (`auto`) or accepted, waiting for an owner's release
 *   (`confirm`); fail → recorded, and the payee may try again (bounded) until the deadline.
 * - **Settle** (exactly once; writes of a tenant are serialised and each settlement checks the
 *   status first): release pays the escrow account's balance to the payee (with a `cost_path`,
 *   `min(cost, balance)` and the rest back to the wallet), refund pays it back to the wallet,
 *   split pays `payee_amount` and refunds the rest. The payee's part is a **payout on the payee's
 *   rail**: the same hold-then-transaction as a payment leg (payment-intents.ts `newTransaction`,
 *   `settleTransaction`): a sandbox payee is paid in the same write; on an asynchronous rail (the
 *   webhook rail's executor, a delayed sandbox) the intent is `payout_pending` until the rail's
 *   outcome. Completed: the hold is posted and the refund part paid back in that write
 *   (`released` / `split`). Failed (the executor refused, was unreachable, said `failed`, or the
 *   rail deadline passed): the hold is released back into escrow, as a failed payment's hold goes
 *   back to the wallet, and the intent returns to the status it had, the failure recorded in
 *   `failed_payouts` (`escrow_intent.payout_failed`): release again, refund or split.
 *   The deadline sweep refunds (`expired`). An owner may dispute before settlement and decide later.
 * - **Draws**: a capability issued by a funded intent lets spend authorizations draw on the escrow
 *   account instead of the wallet (spend-authorizations.ts); what they consume is no longer
 *   releasable, and outstanding draws are released when the intent settles.
 *
 * Statuses and the guard: escrow/state-machine.ts. Events: `escrow_intent.created`, `.funded`,
 * `.funding_denied`, `.funding_pending_approval`, `.evidence_submitted`, `.disputed`,
 * `.payout_pending`, `.payout_failed`, `.released`, `.refunded`, `.split`, `.expired`;
 * `data.escrow_intent` is the intent as the API shows it.
 */
import { createPrivateKey, sign as signBytes } from "node:crypto";
import { computeReputation, reputationSigningInput, type ReputationInput, type ReputationReceipt } from "../escrow/reputation.js";
import { createAccount, createTransfers, type TransferInput } from "../ledger/ledger.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { importPublicJwk, type JwsAlgorithm, type PublicJwk } from "../identity/jose.js";
import {
  escrowAllowedOperationsMax,
  escrowDeadlineSecondsMax,
  escrowDisputeDecisionSecondsMax,
  escrowEvidenceAttemptsMax,
  escrowEvidenceSkewSecondsMax,
  escrowFailedPayoutsKeptMax,
  escrowIntentIdLengthMax,
  holdGraceSeconds,
  railTimeoutSecondsDefault,
  pageLimitMax,
  reputationIntentsMax,
} from "../limits.js";
import { formatMinor } from "../money.js";
import type { DecisionKind } from "../policy/policy.js";
import type { AgentRow, StoreReader, TenantRow } from "../ports.js";
import { fail, invariant, ok, type FieldError, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { evaluatePredicate, parsePredicate, resolveJsonPointer, type Evaluation, type Predicate } from "../escrow/predicate.js";
import { canonicalDigest, escrowTermsSigningInput, evidenceSigningInput, verifyDetachedSignature, type EscrowTerms, type EvidenceBinding } from "../escrow/signing.js";
import { guardEscrowAction, type EscrowAction, type EscrowStatus } from "../escrow/state-machine.js";
import { describePredicate } from "../escrow/templates.js";
import { registerApprovalSubject } from "./approval-decisions.js";
import { closeApproval, openApproval, type ApprovalBody } from "./approvals.js";
import { mintCapability, capabilityTokenOf, type CapabilityBody } from "./capabilities.js";
import type { PayeeBody } from "./payees.js";
import { applyRailOutcome, newTransaction, registerEscrowPayoutSubject, type TransactionRecord } from "./payment-intents.js";
import type { StoredRecord } from "./records.js";
import type { JsonSchema } from "./services.js";
import type { PayloadValidator } from "./service-requests.js";
import { releaseSpendAuthorization } from "./spend-authorizations.js";
import { setFundingSpend } from "./escrow-draws.js";
import { capture, checkSpend, release, reserve } from "./spending.js";
import { listRecordsOf, loadRecord, recordStamp, saveRecord } from "./store.js";

export type ReleaseMode = "auto" | "confirm";
export type EscrowSettlementOutcome = "released" | "refunded" | "split" | "expired";

export interface EscrowSignature {
  /** The credential binding (`cb_…`) whose key signed. */
  key_id: string;
  algorithm: JwsAlgorithm;
  public_key_jwk: PublicJwk;
  /** Base64url of the raw 64-byte signature over `escrowTermsSigningInput(terms)`. */
  value: string;
}

export interface EvidenceAttempt {
  binding_sha256: string;
  submitted_at: string;
  received_at: string;
  passed: boolean;
  failing_node: string | null;
  reason: string | null;
}

export interface EscrowSettlement {
  outcome: EscrowSettlementOutcome;
  payee_amount: number;
  refund_amount: number;
  /** Consumed by draws (spend authorizations on the escrow). */
  drawn_amount: number;
  transfer_ids: string[];
  /** The payout's transaction on the payee's rail (null when nothing went to the payee). */
  transaction_id: string | null;
  settled_at: string;
}

/** A release or split whose payee part is on the payee's rail (`payout_pending`). */
export interface EscrowPayout {
  transaction_id: string;
  action: "release" | "split";
  payee_amount: number;
  refund_amount: number;
  /** Where a failed payout puts the intent back. */
  previous_status: "funded" | "evidence_submitted" | "disputed";
  started_at: string;
}

/** A payout the payee's rail failed: its hold went back into escrow. */
export interface FailedEscrowPayout {
  transaction_id: string;
  payee_amount: number;
  failure_reason: string;
  failed_at: string;
}

export interface EscrowIntentBody {
  terms: EscrowTerms;
  signature: EscrowSignature;
  payer_agent_id: string;
  payee_id: string;
  payee_evidence_key: PublicJwk;
  amount: number;
  currency: string;
  deadline: string;
  release_mode: ReleaseMode;
  cost_path: string | null;
  evidence_schema: JsonSchema;
  predicate: Predicate;
  allowed_operations: string[];
  description: string | null;
  metadata: Record<string, string> | null;
  status: EscrowStatus;
  decision: DecisionKind | null;
  reason_codes: string[];
  remaining: Record<string, number | null>;
  approval_id: string | null;
  approval_status: "not_required" | "pending" | "approved" | "rejected" | "expired" | "cancelled";
  hold_transfer_id: string | null;
  escrow_account_id: string | null;
  funded_at: string | null;
  capability_id: string | null;
  /** Held or consumed by live and consumed draws. */
  drawn_amount: number;
  attempts: EvidenceAttempt[];
  /** The submission that passed, when one did. */
  accepted_evidence: { payload: unknown; artifacts: EvidenceArtifact[]; submitted_at: string; evaluation: Evaluation } | null;
  last_evaluation: Evaluation | null;
  disputed_at: string | null;
  dispute_reason: string | null;
  was_disputed: boolean;
  settlement: EscrowSettlement | null;
  /** The payout on the payee's rail while `payout_pending` (absent on intents stored before payouts). */
  payout?: EscrowPayout | null;
  /** Payouts the rail failed, newest last (at most `escrowFailedPayoutsKeptMax`). */
  failed_payouts?: FailedEscrowPayout[];
  available_actions: string[];
}
export type EscrowIntentRecord = StoredRecord<EscrowIntentBody>;

/** What a write did to an intent, and the payout transactions to dispatch to their rail after it commits. */
export interface EscrowChange {
  intent: EscrowIntentRecord;
  dispatch: string[];
}

export interface EvidenceArtifact {
  sha256: string;
  uri?: string;
  media_type?: string;
}

/** A signing key of the payer: a credential binding's public key. */
export interface PrincipalKey {
  id: string;
  jwk: PublicJwk;
  algorithm: JwsAlgorithm;
}

export interface CreateEscrowInput {
  intentId: string;
  payeeId: string;
  payeeKeyThumbprint: string;
  amountMinor: number;
  currency: string;
  deadline: string;
  releaseMode: ReleaseMode;
  costPath: string | null;
  evidenceSchema: JsonSchema;
  predicate: unknown;
  allowedOperations: string[];
  description: string | null;
  metadata: Record<string, string> | null;
  signature: string;
  key: PrincipalKey;
}

export function escrowIntentView(intent: EscrowIntentRecord) {
  const body = intent.body;
  const { payee_evidence_key: _key, ...rest } = body;
  return {
    object: "escrow_intent" as const,
    ...recordStamp(intent, toRfc3339),
    ...rest,
    predicate: body.predicate as unknown as Record<string, unknown>,
    predicate_summary: describePredicate(body.predicate),
    amount_display: formatMinor(body.amount, body.currency),
    payout: body.payout ?? null,
    failed_payouts: body.failed_payouts ?? [],
    settlement: body.settlement ? { ...body.settlement, transaction_id: body.settlement.transaction_id ?? null } : null,
    releasable_amount: body.settlement || body.payout ? 0 : Math.max(0, body.amount - body.drawn_amount),
    attempts_remaining: escrowEvidenceAttemptsMax - body.attempts.length,
  };
}

const nextActions: Record<EscrowStatus, string[]> = {
  open: ["fund"],
  funded: ["submit_evidence", "release", "refund", "split", "dispute", "issue_capability"],
  evidence_submitted: ["submit_evidence", "release", "refund", "split", "dispute", "issue_capability"],
  disputed: ["release", "refund", "split"],
  payout_pending: ["wait_for_payout"],
  released: [],
  refunded: [],
  split: [],
  expired: [],
};

function setStatus(intent: EscrowIntentRecord, status: EscrowStatus, nowMs: number): void {
  intent.status = status;
  intent.updatedAtMs = nowMs;
  intent.body.status = status;
  let actions = nextActions[status];
  if (status === "evidence_submitted" && intent.body.accepted_evidence) actions = actions.filter((action) => action !== "submit_evidence");
  if (status === "open" && intent.body.approval_status === "pending") actions = ["wait_for_approval"];
  intent.body.available_actions = actions;
}

async function emit(context: WriteContext, type: string, intent: EscrowIntentRecord): Promise<void> {
  await appendEvent(context, `escrow_intent.${type}`, { escrow_intent: escrowIntentView(intent) }, intent.agentId);
}

/** When the deadline (or, disputed, the decision window) passes. */
function dueAtMs(intent: EscrowIntentRecord): number {
  const deadlineMs = Date.parse(intent.body.deadline);
  return intent.body.status === "disputed" ? Math.max(deadlineMs, Date.parse(intent.body.disputed_at!)) + escrowDisputeDecisionSecondsMax * 1000 : deadlineMs;
}

function guard(intent: EscrowIntentRecord, action: EscrowAction, nowMs: number) {
  return guardEscrowAction(intent.body.status, action, {
    pastDeadline: dueAtMs(intent) <= nowMs,
    evidenceAccepted: intent.body.accepted_evidence !== null,
    attempts: intent.body.attempts.length,
    attemptsMax: escrowEvidenceAttemptsMax,
    payoutAction: intent.body.payout?.action ?? null,
  });
}

/** The terms a principal signs, from what a create request says (and the payee it names). */
export function escrowTermsOf(tenantId: string, payerAgentId: string, input: Omit<CreateEscrowInput, "signature" | "key" | "description" | "metadata">): EscrowTerms {
  return {
    tenant_id: tenantId,
    intent_id: input.intentId,
    payer_agent_id: payerAgentId,
    payee_id: input.payeeId,
    payee_key_thumbprint: input.payeeKeyThumbprint,
    amount: input.amountMinor,
    currency: input.currency,
    deadline: input.deadline,
    release_mode: input.releaseMode,
    cost_path: input.costPath,
    evidence_schema_sha256: canonicalDigest(input.evidenceSchema),
    predicate_sha256: canonicalDigest(input.predicate),
    allowed_operations_sha256: canonicalDigest(input.allowedOperations),
  };
}

/** Whether a client-chosen id is a usable `int_` id: prefix, length, and only letters, digits, `_` and `-`. */
export function isEscrowIntentId(id: string): boolean {
  if (!id.startsWith("int_") || id.length <= 4 || id.length > escrowIntentIdLengthMax) return false;
  for (const char of id) {
    const code = char.charCodeAt(0);
    const alphanumeric = (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
    if (!alphanumeric && char !== "_" && char !== "-") return false;
  }
  return true;
}

/**
 * Creates an `open` escrow intent for `payer` (see the module comment). Fails, writing nothing:
 * `validation_failed` (id, deadline, operations), `predicate_invalid`, `payee_not_found`,
 * `currency_mismatch`, `payee_evidence_key_missing`, `payee_key_mismatch` (the signed thumbprint
 * is not the payee's evidence key), `principal_signature_invalid`, `escrow_intent_exists`.
 */
export async function createEscrowIntent(context: WriteContext, payer: AgentRow, input: CreateEscrowInput): Promise<Result<EscrowIntentRecord>> {
  const { tx, tenantId, nowMs } = context;
  if (!isEscrowIntentId(input.intentId)) return fail("validation_failed", `the id must be int_ followed by letters, digits, _ or -, at most ${escrowIntentIdLengthMax} characters`);
  if (payer.status !== "active") return fail("agent_disabled", `agent ${payer.id} is disabled`);
  const deadlineMs = Date.parse(input.deadline);
  if (!Number.isFinite(deadlineMs) || deadlineMs <= nowMs || deadlineMs > nowMs + escrowDeadlineSecondsMax * 1000) {
    return fail("validation_failed", `deadline must be in the future and at most ${escrowDeadlineSecondsMax / 86_400} days away`);
  }
  if (input.allowedOperations.length > escrowAllowedOperationsMax) return fail("validation_failed", `at most ${escrowAllowedOperationsMax} allowed operations`);
  const predicate = parsePredicate(input.predicate);
  if (!predicate.ok) return predicate;
  const payee = await loadRecord<PayeeBody>(tx, tenantId, "payee", input.payeeId);
  if (!payee || payee.body.status !== "active") return fail("payee_not_found", `no payee ${input.payeeId}`);
  if (payee.body.currency !== input.currency) return fail("currency_mismatch", `payee ${payee.id} is paid in ${payee.body.currency}, not ${input.currency}`);
  if (!payee.body.evidence_public_key || !payee.body.evidence_key_thumbprint) {
    return fail("payee_evidence_key_missing", `payee ${payee.id} has no evidence public key; an owner sets evidence_public_key on the payee`);
  }
  if (payee.body.evidence_key_thumbprint !== input.payeeKeyThumbprint) {
    return fail("payee_key_mismatch", `payee_key_thumbprint is not the thumbprint of payee ${payee.id}'s evidence key (${payee.body.evidence_key_thumbprint})`);
  }
  const terms = escrowTermsOf(tenantId, payer.id, input);
  const imported = importPublicJwk(input.key.jwk);
  invariant(imported.ok, `credential binding ${input.key.id} holds a valid key`);
  if (!verifyDetachedSignature(input.key.algorithm, imported.value.key, escrowTermsSigningInput(terms), input.signature)) {
    return fail("principal_signature_invalid", `the signature does not verify over these terms with ${input.key.id}'s key (docs/escrow.md, "What the payer signs")`);
  }
  const existing = await loadRecord<EscrowIntentBody>(tx, tenantId, "escrow_intent", input.intentId);
  if (existing) {
    if (canonicalDigest(existing.body.terms) === canonicalDigest(terms)) return ok(existing);
    return fail("escrow_intent_exists", `escrow intent ${input.intentId} exists with other terms; choose a new id`);
  }
  const intent: EscrowIntentRecord = {
    tenantId, kind: "escrow_intent", id: input.intentId, agentId: payer.id, status: "open", refId: payee.id, dueAtMs: deadlineMs,
    createdAtMs: nowMs, updatedAtMs: nowMs,
    body: {
      terms, signature: { key_id: input.key.id, algorithm: input.key.algorithm, public_key_jwk: imported.value.jwk, value: input.signature },
      payer_agent_id: payer.id, payee_id: payee.id, payee_evidence_key: payee.body.evidence_public_key, amount: input.amountMinor,
      currency: input.currency, deadline: input.deadline, release_mode: input.releaseMode, cost_path: input.costPath,
      evidence_schema: input.evidenceSchema, predicate: predicate.value, allowed_operations: input.allowedOperations,
      description: input.description, metadata: input.metadata, status: "open", decision: null, reason_codes: [], remaining: {},
      approval_id: null, approval_status: "not_required", hold_transfer_id: null, escrow_account_id: null, funded_at: null,
      capability_id: null, drawn_amount: 0, attempts: [], accepted_evidence: null, last_evaluation: null, disputed_at: null,
      dispute_reason: null, was_disputed: false, settlement: null, available_actions: [],
    },
  };
  setStatus(intent, "open", nowMs);
  await saveRecord(tx, intent, true);
  await emit(context, "created", intent);
  return ok(intent);
}

async function loadIntent(context: WriteContext, intentId: string, agentId: string | null): Promise<Result<EscrowIntentRecord>> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  if (!intent || (agentId !== null && intent.agentId !== agentId)) return fail("not_found", `escrow intent ${intentId} not found`);
  return ok(intent);
}

/** Runs the guard; past the deadline the intent expires here (its money refunded) and the action fails. */
async function guardOrExpire(context: WriteContext, intent: EscrowIntentRecord, action: EscrowAction): Promise<Result<"proceed" | "unchanged">> {
  const verdict = guard(intent, action, context.nowMs);
  if (verdict.verdict !== "refuse") return ok(verdict.verdict);
  if (verdict.code === "escrow_expired") await settle(context, intent, "expired", null);
  return fail(verdict.code, verdict.code === "escrow_expired" ? `escrow intent ${intent.id} expired at ${intent.body.deadline}` : `escrow intent ${intent.id} is ${intent.body.status}`);
}

/** Posts the funding hold into the escrow account: the intent is `funded`. */
async function markFunded(context: WriteContext, intent: EscrowIntentRecord): Promise<Result<EscrowIntentRecord>> {
  const captured = await capture(context, intent.body.hold_transfer_id!);
  if (!captured.ok) return captured;
  intent.body.funded_at = toRfc3339(context.nowMs);
  setStatus(intent, "funded", context.nowMs);
  await saveRecord(context.tx, intent, false);
  await emit(context, "funded", intent);
  return ok(intent);
}

/**
 * Funds an open intent (see the module comment). Answers the intent whatever the decision; a
 * funded one (or one waiting for approval) is answered as it is.
 */
export async function fundEscrowIntent(context: WriteContext, intentId: string, agentId: string | null): Promise<Result<EscrowIntentRecord>> {
  const { tx, tenantId, nowMs } = context;
  const loaded = await loadIntent(context, intentId, agentId);
  if (!loaded.ok) return loaded;
  const intent = loaded.value;
  const guarded = await guardOrExpire(context, intent, "fund");
  if (!guarded.ok || guarded.value === "unchanged" || intent.body.approval_status === "pending") return guarded.ok ? ok(intent) : guarded;
  const payer = await tx.getAgent(tenantId, intent.body.payer_agent_id);
  invariant(payer, `escrow intent ${intentId} has its payer`);
  if (payer.status !== "active") return fail("agent_disabled", `agent ${payer.id} is disabled`);
  const wallet = await tx.getAccount(tenantId, payer.walletAccountId);
  invariant(wallet, `agent ${payer.id} has its wallet`);
  const body = intent.body;
  const { decision, policy } = await checkSpend(tx, payer, wallet.currency, { kind: "payment", amountMinor: body.amount, currency: body.currency, payeeId: body.payee_id }, nowMs);
  Object.assign(body, { decision: decision.decision, reason_codes: decision.reason_codes, remaining: decision.remaining });
  const deny = async (extraCode?: string): Promise<Result<EscrowIntentRecord>> => {
    body.decision = "deny";
    if (extraCode) body.reason_codes = [...body.reason_codes, extraCode];
    setStatus(intent, "open", nowMs);
    await saveRecord(tx, intent, false);
    await emit(context, "funding_denied", intent);
    return ok(intent);
  };
  if (decision.decision === "deny") return deny();
  if (!body.escrow_account_id) {
    const account = await createAccount(context, { currency: body.currency, kind: "escrow", name: `escrow ${intent.id}`, metadata: { escrow_intent_id: intent.id } });
    if (!account.ok) return account;
    body.escrow_account_id = account.value.id;
  }
  const waits = decision.decision === "approval_required";
  const hold = await reserve(context, {
    agentId: payer.id, walletAccountId: wallet.id, creditAccountId: body.escrow_account_id, amountMinor: body.amount, currency: body.currency,
    payeeId: body.payee_id, reference: `escrow ${intent.id}`, metadata: { escrow_intent_id: intent.id },
    timeoutSeconds: (waits ? policy.policy.approval_expiry_seconds : 0) + holdGraceSeconds,
  });
  if (!hold.ok) return deny(hold.code);
  body.hold_transfer_id = hold.value.id;
  if (!waits) return markFunded(context, intent);
  const approval = await openApproval(context, {
    subjectType: "escrow_intent", subjectId: intent.id, agentId: payer.id, amountMinor: body.amount, currency: body.currency,
    reasonCodes: decision.reason_codes, expirySeconds: policy.policy.approval_expiry_seconds,
  });
  Object.assign(body, { approval_id: approval.id, approval_status: "pending" });
  setStatus(intent, "open", nowMs);
  await saveRecord(tx, intent, false);
  await emit(context, "funding_pending_approval", intent);
  return ok(intent);
}

export interface EvidenceSubmission {
  payload: unknown;
  artifacts: EvidenceArtifact[];
  submittedAt: string;
  signature: string;
}

/** The binding a payee signs for `submission` to `intent`. */
export function evidenceBindingOf(tenantId: string, intentId: string, payeeId: string, submission: Omit<EvidenceSubmission, "signature">): EvidenceBinding {
  return {
    tenant_id: tenantId, intent_id: intentId, payee_id: payeeId, payload_sha256: canonicalDigest(submission.payload),
    artifact_sha256s: submission.artifacts.map((artifact) => artifact.sha256), submitted_at: submission.submittedAt,
  };
}

/** The evidence document a predicate reads. */
function evidenceDocument(submission: Omit<EvidenceSubmission, "signature">) {
  return { payload: submission.payload, artifacts: submission.artifacts, submitted_at: submission.submittedAt };
}

/**
 * Checks that `submission` is signed by the payee's evidence key over its binding to `intent`;
 * answers the binding's digest (what identifies a submission). Pure but for the key import: the
 * evidence route calls it on a read before taking the tenant's write, so unsigned traffic never
 * queues behind the writer (the route is public: a flood of forged bodies must cost a signature
 * check, not a serialised transaction).
 */
export function checkEvidenceSignature(intent: EscrowIntentRecord, submission: EvidenceSubmission): Result<string> {
  const binding = evidenceBindingOf(intent.tenantId, intent.id, intent.body.payee_id, submission);
  const payeeKey = importPublicJwk(intent.body.payee_evidence_key);
  invariant(payeeKey.ok, `escrow intent ${intent.id} holds a valid payee key`);
  if (!verifyDetachedSignature(payeeKey.value.algorithm, payeeKey.value.key, evidenceSigningInput(binding), submission.signature)) {
    return fail("evidence_signature_invalid", "the signature does not verify over this evidence binding with the payee's evidence key (docs/escrow.md)");
  }
  return ok(canonicalDigest(binding));
}

/**
 * A payee's evidence (see the module comment). Fails: `not_found`, the guard's codes,
 * `evidence_signature_invalid` (not signed by the payee's evidence key over this binding, e.g. a
 * body signed for another intent), `evidence_stale` (`submitted_at` outside the skew),
 * `evidence_invalid` (the schema, with per-field `errors`). The same signed body again answers the
 * intent as it is. A failing predicate is a recorded outcome (`last_evaluation`), not a failure.
 */
export async function submitEscrowEvidence(context: WriteContext, intentId: string, submission: EvidenceSubmission, validate: PayloadValidator): Promise<Result<EscrowChange>> {
  const { nowMs } = context;
  const loaded = await loadIntent(context, intentId, null);
  if (!loaded.ok) return loaded;
  const intent = loaded.value;
  const body = intent.body;
  // Authentication first: nothing about the intent's state is told to an unsigned caller.
  const authenticated = checkEvidenceSignature(intent, submission);
  if (!authenticated.ok) return authenticated;
  const bindingSha256 = authenticated.value;
  if (body.attempts.some((attempt) => attempt.binding_sha256 === bindingSha256)) return ok({ intent, dispatch: [] });
  const submittedAtMs = Date.parse(submission.submittedAt);
  if (!Number.isFinite(submittedAtMs) || Math.abs(submittedAtMs - nowMs) > escrowEvidenceSkewSecondsMax * 1000) {
    return fail("evidence_stale", `submitted_at must be within ${escrowEvidenceSkewSecondsMax} seconds of the server's time (${toRfc3339(nowMs)})`);
  }
  const guarded = await guardOrExpire(context, intent, "submit_evidence");
  if (!guarded.ok) return guarded;
  invariant(guarded.value === "proceed", "evidence is never a no-op");
  const errors: FieldError[] | null = validate(`escrow:${body.terms.evidence_schema_sha256}`, body.evidence_schema, submission.payload);
  if (errors) return fail("evidence_invalid", "the payload does not match the intent's evidence_schema", errors);

  const evaluation = evaluatePredicate(body.predicate, evidenceDocument(submission), {
    amount: body.amount, currency: body.currency, deadline: Date.parse(body.deadline), submitted_at: submittedAtMs,
  });
  body.attempts = [...body.attempts, {
    binding_sha256: bindingSha256, submitted_at: submission.submittedAt, received_at: toRfc3339(nowMs), passed: evaluation.passed,
    failing_node: evaluation.failing_node, reason: evaluation.reason,
  }];
  body.last_evaluation = evaluation;
  if (evaluation.passed) body.accepted_evidence = { payload: submission.payload, artifacts: submission.artifacts, submitted_at: submission.submittedAt, evaluation };
  setStatus(intent, "evidence_submitted", nowMs);
  await saveRecord(context.tx, intent, false);
  await emit(context, "evidence_submitted", intent);
  if (evaluation.passed && body.release_mode === "auto") return settle(context, intent, "released", null);
  return ok({ intent, dispatch: [] });
}

/** The reported cost at `cost_path` in the accepted evidence, when it is a non-negative integer. */
function reportedCost(intent: EscrowIntentRecord): number | null {
  const path = intent.body.cost_path;
  const accepted = intent.body.accepted_evidence;
  if (path === null || !accepted) return null;
  const value = resolveJsonPointer({ payload: accepted.payload, artifacts: accepted.artifacts, submitted_at: accepted.submitted_at }, path);
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/**
 * Settles an intent exactly once: releases outstanding draws, then pays the escrow account's
 * balance out: a refund (or expiry) back to the wallet at once; a payee's part through a payout
 * on the payee's rail (`startPayout`), the refund part following when it completes. An unfunded
 * intent (expiring while open) only closes its approval and hold.
 */
async function settle(context: WriteContext, intent: EscrowIntentRecord, outcome: EscrowSettlementOutcome, payeeAmountMinor: number | null): Promise<Result<EscrowChange>> {
  const { tx, tenantId } = context;
  const body = intent.body;
  let payeeAmount = 0;
  let refundAmount = 0;
  const transferIds: string[] = [];
  if (body.status === "open") {
    invariant(outcome === "expired" || outcome === "refunded", "an open intent can only expire or be withdrawn");
    if (body.approval_status === "pending") {
      const approval = await loadRecord<ApprovalBody>(tx, tenantId, "approval", body.approval_id!);
      invariant(approval && approval.body.status === "pending", `escrow intent ${intent.id} has its pending approval`);
      await closeApproval(context, approval, "cancelled", "the escrow deadline passed");
      body.approval_status = "cancelled";
      await release(context, body.hold_transfer_id!);
    }
  } else {
    if (body.capability_id) {
      const live = [
        ...(await listRecordsOf(tx, tenantId, { kind: "spend_authorization", refId: body.capability_id, status: "authorized", limit: 1000 })),
        ...(await listRecordsOf(tx, tenantId, { kind: "spend_authorization", refId: body.capability_id, status: "pending_approval", limit: 1000 })),
      ];
      for (const authorization of live) await releaseSpendAuthorization(context, authorization.id);
      // Releasing a draw gave its hold back to the escrow (escrow-draws.ts saved the intent).
      const fresh = await loadRecord<EscrowIntentBody>(tx, tenantId, "escrow_intent", intent.id);
      intent.body.drawn_amount = fresh!.body.drawn_amount;
    }
    const account = await tx.getAccount(tenantId, body.escrow_account_id!);
    invariant(account && account.debitsPendingMinor === 0, `escrow account of ${intent.id} has no draw outstanding`);
    const balance = account.creditsPostedMinor - account.debitsPostedMinor;
    invariant(balance === body.amount - body.drawn_amount, `escrow account of ${intent.id} holds what was not drawn`);
    if (outcome === "released") {
      const cost = reportedCost(intent);
      payeeAmount = cost === null ? balance : Math.min(cost, balance);
    } else if (outcome === "split") {
      if (payeeAmountMinor === null || payeeAmountMinor < 0 || payeeAmountMinor > balance) {
        return fail("split_amount_invalid", `payee_amount must be between 0 and ${formatMinor(balance, body.currency)} ${body.currency}, what the escrow holds`);
      }
      payeeAmount = payeeAmountMinor;
    }
    refundAmount = balance - payeeAmount;
    if (payeeAmount > 0) {
      invariant(outcome === "released" || outcome === "split", `only a release or a split pays escrow ${intent.id} to its payee`);
      return startPayout(context, intent, outcome === "released" ? "release" : "split", payeeAmount, refundAmount);
    }
    transferIds.push(...(await payRefund(context, intent, refundAmount)));
    // The funding counts in the windows as what reached the payee; draws count as their own spends.
    await setFundingSpend(context, body.hold_transfer_id!, 0);
  }
  return finishSettlement(context, intent, outcome, payeeAmount, refundAmount, transferIds, null);
}

async function finishSettlement(
  context: WriteContext, intent: EscrowIntentRecord, outcome: EscrowSettlementOutcome, payeeAmount: number, refundAmount: number,
  transferIds: string[], transactionId: string | null,
): Promise<Result<EscrowChange>> {
  const body = intent.body;
  body.settlement = {
    outcome, payee_amount: payeeAmount, refund_amount: refundAmount, drawn_amount: body.drawn_amount, transfer_ids: transferIds, transaction_id: transactionId,
    settled_at: toRfc3339(context.nowMs),
  };
  body.payout = null;
  intent.dueAtMs = null;
  setStatus(intent, outcome, context.nowMs);
  await saveRecord(context.tx, intent, false);
  await emit(context, outcome, intent);
  return ok({ intent, dispatch: [] });
}

/** Pays `amountMinor` of the escrow account back to the payer's wallet; answers the transfer ids. */
async function payRefund(context: WriteContext, intent: EscrowIntentRecord, amountMinor: number): Promise<string[]> {
  if (amountMinor === 0) return [];
  const body = intent.body;
  const payer = await context.tx.getAgent(context.tenantId, body.payer_agent_id);
  invariant(payer, `escrow intent ${intent.id} has its payer`);
  const refund: TransferInput = {
    debitAccountId: body.escrow_account_id!, creditAccountId: payer.walletAccountId, amountMinor, currency: body.currency,
    reference: `escrow ${intent.id} refund`, metadata: { escrow_intent_id: intent.id },
  };
  const created = await createTransfers(context, [refund]);
  invariant(created.ok, `escrow ${intent.id} refunds what its account holds`);
  return created.value.transfers.map((transfer) => transfer.id);
}

/**
 * Starts the payee's part on the payee's rail, as a payment leg starts: a hold from the escrow
 * account to the payee's account, and a transaction (payment-intents.ts `newTransaction`). A
 * sandbox payee is paid in this write; otherwise the intent is `payout_pending` and the caller
 * dispatches the transaction once the write has committed.
 */
async function startPayout(context: WriteContext, intent: EscrowIntentRecord, action: "release" | "split", payeeAmount: number, refundAmount: number): Promise<Result<EscrowChange>> {
  const { tx, tenantId, nowMs } = context;
  const body = intent.body;
  const payee = await loadRecord<PayeeBody>(tx, tenantId, "payee", body.payee_id);
  invariant(payee, `escrow intent ${intent.id} has its payee`);
  const held = await createTransfers(context, [{
    debitAccountId: body.escrow_account_id!, creditAccountId: payee.body.account_id, amountMinor: payeeAmount, currency: body.currency, pending: true,
    timeoutSeconds: railTimeoutSecondsDefault + holdGraceSeconds, reference: `escrow ${intent.id} ${action}`, metadata: { escrow_intent_id: intent.id },
  }]);
  invariant(held.ok, `escrow ${intent.id} holds its payout from what its account holds`);
  const { transaction, inlineOutcome } = newTransaction(context, {
    paymentIntentId: null, legIndex: null, escrowIntentId: intent.id, agentId: body.payer_agent_id, payee, hold: held.value.transfers[0]!,
    reference: body.description ?? `escrow ${intent.id}`,
  });
  const previous = body.status;
  invariant(previous === "funded" || previous === "evidence_submitted" || previous === "disputed", `escrow ${intent.id} pays out from a funded status`);
  body.payout = { transaction_id: transaction.id, action, payee_amount: payeeAmount, refund_amount: refundAmount, previous_status: previous, started_at: toRfc3339(nowMs) };
  intent.dueAtMs = null;
  setStatus(intent, "payout_pending", nowMs);
  if (inlineOutcome) {
    await applyRailOutcome(context, transaction, inlineOutcome, true);
    return payoutSettled(context, intent, transaction);
  }
  await saveRecord(tx, transaction, true);
  await saveRecord(tx, intent, false);
  await emit(context, "payout_pending", intent);
  return ok({ intent, dispatch: [transaction.id] });
}

/**
 * The payout's transaction settled (in the write that started it, or later by its rail's
 * callback, answer or deadline). Completed: the refund part is paid back and the intent is
 * settled. Failed: the hold is already back in escrow (applyRailOutcome); the intent returns to
 * the status it had, the failure on record, and its deadline runs again.
 */
async function payoutSettled(context: WriteContext, intent: EscrowIntentRecord, transaction: TransactionRecord): Promise<Result<EscrowChange>> {
  const body = intent.body;
  const payout = body.payout;
  invariant(intent.status === "payout_pending" && payout && payout.transaction_id === transaction.id, `escrow ${intent.id} waits for payout ${transaction.id}`);
  if (transaction.body.status === "completed") {
    const transferIds = [transaction.body.hold_transfer_id, ...(await payRefund(context, intent, payout.refund_amount))];
    await setFundingSpend(context, body.hold_transfer_id!, payout.payee_amount);
    return finishSettlement(context, intent, payout.action === "release" ? "released" : "split", payout.payee_amount, payout.refund_amount, transferIds, transaction.id);
  }
  const failure: FailedEscrowPayout = { transaction_id: transaction.id, payee_amount: payout.payee_amount, failure_reason: transaction.body.failure_reason ?? "rail_error", failed_at: toRfc3339(context.nowMs) };
  body.failed_payouts = [...(body.failed_payouts ?? []), failure].slice(-escrowFailedPayoutsKeptMax);
  body.payout = null;
  setStatus(intent, payout.previous_status, context.nowMs);
  intent.dueAtMs = dueAtMs(intent);
  await saveRecord(context.tx, intent, false);
  await emit(context, "payout_failed", intent);
  return ok({ intent, dispatch: [] });
}

registerEscrowPayoutSubject(async (context, transaction) => {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", transaction.body.escrow_intent_id!);
  invariant(intent, `transaction ${transaction.id} has its escrow intent`);
  const settled = await payoutSettled(context, intent, transaction);
  invariant(settled.ok, `escrow payout ${transaction.id} settles its intent`);
});

export type EscrowDecision = { action: "release" } | { action: "refund" } | { action: "split"; payeeAmountMinor: number } | { action: "dispute"; reason: string | null };

/**
 * An owner's (or, for `release`, the payer agent's) decision on an intent. Refund, split and
 * dispute are owners' (`escrow_owner_only` for an agent's credential). The same settlement again
 * answers the first result; another is `escrow_already_settled`.
 */
export async function decideEscrowIntent(context: WriteContext, intentId: string, agentId: string | null, decision: EscrowDecision): Promise<Result<EscrowChange>> {
  const loaded = await loadIntent(context, intentId, agentId);
  if (!loaded.ok) return loaded;
  const intent = loaded.value;
  if (agentId !== null && decision.action !== "release") return fail("escrow_owner_only", `only an owner may ${decision.action} an escrow intent`);
  const guarded = await guardOrExpire(context, intent, decision.action);
  if (!guarded.ok) return guarded;
  if (guarded.value === "unchanged") return ok({ intent, dispatch: [] });
  if (decision.action === "dispute") {
    Object.assign(intent.body, { disputed_at: toRfc3339(context.nowMs), dispute_reason: decision.reason, was_disputed: true });
    setStatus(intent, "disputed", context.nowMs);
    intent.dueAtMs = dueAtMs(intent);
    await saveRecord(context.tx, intent, false);
    await emit(context, "disputed", intent);
    return ok({ intent, dispatch: [] });
  }
  const outcome = decision.action === "release" ? "released" : decision.action === "refund" ? "refunded" : "split";
  return settle(context, intent, outcome, decision.action === "split" ? decision.payeeAmountMinor : null);
}

/**
 * Withdraws an intent whose work was called off (a task cancelled, docs/tasks.md): an open one
 * has its pending approval cancelled and its hold released, a funded (or disputed) one pays what
 * it holds back to the wallet; either way it settles `refunded`, once. A settled intent is
 * answered as it is.
 */
export async function withdrawEscrowIntent(context: WriteContext, intentId: string): Promise<EscrowIntentRecord> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  invariant(intent, `escrow intent ${intentId} exists`);
  if (intent.body.settlement) return intent;
  const settled = await settle(context, intent, "refunded", null);
  invariant(settled.ok, `escrow intent ${intentId} refunds what it holds`);
  // A refund pays the payer's own wallet in this write: nothing goes out on a rail.
  invariant(settled.value.dispatch.length === 0, `escrow intent ${intentId} refunds without a payout`);
  return settled.value.intent;
}

/** The sweep: an intent past its deadline (or dispute window) expires, refunding what it holds. */
export async function expireEscrowIntent(context: WriteContext, intentId: string): Promise<Result<EscrowIntentRecord | null>> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  if (!intent || guard(intent, "expire", context.nowMs).verdict !== "proceed") return ok(null);
  const settled = await settle(context, intent, "expired", null);
  return settled.ok ? ok(settled.value.intent) : settled;
}

/**
 * A capability for the intent's work (its `allowed_operations`, up to its amount, until its
 * deadline), issued to the payer; spend authorizations presenting it draw on the escrow. Issued
 * once; asking again answers the same token (Ed25519 signatures are deterministic).
 */
export async function issueEscrowCapability(context: WriteContext, intentId: string, agentId: string | null): Promise<Result<{ intent: EscrowIntentRecord; token: string }>> {
  const loaded = await loadIntent(context, intentId, agentId);
  if (!loaded.ok) return loaded;
  const intent = loaded.value;
  const guarded = await guardOrExpire(context, intent, "draw");
  if (!guarded.ok) return guarded;
  if (intent.body.allowed_operations.length === 0) return fail("validation_failed", `escrow intent ${intentId} allows no operations`);
  const tenant = await context.tx.getTenant(context.tenantId);
  invariant(tenant, `tenant ${context.tenantId} exists`);
  if (intent.body.capability_id) {
    const capability = await loadRecord<CapabilityBody>(context.tx, context.tenantId, "capability", intent.body.capability_id);
    invariant(capability, `escrow intent ${intentId} has its capability`);
    return ok({ intent, token: capabilityTokenOf(tenant, capability) });
  }
  const minted = await mintCapability(context, {
    agentId: intent.body.payer_agent_id, allowedOperations: intent.body.allowed_operations, maxAmountMinor: intent.body.amount,
    currency: intent.body.currency, expiresAtMs: Date.parse(intent.body.deadline), maxUses: null,
    description: `work of escrow intent ${intentId}`, escrowIntentId: intentId,
  });
  if (!minted.ok) return minted;
  intent.body.capability_id = minted.value.capability.id;
  intent.updatedAtMs = context.nowMs;
  await saveRecord(context.tx, intent, false);
  return ok({ intent, token: minted.value.token });
}

/** An owner approved the funding: the hold is posted into escrow. */
async function approveEscrowFunding(context: WriteContext, intentId: string): Promise<Result<{ dispatch: string[] }>> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  invariant(intent && intent.body.status === "open" && intent.body.approval_status === "pending", `escrow intent ${intentId} waits for approval`);
  intent.body.approval_status = "approved";
  const funded = await markFunded(context, intent);
  if (!funded.ok) return funded;
  return ok({ dispatch: [] });
}

/** An owner rejected the funding, or the approval expired: the hold is released; the intent stays open. */
async function closeEscrowFunding(context: WriteContext, intentId: string, outcome: "rejected" | "expired"): Promise<void> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  invariant(intent && intent.body.approval_status === "pending", `escrow intent ${intentId} waits for approval`);
  await release(context, intent.body.hold_transfer_id!);
  Object.assign(intent.body, { approval_status: outcome, reason_codes: [...intent.body.reason_codes, `approval_${outcome}`], hold_transfer_id: null });
  setStatus(intent, "open", context.nowMs);
  await saveRecord(context.tx, intent, false);
  await emit(context, "funding_denied", intent);
}

registerApprovalSubject("escrow_intent", { approve: approveEscrowFunding, close: closeEscrowFunding });

/**
 * A payee's signed reputation receipt (escrow/reputation.ts has the formula and the signed bytes),
 * read from its newest `reputationIntentsMax` escrow intents at the tenant's current journal size.
 */
export async function payeeReputation(reader: StoreReader, tenant: TenantRow, payeeId: string, nowMs: number): Promise<Result<{ receipt: ReputationReceipt; signature: string; key_id: string }>> {
  const payee = await loadRecord<PayeeBody>(reader, tenant.id, "payee", payeeId);
  if (!payee) return fail("not_found", `payee ${payeeId} not found`);
  const inputs: ReputationInput[] = [];
  let beforeId: string | undefined;
  let truncated = false;
  for (;;) {
    const page = await listRecordsOf<EscrowIntentBody>(reader, tenant.id, { kind: "escrow_intent", refId: payeeId, limit: pageLimitMax + 1, beforeId });
    for (const intent of page.slice(0, pageLimitMax)) {
      if (inputs.length >= reputationIntentsMax) {
        truncated = true;
        break;
      }
      const body = intent.body;
      inputs.push({
        status: body.status, currency: body.currency, wasDisputed: body.was_disputed, payeeAmountMinor: body.settlement?.payee_amount ?? 0,
        fundedAtMs: body.funded_at === null ? null : Date.parse(body.funded_at), settledAtMs: body.settlement ? Date.parse(body.settlement.settled_at) : null,
      });
    }
    if (truncated || page.length <= pageLimitMax) break;
    beforeId = page[pageLimitMax - 1]!.id;
  }
  const receipt = computeReputation({ tenantId: tenant.id, payeeId, journalSeq: tenant.journalSize, computedAt: toRfc3339(nowMs), truncated }, inputs);
  const privateKey = createPrivateKey({ key: Buffer.from(tenant.journalPrivateKeyPkcs8), format: "der", type: "pkcs8" });
  return ok({ receipt, signature: signBytes(null, reputationSigningInput(receipt), privateKey).toString("base64url"), key_id: `bursar/${tenant.id}` });
}
