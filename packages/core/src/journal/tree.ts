/**
 * The journal's Merkle tree (RFC 9162 section 2) over STORED perfect subtrees.
 *
 * The store keeps node (level, index) = the hash of the perfect subtree of 2^level leaves that
 * starts at leaf index * 2^level, written once, when its last leaf is appended. Any other
 * subtree the RFC needs ends at the right edge of the tree ([start, treeSize) with start aligned):
 * its hash is the perfect subtrees of its binary decomposition, folded right to left.
 *
 * Every function here plans which stored nodes it needs, reads them in ONE batched call of
 * O(log n) keys, and computes the rest in memory: one round trip per request, whatever the size.
 * A proof has at most one right-edge subtree (once the RFC recursion descends into a left half,
 * everything below is perfect), so a proof costs at most ~2 log2(n) keys.
 *
 * Sizes and indexes are plain numbers, below `journalSizeMax` (2^48): arithmetic uses `/`, `%`
 * and `2 ** level`, never 32-bit bitwise operators.
 */
import { journalSizeMax } from "../limits.js";
import { invariant } from "../result.js";
import { emptyTreeHash, hashBytes, nodeHash } from "./merkle.js";
import type { TreeNode, TreeNodeKey, TreeNodeReader } from "./types.js";

/** Levels above the leaves in a tree of `journalSizeMax` leaves: bounds every descent loop. */
const treeDepthMax = Math.log2(journalSizeMax);

/** A subtree of the tree: leaves [start, end). */
interface Span {
  start: number;
  end: number;
}

/** The largest power of two strictly below `n` (n >= 2): the RFC's split point k. */
function largestPowerOfTwoBelow(n: number): number {
  let power = 1;
  while (power * 2 < n) power *= 2;
  return power;
}

/**
 * The stored perfect subtrees whose concatenation is [start, end), largest first. Every span the
 * RFC recursion produces starts at a multiple of its largest part, so each part is aligned.
 */
function perfectParts(span: Span): TreeNodeKey[] {
  const length = span.end - span.start;
  // Most spans are one perfect subtree: answer those in O(1), so a proof costs O(log n) CPU too.
  // Math.log2 only guesses the level; the guess is checked exactly.
  const guess = Math.round(Math.log2(length));
  if (2 ** guess === length && span.start % length === 0) return [{ level: guess, index: span.start / length }];
  const parts: TreeNodeKey[] = [];
  let level = 0;
  while (2 ** (level + 1) <= length) level++;
  let position = span.start;
  for (; level >= 0; level--) {
    const width = 2 ** level;
    if (span.end - position < width) continue;
    invariant(position % width === 0, `span [${span.start}, ${span.end}) is aligned`);
    parts.push({ level, index: position / width });
    position += width;
  }
  return parts;
}

const keyText = (key: TreeNodeKey): string => `${key.level}/${key.index}`;

/** Reads the stored nodes under `spans` in one batched call and returns each span's hash. */
async function spanHashes(read: TreeNodeReader, spans: Span[]): Promise<Uint8Array[]> {
  const partsBySpan = spans.map(perfectParts);
  const keys = new Map<string, TreeNodeKey>();
  for (const parts of partsBySpan) for (const key of parts) keys.set(keyText(key), key);
  const stored = await readNodes(read, [...keys.values()]);
  return partsBySpan.map((parts) => {
    let hash = stored.get(keyText(parts[parts.length - 1] as TreeNodeKey)) as Uint8Array;
    for (let i = parts.length - 2; i >= 0; i--) {
      hash = nodeHash(stored.get(keyText(parts[i] as TreeNodeKey)) as Uint8Array, hash);
    }
    return hash;
  });
}

/** One reader call (none for no keys); the store answering short or with odd hashes is a bug. */
async function readNodes(read: TreeNodeReader, keys: TreeNodeKey[]): Promise<Map<string, Uint8Array>> {
  const stored = new Map<string, Uint8Array>();
  if (keys.length === 0) return stored;
  const hashes = await read(keys);
  invariant(hashes.length === keys.length, "the tree node reader answers every key");
  keys.forEach((key, i) => {
    const hash = hashes[i] as Uint8Array;
    invariant(hash.length === hashBytes, `stored node ${keyText(key)} is a SHA-256 hash`);
    stored.set(keyText(key), hash);
  });
  return stored;
}

