/**
 * DPoP proof verification (RFC 9449 §4.3), the per-request check of every agent request and of
 * a token request that carries a proof. Pure apart from the key cache; the single-use `jti` check
 * and the token binding are the caller's (they need the replay cache and the token).
 */
import type { KeyObject } from "node:crypto";
import {
  dpopProofAgeSecondsMax,
  importPublicJwk,
  jwsAlgorithmOf,
  jtiLengthMax,
  parseCompactJws,
  publicKeyCacheEntriesMax,
  sha256Base64Url,
  verifyJwsSignature,
  type JwsAlgorithm,
} from "@bursar/core";

/** A proof that failed; `code` says whether a (new) nonce would help. */
export class DpopProofError extends Error {
  constructor(
    readonly code: "invalid_dpop_proof" | "use_dpop_nonce",
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = "DpopProofError";
  }
}

/** What the request says the proof must match. */
export interface ProofExpectations {
  method: string;
  /** The request's URL without query and fragment, as the client addressed it. */
  url: string;
  /** The access token presented with the proof (resource requests), or null (token requests). */
  accessToken: string | null;
  /** `sha256Base64Url(accessToken)` when the caller has it already (it is the same per token). */
  accessTokenHash?: string;
  nowMs: number;
  /** Present when nonces are required: true when the proof's `nonce` is current. */
  nonceIsValid?: (nonce: unknown) => boolean;
}

export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof's key. */
  jkt: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
}

interface ProofKey {
  algorithm: JwsAlgorithm;
  key: KeyObject;
  jkt: string;
}

/**
 * Proof headers already validated, by their base64url segment: a client sends the same header
 * (typ, alg, jwk) with every proof, so parsing it and importing its key happens once per key.
 */
export class ProofKeyCache {
  private readonly keys = new Map<string, { header: Record<string, unknown>; resolved: ProofKey | string }>();

  /** The decoded header of a segment seen before (the same bytes decode the same way). */
  readonly headerOf = (headerSegment: string): Record<string, unknown> | undefined => this.keys.get(headerSegment)?.header;

  /** The key of a proof header, or the reason it is refused. */
  resolve(headerSegment: string, header: Record<string, unknown>): ProofKey | string {
    const cached = this.keys.get(headerSegment);
    if (cached !== undefined) return cached.resolved;
    const resolved = resolveProofKey(header);
    if (this.keys.size >= publicKeyCacheEntriesMax) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(headerSegment, { header, resolved });
    return resolved;
  }
}

function resolveProofKey(header: Record<string, unknown>): ProofKey | string {
  // RFC 9449 §4.3 checks 4, 5 and 7: explicit type, an asymmetric algorithm we allow (never
  // `none` or an HMAC, whose "key" would be whatever the attacker says), and a public key only.
  if (header.typ !== "dpop+jwt") return "the proof's typ must be dpop+jwt";
  const algorithm = jwsAlgorithmOf(header.alg);
  if (!algorithm) return "the proof's alg must be ES256, EdDSA or Ed25519";
  if (header.crit !== undefined) return "the proof may not carry crit";
  const imported = importPublicJwk(header.jwk);
  if (!imported.ok) return `the proof's jwk is not acceptable: ${imported.detail}`;
  if (imported.value.algorithm !== algorithm) return "the proof's alg does not match its key";
  return { algorithm: imported.value.algorithm, key: imported.value.key, jkt: imported.value.thumbprint };
}

/** `htu` comparison (RFC 9449 §4.3 check 9): scheme, host, port and path, after normalisation. */
function sameTarget(htu: string, expected: string): boolean {
  // The same string parses the same way: the common case needs no parsing.
  if (htu === expected) return true;
  try {
    const a = new URL(htu);
    const b = new URL(expected);
    return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

/**
 * Verifies one DPoP header value against the request. Throws `DpopProofError` on any failure.
 * Check order: cheap structural checks first, the signature, then the claims.
 */
export function verifyDpopProof(value: string | string[] | undefined, expect: ProofExpectations, keys: ProofKeyCache): VerifiedProof {
  // Check 1: exactly one DPoP header. Node joins repeated unknown headers with ", ", and a
  // compact JWS never contains a comma.
  if (typeof value !== "string" || value.length === 0) throw new DpopProofError("invalid_dpop_proof", "send exactly one DPoP header");
  if (value.includes(",")) throw new DpopProofError("invalid_dpop_proof", "send exactly one DPoP header");
  const jws = parseCompactJws(value, keys.headerOf);
  if (!jws) throw new DpopProofError("invalid_dpop_proof", "the DPoP header is not a compact JWS");
  const key = keys.resolve(jws.headerSegment, jws.header);
  if (typeof key === "string") throw new DpopProofError("invalid_dpop_proof", key);
  if (!verifyJwsSignature(key.algorithm, key.key, jws.signingInput, jws.signature)) throw new DpopProofError("invalid_dpop_proof", "the proof's signature does not verify");
  const { jti, htm, htu, iat, ath, nonce } = jws.payload;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > jtiLengthMax) throw new DpopProofError("invalid_dpop_proof", "the proof needs a jti");
  if (htm !== expect.method) throw new DpopProofError("invalid_dpop_proof", "the proof is for another HTTP method");
  if (typeof htu !== "string" || !sameTarget(htu, expect.url)) throw new DpopProofError("invalid_dpop_proof", "the proof is for another URL");
  // Check 11: a proof is only good near its creation time, which bounds how long its jti must be
  // remembered. Both directions: a proof dated in the future would outlive the replay window.
  if (typeof iat !== "number" || !Number.isFinite(iat) || Math.abs(expect.nowMs / 1000 - iat) > dpopProofAgeSecondsMax) {
    throw new DpopProofError("invalid_dpop_proof", `the proof's iat must be within ${dpopProofAgeSecondsMax} s of the server's time`);
  }
  // Check 12 (§4.3, §7.1): the proof covers this access token.
  if (expect.accessToken !== null && ath !== (expect.accessTokenHash ?? sha256Base64Url(expect.accessToken))) throw new DpopProofError("invalid_dpop_proof", "the proof's ath does not match the access token");
  if (expect.nonceIsValid && !expect.nonceIsValid(nonce)) throw new DpopProofError("use_dpop_nonce", "use the DPoP-Nonce this server sent");
  return { jkt: key.jkt, jti, iat };
}
