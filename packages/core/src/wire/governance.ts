/** Wire schemas of governed spending: policies, budgets, payees, payment intents, approvals, transactions. */
import { z } from "zod";
import { approvalStatuses, approvalSubjects } from "../governance/approvals.js";
import { railNames } from "../governance/payees.js";
import { budgetsPerAgentMax, capabilityTokenLengthMax, payeeAliasesMax, paymentInstructionsMax, sandboxDelayMsMax } from "../limits.js";
import { availableActionNames, periods, reasonOrder } from "../policy/policy.js";
import { resultCodes } from "../result.js";
import { amountMinor, currencyCode, idCursor, metadata, pageLimit, text, timestamp } from "./common.js";
import { policy } from "./policy.js";

const idText = z.string().min(1).max(200);
const decisionKind = z.enum(["allow", "approval_required", "deny"]);
/** Amount or count left after an action per limit: the keys a decision can carry (new limits may add keys). */
const remainingValue = z.number().int().nullable();
const remainingKeys = ["per_transaction", "wallet", ...periods.flatMap((period) => [period, `${period}_count`, `budget_${period}`])];
// A record in TypeScript (new limits may add keys); the reference lists the keys a decision carries.
export const remaining = z
  .record(z.string(), remainingValue)
  .meta({ properties: Object.fromEntries(remainingKeys.map((key) => [key, { type: ["integer", "null"] }])) })
  .describe("Amount (minor units) or count left after this action, per limit (`per_transaction`, `daily`, `daily_count`, `budget_monthly`, …; `wallet` in dry runs); null when unlimited");

/**
 * Why a decision is what it is: the policy's reasons (in `reasonOrder`), a ledger hold's failure
 * (`insufficient_funds`, …), or an approval's end (`approval_rejected`, `approval_expired`).
 */
export const reasonCodeVocabulary = [...new Set([...reasonOrder, ...resultCodes, "approval_rejected", "approval_expired"])] as [string, ...string[]];
export const reasonCodes = z.array(z.enum(reasonCodeVocabulary));
/** What the caller can do next (`availableActionNames`). */
export const availableActions = z.array(z.enum(availableActionNames));
const actor = z.object({ type: z.string(), id: z.string() });

export const policyView = policy.extend({
  object: z.literal("policy"),
  id: z.string().nullable().describe("Null while the agent runs on the default policy"),
  agent_id: z.string(),
  is_default: z.boolean(),
  updated_at: timestamp.nullable(),
});

export const decision = z.object({
  object: z.literal("policy_decision"),
  decision: decisionKind,
  reason_codes: reasonCodes,
  remaining,
  available_actions: availableActions,
  policy_id: z.string().nullable(),
});

export const policyCheckBody = z
  .object({
    agent_id: z.string().max(64).optional().describe("Owners name the agent; an agent checks itself"),
    kind: z.enum(["payment", "service_request", "spend_authorization"]).default("payment"),
    amount: amountMinor,
    currency: currencyCode,
    payee: idText.optional().describe("A payee id or a name or alias"),
    service: idText.optional(),
    operation: idText.optional().describe("A service's operation, or a spend authorization's dotted operation name"),
    vendor: idText.optional().describe("Spend authorizations: who is paid outside Bursar"),
    capability_token: z.string().min(1).max(capabilityTokenLengthMax).optional().describe("Spend authorizations: a capability the action would present"),
  })
  .strict();

const budgetItem = z.object({ period: z.enum(periods), amount: z.number().int().min(0).max(1e15), currency: currencyCode }).strict();
export const budgetsBody = z.object({ budgets: z.array(budgetItem).max(budgetsPerAgentMax) }).strict();
export const budget = z.object({
  object: z.literal("budget"),
  id: z.string(),
  agent_id: z.string().nullable(),
  period: z.enum(periods),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  status: z.enum(["active", "replaced"]),
  created_at: timestamp,
  updated_at: timestamp,
});
export const budgetList = z.object({ object: z.literal("list"), agent_id: z.string(), data: z.array(budget) });

const sandboxDetails = z
  .object({ outcome: z.enum(["succeed", "fail"]).optional(), delay_ms: z.number().int().min(0).max(sandboxDelayMsMax).optional() })
  .describe("Sandbox rail: how the payment behaves (tests)");
const railDetails = z.record(z.string().max(64), z.union([z.string().max(500), z.number(), z.boolean()])).refine((value) => Object.keys(value).length <= 20, { message: "at most 20 keys" });

const evidencePublicKey = z
  .record(z.string().max(16), z.string().max(200))
  .describe("The payee's evidence public key: an Ed25519 (OKP) or P-256 (EC) public JWK; escrow evidence must be signed with it");
export const createPayeeBody = z
  .object({
    name: text,
    aliases: z.array(text).max(payeeAliasesMax).optional(),
    currency: currencyCode,
    rail: z.enum(railNames).optional(),
    rail_details: railDetails.optional(),
    metadata: metadata.optional(),
    evidence_public_key: evidencePublicKey.optional(),
  })
  .strict()
  .superRefine((body, context) => {
    if ((body.rail ?? "sandbox") === "sandbox" && body.rail_details && !sandboxDetails.safeParse(body.rail_details).success) {
      context.addIssue({ code: "custom", path: ["rail_details"], message: "sandbox details are { outcome?: succeed|fail, delay_ms? }" });
    }
  });