function checkSize(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * The nodes to store when the leaf with index `size` is appended to a tree of `size` leaves:
 * the leaf itself (level 0) and every perfect subtree that this leaf completes. Reads the left
 * siblings of those subtrees (one call; no call when `size` is even, as the leaf completes
 * nothing). Throws RangeError when the tree is full or `leafHash` is not 32 bytes.
 *
 * @example
 * const nodes = await appendLeaf((keys) => tx.getTreeNodes(tenantId, keys), size, leafHash(bytes));
 * await tx.putTreeNodes(tenantId, nodes);
 */
export async function appendLeaf(read: TreeNodeReader, size: number, leafHash: Uint8Array): Promise<TreeNode[]> {
  checkSize("size", size, 0, journalSizeMax - 1);
  if (leafHash.length !== hashBytes) throw new RangeError(`a leaf hash is ${hashBytes} bytes`);
  // The new leaf completes one subtree per trailing 1 bit of `size`; each needs its left half.
  const leftSiblings: TreeNodeKey[] = [];
  for (let level = 0; Math.floor(size / 2 ** level) % 2 === 1; level++) {
    leftSiblings.push({ level, index: Math.floor(size / 2 ** level) - 1 });
  }
  const stored = await readNodes(read, leftSiblings);
  const nodes: TreeNode[] = [{ level: 0, index: size, hash: leafHash }];
  let hash = leafHash;
  for (const sibling of leftSiblings) {
    hash = nodeHash(stored.get(keyText(sibling)) as Uint8Array, hash);
    nodes.push({ level: sibling.level + 1, index: Math.floor(size / 2 ** (sibling.level + 1)), hash });
  }
  return nodes;
}

/**
 * The Merkle Tree Hash of the first `size` leaves (RFC 9162 section 2.1.1): SHA-256 of the empty
 * string for 0, otherwise the perfect subtrees of the binary decomposition of `size` folded
 * right to left (at most log2(size) + 1 keys, one call). Throws RangeError out of range.
 */
export async function rootHash(read: TreeNodeReader, size: number): Promise<Uint8Array> {
  checkSize("size", size, 0, journalSizeMax);
  if (size === 0) return emptyTreeHash();
  const [hash] = await spanHashes(read, [{ start: 0, end: size }]);
  return hash as Uint8Array;
}

/**
 * The audit path of leaf `leafIndex` in the tree of `treeSize` leaves (RFC 9162 section 2.1.3.1
 * PATH), leaf side first. Empty for a tree of one leaf. Throws RangeError unless
 * 0 <= leafIndex < treeSize <= journalSizeMax.
 *
 * @example const proof = await inclusionProof(reader, event.seq - 1, checkpoint.treeSize);
 */
export async function inclusionProof(read: TreeNodeReader, leafIndex: number, treeSize: number): Promise<Uint8Array[]> {
  checkSize("treeSize", treeSize, 1, journalSizeMax);
  checkSize("leafIndex", leafIndex, 0, treeSize - 1);
  // PATH(m, D[start:end]) descends into the half holding the leaf and lists the other half.
  const siblings: Span[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    invariant(siblings.length < treeDepthMax, "the descent halves the subtree at every step");
    const split = start + largestPowerOfTwoBelow(end - start);
    if (leafIndex < split) {
      siblings.push({ start: split, end });
      end = split;
    } else {
      siblings.push({ start, end: split });
      start = split;
    }
  }
  return spanHashes(read, siblings.reverse());
}

/**
 * The consistency proof from the tree of `fromSize` leaves to the tree of `toSize` leaves
 * (RFC 9162 section 2.1.4.1 PROOF / SUBPROOF), deepest node first. Empty when the sizes are
 * equal. Throws RangeError unless 1 <= fromSize <= toSize <= journalSizeMax: the RFC defines no
 * proof from the empty tree (it is a prefix of every tree; there is nothing to prove), so a
 * request for one is the caller's to refuse.
 */
export async function consistencyProof(read: TreeNodeReader, fromSize: number, toSize: number): Promise<Uint8Array[]> {
  checkSize("toSize", toSize, 1, journalSizeMax);
  checkSize("fromSize", fromSize, 1, toSize);
  // SUBPROOF(m, D[start:end], b): `isWholeOldTree` is b, false once we descend to the right.
  const spans: Span[] = [];
  let start = 0;
  let end = toSize;
  let isWholeOldTree = true;
  while (end !== fromSize) {
    invariant(spans.length < treeDepthMax, "the descent halves the subtree at every step");
    const split = start + largestPowerOfTwoBelow(end - start);
    if (fromSize <= split) {
      spans.push({ start: split, end });
      end = split;
    } else {
      spans.push({ start, end: split });
      start = split;
      isWholeOldTree = false;
    }
  }
  if (!isWholeOldTree) spans.push({ start, end });
  return spanHashes(read, spans.reverse());
}
