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

/**
 * An integer query parameter: decimal digits only, between `min` and `max`. Not `z.coerce`:
 * `Number()` reads `""` as 0, `"1e3"`, `"0x10"` and `" 7 "` as numbers, and digits past 2^53 as
 * a different number (`9007199254740993` is read as ...992), so a cursor could silently name
 * another row, or reach the store out of every range it was built for (the 500 issue 17 found).
 */
export const queryInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, "must be a decimal integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** `limit` of a list: 1 to `max` (SPEC 3 "Pagination"). */
export const pageLimit = (max: number = pageLimitMax, fallback: number = pageLimitDefault) => queryInteger(1, max).default(fallback);

/**
 * `cursor` of a list ordered by id: the `next_cursor` of the previous page, which is an id (a
 * prefix and a body, or a client-supplied transfer id). Anything else is a 400, not some page.
 */
export const idCursor = z
  .string()
  .max(clientIdLengthMax)
  .regex(/^[a-z]{2,5}_[A-Za-z0-9_-]{1,60}$/, "must be the next_cursor of the previous page")
  .optional()
  .describe("next_cursor of the previous page");

export const pageQuery = z.object({
  limit: pageLimit(),
  cursor: idCursor,
});

/** The list envelope of SPEC 3 "Pagination". */
export const page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() });

/**
 * A record list's envelope: the page, and `journal_seq`, the journal's size when the page was
 * read. Every change journalled at or before it is in the page; a stream opened with
 * `after_seq=journal_seq` sees every change after it. So a list plus a stream from its position
 * misses nothing and needs no polling.
 */
export const journalPage = <T extends z.ZodTypeAny>(item: T) =>
  page(item).extend({
    journal_seq: z.number().int().min(0).describe("The journal's size when this page was read: open GET /v1/events/stream with after_seq set to it to see every change since"),
  });

/** RFC 9457 problem details with Bursar's extensions. */
export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  request_id: z.string(),
  available_actions: z.array(z.string()).optional(),
  current_status: z.string().optional().describe("The status a refused transition found (tasks: `task_transition_not_allowed`)"),
  errors: z.array(z.object({ path: z.string(), code: z.string(), detail: z.string() })).optional(),
});
