/**
 * The little JOSE the SDK needs, on WebCrypto only (`globalThis.crypto.subtle`), so it runs on
 * Node >= 20.19, Deno, Bun, workers and browsers: ES256 (P-256) and EdDSA (Ed25519) keys, compact
 * JWS signing, JWK thumbprints (RFC 7638), PKCS#8 PEM import and export.
 *
 * Private keys may be non-extractable CryptoKeys: signing never needs the key material, and the
 * public half travels separately as a JWK.
 */
import { ConfigError } from "./errors.ts";

type Subtle = typeof globalThis.crypto.subtle;
/** WebCrypto's CryptoKey, as the runtime's own types declare it (DOM or Node). */
export type CryptoKey = Awaited<ReturnType<Subtle["importKey"]>>;
/** A private and a public CryptoKey. */
export interface CryptoKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}
/** A JSON Web Key (RFC 7517), the members the SDK reads. */
export interface JsonWebKey {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  [member: string]: unknown;
}
type ImportAlgorithm = Parameters<Subtle["importKey"]>[2];
type SignAlgorithm = Parameters<Subtle["sign"]>[0];

/** The JWS algorithms Bursar accepts for agent keys (SPEC 3 "Identity and auth"). */
export type SigningAlgorithm = "ES256" | "EdDSA";

/** A public JWK of an agent key: EC P-256 or OKP Ed25519, public members only. */
export type PublicJwk = { kty: "EC"; crv: "P-256"; x: string; y: string } | { kty: "OKP"; crv: "Ed25519"; x: string };

/** An agent's signing key: the private CryptoKey (possibly non-extractable) and its public JWK. */
export interface AgentKey {
  algorithm: SigningAlgorithm;
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
  /** RFC 7638 thumbprint of `publicJwk` (what the server calls the fingerprint, and `cnf.jkt`). */
  thumbprint: string;
}

const subtle = (): Subtle => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new ConfigError("WebCrypto (globalThis.crypto.subtle) is not available in this runtime");
  return s;
};

const encoder = new TextEncoder();

/** base64url without padding (RFC 7515 §2). */
export function base64UrlEncode(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Standard base64 (with or without padding) or base64url to bytes; null when malformed. */
export function base64Decode(text: string): Uint8Array | null {
  const normal = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(normal) || normal.length % 4 === 1) return null;
  const binary = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Standard base64 with padding. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** SHA-256 of a UTF-8 string, base64url (DPoP `ath`, RFC 9449 §4.2). */
export async function sha256Base64Url(text: string): Promise<string> {
  return base64UrlEncode(new Uint8Array(await subtle().digest("SHA-256", encoder.encode(text))));
}

function importParams(algorithm: SigningAlgorithm): ImportAlgorithm {
  return algorithm === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
}

function signParams(algorithm: SigningAlgorithm): SignAlgorithm {
  // WebCrypto's ECDSA signature is already the JWS form (r || s, RFC 7518 §3.4), not DER.
  return algorithm === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "Ed25519" };
}

/** The public members of a JWK, checked to be an agent key of the expected algorithm. */
export function publicJwkOf(jwk: JsonWebKey, algorithm?: SigningAlgorithm): PublicJwk {
  if (jwk.kty === "EC" && jwk.crv === "P-256" && jwk.x && jwk.y && (algorithm ?? "ES256") === "ES256") {
    return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  }
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && jwk.x && (algorithm ?? "EdDSA") === "EdDSA") {
    return { kty: "OKP", crv: "Ed25519", x: jwk.x };
  }
  throw new ConfigError("agent keys are EC P-256 (ES256) or OKP Ed25519 (EdDSA)");
}

export function algorithmOfJwk(jwk: PublicJwk): SigningAlgorithm {
  return jwk.kty === "EC" ? "ES256" : "EdDSA";
}

/** RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, base64url. */
export async function jwkThumbprint(jwk: PublicJwk): Promise<string> {
  const members = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return base64UrlEncode(new Uint8Array(await subtle().digest("SHA-256", encoder.encode(JSON.stringify(members)))));
}

async function agentKeyOf(algorithm: SigningAlgorithm, privateKey: CryptoKey, publicJwk: PublicJwk): Promise<AgentKey> {
  return { algorithm, privateKey, publicJwk, thumbprint: await jwkThumbprint(publicJwk) };
}