export const updatePayeeBody = z
  .object({
    name: text.optional(),
    aliases: z.array(text).max(payeeAliasesMax).optional(),
    rail: z.enum(railNames).optional(),
    rail_details: railDetails.optional(),
    metadata: metadata.nullable().optional(),
    evidence_public_key: evidencePublicKey.nullable().optional().describe("Replace (or with null remove) the evidence key; open escrow intents keep the key they were signed for"),
  })
  .strict();
export const payee = z.object({
  object: z.literal("payee"),
  id: z.string(),
  name: z.string(),
  aliases: z.array(z.string()),
  currency: z.string(),
  account_id: z.string(),
  rail: z.enum(railNames),
  rail_details: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.string()).nullable(),
  status: z.enum(["active", "deleted"]),
  evidence_public_key: z.record(z.string(), z.string()).nullable(),
  evidence_key_thumbprint: z.string().nullable().describe("RFC 7638 thumbprint of the evidence key: what an escrow intent's principal signs"),
  created_at: timestamp,
  updated_at: timestamp,
});
export const payeeListQuery = z.object({
  limit: pageLimit(),
  cursor: idCursor,
  q: text.optional().describe("A name or alias: the payees it matches exactly (case-insensitive)"),
});

const instruction = z
  .object({
    payee_id: idText.optional(),
    payee: idText.optional().describe("A payee id, name or alias"),
    amount: amountMinor,
    currency: currencyCode,
    reference: text.nullable().optional(),
  })
  .strict()
  .refine((leg) => (leg.payee_id === undefined) !== (leg.payee === undefined), { message: "name the payee with exactly one of payee_id or payee" });

export const createPaymentIntentBody = z
  .object({
    instructions: z.array(instruction).min(1).max(paymentInstructionsMax).optional(),
    payee_id: idText.optional(),
    payee: idText.optional(),
    amount: amountMinor.optional(),
    currency: currencyCode.optional(),
    reference: text.nullable().optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict()
  .describe("Either `instructions` (legs), or one leg's fields at the top level");

const legStatus = z.enum(["denied", "pending_approval", "executing", "completed", "failed", "cancelled"]);
export const paymentLeg = z.object({
  index: z.number().int(),
  payee_id: z.string(),
  payee_name: z.string(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  reference: z.string().nullable(),
  status: legStatus,
  decision: decisionKind,
  reason_codes: reasonCodes,
  available_actions: availableActions,
  remaining,
  hold_transfer_id: z.string().nullable(),
  transaction_id: z.string().nullable(),
  failure_reason: z.string().nullable(),
});
export const paymentIntent = z.object({
  object: z.literal("payment_intent"),
  id: z.string(),
  agent_id: z.string(),
  amount: z.number().int().nullable(),
  amount_display: z.string().nullable(),
  currency: z.string().nullable(),
  reference: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  approval_status: z.enum(["auto_approved", "pending_approval", "approved_by_user", "rejected", "expired"]),
  execution_status: z.enum(["pending", "executing", "completed", "partially_failed", "failed", "cancelled"]),
  approval_id: z.string().nullable(),
  decision: decisionKind,
  reason_codes: reasonCodes,
  available_actions: availableActions,
  legs: z.array(paymentLeg),
  transaction_ids: z.array(z.string()),
  created_at: timestamp,
  updated_at: timestamp,
});
export const recordListQuery = z.object({
  limit: pageLimit(),
  cursor: idCursor,
  agent_id: z.string().max(64).optional(),
  status: z.string().max(32).optional(),
});

export const approval = z.object({
  object: z.literal("approval"),
  id: z.string(),
  subject_type: z.enum(approvalSubjects),
  subject_id: z.string(),
  payment_intent_id: z.string().optional(),
  service_request_id: z.string().optional(),
  spend_authorization_id: z.string().optional(),
  escrow_intent_id: z.string().optional(),
  agent_id: z.string(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  reason_codes: reasonCodes,
  status: z.enum(approvalStatuses),
  expires_at: timestamp,
  decided_by: actor.nullable(),
  decided_at: timestamp.nullable(),
  note: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
export const approvalDecisionBody = z.object({ note: text.nullable().optional() }).strict();

export const transaction = z.object({
  object: z.literal("transaction"),
  id: z.string(),
  payment_intent_id: z.string().nullable().describe("The payment intent whose leg it is; null for an escrow payout"),
  leg_index: z.number().int().nullable(),
  escrow_intent_id: z.string().nullable().describe("The escrow intent whose payout it is (docs/escrow.md \"Payout\"); null for a payment"),
  agent_id: z.string(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  status: z.enum(["pending", "completed", "failed"]),
  creditor: z.object({ payee_id: z.string(), name: z.string(), account_id: z.string() }),
  debtor: z.object({ agent_id: z.string(), account_id: z.string() }),
  reference: z.string().nullable(),
  rail: z.enum(railNames),
  rail_reference: z.string().nullable(),
  failure_reason: z.string().nullable(),
  hold_transfer_id: z.string(),
  completed_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
