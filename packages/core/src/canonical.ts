/** RFC 8785 (JSON Canonicalization Scheme) serialisation, used for hashing and fingerprints. */
import canonicalize from "canonicalize";

/**
 * Returns the RFC 8785 canonical JSON text of a JSON value. Its strings must be well-formed
 * Unicode (see unicode.ts): client input with a lone surrogate is refused at the edge with 400
 * `invalid_unicode`, and outside data is repaired on the way in, so meeting one here is a bug.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("value has no JSON representation");
  return text;
}
