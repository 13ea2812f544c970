/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation, used for hashing and fingerprints.
 *
 * Every journal entry is serialised once on the write path, so this is a single recursive pass
 * that appends to one string: strings and numbers as JSON.stringify writes them (which is what
 * RFC 8785 §3.2.2 specifies: ECMAScript serialisation; a string with nothing to escape is just
 * quoted, and a key's text is kept), object keys sorted by UTF-16 code units (§3.2.3, the
 * default string sort). Same results and errors as the `canonicalize` package it replaced
 * (canonical.test.ts compares them): NaN, infinities, lone surrogates and cycles throw; `toJSON`
 * is honoured; `undefined` and symbols are left out of objects and become null in arrays.
 */

/** ES2024 `String.prototype.isWellFormed` (Node >= 20): false when a surrogate is unpaired. */
type WellFormedString = string & { isWellFormed(): boolean };

/** Nesting depth past which a value is taken to be circular (far above any JSON we build). */
const depthMax = 1000;

/** A string JSON.stringify would escape: a quote, a backslash or a control character. */
// eslint-disable-next-line no-control-regex -- JSON escapes exactly these control characters
const needsEscape = /["\\\u0000-\u001f]/;

/**
 * Object keys already serialised, with their colon: a journal entry's keys are the same few
 * dozen names every time. Bounded in count and length, so client-chosen keys (metadata) cannot
 * grow it without limit; a key that does not fit is serialised each time.
 */
const keyTexts = new Map<string, string>();
const keyTextsMax = 4096;
const keyLengthCachedMax = 64;

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${append(key, 0)}:`;
    if (key.length <= keyLengthCachedMax && keyTexts.size < keyTextsMax) keyTexts.set(key, text);
  }
  return text;
}

// Cycles are caught by depth: a cyclic value nests without end, and JSON we build never nests
// anywhere near depthMax, so no list of ancestors is kept.
function append(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      if (!(value as WellFormedString).isWellFormed()) throw new Error("Lone surrogate is not allowed");
      return needsEscape.test(value) ? JSON.stringify(value) : `"${value}"`;
    case "number":
      if (Number.isNaN(value)) throw new Error("NaN is not allowed");
      if (!Number.isFinite(value)) throw new Error("Infinity is not allowed");
      // Number-to-string is ECMAScript's serialisation, as JSON.stringify's (-0 is "0" in both).
      return `${value}`;
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      // undefined, functions, symbols, bigint: what JSON.stringify makes of them at the top level.
      return JSON.stringify(value) as string;
  }
  if (value === null) return "null";
  if (depth > depthMax) throw new Error("Circular reference detected");
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return append((value as { toJSON: () => unknown }).toJSON(), depth + 1);
  let text: string;
  if (Array.isArray(value)) {
    text = "[";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) text += ",";
      text += item === undefined || typeof item === "symbol" ? "null" : append(item, depth + 1);
    }
    return `${text}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  text = "{";
  let first = true;
  for (const key of keys) {
    const item = object[key];
    if (item === undefined || typeof item === "symbol") continue;
    if (!first) text += ",";
    first = false;
    text += keyText(key) + append(item, depth + 1);
  }
  return `${text}}`;
}

/**
 * Returns the RFC 8785 canonical JSON text of a JSON value. Its strings must be well-formed
 * Unicode (see unicode.ts): client input with a lone surrogate is refused at the edge with 400
 * `invalid_unicode`, and outside data is repaired on the way in, so meeting one here is a bug.
 */
export function canonicalJson(value: unknown): string {
  const text = append(value, 0);
  if (text === undefined) throw new Error("value has no JSON representation");
  return text;
}
