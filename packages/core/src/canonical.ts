/** RFC 8785 (JSON Canonicalization Scheme) serialisation, used for hashing and fingerprints. */
import canonicalize from "canonicalize";

/** Returns the RFC 8785 canonical JSON text of a JSON value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("value has no JSON representation");
  return text;
}
