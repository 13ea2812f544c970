/**
 * The journal VERIFIER: checks proofs and signed checkpoints without trusting the server. The
 * SDK runs this file in browsers, so it uses WebCrypto (`globalThis.crypto.subtle`) only: no node
 * imports, no `Buffer`. Its inputs are untrusted, so malformed input returns false or a failure
 * code; only a misconfigured trusted key (the caller's own bug) throws.
 */
import { proofLengthMax } from "../limits.js";
import { bytesEqual, concatBytes, decodeBase64, decodeHex, encodeHex, encodeUtf8 } from "./encoding.js";
import { isValidKeyName, parseCheckpoint, parseNote, type Checkpoint, type CheckpointFailure } from "./note.js";

export { parseCheckpoint } from "./note.js";

/** SHA-256 output. merkle.ts has the same constant, but this file must not import node code. */
const hashBytes = 32;


/** signed-note signature type byte for Ed25519. */
const ed25519SignatureType = 0x01;

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", concatBytes(...parts)));
}

const hashChildren = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(0x01), left, right);

const isHash = (value: Uint8Array) => value instanceof Uint8Array && value.length === hashBytes;
const isCount = (value: number) => Number.isSafeInteger(value) && value >= 0;
const half = (value: number) => Math.floor(value / 2);
const isOdd = (value: number) => value % 2 === 1;

/** The leaf hash of an entry: SHA-256(0x00 || data) (RFC 9162 section 2.1.1). */
export function hashLeaf(data: Uint8Array): Promise<Uint8Array> {
  return sha256(Uint8Array.of(0x00), data);
}

/**
 * The Merkle Tree Hash of a whole list of leaf hashes (RFC 9162 section 2.1.1): the reference
 * computation for checking a journal from its first entry. SHA-256 of the empty string for none.
 * Pairs neighbours level by level and carries an odd last node up unchanged, which yields the
 * RFC's tree (its left subtrees are the largest powers of two).
 *
 * @example computeRoot(await Promise.all(entries.map((e) => hashLeaf(encodeUtf8(canonicalJson(e))))))
 */
