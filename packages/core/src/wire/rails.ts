/** Wire schemas of rail configuration and of the webhook rail's executor callbacks (docs/rails.md). */
import { z } from "zod";
import { clientIdLengthMax, railFailureReasonLengthMax, railReferenceLengthMax, railSecretOverlapSecondsMax, webhookUrlLengthMax } from "../limits.js";
import { timestamp } from "./common.js";

export const webhookRailConfigBody = z
  .object({
    url: z.string().min(1).max(webhookUrlLengthMax).describe("The executor's http or https URL; private and loopback targets are refused"),
  })
  .strict();

export const railConfig = z.object({
  object: z.literal("rail_config"),
  id: z.string(),
  rail: z.literal("webhook"),
  url: z.string(),
  previous_secret_expires_at: timestamp.nullable().describe("Until then the secret before the last rotation is valid too"),
  created_at: timestamp,
  updated_at: timestamp,
});

export const railConfigWithSecret = railConfig.extend({
  secret: z.string().nullable().describe("`whsec_…`, shown once: when the configuration is made or its secret rotated; null otherwise and on idempotent replays"),
});

export const rotateRailSecretBody = z
  .object({
    overlap_seconds: z.number().int().min(0).max(railSecretOverlapSecondsMax).default(24 * 3600).describe("How long the old secret stays valid"),
  })
  .strict()
  .optional();

/** A snake_case code (an executor's failure reason). */
export const railFailureReason = z.string().regex(new RegExp(`^[a-z][a-z0-9_]{0,${railFailureReasonLengthMax - 1}}$`), "a snake_case code");

export const railCallbackBody = z
  .object({
    tenant_id: z.string().min(1).max(clientIdLengthMax),
    transaction_id: z.string().min(1).max(clientIdLengthMax),
    status: z.enum(["succeeded", "failed"]),
    reason: railFailureReason.optional().describe("Why it failed (default `executor_failed`)"),
    rail_reference: z.string().min(1).max(railReferenceLengthMax).optional().describe("The executor's own id for the payment"),
  })
  .strict();

export const railCallbackReceipt = z.object({
  object: z.literal("rail_callback_receipt"),
  transaction_id: z.string(),
  status: z.enum(["pending", "completed", "failed"]),
});
