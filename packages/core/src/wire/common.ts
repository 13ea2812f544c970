/**
 * Wire schemas shared by the server (validation, OpenAPI) and the SDK (types): one place for the
 * shape of every request and response body.
 */
import { z } from "zod";
import {
  amountMinorMax,
  clientIdLengthMax,
  metadataKeyLengthMax,
  metadataKeysMax,
  metadataValueLengthMax,
  pageLimitDefault,
  pageLimitMax,
  stringLengthMax,
} from "../limits.js";
import { isCurrency } from "../money.js";

/** An amount in minor units: a positive integer, at most 10^15. */
export const amountMinor = z.number().int().positive().max(amountMinorMax).describe("Amount in minor units (e.g. 50000 = £500.00)");

export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .refine(isCurrency, { message: "unknown ISO 4217 currency" })
  .describe("ISO 4217 currency code");

export const text = z.string().min(1).max(stringLengthMax);

export const metadata = z
  .record(z.string().min(1).max(metadataKeyLengthMax), z.string().max(metadataValueLengthMax))
  .refine((value) => Object.keys(value).length <= metadataKeysMax, { message: `at most ${metadataKeysMax} keys` })
  .describe("Free-form string key/value pairs");

/** A client-supplied id with a type prefix, e.g. `tr_invoice-2026-04`. */
export const clientId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9_-]{1,${clientIdLengthMax - prefix.length - 1}}$`), `must look like ${prefix}_<letters, digits, - or _>`);

/** An id path parameter. */
export const idParam = z.object({ id: z.string().min(1).max(clientIdLengthMax) });

export const timestamp = z.string().describe("RFC 3339 UTC time");

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(pageLimitMax).default(pageLimitDefault),
  cursor: z.string().max(clientIdLengthMax).optional(),
});

/** The list envelope of SPEC 3 "Pagination". */
export const page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() });

/** RFC 9457 problem details with Bursar's extensions. */
export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  request_id: z.string(),
  available_actions: z.array(z.string()).optional(),
  errors: z.array(z.object({ path: z.string(), code: z.string(), detail: z.string() })).optional(),
});
