/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation, used for hashing and fingerprints.
 *
 * Every journal entry is serialised once on the write path, so this is a single recursive pass
 * that appends to one string: strings and numbers are JSON.stringify's (which is what RFC 8785
 * §3.2.2 specifies: ECMAScript serialisation), object keys sorted by UTF-16 code units (§3.2.3,
 * the default string sort). Same results and errors as the `canonicalize` package it replaced
 * (canonical.test.ts compares them): NaN, infinities, lone surrogates and cycles throw; `toJSON`
 * is honoured; `undefined` and symbols are left out of objects and become null in arrays.
 */

/** ES2024 `String.prototype.isWellFormed` (Node >= 20): false when a surrogate is unpaired. */
type WellFormedString = string & { isWellFormed(): boolean };

/** Nesting depth past which a value is taken to be circular (far above any JSON we build). */
const depthMax = 1000;

function append(value: unknown, depth: number, seen: object[]): string {
  switch (typeof value) {
    case "string":
      if (!(value as WellFormedString).isWellFormed()) throw new Error("Lone surrogate is not allowed");
      return JSON.stringify(value);
    case "number":
      if (Number.isNaN(value)) throw new Error("NaN is not allowed");
      if (!Number.isFinite(value)) throw new Error("Infinity is not allowed");
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      // undefined, functions, symbols, bigint: what JSON.stringify makes of them at the top level.
      return JSON.stringify(value) as string;
  }
  if (value === null) return "null";
  if (depth > depthMax || seen.includes(value)) throw new Error("Circular reference detected");
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    seen.push(value);
    const text = append((value as { toJSON: () => unknown }).toJSON(), depth + 1, seen);
    seen.pop();
    return text;
  }
  seen.push(value);
  let text: string;
  if (Array.isArray(value)) {
    text = "[";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) text += ",";
      text += item === undefined || typeof item === "symbol" ? "null" : append(item, depth + 1, seen);
    }
    text += "]";
  } else {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).sort();
    text = "{";
    let first = true;
    for (const key of keys) {
      const item = object[key];
      if (item === undefined || typeof item === "symbol") continue;
      if (!first) text += ",";
      first = false;
      text += append(key, depth + 1, seen) + ":" + append(item, depth + 1, seen);
    }
    text += "}";
  }
  seen.pop();
  return text;
}

/**
 * Returns the RFC 8785 canonical JSON text of a JSON value. Its strings must be well-formed
 * Unicode (see unicode.ts): client input with a lone surrogate is refused at the edge with 400
 * `invalid_unicode`, and outside data is repaired on the way in, so meeting one here is a bug.
 */
export function canonicalJson(value: unknown): string {
  const text = append(value, 0, []);
  if (text === undefined) throw new Error("value has no JSON representation");
  return text;
}
