/**
 * Well-formed Unicode (ECMA-262 `IsStringWellFormedUnicode`; RFC 8259 §8.2). A JavaScript string
 * may hold a lone UTF-16 surrogate (JSON's `"\ud800"` escape makes one); such a string has no
 * UTF-8 form, so RFC 8785 canonicalisation refuses it, PostgreSQL `jsonb` refuses it, and a
 * hash of it would depend on how each side repairs it. Bursar therefore refuses it from clients
 * at the edge (the server's JSON parser and request hook) and repairs it (U+FFFD) in data from
 * outside parties it cannot refuse: a language model's answer, a service's result.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const loneSurrogates = new RegExp(loneSurrogate.source, "g");

/** True when `text` has no lone surrogate (`String.prototype.isWellFormed`, without needing ES2024). */
export function isWellFormedText(text: string): boolean {
  return !loneSurrogate.test(text);
}

/** `text` with every lone surrogate replaced by U+FFFD (`String.prototype.toWellFormed`). */
export function toWellFormedText(text: string): string {
  return isWellFormedText(text) ? text : text.replace(loneSurrogates, "\uFFFD");
}

/**
 * JSON.parse for text from outside parties: lone surrogates in keys and strings become U+FFFD, so
 * the value can always be canonicalised, stored and journaled. Throws on malformed JSON like
 * JSON.parse.
 *
 * @example parseJsonWellFormed('{"a":"\\ud800"}') // { a: "\uFFFD" }
 */
export function parseJsonWellFormed(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === "string") return toWellFormedText(value);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    if (keys.every(isWellFormedText)) return value;
    return Object.fromEntries(keys.map((key) => [toWellFormedText(key), (value as Record<string, unknown>)[key]]));
  });
}
