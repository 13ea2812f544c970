import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./encoding.js";
import { TreeNodeCache } from "./node-cache.js";
import { MemoryTree, referencePath, referenceRoot, sampleLeafHashes } from "./test-support.js";
import { inclusionProof, rootHash } from "./tree.js";

describe("TreeNodeCache", async () => {
  const leaves = sampleLeafHashes(45);
  const tree = await MemoryTree.of(leaves);

  it("answers proofs and roots like the store, reading each stored node once", async () => {
    const cache = new TreeNodeCache();
    tree.resetCounts();
    for (let pass = 0; pass < 2; pass++) {
      for (let size = 1; size <= leaves.length; size++) {
        const reader = cache.reader("ten_a", tree.readerAt(size));
        expect(await cache.root("ten_a", size, () => rootHash(reader, size))).toEqual(referenceRoot(leaves.slice(0, size)));
        for (let leaf = 0; leaf < size; leaf += 7) expect(await inclusionProof(reader, leaf, size)).toEqual(referencePath(leaf, leaves.slice(0, size)));
        for (let leaf = 3; leaf < size; leaf += 11) {
          const encoded = async () => (await inclusionProof(reader, leaf, size)).map(encodeBase64);
          expect(await cache.inclusionProof("ten_a", leaf, size, encoded)).toEqual(referencePath(leaf, leaves.slice(0, size)).map(encodeBase64));
        }
      }
      // The second pass reads nothing: every node it needs was read in the first.
      if (pass === 0) {
        expect(tree.keysRead).toBeLessThanOrEqual(tree.nodes.size);
        tree.resetCounts();
      } else {
        expect(tree.calls).toBe(0);
      }
    }
  });

  it("computes an inclusion proof once per leaf and size", async () => {
    const cache = new TreeNodeCache();
    let computed = 0;
    const compute = async () => {
      computed++;
      return (await inclusionProof(tree.readerAt(45), 9, 45)).map(encodeBase64);
    };
    const first = await cache.inclusionProof("ten_a", 9, 45, compute);
    expect(await cache.inclusionProof("ten_a", 9, 45, compute)).toBe(first);
    expect(computed).toBe(1);
    await cache.inclusionProof("ten_b", 9, 45, compute);
    await cache.inclusionProof("ten_a", 9, 44, async () => {
      computed++;
      return (await inclusionProof(tree.readerAt(44), 9, 44)).map(encodeBase64);
    });
    expect(computed).toBe(3);
  });

  it("keeps tenants apart and reads only the keys it does not know", async () => {
    const cache = new TreeNodeCache();
    const other = await MemoryTree.of(sampleLeafHashes(45).map((hash) => hash.map((byte) => byte ^ 0xff)));
    const mine = cache.reader("ten_a", tree.readerAt(45));
    const theirs = cache.reader("ten_b", other.readerAt(45));
    expect(await mine([{ level: 0, index: 3 }])).toEqual([tree.nodes.get("0/3")]);
    expect(await theirs([{ level: 0, index: 3 }])).toEqual([other.nodes.get("0/3")]);
    tree.resetCounts();
    expect(await mine([{ level: 0, index: 3 }, { level: 1, index: 4 }, { level: 0, index: 3 }])).toEqual([tree.nodes.get("0/3"), tree.nodes.get("1/4"), tree.nodes.get("0/3")]);
    expect(tree.keysRead).toBe(1);
  });

  it("stays within its bound, dropping the oldest nodes", async () => {
    const cache = new TreeNodeCache(4);
    const reader = cache.reader("ten_a", tree.readerAt(45));
    await reader([0, 1, 2, 3, 4, 5].map((index) => ({ level: 0, index })));
    tree.resetCounts();
    expect(await reader([{ level: 0, index: 5 }])).toEqual([tree.nodes.get("0/5")]);
    expect(tree.calls).toBe(0);
    expect(await reader([{ level: 0, index: 0 }])).toEqual([tree.nodes.get("0/0")]);
    expect(tree.calls).toBe(1);
  });
});
