/**
 * Event-type patterns, shared by webhook endpoints, `GET /v1/events` and the event stream:
 * an exact type (`transfer.posted`), a prefix wildcard (`payment_intent.*`, which matches
 * `payment_intent.created` and `payment_intent.leg.failed`), or `*` for everything.
 */
import { matchesAnyDottedPattern } from "../dotted-names.js";

/** What a pattern may look like: lower-case dotted words, optionally ending in `.*`, or `*`. */
export const eventTypePattern = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/;

/** True when `type` matches one of `patterns`; an empty list matches nothing. */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return matchesAnyDottedPattern(patterns, type);
}

/** Splits a comma-separated filter (`?type=a.b,c.*`) into patterns; null when one is malformed. */
export function parseEventTypeFilter(text: string, max: number): string[] | null {
  const patterns = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
  if (patterns.length > max || !patterns.every((pattern) => eventTypePattern.test(pattern))) return null;
  return patterns;
}
