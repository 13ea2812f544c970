/** Wire schemas of the ledger: accounts, transfers, deposits. */
import { z } from "zod";
import { transferBatchCountMax, holdTimeoutSecondsMax, holdTimeoutSecondsMin } from "../limits.js";
import { accountKinds, transferStatuses } from "../ledger/types.js";
import { amountMinor, clientId, currencyCode, metadata, text, timestamp } from "./common.js";

export const account = z.object({
  id: z.string(),
  object: z.literal("account"),
  currency: z.string(),
  kind: z.enum(accountKinds),
  name: z.string().nullable(),
  debits_must_not_exceed_credits: z.boolean(),
  debits_pending: z.number().int(),
  debits_posted: z.number().int(),
  credits_pending: z.number().int(),
  credits_posted: z.number().int(),
  balance: z.number().int().describe("credits_posted - debits_posted"),
  balance_display: z.string(),
  available: z.number().int().describe("credits_posted - debits_posted - debits_pending"),
  available_display: z.string(),
  metadata: z.record(z.string(), z.string()).nullable(),
  created_at: timestamp,
});
export type AccountView = z.infer<typeof account>;

export const createAccountBody = z.object({
  currency: currencyCode,
  kind: z.enum(accountKinds).exclude(["funding", "vendor"]).optional(),
  name: text.optional(),
  debits_must_not_exceed_credits: z.boolean().optional().describe("The floor; defaults to true"),
  metadata: metadata.optional(),
});

export const transfer = z.object({
  id: z.string(),
  object: z.literal("transfer"),
  debit_account_id: z.string(),
  credit_account_id: z.string(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  status: z.enum(transferStatuses),
  posted_amount: z.number().int(),
  expires_at: timestamp.nullable(),
  reference: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  batch_id: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type TransferView = z.infer<typeof transfer>;

export const transferBody = z.object({
  id: clientId("tr").optional().describe("Your id for the transfer: retrying with the same id and fields returns the first result"),
  debit_account_id: z.string().min(1),
  credit_account_id: z.string().min(1),
  amount: amountMinor,
  currency: currencyCode,
  pending: z.boolean().optional().describe("Create a hold instead of a posted transfer"),
  timeout_seconds: z.number().int().min(holdTimeoutSecondsMin).max(holdTimeoutSecondsMax).optional(),
  reference: text.optional(),
  metadata: metadata.optional(),
});

/** `POST /v1/transfers` takes one transfer, or `{transfers: [...]}` that succeed or fail as one. */
export const createTransfersBody = z.union([
  transferBody,
  z.object({ transfers: z.array(transferBody).min(1).max(transferBatchCountMax) }),
]);

export const transferBatch = z.object({ object: z.literal("list"), data: z.array(transfer) });

export const postTransferBody = z.object({ amount: amountMinor.optional().describe("Defaults to the whole hold") }).optional();

export const depositBody = z.object({
  amount: amountMinor,
  id: clientId("tr").optional(),
  reference: text.optional(),
});
