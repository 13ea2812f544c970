/** Wire schema of an agent's policy (GET/PUT /v1/agents/{id}/policy). */
import { z } from "zod";
import { amountMinorMax, approvalExpirySecondsMax, policyListEntriesMax } from "../limits.js";
import { currencyCode } from "./common.js";

const limit = z.number().int().min(0).max(amountMinorMax);
const perPeriod = z.object({ daily: limit, weekly: limit, monthly: limit, all_time: limit }).partial().strict();
const idList = z.array(z.string().min(1).max(200)).max(policyListEntriesMax);

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
  })
  .strict();
export type PolicyWire = z.infer<typeof policy>;
