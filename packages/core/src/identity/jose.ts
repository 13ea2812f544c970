/**
 * The JOSE subset Bursar speaks: compact JWS (RFC 7515) with ES256 (P-256, RFC 7518 §3.4) and
 * EdDSA (Ed25519, RFC 8037), public JWKs (RFC 7517) and their RFC 7638 thumbprints. Nothing else
 * is accepted: no `none`, no HMAC, no RSA, no key sent by reference (`jku`, `x5u`), no `crit`.
 * Built on node:crypto only.
 */
import { createHash, createPublicKey, sign as signBytes, verify as verifyBytes, type KeyObject } from "node:crypto";
import { jwsCompactLengthMax } from "../limits.js";
import { fail, ok, type Result } from "../result.js";

/** The signature algorithms Bursar accepts from clients. */
export const jwsAlgorithms = ["ES256", "EdDSA"] as const;
export type JwsAlgorithm = (typeof jwsAlgorithms)[number];

const base64UrlPattern = /^[A-Za-z0-9_-]*$/;

/** base64url without padding (RFC 7515 §2). */
export function encodeBase64Url(bytes: Uint8Array | string): string {
  return Buffer.from(typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes).toString("base64url");
}

/**
 * Strict base64url decoding: Node's decoder silently skips characters outside the alphabet, so
 * two different strings could decode to the same bytes; we refuse them instead.
 */
export function decodeBase64Url(text: string): Buffer | null {
  if (!base64UrlPattern.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, "base64url");
}

/** A parsed compact JWS. `signingInput` is what the signature covers (RFC 7515 §5.2). */
export interface CompactJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The first segment as sent (a cache key for everything derived from the header). */
  headerSegment: string;
  signingInput: Buffer;
  signature: Buffer;
}

