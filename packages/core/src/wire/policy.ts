/** Wire schema of an agent's policy (GET/PUT /v1/agents/{id}/policy). */
import { z } from "zod";
import { amountMinorMax, approvalExpirySecondsMax, operationNameLengthMax, policyListEntriesMax } from "../limits.js";
import { operationNamePattern, operationPatternPattern } from "../dotted-names.js";
import { currencyCode } from "./common.js";

const limit = z.number().int().min(0).max(amountMinorMax);
const perPeriod = z.object({ daily: limit, weekly: limit, monthly: limit, all_time: limit }).partial().strict();
const idList = z.array(z.string().min(1).max(200)).max(policyListEntriesMax);
/** An exact operation name, `prefix.*`, or `*` (see dotted-names.ts). */
export const operationPattern = z.string().min(1).max(operationNameLengthMax).regex(operationPatternPattern, "an operation name, `prefix.*` or `*`");
/** A dotted operation name chosen by the caller (`openai.chat`, `stripe.charges.create`). */
export const operationName = z.string().min(1).max(operationNameLengthMax).regex(operationNamePattern, "dotted words of letters, digits, `_` or `-`");
const operationList = z.array(operationPattern).max(policyListEntriesMax);
const operationLimit = z
  .object({ per_call_max_minor: limit.nullable().default(null), daily_max_minor: limit.nullable().default(null) })
  .strict()
  .describe("Limits on every operation the pattern matches: each call, and their sum over the trailing 24 h");

export const policy = z
  .object({
    currency: currencyCode,
    per_transaction_max_minor: limit.nullable(),
    amount_max_minor: perPeriod,
    count_max: perPeriod,
    allowed_payee_ids: idList.nullable(),
    blocked_payee_ids: idList,
    allowed_currencies: z.array(currencyCode).max(policyListEntriesMax).nullable(),
    allowed_services: idList.nullable().describe("`service` or `service.operation`"),
    approval_threshold_minor: limit.nullable(),
    new_payee_requires_approval: z.boolean(),
    approval_expiry_seconds: z.number().int().min(1).max(approvalExpirySecondsMax),
    allowed_operations: operationList.nullable().default(null).describe("Operations a spend authorization may name (exact, `prefix.*` or `*`); null = any"),
    blocked_operations: operationList.default([]),
    operation_limits: z
      .record(operationPattern, operationLimit)
      .refine((value) => Object.keys(value).length <= policyListEntriesMax, { message: `at most ${policyListEntriesMax} patterns` })
      .default({}),
    allowed_vendors: idList.nullable().default(null).describe("Vendors an action may name; null = any"),
    blocked_vendors: idList.default([]),
  })
  .strict();
export type PolicyWire = z.infer<typeof policy>;

/**
 * A JSON Merge Patch (RFC 7396) of a policy, derived from `policy` so new fields are patchable:
 * every field optional; an object field (`amount_max_minor`) merges key by key, `null` removing
 * a key; `null` on a nullable field means what it means in a PUT (no limit, no list). The merged
 * policy is then checked against `policy`.
 */
export const policyPatch = z
  .object(
    Object.fromEntries(
      Object.entries(policy.shape).map(([name, field]) => {
        const inner = field instanceof z.ZodObject ? z.object(Object.fromEntries(Object.entries(field.shape as Record<string, z.ZodType>).map(([key, value]) => [key, (value as z.ZodOptional<z.ZodType>).unwrap().nullable().optional()]))).strict() : field;
        return [name, inner.optional()];
      }),
    ) as unknown as { [K in keyof PolicyWire]: z.ZodOptional<z.ZodType> },
  )
  .strict()
  .describe("JSON Merge Patch (RFC 7396) of the policy: only the fields to change");

/** Applies a policy patch (see `policyPatch`) to a policy; the result still needs `policy.safeParse`. */
export function mergePolicyPatch(current: PolicyWire, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const existing = merged[name];
    if (value !== null && typeof value === "object" && !Array.isArray(value) && existing !== null && typeof existing === "object" && !Array.isArray(existing)) {
      const nested: Record<string, unknown> = { ...(existing as Record<string, unknown>) };
      for (const [key, entry] of Object.entries(value)) {
        if (entry === null) delete nested[key];
        else nested[key] = entry;
      }
      merged[name] = nested;
    } else merged[name] = value;
  }
  return merged;
}
