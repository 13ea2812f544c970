/**
 * Access tokens: JWS (RFC 9068 `at+jwt`) signed by the server's Ed25519 key, bound to the
 * client's key by `cnf.jkt` (RFC 9449 §6). Verifying one needs only the server's public key, so
 * any process that shares the store can check tokens another process issued.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { ServerSigningKeyRow } from "../ports.js";
import { encodeBase64Url, jwkThumbprint, parseCompactJws, signCompactJws, verifyJwsSignature } from "./jose.js";

/** The claims of a Bursar access token. */
export interface AccessTokenClaims {
  iss: string;
  /** The agent id. */
  sub: string;
  aud: string;
  /** The credential binding id. */
  client_id: string;
  tenant_id: string;
  /** Space-separated scopes. */
  scope: string;
  exp: number;
  iat: number;
  jti: string;
  cnf: { jkt: string };
}

/** The server's signing key, imported. */
export interface ServerSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public JWK as published at `/.well-known/jwks.json`. */
  publicJwk: { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" };
}

/** Generates a fresh server signing key row (id = RFC 7638 thumbprint of its public key). */
export function generateServerSigningKey(nowMs: number): ServerSigningKeyRow {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const id = jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: encodeBase64Url(raw) });
  return { id, privateKeyPkcs8: new Uint8Array(privateKey.export({ format: "der", type: "pkcs8" })), publicKey: new Uint8Array(raw), createdAtMs: nowMs };
}

/** Imports a stored signing key. */
export function importServerSigningKey(row: ServerSigningKeyRow): ServerSigningKey {
  const x = encodeBase64Url(row.publicKey);
  return {
    kid: row.id,
    privateKey: createPrivateKey({ key: Buffer.from(row.privateKeyPkcs8), format: "der", type: "pkcs8" }),
    publicKey: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }),
    publicJwk: { kty: "OKP", crv: "Ed25519", x, kid: row.id, alg: "EdDSA", use: "sig" },
  };
}

/** Signs an access token. */
export function signAccessToken(key: ServerSigningKey, claims: AccessTokenClaims): string {
  return signCompactJws({ alg: "EdDSA", typ: "at+jwt", kid: key.kid }, claims as unknown as Record<string, unknown>, key.privateKey);
}

const isString = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/**
 * Verifies an access token's signature and shape, not its expiry (the caller caches the result
 * and checks `exp` on every use). `keyFor(kid)` returns our public key with that id, if any.
 * Returns null for anything that is not a token we signed.
 */
export function verifyAccessToken(token: string, keyFor: (kid: string) => KeyObject | null): AccessTokenClaims | null {
  const jws = parseCompactJws(token);
  if (!jws) return null;
  const { header, payload } = jws;
  // RFC 8725 §3.1: the algorithm is ours to choose, never the token's; §3.11: check `typ`.
  if (header.alg !== "EdDSA" || header.typ !== "at+jwt" || !isString(header.kid) || header.crit !== undefined) return null;
  const key = keyFor(header.kid);
  if (!key || !verifyJwsSignature("EdDSA", key, jws.signingInput, jws.signature)) return null;
  const cnf = payload.cnf as { jkt?: unknown } | undefined;
  const fields = [payload.iss, payload.sub, payload.aud, payload.client_id, payload.tenant_id, payload.jti];
  if (!fields.every(isString) || typeof payload.scope !== "string") return null;
  if (!Number.isSafeInteger(payload.exp) || !Number.isSafeInteger(payload.iat) || !cnf || !isString(cnf.jkt)) return null;
  return payload as unknown as AccessTokenClaims;
}
