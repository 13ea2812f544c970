/**
 * Usage (issue 15 item 4): spent, held and counts per bucket — a UTC day, an agent, a team, a
 * payee or an operation — from the spends Bursar already records, read from the daily rollup of
 * migration 22 (never a scan of the spends themselves), for charts.
 *
 * Resolution is one UTC day: `from` is rounded down to the start of its day and `to` up to the
 * end of its day (a date `to` includes that day; a time `to` exactly at midnight ends there), and
 * the answer says the range it used.
 * `spent` is what settled; `held` is what is held now (waiting for an approval or a rail);
 * released holds count nowhere. A held spend moves to `spent` in the day it was made.
 */
import { usageRangeDaysMax } from "../limits.js";
import { formatMinor, isCurrency } from "../money.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { UsageRow } from "./records.js";

export const usageDayMs = 24 * 3600 * 1000;
export const usageGroupings = ["day", "agent", "team", "payee", "operation"] as const;
export type UsageGroupBy = (typeof usageGroupings)[number];

/** Days a query covers when it names no `from`: the last 30, today included. */
export const usageDefaultDays = 30;

export interface UsageRange {
  fromMs: number;
  toMs: number;
}

/** The whole UTC days `[fromMs, toMs)` a query covers, or why it cannot. */
export function usageRange(from: string | undefined, to: string | undefined, nowMs: number): Result<UsageRange> {
  const parse = (text: string, name: string): Result<number> => {
    const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : Number.NaN;
    return Number.isFinite(ms) ? ok(ms) : fail("validation_failed", `${name} must be an RFC 3339 date or time, e.g. 2026-12-01 or 2026-12-01T00:00:00Z`);
  };
  const toParsed = to === undefined ? ok(nowMs) : parse(to, "to");
  if (!toParsed.ok) return toParsed;
  // Up to the end of the day: today without `to`, a `to` date's whole day, a `to` time's day unless it is midnight.
  const endsAtMidnight = to !== undefined && to.length > 10 && toParsed.value % usageDayMs === 0;
  const toMs = endsAtMidnight ? toParsed.value : Math.floor(toParsed.value / usageDayMs) * usageDayMs + usageDayMs;
  const fromParsed = from === undefined ? ok(toMs - usageDefaultDays * usageDayMs) : parse(from, "from");
  if (!fromParsed.ok) return fromParsed;
  const fromMs = Math.floor(fromParsed.value / usageDayMs) * usageDayMs;
  if (fromMs >= toMs) return fail("validation_failed", "from must be before to");
  if (toMs - fromMs > usageRangeDaysMax * usageDayMs) return fail("validation_failed", `a usage query spans at most ${usageRangeDaysMax} days; ask in parts`);
  return ok({ fromMs, toMs });
}

const display = (amountMinor: number, currency: string) => (isCurrency(currency) ? formatMinor(amountMinor, currency) : String(amountMinor));

/** One bucket as the API shows it. */
export function usageBucketView(key: string | null, row: Omit<UsageRow, "key">) {
  return {
    key,
    currency: row.currency,
    spent: row.settledMinor,
    spent_display: display(row.settledMinor, row.currency),
    held: row.heldMinor,
    held_display: display(row.heldMinor, row.currency),
    count: row.settledCount + row.heldCount,
    spent_count: row.settledCount,
    held_count: row.heldCount,
  };
}

/** The bucket key as shown: a day as `YYYY-MM-DD`, no payee or no team as null, else the id or operation. */
export function usageKeyView(groupBy: UsageGroupBy, key: string): string | null {
  if (groupBy === "day") return toRfc3339(Number(key)).slice(0, 10);
  if ((groupBy === "payee" || groupBy === "team") && key === "") return null;
  return key;
}

/** Adds rows with the same (key, currency), for groupings the store does not make itself (`team`). */
export function mergeUsageRows(rows: Iterable<UsageRow>): UsageRow[] {
  const merged = new Map<string, UsageRow>();
  for (const row of rows) {
    const id = `${row.key}\u0000${row.currency}`;
    const into = merged.get(id);
    if (!into) merged.set(id, { ...row });
    else {
      into.settledMinor += row.settledMinor;
      into.settledCount += row.settledCount;
      into.heldMinor += row.heldMinor;
      into.heldCount += row.heldCount;
    }
  }
  return [...merged.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}

/** Totals per currency over every bucket. */
export function usageTotals(rows: readonly UsageRow[]) {
  return mergeUsageRows(rows.map((row) => ({ ...row, key: "" }))).map((row) => usageBucketView(null, row));
}

/** The answer of `GET /v1/usage`. */
export function usageView(input: { range: UsageRange; groupBy: UsageGroupBy; agentId: string | null; teamId: string | null; rows: UsageRow[]; truncated: boolean }) {
  return {
    object: "usage" as const,
    from: toRfc3339(input.range.fromMs),
    to: toRfc3339(input.range.toMs),
    group_by: input.groupBy,
    agent_id: input.agentId,
    team_id: input.teamId,
    data: input.rows.map((row) => usageBucketView(usageKeyView(input.groupBy, row.key), row)),
    totals: usageTotals(input.rows),
    truncated: input.truncated,
  };
}