/**
 * A fresh key pair. The private key is extractable only when asked (registration must write it
 * to the credential store; a host keeping keys in memory or an HSM-like store can say no).
 */
export async function generateAgentKey(algorithm: SigningAlgorithm = "ES256", options: { extractable?: boolean } = {}): Promise<AgentKey> {
  const params = algorithm === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const pair = (await subtle().generateKey(params, options.extractable ?? false, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await subtle().exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return agentKeyOf(algorithm, pair.privateKey, publicJwkOf(jwk, algorithm));
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof value === "object" && value !== null && "type" in value && "algorithm" in value && "usages" in value;
}

/** An agent key from a CryptoKey pair, or a private CryptoKey and its public key (CryptoKey or JWK). */
export async function agentKeyFromCryptoKeys(privateKey: CryptoKey, publicKey: CryptoKey | JsonWebKey): Promise<AgentKey> {
  const jwk = isCryptoKey(publicKey) ? ((await subtle().exportKey("jwk", publicKey)) as JsonWebKey) : publicKey;
  const publicJwk = publicJwkOf(jwk);
  const algorithm = algorithmOfJwk(publicJwk);
  const expected = algorithm === "ES256" ? "ECDSA" : "Ed25519";
  if (privateKey.type !== "private" || privateKey.algorithm.name !== expected) {
    throw new ConfigError(`the private key must be an ${expected} private CryptoKey matching its public key`);
  }
  return agentKeyOf(algorithm, privateKey, publicJwk);
}

const pemLabel = "PRIVATE KEY";

/** PKCS#8 DER to PEM (RFC 7468). */
export function pkcs8ToPem(der: Uint8Array): string {
  const body = base64Encode(der).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${pemLabel}-----\n${body}-----END ${pemLabel}-----\n`;
}

function pemToPkcs8(pem: string): Uint8Array {
  const match = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  const der = match ? base64Decode(match[1]!.replace(/\s+/g, "")) : null;
  if (!der) throw new ConfigError("the key is not a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)");
  return der;
}

/** The PKCS#8 PEM of an extractable private key. */
export async function exportPrivateKeyPem(key: AgentKey): Promise<string> {
  if (!key.privateKey.extractable) throw new ConfigError("the private key is not extractable; it cannot be written to a file");
  return pkcs8ToPem(new Uint8Array(await subtle().exportKey("pkcs8", key.privateKey)));
}

/**
 * An agent key from a PKCS#8 PEM (P-256 or Ed25519). The public JWK is derived through a
 * short-lived extractable import; the key kept for signing is non-extractable.
 */
export async function importPrivateKeyPem(pem: string): Promise<AgentKey> {
  const der = pemToPkcs8(pem);
  for (const algorithm of ["ES256", "EdDSA"] as const) {
    let extractable: CryptoKey;
    try {
      extractable = await subtle().importKey("pkcs8", der, importParams(algorithm), true, ["sign"]);
    } catch {
      continue;
    }
    const { d: _d, ...publicMembers } = (await subtle().exportKey("jwk", extractable)) as JsonWebKey;
    const privateKey = await subtle().importKey("pkcs8", der, importParams(algorithm), false, ["sign"]);
    return agentKeyOf(algorithm, privateKey, publicJwkOf(publicMembers, algorithm));
  }
  throw new ConfigError("the PEM holds neither a P-256 nor an Ed25519 private key");
}

/** Signs bytes with an agent key: the raw 64-byte signature (Ed25519, or P-256 `r || s`). */
export async function signBytes(key: Pick<AgentKey, "algorithm" | "privateKey">, bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign(signParams(key.algorithm), key.privateKey, bytes as Uint8Array<ArrayBuffer>));
}

/** Signs a compact JWS (RFC 7515 §7.1) with an agent key. */
export async function signJws(key: AgentKey, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${base64UrlEncode(JSON.stringify({ ...header, alg: key.algorithm }))}.${base64UrlEncode(JSON.stringify(payload))}`;
  const signature = new Uint8Array(await subtle().sign(signParams(key.algorithm), key.privateKey, encoder.encode(input)));
  return `${input}.${base64UrlEncode(signature)}`;
}
