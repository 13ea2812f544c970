/**
 * A task's bounty is an escrow intent (escrow-intents.ts), not a parallel mechanism: the payer's
 * policy funds it, the escrow account holds it, a predicate releases it, and it settles once.
 * What differs is who signs, since no client is there to sign when the server opens the escrow
 * for a task (docs/tasks.md, "Who signs the bounty"):
 *
 * - **The terms** are signed by the tenant's **task key**, which is its journal key (Ed25519,
 *   published at `GET /v1/journal/authority`), as `key_id: "bursar/<tenant_id>"`. The payer's
 *   assent is the authenticated request that created the task (an agent for its own wallet, or an
 *   owner naming the agent), which the journal records in `task.created` next to the escrow's own
 *   events; the signature binds the escrow's terms to that, re-verifiable with the public key. The
 *   domain prefix (`bursar-escrow-intent-v1.`) keeps it from verifying as a checkpoint or a
 *   reputation receipt the same key signs.
 * - **The payee** is the payee record Bursar keeps for the assignee (payees.ts `agentPayee`):
 *   its account is the assignee's wallet, its evidence key the same task key.
 * - **The evidence** is signed by the task key when the task ships: `{task_id, head_sha,
 *   ci_status, review, ship}` and the submission's artifacts with digests. The escrow checks it as
 *   any evidence (signature, schema, predicate) and releases. The predicate always requires
 *   `ci_status == "passed"`, and-ed with the task's own predicate when it has one.
 *
 * Only Bursar holds the task key, so only a task's ship can release a task's bounty; the escrow's
 * public evidence route cannot be used to release it by anyone else.
 */
