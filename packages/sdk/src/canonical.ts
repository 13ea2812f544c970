/**
 * RFC 8785 (JSON Canonicalization Scheme) for the JSON values events are made of. The journal's
 * leaf is SHA-256(0x00 || canonical JSON of the event), so the SDK needs the exact bytes the
 * server hashed. JCS serialises strings and numbers as ECMAScript's JSON.stringify does, and
 * sorts object members by their UTF-16 code units, which is JavaScript's default string order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError("JSON has no representation for non-finite numbers");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(",")}]`;
  if (typeof value === "object") {
    const members = Object.keys(value as object)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(",")}}`;
  }
  throw new TypeError(`no JSON representation for a ${typeof value}`);
}