export async function computeRoot(leafHashes: Uint8Array[]): Promise<Uint8Array> {
  if (leafHashes.length === 0) return sha256();
  if (!leafHashes.every(isHash)) throw new RangeError(`leaf hashes are ${hashBytes} bytes`);
  let level = leafHashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(await hashChildren(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return level[0] as Uint8Array;
}

/** What an inclusion proof claims: leaf `leafIndex` of the tree of `treeSize` has `leafHash`. */
export interface InclusionClaim {
  leafHash: Uint8Array;
  leafIndex: number;
  treeSize: number;
  /** Audit path, leaf side first (RFC 9162 section 2.1.3.1). */
  proof: Uint8Array[];
  rootHash: Uint8Array;
}

/**
 * Verifies an inclusion proof (RFC 9162 section 2.1.3.2). False for any malformed input.
 *
 * @example await verifyInclusion({ leafHash, leafIndex: seq - 1, treeSize, proof, rootHash: checkpoint.rootHash })
 */
export async function verifyInclusion(claim: InclusionClaim): Promise<boolean> {
  const { leafHash, leafIndex, treeSize, proof, rootHash } = claim;
  if (!isCount(leafIndex) || !isCount(treeSize) || leafIndex >= treeSize) return false;
  if (!isHash(leafHash) || !isHash(rootHash) || proof.length > proofLengthMax || !proof.every(isHash)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let hash = leafHash;
  for (const sibling of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      hash = await hashChildren(sibling, hash);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      hash = await hashChildren(hash, sibling);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(hash, rootHash);
}

/** What a consistency proof claims: the tree of `fromSize` is a prefix of the tree of `toSize`. */
export interface ConsistencyClaim {
  fromSize: number;
  toSize: number;
  fromRoot: Uint8Array;
  toRoot: Uint8Array;
  /** RFC 9162 section 2.1.4.1 PROOF, deepest node first; empty when the sizes are equal. */
  proof: Uint8Array[];
}

const isPowerOfTwo = (value: number) => {
  let power = 1;
  while (power < value) power *= 2;
  return power === value;
};

/**
 * Verifies a consistency proof (RFC 9162 section 2.1.4.2). Equal sizes need an empty proof and
 * equal roots. `fromSize` 0 returns false: the empty tree is a prefix of every tree, so there is
 * nothing to verify, and the server issues no such proof (callers with no checkpoint yet should
 * skip this step, not call it).
 */
export async function verifyConsistency(claim: ConsistencyClaim): Promise<boolean> {
  const { fromSize, toSize, fromRoot, toRoot, proof } = claim;
  if (!isCount(fromSize) || !isCount(toSize) || fromSize < 1 || fromSize > toSize) return false;
  if (!isHash(fromRoot) || !isHash(toRoot) || proof.length > proofLengthMax || !proof.every(isHash)) return false;
  if (fromSize === toSize) return proof.length === 0 && bytesEqual(fromRoot, toRoot);
  if (proof.length === 0) return false;
  // The proof omits the old root when the old tree is a perfect subtree of the new one.
  const path = isPowerOfTwo(fromSize) ? [fromRoot, ...proof] : proof;
  let fn = fromSize - 1;
  let sn = toSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fromHash = path[0] as Uint8Array;
  let toHash = fromHash;
  for (const node of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fromHash = await hashChildren(node, fromHash);
      toHash = await hashChildren(node, toHash);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      toHash = await hashChildren(toHash, node);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fromHash, fromRoot) && bytesEqual(toHash, toRoot);
}

/** A trusted journal key, from the tenant's `/v1/journal/authority` or configuration. */
export interface JournalKey {
  keyName: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

function checkTrustedKey(key: JournalKey): void {
  if (!isValidKeyName(key.keyName)) throw new RangeError(`invalid key name: ${JSON.stringify(key.keyName)}`);
  if (!(key.publicKey instanceof Uint8Array) || key.publicKey.length !== 32) throw new RangeError("an Ed25519 public key is 32 bytes");
}

/** The signed-note key id, SHA-256(key name || 0x0A || 0x01 || public key)[:4], with WebCrypto. */
export async function computeKeyId(keyName: string, publicKey: Uint8Array): Promise<Uint8Array> {
  return (await sha256(encodeUtf8(keyName), Uint8Array.of(0x0a, ed25519SignatureType), publicKey)).slice(0, 4);
}

/**
 * Parses a verifier key string of the Go / C2SP tooling, `<name>+<hex key id>+<base64(0x01 ||
 * public key)>`, checking that the key id matches. Null when malformed.
 */
export async function parseVerifierKey(verifierKey: string): Promise<JournalKey | null> {
  const first = verifierKey.indexOf("+");
  const second = verifierKey.indexOf("+", first + 1);
  if (first < 0 || second < 0) return null;
  const keyName = verifierKey.slice(0, first);
  const keyId = decodeHex(verifierKey.slice(first + 1, second));
  const typedKey = decodeBase64(verifierKey.slice(second + 1)); // base64 may itself contain "+"
  if (!isValidKeyName(keyName) || keyId?.length !== 4 || typedKey?.length !== 33 || typedKey[0] !== ed25519SignatureType) return null;
  const publicKey = typedKey.slice(1);
  return bytesEqual(keyId, await computeKeyId(keyName, publicKey)) ? { keyName, publicKey } : null;
}

/**
 * Verifies a signed note against one trusted Ed25519 key and returns its text (C2SP signed-note
 * "Signatures"): signatures by other keys (other name or other key id, e.g. witness cosignatures)
 * are ignored; at least one must come from this key; any signature from this key that fails to
 * verify, or two from it, rejects the whole note. Throws RangeError for an invalid trusted key.
 */
export async function verifyNote(note: string, key: JournalKey): Promise<{ ok: true; text: string } | CheckpointFailure> {
  checkTrustedKey(key);
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  const keyId = await computeKeyId(key.keyName, key.publicKey);
  const ours = parsed.signatures.filter((signature) => signature.keyName === key.keyName && bytesEqual(signature.keyId, keyId));
  if (ours.length === 0) {
    return { ok: false, reason: "unknown_key", detail: `no signature by key ${key.keyName} (id ${encodeHex(keyId)})` };
  }
  if (ours.length > 1) return { ok: false, reason: "malformed_note", detail: "two signatures by the same key" };
  const signature = (ours[0] as (typeof ours)[number]).signature;
  const subtle = globalThis.crypto.subtle;
  const publicKey = await subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
  const valid = signature.length === 64 && (await subtle.verify({ name: "Ed25519" }, publicKey, signature, encodeUtf8(parsed.text)));
  return valid ? { ok: true, text: parsed.text } : { ok: false, reason: "invalid_signature", detail: `signature by ${key.keyName} does not verify` };
}

/**
 * Verifies a signed checkpoint (C2SP tlog-checkpoint) against the tenant's trusted key, and, when
 * `origin` is given, that it is this log's checkpoint. Returns the signed fields, or a failure.
 *
 * @example
 * const checked = await verifyCheckpoint(body.note, { keyName, publicKey, origin: `bursar/${tenantId}` });
 * if (!checked.ok) throw new Error(checked.reason);
 */
export async function verifyCheckpoint(
  note: string,
  key: JournalKey & { origin?: string },
): Promise<({ ok: true } & Checkpoint) | CheckpointFailure> {
  checkTrustedKey(key);
  const parsed = parseCheckpoint(note);
  if (!parsed.ok) return parsed;
  const verified = await verifyNote(note, key);
  if (!verified.ok) return verified;
  if (key.origin !== undefined && parsed.origin !== key.origin) {
    return { ok: false, reason: "origin_mismatch", detail: `checkpoint of ${parsed.origin}, expected ${key.origin}` };
  }
  const result: { ok: true } & Checkpoint = { ok: true, origin: parsed.origin, treeSize: parsed.treeSize, rootHash: parsed.rootHash };
  if (parsed.timeMs !== undefined) result.timeMs = parsed.timeMs;
  return result;
}
