import { describe, expect, it } from "vitest";
import { journalSizeMax } from "../limits.js";
import { emptyTreeHash, leafHash } from "./merkle.js";
import { MemoryTree, referencePath, referenceProof, referenceRoot, sampleLeafHashes } from "./test-support.js";
import { rfc6962ConsistencyProofs, rfc6962InclusionProofs, rfc6962Leaves, rfc6962Roots } from "./test-vectors.js";
import { appendLeaf, consistencyProof, inclusionProof, rootHash } from "./tree.js";
import type { TreeNodeKey, TreeNodeReader } from "./types.js";

describe("tree.ts against the published RFC 6962 vectors (transparency-dev/merkle)", async () => {
  const tree = await MemoryTree.of(rfc6962Leaves.map(leafHash));

  it("computes the published roots of sizes 1..8, and the empty root", async () => {
    for (let size = 1; size <= 8; size++) {
      expect(await rootHash(tree.readerAt(size), size)).toEqual(rfc6962Roots[size - 1]);
    }
    expect(await rootHash(tree.readerAt(0), 0)).toEqual(emptyTreeHash());
  });

  it.each(rfc6962InclusionProofs)("builds the published inclusion proof of leaf $leafIndex in $treeSize", async (vector) => {
    expect(await inclusionProof(tree.readerAt(vector.treeSize), vector.leafIndex, vector.treeSize)).toEqual(vector.proof);
  });

  it.each(rfc6962ConsistencyProofs)("builds the published consistency proof $fromSize -> $toSize", async (vector) => {
    expect(await consistencyProof(tree.readerAt(vector.toSize), vector.fromSize, vector.toSize)).toEqual(vector.proof);
  });
});

describe("tree.ts against a naive RFC 9162 reference", async () => {
  const leaves = sampleLeafHashes(70);
  const tree = await MemoryTree.of(leaves);

  it("stores every perfect subtree once, with the hash of its leaves", () => {
    for (let level = 0; 2 ** level <= leaves.length; level++) {
      const width = 2 ** level;
      for (let index = 0; (index + 1) * width <= leaves.length; index++) {
        expect(tree.nodes.get(`${level}/${index}`)).toEqual(referenceRoot(leaves.slice(index * width, (index + 1) * width)));
      }
    }
    // Nothing else: 70 leaves have 70 + 35 + 17 + 8 + 4 + 2 + 1 complete perfect subtrees.
    expect(tree.nodes.size).toBe(137);
  });

  it("matches MTH for every size 1..70", async () => {
    for (let size = 1; size <= leaves.length; size++) {
      expect(await rootHash(tree.readerAt(size), size)).toEqual(referenceRoot(leaves.slice(0, size)));
    }
  });

  it("matches PATH for every leaf of every size 1..70", async () => {
    for (let size = 1; size <= leaves.length; size++) {
      for (let leafIndex = 0; leafIndex < size; leafIndex++) {
        const proof = await inclusionProof(tree.readerAt(size), leafIndex, size);
        expect(proof, `leaf ${leafIndex} of ${size}`).toEqual(referencePath(leafIndex, leaves.slice(0, size)));
      }
    }
  });

  it("matches PROOF for every pair of sizes up to 45", async () => {
    for (let toSize = 1; toSize <= 45; toSize++) {
      for (let fromSize = 1; fromSize <= toSize; fromSize++) {
        const proof = await consistencyProof(tree.readerAt(toSize), fromSize, toSize);
        expect(proof, `${fromSize} -> ${toSize}`).toEqual(referenceProof(fromSize, leaves.slice(0, toSize)));
      }
    }
  });

  it("returns the new leaf and the subtrees it completes from appendLeaf", async () => {
    const fresh = new MemoryTree();
    expect((await fresh.append(leaves[0] as Uint8Array)).map(({ level, index }) => [level, index])).toEqual([[0, 0]]);
    expect((await fresh.append(leaves[1] as Uint8Array)).map(({ level, index }) => [level, index])).toEqual([[0, 1], [1, 0]]);
    expect((await fresh.append(leaves[2] as Uint8Array)).map(({ level, index }) => [level, index])).toEqual([[0, 2]]);
    expect((await fresh.append(leaves[3] as Uint8Array)).map(({ level, index }) => [level, index])).toEqual([[0, 3], [1, 1], [2, 0]]);
  });
});

