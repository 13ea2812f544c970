/**
 * RFC 9162 section 2.1.1 hashing for the server (node:crypto, synchronous). The browser verifier
 * (verify.ts) computes the same hashes with WebCrypto.
 *
 * The 0x00 / 0x01 prefixes separate leaves from interior nodes, so nobody can present an
 * interior node as a leaf (a second-preimage attack on the tree, RFC 9162 section 2.1.1).
 */
import { hash } from "node:crypto";

/** Bytes in every Merkle hash (SHA-256). */
export const hashBytes = 32;

const leafPrefix = Uint8Array.of(0x00);
const nodePrefix = Uint8Array.of(0x01);

/** SHA-256 of the parts in order; one-shot `crypto.hash` (a Hash object per digest cost twice as much). */
function digest(...parts: Uint8Array[]): Uint8Array {
  const buffer = hash("sha256", parts.length === 1 ? parts[0]! : Buffer.concat(parts), "buffer");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * The hash of a leaf: SHA-256(0x00 || data).
 *
 * @example leafHash(new TextEncoder().encode(canonicalJson(event)))
 */
export function leafHash(data: Uint8Array): Uint8Array {
  return digest(leafPrefix, data);
}

/** The hash of an interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return digest(nodePrefix, left, right);
}

/** The root of the empty tree: SHA-256 of the empty string (RFC 9162 section 2.1.1). */
export function emptyTreeHash(): Uint8Array {
  return digest();
}