import { createPrivateKey, sign as signBytes } from "node:crypto";
import { escrowDeadlineSecondsMax } from "../limits.js";
import type { WriteContext } from "../journal/events.js";
import type { PublicJwk } from "../identity/jose.js";
import type { AgentRow, TenantRow } from "../ports.js";
import { invariant, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { evaluatePredicate, parsePredicate, type Evaluation, type Predicate, type PredicateNode } from "../escrow/predicate.js";
import { escrowTermsSigningInput, evidenceSigningInput } from "../escrow/signing.js";
import type { JsonSchema } from "./services.js";
import type { PayloadValidator } from "./service-requests.js";
import {
  createEscrowIntent,
  escrowTermsOf,
  evidenceBindingOf,
  fundEscrowIntent,
  submitEscrowEvidence,
  withdrawEscrowIntent,
  type EscrowIntentBody,
  type EscrowIntentRecord,
  type EvidenceArtifact,
} from "./escrow-intents.js";
import { agentPayee } from "./payees.js";
import type { StoredRecord } from "./records.js";
import { loadRecord } from "./store.js";

/** The evidence schema every bounty escrow signs: what a ship reports. */
export const bountyEvidenceSchema: JsonSchema = {
  type: "object",
  required: ["task_id", "head_sha", "ci_status"],
  properties: { task_id: { type: "string" }, head_sha: { type: "string" }, ci_status: { type: "string" } },
};

/** What every bounty requires: CI passed for the head that shipped. */
const ciPassed: PredicateNode = { op: "eq", left: { ptr: "/payload/ci_status" }, right: { const: "passed" } };

/** The escrow predicate of a bounty: CI passed, and the task's own predicate when it has one. */
export function bountyPredicate(own: Predicate | null): Predicate {
  return { version: 1, root: own ? { op: "and", args: [ciPassed, own.root] } : ciPassed };
}

/** The escrow intent id of a task's bounty. */
export const bountyIntentId = (taskId: string) => `int_${taskId}`;

/** The task key's public JWK and id (the tenant's journal key). */
export function taskKeyOf(tenant: TenantRow): { id: string; jwk: PublicJwk } {
  return { id: `bursar/${tenant.id}`, jwk: { kty: "OKP", crv: "Ed25519", x: Buffer.from(tenant.journalPublicKey).toString("base64url") } as PublicJwk };
}

function signWithTaskKey(tenant: TenantRow, input: Buffer): string {
  const privateKey = createPrivateKey({ key: Buffer.from(tenant.journalPrivateKeyPkcs8), format: "der", type: "pkcs8" });
  return signBytes(null, input, privateKey).toString("base64url");
}

async function tenantOf(context: WriteContext): Promise<TenantRow> {
  const tenant = await context.tx.getTenant(context.tenantId);
  invariant(tenant, `tenant ${context.tenantId} exists`);
  return tenant;
}

export interface OpenBountyInput {
  taskId: string;
  title: string;
  payer: AgentRow;
  assignee: AgentRow;
  amountMinor: number;
  currency: string;
  /** The task's own predicate (already parsed), or null. */
  predicate: Predicate | null;
  /** The escrow's deadline: the task's due time, or the longest an escrow may run. */
  deadlineMs: number;
}

/** The escrow deadline of a bounty: its due time, else as late as an escrow may be. */
export function bountyDeadlineMs(dueAtMs: number | null, nowMs: number): number {
  return dueAtMs ?? nowMs + escrowDeadlineSecondsMax * 1000;
}

/**
 * Opens and funds the escrow of a bounty (the caller checked the payer's policy and wallet, the
 * currencies, the predicate and the deadline, so creation cannot fail). Answers the intent:
 * `funded`, or `open` waiting for an owner's approval (or denied, if the policy changed in between).
 */
export async function openBounty(context: WriteContext, input: OpenBountyInput): Promise<EscrowIntentRecord> {
  const tenant = await tenantOf(context);
  const key = taskKeyOf(tenant);
  const wallet = await context.tx.getAccount(context.tenantId, input.assignee.walletAccountId);
  invariant(wallet, `agent ${input.assignee.id} has its wallet`);
  const payee = await agentPayee(context, input.assignee, wallet.currency, key.jwk);
  const intentInput = {
    intentId: bountyIntentId(input.taskId), payeeId: payee.id, payeeKeyThumbprint: payee.body.evidence_key_thumbprint!, amountMinor: input.amountMinor,
    currency: input.currency, deadline: toRfc3339(input.deadlineMs), releaseMode: "auto" as const, costPath: null, evidenceSchema: bountyEvidenceSchema,
    predicate: bountyPredicate(input.predicate), allowedOperations: [],
  };
  const signature = signWithTaskKey(tenant, escrowTermsSigningInput(escrowTermsOf(tenant.id, input.payer.id, intentInput)));
  const created = await createEscrowIntent(context, input.payer, {
    ...intentInput, description: `bounty of task ${input.taskId}: ${input.title}`.slice(0, 512), metadata: { task_id: input.taskId }, signature,
    key: { id: key.id, jwk: key.jwk, algorithm: "EdDSA" },
  });
  invariant(created.ok, `the bounty escrow of ${input.taskId} opens: ${created.ok ? "" : created.detail}`);
  const funded = await fundEscrowIntent(context, created.value.id, null);
  invariant(funded.ok, `the bounty escrow of ${input.taskId} is funded or answered: ${funded.ok ? "" : funded.detail}`);
  return funded.value;
}

/** What a ship reports to the escrow. */
export interface ShipEvidence {
  taskId: string;
  headSha: string;
  ciStatus: string;
  review: { outcome: string; review_id: string } | null;
  ship: { mode: string; target_environment: string };
  artifacts: EvidenceArtifact[];
}

function evidenceOf(evidence: ShipEvidence, submittedAt: string) {
  return {
    payload: { task_id: evidence.taskId, head_sha: evidence.headSha, ci_status: evidence.ciStatus, review: evidence.review, ship: evidence.ship },
    artifacts: evidence.artifacts,
    submittedAt,
  };
}

/** Whether the bounty's predicate passes on what this ship would report (no side effects). */
export function checkBountyEvidence(intent: EscrowIntentRecord, evidence: ShipEvidence, nowMs: number): Evaluation {
  const submission = evidenceOf(evidence, toRfc3339(nowMs));
  return evaluatePredicate(intent.body.predicate, { payload: submission.payload, artifacts: submission.artifacts, submitted_at: submission.submittedAt }, {
    amount: intent.body.amount, currency: intent.body.currency, deadline: Date.parse(intent.body.deadline), submitted_at: nowMs,
  });
}

/**
 * Releases a held bounty with task-key-signed evidence of the ship (the caller checked the
 * predicate passes). An escrow no longer held (refunded, expired) is answered as it is: the ship
 * pays nothing more. Past its deadline the escrow expires here and pays nothing (escrow's rule).
 */
export async function releaseBounty(context: WriteContext, intentId: string, evidence: ShipEvidence, validate: PayloadValidator): Promise<EscrowIntentRecord> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  invariant(intent, `escrow intent ${intentId} exists`);
  if (intent.body.status !== "funded" && intent.body.status !== "evidence_submitted") return intent;
  const tenant = await tenantOf(context);
  const submission = evidenceOf(evidence, toRfc3339(context.nowMs));
  const binding = evidenceBindingOf(tenant.id, intent.id, intent.body.payee_id, submission);
  const signature = signWithTaskKey(tenant, evidenceSigningInput(binding));
  const result = await submitEscrowEvidence(context, intentId, { ...submission, signature }, validate);
  if (!result.ok) {
    invariant(result.code === "escrow_expired", `the bounty of ${evidence.taskId} takes its evidence: ${result.detail}`);
    return (await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId))!;
  }
  // The assignee's payee is Bursar's own (its wallet), paid in this write: no rail payout follows.
  invariant(result.value.dispatch.length === 0, `the bounty of ${evidence.taskId} pays the assignee's wallet in the same write`);
  invariant(result.value.intent.body.status === "released", `the bounty of ${evidence.taskId} is released by a passing ship`);
  return result.value.intent;
}

/** Refunds a bounty whose task was cancelled (escrow's withdrawal); a settled one is answered as it is. */
export async function refundBounty(context: WriteContext, intentId: string): Promise<EscrowIntentRecord> {
  return withdrawEscrowIntent(context, intentId);
}

/** Parses a task's own predicate (`predicate_invalid` with per-node errors). */
export function parseBountyPredicate(input: unknown): Result<Predicate> {
  return parsePredicate(input);
}

export type BountyStatus = "pending_approval" | "unfunded" | "held" | "disputed" | "released" | "refunded" | "split" | "expired";

/** How a bounty stands, read from its escrow intent. */
export function bountyStatusOf(intent: StoredRecord<EscrowIntentBody>): BountyStatus {
  const body = intent.body;
  switch (body.status) {
    case "open":
      return body.approval_status === "pending" ? "pending_approval" : "unfunded";
    case "funded":
    case "evidence_submitted":
    case "payout_pending": // never for an agent's payee (paid in the write), but held until paid
      return "held";
    default:
      return body.status;
  }
}
