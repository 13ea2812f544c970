/** Wire schemas of spend authorizations (`/v1/spend/authorizations`) and capabilities (`/v1/capabilities`). */
import { z } from "zod";
import { spendAuthorizationStatuses } from "../governance/spend-authorizations.js";
import {
  amountMinorMax,
  capabilityLifetimeSecondsMax,
  capabilityTokenLengthMax,
  capabilityUsesMax,
  policyListEntriesMax,
  spendAuthorizationExpirySecondsMax,
  spendEvidenceBytesMax,
} from "../limits.js";
import { amountMinor, currencyCode, metadata, text, timestamp } from "./common.js";
import { recordListQuery } from "./governance.js";
import { operationName, operationPattern } from "./policy.js";

const idText = z.string().min(1).max(200);
const decisionKind = z.enum(["allow", "approval_required", "deny"]);
const remaining = z.record(z.string(), z.number().int().nullable()).describe("Amount or count left after this action; null when unlimited");
const evidence = z
  .unknown()
  .refine((value) => new TextEncoder().encode(JSON.stringify(value) ?? "").length <= spendEvidenceBytesMax, { message: `at most ${spendEvidenceBytesMax} bytes of JSON` })
  .describe("What proves the spend (a receipt, a response header), as JSON; bounded");

export const authorizeSpendBody = z
  .object({
    operation: operationName.describe("A dotted name you choose for what is paid for: `openai.chat`, `stripe.charges.create`, `x402.fetch`"),
    amount: amountMinor.describe("The most the call may cost, in minor units"),
    currency: currencyCode,
    vendor: idText.optional().describe("Who is paid outside Bursar; default: the operation's first word (`openai`)"),
    payee: idText.optional().describe("A payee id, name or alias, when the money goes to a Bursar payee"),
    tool_call_id: idText.optional().describe("The framework's tool call this pays for"),
    capability_token: z.string().min(1).max(capabilityTokenLengthMax).optional().describe("An owner's pre-approval (`POST /v1/capabilities`)"),
    metadata: metadata.nullable().optional(),
    expires_in: z.number().int().min(1).max(spendAuthorizationExpirySecondsMax).optional().describe("Seconds until an authorized hold is released if not completed; default 900"),
    agent_id: z.string().max(64).optional().describe("Owners: the agent to act for"),
  })
  .strict();

export const completeSpendBody = z
  .object({
    outcome: z.enum(["consumed", "released"]),
    amount: z.number().int().min(0).max(amountMinorMax).optional().describe("Consumed: what the call cost (≤ the authorized amount); default all of it"),
    external_reference: idText.nullable().optional().describe("The vendor's id for the charge"),
    evidence: evidence.optional(),
  })
  .strict();

export const spendAuthorization = z.object({
  object: z.literal("spend_authorization"),
  id: z.string(),
  agent_id: z.string(),
  operation: z.string(),
  vendor: z.string(),
  payee_id: z.string().nullable(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  status: z.enum(spendAuthorizationStatuses),
  decision: decisionKind,
  reason_codes: z.array(z.string()),
  remaining,
  available_actions: z.array(z.string()),
  approval_id: z.string().nullable(),
  approval_status: z.enum(["not_required", "pending", "approved", "rejected", "expired", "cancelled"]),
  capability_id: z.string().nullable(),
  hold_transfer_id: z.string().nullable(),
  credit_account_id: z.string().nullable(),
  tool_call_id: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  expires_in_seconds: z.number().int(),
  expires_at: timestamp.nullable(),
  consumed_amount: z.number().int().nullable(),
  consumed_amount_display: z.string().nullable(),
  external_reference: z.string().nullable(),
  evidence: z.unknown(),
  completed_at: timestamp.nullable(),
  escrow_intent_id: z.string().nullable().optional().describe("Drawn on this escrow intent (its capability was presented), not the wallet"),
  created_at: timestamp,
  updated_at: timestamp,
});


export const createCapabilityBody = z
  .object({
    agent_id: z.string().min(1).max(64),
    allowed_operations: z.array(operationPattern).min(1).max(policyListEntriesMax).describe("Operations it covers: exact, `prefix.*` or `*`"),
    max_amount: amountMinor.describe("The most all authorizations under it may take together"),
    currency: currencyCode,
    expires_at: z.string().datetime({ offset: true }).describe("RFC 3339; at most 90 days ahead"),
    max_uses: z.number().int().min(1).max(capabilityUsesMax).nullable().optional(),
    description: text.nullable().optional(),
  })
  .strict();

export const capability = z.object({
  object: z.literal("capability"),
  id: z.string(),
  agent_id: z.string(),
  allowed_operations: z.array(z.string()),
  max_amount: z.number().int(),
  max_amount_display: z.string(),
  currency: z.string(),
  expires_at: timestamp,
  max_uses: z.number().int().nullable(),
  used_amount: z.number().int(),
  uses: z.number().int(),
  remaining_amount: z.number().int(),
  remaining_uses: z.number().int().nullable(),
  status: z.enum(["active", "revoked"]),
  revoked_at: timestamp.nullable(),
  description: z.string().nullable(),
  escrow_intent_id: z.string().nullable().optional().describe("Issued by this escrow intent: authorizations presenting it draw on the escrow"),
  created_at: timestamp,
  updated_at: timestamp,
});

export const capabilityWithToken = capability.extend({
  token: z.string().nullable().describe("The capability token: shown once, give it to the agent (null in an idempotent replay)"),
});

export const capabilityListQuery = recordListQuery.extend({ status: z.enum(["active", "revoked"]).optional() });

/** The longest a capability may be valid, for the route's check of `expires_at`. */
export const capabilityLifetimeMs = capabilityLifetimeSecondsMax * 1000;