describe("tree.ts argument checks", async () => {
  const tree = await MemoryTree.of(sampleLeafHashes(8));
  const read = tree.readerAt(8);

  it.each([
    ["inclusion: leaf index = tree size", () => inclusionProof(read, 8, 8)],
    ["inclusion: negative leaf index", () => inclusionProof(read, -1, 8)],
    ["inclusion: empty tree", () => inclusionProof(read, 0, 0)],
    ["inclusion: fractional index", () => inclusionProof(read, 1.5, 8)],
    ["inclusion: tree above the size bound", () => inclusionProof(read, 0, journalSizeMax + 1)],
    ["consistency: from 0", () => consistencyProof(read, 0, 8)],
    ["consistency: from above to", () => consistencyProof(read, 5, 4)],
    ["consistency: NaN", () => consistencyProof(read, Number.NaN, 4)],
    ["root: negative size", () => rootHash(read, -1)],
    ["root: above the size bound", () => rootHash(read, journalSizeMax + 1)],
    ["append: tree full", () => appendLeaf(read, journalSizeMax, new Uint8Array(32))],
    ["append: short leaf hash", () => appendLeaf(read, 8, new Uint8Array(31))],
  ])("throws RangeError: %s", async (_name, call) => {
    await expect(call()).rejects.toThrow(RangeError);
  });

  it("treats a store that answers short as a bug", async () => {
    const short: TreeNodeReader = async (keys) => keys.slice(1).map(() => new Uint8Array(32));
    await expect(rootHash(short, 3)).rejects.toThrow(/invariant violated/);
  });
});

describe("tree.ts reads O(log n) nodes in one call", () => {
  /** Fake hashes for any key: the hashes are meaningless, the reads are what is counted. */
  function countingReader(size: number) {
    const stats = { calls: 0, keys: 0 };
    const read: TreeNodeReader = async (keys: TreeNodeKey[]) => {
      stats.calls++;
      stats.keys += keys.length;
      const seen = new Set<string>();
      return keys.map(({ level, index }) => {
        if (!Number.isSafeInteger(level) || !Number.isSafeInteger(index) || level < 0 || index < 0) throw new Error(`bad key ${level}/${index}`);
        if ((index + 1) * 2 ** level > size) throw new Error(`node ${level}/${index} lies beyond size ${size}`);
        if (seen.has(`${level}/${index}`)) throw new Error(`key ${level}/${index} asked twice`);
        seen.add(`${level}/${index}`);
        const hash = new Uint8Array(32);
        new DataView(hash.buffer).setFloat64(0, level * 1e15 + index);
        return hash;
      });
    };
    return { read, stats };
  }

  // A small deterministic generator, so a failure reproduces.
  let seed = 12345;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * below);
  };

  const sizes: number[] = [];
  for (let bits = 1; bits <= 20; bits++) sizes.push(2 ** bits - 1, 2 ** bits, 2 ** bits + 1, 2 ** (bits - 1) + random(2 ** (bits - 1)));
  sizes.push(2 ** 40 + 12345, 2 ** 47 + 2 ** 46 + 7, journalSizeMax - 1, journalSizeMax);

  it("for roots, inclusion and consistency proofs and appends, at sizes up to 2^20 (and 2^48)", async () => {
    for (const size of sizes) {
      const bound = 2 * Math.ceil(Math.log2(size)) + 2;
      const check = async (name: string, run: (read: TreeNodeReader) => Promise<unknown>, keysMax: number) => {
        const { read, stats } = countingReader(size);
        await run(read);
        expect(stats.calls, `${name} at size ${size}: calls`).toBeLessThanOrEqual(1);
        expect(stats.keys, `${name} at size ${size}: keys`).toBeLessThanOrEqual(keysMax);
      };
      await check("root", (read) => rootHash(read, size), Math.ceil(Math.log2(size)) + 1);
      for (const leafIndex of [0, size - 1, Math.floor(size / 2), random(size)]) {
        await check(`inclusion of ${leafIndex}`, (read) => inclusionProof(read, leafIndex, size), bound);
      }
      for (const fromSize of [1, size, Math.max(1, size - 1), 1 + random(size)]) {
        await check(`consistency from ${fromSize}`, (read) => consistencyProof(read, fromSize, size), bound);
      }
      if (size < journalSizeMax) await check("append", (read) => appendLeaf(read, size, new Uint8Array(32)), Math.ceil(Math.log2(size + 1)));
    }
  });

  it("makes exactly one call whenever a proof needs stored nodes", async () => {
    const { read, stats } = countingReader(1_000_000);
    await inclusionProof(read, 765_432, 1_000_000);
    await consistencyProof(read, 654_321, 1_000_000);
    await rootHash(read, 1_000_000);
    expect(stats.calls).toBe(3);
  });

  it("skips the reader when nothing is needed", async () => {
    const { read, stats } = countingReader(1);
    await appendLeaf(read, 0, new Uint8Array(32));
    await appendLeaf(read, 2 ** 20, new Uint8Array(32));
    await inclusionProof(read, 0, 1);
    await consistencyProof(read, 1, 1);
    await rootHash(read, 0);
    expect(stats.calls).toBe(0);
  });
});
