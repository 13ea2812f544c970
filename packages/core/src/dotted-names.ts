/**
 * Dotted names and the patterns that match them, one grammar for every place that filters by
 * name: event types (`payment_intent.*`), spend operations (`openai.*`, `stripe.charges.create`)
 * and capability allowances. A pattern is an exact name, a prefix wildcard (`openai.*` matches
 * `openai.chat` and `openai.chat.stream`, never `openai` itself or `openaix.chat`), or `*`.
 */

/** An operation name a caller chooses: dotted words of letters, digits, `_` or `-`. */
export const operationNamePattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** An operation pattern: an operation name, optionally ending in `.*`, or `*`. */
export const operationPatternPattern = /^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$/;

/** True when `pattern` matches `name` (see the module comment). */
export function matchesDottedPattern(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** True when one of `patterns` matches `name`; an empty list matches nothing. */
export function matchesAnyDottedPattern(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => matchesDottedPattern(pattern, name));
}