function parseJsonObject(segment: string): Record<string, unknown> | null {
  const bytes = decodeBase64Url(segment);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Splits and decodes a compact JWS; null when it is not one (or is longer than the bound).
 * `knownHeader` may answer the header of a segment decoded before (a DPoP client sends the same
 * header with every proof), so that only the payload is decoded again.
 */
export function parseCompactJws(compact: string, knownHeader?: (headerSegment: string) => Record<string, unknown> | undefined): CompactJws | null {
  if (compact.length > jwsCompactLengthMax) return null;
  const parts = compact.split(".");
  if (parts.length !== 3) return null;
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  const header = knownHeader?.(headerSegment) ?? parseJsonObject(headerSegment);
  const payload = parseJsonObject(payloadSegment);
  const signature = decodeBase64Url(signatureSegment);
  if (!header || !payload || !signature) return null;
  return { header, payload, headerSegment, signingInput: Buffer.from(`${headerSegment}.${payloadSegment}`, "ascii"), signature };
}

/**
 * The JWS `alg` names we accept, as advertised in metadata: `Ed25519` is RFC 9864's
 * fully-specified name for EdDSA over Ed25519 (what oauth4webapi sends), `EdDSA` the older one.
 */
export const acceptedJwsAlgorithmNames = ["ES256", "EdDSA", "Ed25519"] as const;

/**
 * The algorithm a JWS `alg` header names, or null for anything we refuse (`none`, `HS256`,
 * `RS256`…). `Ed25519` and `EdDSA` are one algorithm here, since we only accept Ed25519 keys.
 */
export function jwsAlgorithmOf(value: unknown): JwsAlgorithm | null {
  if (value === "ES256") return "ES256";
  if (value === "EdDSA" || value === "Ed25519") return "EdDSA";
  return null;
}

/**
 * Verifies a signature. ES256 signatures in JWS are the raw 64-byte `r || s` (RFC 7518 §3.4),
 * not DER: `dsaEncoding: "ieee-p1363"` makes node:crypto read them so, and anything that is not
 * exactly 64 bytes (a DER signature, a truncated one) fails.
 */
export function verifyJwsSignature(algorithm: JwsAlgorithm, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  try {
    if (algorithm === "ES256") {
      if (signature.length !== 64 || key.asymmetricKeyType !== "ec") return false;
      return verifyBytes("sha256", signingInput, { key, dsaEncoding: "ieee-p1363" }, signature);
    }
    if (signature.length !== 64 || key.asymmetricKeyType !== "ed25519") return false;
    return verifyBytes(null, signingInput, key, signature);
  } catch {
    return false;
  }
}

/** Signs a compact JWS with an Ed25519 or P-256 private key (the server signs EdDSA). */
export function signCompactJws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const signingInput = `${encodeBase64Url(JSON.stringify(header))}.${encodeBase64Url(JSON.stringify(payload))}`;
  const signature =
    key.asymmetricKeyType === "ed25519"
      ? signBytes(null, Buffer.from(signingInput, "ascii"), key)
      : signBytes("sha256", Buffer.from(signingInput, "ascii"), { key, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${encodeBase64Url(signature)}`;
}

/** A public JWK reduced to the members that define the key (RFC 7638 §3.2). */
export type PublicJwk = { kty: "EC"; crv: "P-256"; x: string; y: string } | { kty: "OKP"; crv: "Ed25519"; x: string };

/** Any JWK whose thumbprint we compute. RSA is here only so the RFC 7638 §3.1 vector can be checked. */
export type ThumbprintJwk = PublicJwk | { kty: "RSA"; e: string; n: string };

/**
 * RFC 7638 thumbprint: base64url SHA-256 of the required members in lexicographic order, no
 * whitespace: EC `{"crv","kty","x","y"}`, OKP `{"crv","kty","x"}` (RFC 8037 §2), RSA `{"e","kty","n"}`.
 */
export function jwkThumbprint(jwk: ThumbprintJwk): string {
  const required =
    jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === "OKP" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(required), "utf8").digest("base64url");
}

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** An imported, validated public key. */
export interface ImportedPublicKey {
  key: KeyObject;
  algorithm: JwsAlgorithm;
  jwk: PublicJwk;
  thumbprint: string;
}

function coordinate(value: unknown, bytes: number): string | null {
  if (typeof value !== "string") return null;
  const decoded = decodeBase64Url(value);
  return decoded && decoded.length === bytes ? value : null;
}

/**
 * Validates and imports a client's public JWK: EC P-256 (ES256) or OKP Ed25519 (EdDSA), public
 * members only. A key with a private member is refused rather than stripped: whoever sent it has
 * leaked it. node:crypto refuses EC points that are not on the curve (an invalid-curve attack
 * would otherwise let a peer probe for secrets).
 */
export function importPublicJwk(input: unknown): Result<ImportedPublicKey> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return fail("invalid_public_key", "public_key_jwk must be a JWK object");
  const raw = input as Record<string, unknown>;
  if (privateMembers.some((member) => member in raw)) return fail("invalid_public_key", "the JWK holds private key material; send the public key only");
  let jwk: PublicJwk;
  let algorithm: JwsAlgorithm;
  if (raw.kty === "EC" && raw.crv === "P-256") {
    const x = coordinate(raw.x, 32);
    const y = coordinate(raw.y, 32);
    if (!x || !y) return fail("invalid_public_key", "P-256 keys need 32-byte x and y coordinates");
    jwk = { kty: "EC", crv: "P-256", x, y };
    algorithm = "ES256";
  } else if (raw.kty === "OKP" && raw.crv === "Ed25519") {
    const x = coordinate(raw.x, 32);
    if (!x) return fail("invalid_public_key", "Ed25519 keys need a 32-byte x");
    jwk = { kty: "OKP", crv: "Ed25519", x };
    algorithm = "EdDSA";
  } else {
    return fail("invalid_public_key", "only EC P-256 (ES256) and OKP Ed25519 (EdDSA) keys are accepted");
  }
  if (raw.alg !== undefined && jwsAlgorithmOf(raw.alg) !== algorithm) return fail("invalid_public_key", `the JWK's alg must be ${algorithm} for this key type`);
  try {
    const key = createPublicKey({ key: jwk, format: "jwk" });
    return ok({ key, algorithm, jwk, thumbprint: jwkThumbprint(jwk) });
  } catch {
    return fail("invalid_public_key", "the key is not a valid point on its curve");
  }
}

/** SHA-256 of a UTF-8 string, base64url: DPoP's `ath` (RFC 9449 §4.2). */
export function sha256Base64Url(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64url");
}
