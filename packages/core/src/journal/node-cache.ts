/**
 * Committed journal tree nodes and tree roots, kept in memory by a reading process (issue 19: an
 * inclusion proof read from the store was a query and a dozen hashes per request).
 *
 * Why it is safe: a stored node (level, index) is the hash of fixed leaves and is written once,
 * when its subtree's last leaf is appended; the root of the first `size` leaves is a pure
 * function of those leaves. A reader asks only for nodes of a size at or below the committed
 * journal size it read, so it never sees a node of a write that could still roll back. Ids of
 * tenants are never reused, so a key never names another tenant's node.
 *
 * Bounded by `journalNodeCacheEntriesMax` (oldest dropped first): the bound is about memory only,
 * a dropped node costs one read again.
 */
import { journalNodeCacheEntriesMax } from "../limits.js";
import type { TreeNodeKey, TreeNodeReader } from "./types.js";

export class TreeNodeCache {
  private readonly nodes = new Map<string, Uint8Array>();
  private readonly roots = new Map<string, Uint8Array>();
  /** Inclusion proofs by leaf and size, base64 as the wire writes them: up to ~48 hashes each, so a tenth of the bound. */
  private readonly proofs = new Map<string, readonly string[]>();

  constructor(private readonly entriesMax = journalNodeCacheEntriesMax) {}

  /**
   * A reader of `tenantId`'s nodes that answers known ones from memory and reads the rest in one
   * call of `read`. Hashes are shared by every caller: never mutate one.
   */
  reader(tenantId: string, read: TreeNodeReader): TreeNodeReader {
    return async (keys: TreeNodeKey[]) => {
      const hashes: Uint8Array[] = new Array(keys.length);
      let missing: TreeNodeKey[] | null = null;
      let missingAt: number[] | null = null;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const known = this.nodes.get(`${tenantId}/${key.level}/${key.index}`);
        if (known !== undefined) {
          hashes[i] = known;
        } else {
          (missing ??= []).push(key);
          (missingAt ??= []).push(i);
        }
      }
      if (missing === null || missingAt === null) return hashes;
      const fetched = await read(missing);
      for (let j = 0; j < missing.length; j++) {
        const hash = fetched[j];
        hashes[missingAt[j]!] = hash!;
        if (hash !== undefined) this.remember(this.nodes, `${tenantId}/${missing[j]!.level}/${missing[j]!.index}`, hash);
      }
      return hashes;
    };
  }

  /** The root of `tenantId`'s first `size` leaves, computed by `compute` once. */
  async root(tenantId: string, size: number, compute: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const key = `${tenantId}/${size}`;
    const known = this.roots.get(key);
    if (known !== undefined) return known;
    const root = await compute();
    this.remember(this.roots, key, root);
    return root;
  }

  /**
   * The inclusion proof of leaf `leafIndex` in `tenantId`'s first `size` leaves, computed by
   * `compute` once (base64 hashes): a pure function of those leaves, like the root. Verifiers ask
   * for proofs against the latest checkpoint, so the same (leaf, size) pairs come back.
   */
  async inclusionProof(tenantId: string, leafIndex: number, size: number, compute: () => Promise<string[]>): Promise<readonly string[]> {
    const key = `${tenantId}/${leafIndex}/${size}`;
    const known = this.proofs.get(key);
    if (known !== undefined) return known;
    const proof = await compute();
    this.remember(this.proofs, key, proof, Math.max(1, Math.floor(this.entriesMax / 10)));
    return proof;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V, max = this.entriesMax): void {
    if (map.size >= max) map.delete(map.keys().next().value!);
    map.set(key, value);
  }
}
