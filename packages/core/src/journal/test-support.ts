/**
 * TEST-ONLY helpers (do not export from the package): a naive recursive implementation of
 * RFC 9162 section 2.1 written straight from the RFC's definitions, to compare tree.ts against,
 * and an in-memory node store that checks every read.
 */
import { leafHash, nodeHash } from "./merkle.js";
import { appendLeaf } from "./tree.js";
import type { TreeNode, TreeNodeKey, TreeNodeReader } from "./types.js";

/** The largest power of two smaller than n (n > 1): the RFC's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes (RFC 9162 section 2.1.1). */
export function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) throw new Error("use emptyTreeHash for the empty tree");
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  const k = splitPoint(leaves.length);
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** PATH(m, D[n]) (RFC 9162 section 2.1.3.1). */
export function referencePath(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length === 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))]
    : [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

/** SUBPROOF(m, D[n], b) (RFC 9162 section 2.1.4.1). */
function referenceSubproof(m: number, leaves: Uint8Array[], b: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return b ? [] : [referenceRoot(leaves)];
  const k = splitPoint(n);
  return m <= k
    ? [...referenceSubproof(m, leaves.slice(0, k), b), referenceRoot(leaves.slice(k))]
    : [...referenceSubproof(m - k, leaves.slice(k), false), referenceRoot(leaves.slice(0, k))];
}

/** PROOF(m, D[n]) (RFC 9162 section 2.1.4.1). */
export function referenceProof(m: number, leaves: Uint8Array[]): Uint8Array[] {
  return referenceSubproof(m, leaves, true);
}

/** Distinct leaf hashes for property tests. */
export function sampleLeafHashes(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
}

/**
 * A Map-backed node store grown with `appendLeaf`. `readerAt(size)` returns a reader that throws
 * when asked for a node that does not exist or that covers leaves beyond `size` (a proof for an
 * older tree must not depend on later entries), and counts calls and keys.
 */
export class MemoryTree {
  readonly nodes = new Map<string, Uint8Array>();
  size = 0;
  calls = 0;
  keysRead = 0;

  static async of(leafHashes: Uint8Array[]): Promise<MemoryTree> {
    const tree = new MemoryTree();
    for (const hash of leafHashes) await tree.append(hash);
    return tree;
  }

  async append(hash: Uint8Array): Promise<TreeNode[]> {
    const nodes = await appendLeaf(this.readerAt(this.size), this.size, hash);
    for (const node of nodes) {
      const key = `${node.level}/${node.index}`;
      if (this.nodes.has(key)) throw new Error(`node ${key} written twice`);
      this.nodes.set(key, node.hash);
    }
    this.size++;
    return nodes;
  }

  readerAt(size: number): TreeNodeReader {
    return async (keys: TreeNodeKey[]) => {
      this.calls++;
      this.keysRead += keys.length;
      return keys.map(({ level, index }) => {
        if ((index + 1) * 2 ** level > size) throw new Error(`node ${level}/${index} lies beyond tree size ${size}`);
        const hash = this.nodes.get(`${level}/${index}`);
        if (!hash) throw new Error(`node ${level}/${index} is not stored`);
        return hash;
      });
    };
  }

  resetCounts(): void {
    this.calls = 0;
    this.keysRead = 0;
  }
}
