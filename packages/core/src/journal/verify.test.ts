import { describe, expect, it } from "vitest";
import { emptyTreeHash, leafHash } from "./merkle.js";
import { MemoryTree, referenceRoot, sampleLeafHashes } from "./test-support.js";
import { rfc6962ConsistencyProofs, rfc6962HasherVectors, rfc6962InclusionProofs, rfc6962Leaves, rfc6962Roots } from "./test-vectors.js";
import { consistencyProof, inclusionProof } from "./tree.js";
import { computeRoot, hashLeaf, verifyConsistency, verifyInclusion, type ConsistencyClaim, type InclusionClaim } from "./verify.js";

const someHash = Uint8Array.from({ length: 32 }, (_, i) => i * 7);

function flipped(proof: Uint8Array[], at: number, bit = 0x08): Uint8Array[] {
  return proof.map((hash, i) => (i === at ? hash.map((byte, j) => (j === 0 ? byte ^ bit : byte)) : hash));
}

/** Tampered variants of a valid inclusion claim; every one must fail (cf. transparency-dev corruptInclusionProof). */
function tamperedInclusion(claim: InclusionClaim): Array<[string, InclusionClaim]> {
  const { leafIndex, treeSize, proof, rootHash } = claim;
  const probes: Array<[string, InclusionClaim]> = [
    ["leafIndex + 1", { ...claim, leafIndex: leafIndex + 1 }],
    ["leafIndex - 1", { ...claim, leafIndex: leafIndex - 1 }],
    ["leafIndex ^ 2", { ...claim, leafIndex: leafIndex ^ 2 }],
    ["treeSize * 2", { ...claim, treeSize: treeSize * 2 }],
    ["treeSize / 2", { ...claim, treeSize: Math.floor(treeSize / 2) }],
    ["wrong leaf", { ...claim, leafHash: someHash }],
    ["empty-tree root", { ...claim, rootHash: emptyTreeHash() }],
    ["random root", { ...claim, rootHash: someHash }],
    ["trailing root", { ...claim, proof: [...proof, rootHash] }],
    ["preceding root", { ...claim, proof: [rootHash, ...proof] }],
    ["short element", { ...claim, proof: [...proof, new Uint8Array(0)] }],
  ];
  proof.forEach((_, i) => probes.push([`flipped bit in proof[${i}]`, { ...claim, proof: flipped(proof, i) }]));
  if (proof.length > 0) probes.push(["truncated", { ...claim, proof: proof.slice(0, -1) }]);
  if (proof.length > 1) probes.push(["inserted element", { ...claim, proof: [proof[0] as Uint8Array, someHash, ...proof.slice(1)] }]);
  return probes;
}

/** Tampered variants of a valid, non-trivial consistency claim (cf. transparency-dev corruptConsistencyProof). */
function tamperedConsistency(claim: ConsistencyClaim): Array<[string, ConsistencyClaim]> {
  const { fromSize, toSize, fromRoot, toRoot, proof } = claim;
  const probes: Array<[string, ConsistencyClaim]> = [
    ["fromSize - 1", { ...claim, fromSize: fromSize - 1 }],
    ["fromSize + 1", { ...claim, fromSize: fromSize + 1 }],
    ["fromSize ^ 2", { ...claim, fromSize: fromSize ^ 2 }],
    ["toSize * 2", { ...claim, toSize: toSize * 2 }],
    ["toSize / 2", { ...claim, toSize: Math.floor(toSize / 2) }],
    ["wrong fromRoot", { ...claim, fromRoot: someHash }],
    ["wrong toRoot", { ...claim, toRoot: someHash }],
    ["swapped roots", { ...claim, fromRoot: toRoot, toRoot: fromRoot }],
    ["empty proof", { ...claim, proof: [] }],
    ["trailing fromRoot", { ...claim, proof: [...proof, fromRoot] }],
    ["trailing toRoot", { ...claim, proof: [...proof, toRoot] }],
    ["preceding fromRoot", { ...claim, proof: [fromRoot, ...proof] }],
    ["preceding proof[0]", { ...claim, proof: [proof[0] as Uint8Array, ...proof] }],
    ["truncated", { ...claim, proof: proof.slice(0, -1) }],
  ];
  proof.forEach((_, i) => probes.push([`flipped bit in proof[${i}]`, { ...claim, proof: flipped(proof, i, 0x10) }]));
  return probes;
}

describe("verify.ts against the published RFC 6962 vectors (transparency-dev/merkle)", () => {
  it("hashes leaves with WebCrypto like node:crypto", async () => {
    expect(await hashLeaf(new Uint8Array(0))).toEqual(rfc6962HasherVectors.emptyLeaf);
    for (const leaf of rfc6962Leaves) expect(await hashLeaf(leaf)).toEqual(leafHash(leaf));
  });

  it("computes the published roots from all leaves, and the empty root", async () => {
    const leafHashes = await Promise.all(rfc6962Leaves.map(hashLeaf));
    for (let size = 1; size <= 8; size++) expect(await computeRoot(leafHashes.slice(0, size))).toEqual(rfc6962Roots[size - 1]);
    expect(await computeRoot([])).toEqual(rfc6962HasherVectors.emptyRoot);
  });

  it.each(rfc6962InclusionProofs)("accepts the published inclusion proof of leaf $leafIndex in $treeSize, and no tampered one", async (vector) => {
    const claim: InclusionClaim = {
      leafHash: await hashLeaf(rfc6962Leaves[vector.leafIndex] as Uint8Array),
      leafIndex: vector.leafIndex,
      treeSize: vector.treeSize,
      proof: vector.proof,
      rootHash: rfc6962Roots[vector.treeSize - 1] as Uint8Array,
    };
    expect(await verifyInclusion(claim)).toBe(true);
    for (const [name, probe] of tamperedInclusion(claim)) expect(await verifyInclusion(probe), name).toBe(false);
  });

  it.each(rfc6962ConsistencyProofs)("accepts the published consistency proof $fromSize -> $toSize, and no tampered one", async (vector) => {
    const claim: ConsistencyClaim = {
      ...vector,
      fromRoot: rfc6962Roots[vector.fromSize - 1] as Uint8Array,
      toRoot: rfc6962Roots[vector.toSize - 1] as Uint8Array,
    };
    expect(await verifyConsistency(claim)).toBe(true);
    if (vector.proof.length === 0) return;
    for (const [name, probe] of tamperedConsistency(claim)) expect(await verifyConsistency(probe), name).toBe(false);
  });

  it("accepts one-leaf trees only with the leaf as the root", async () => {
    const hash = await hashLeaf(new TextEncoder().encode("data"));
    expect(await verifyInclusion({ leafHash: hash, leafIndex: 0, treeSize: 1, proof: [], rootHash: hash })).toBe(true);
    expect(await verifyInclusion({ leafHash: hash, leafIndex: 0, treeSize: 1, proof: [], rootHash: someHash })).toBe(false);
    expect(await verifyInclusion({ leafHash: new Uint8Array(0), leafIndex: 0, treeSize: 1, proof: [], rootHash: new Uint8Array(0) })).toBe(false);
  });

  it.each([
    ["index 0 of the empty tree", { leafIndex: 0, treeSize: 0 }],
    ["index beyond the tree", { leafIndex: 2, treeSize: 1 }],
    ["negative index", { leafIndex: -1, treeSize: 1 }],
    ["fractional size", { leafIndex: 0, treeSize: 1.5 }],
    ["unsafe size", { leafIndex: 0, treeSize: 2 ** 60 }],
  ])("refuses an inclusion claim with %s", async (_name, sizes) => {
    expect(await verifyInclusion({ leafHash: someHash, proof: [], rootHash: someHash, ...sizes })).toBe(false);
  });

  it.each([
    ["from the empty tree", { fromSize: 0, toSize: 1, proof: [] }],
    ["to a smaller tree", { fromSize: 2, toSize: 1, proof: [] }],
    ["equal sizes, different roots", { fromSize: 1, toSize: 1, proof: [], toRoot: someHash }],
    ["equal sizes, non-empty proof", { fromSize: 1, toSize: 1, proof: [someHash] }],
    ["different sizes, empty proof", { fromSize: 1, toSize: 2, proof: [] }],
    ["an overlong proof", { fromSize: 3, toSize: 2 ** 40, proof: Array.from({ length: 65 }, () => someHash) }],
  ])("refuses a consistency claim %s", async (_name, claim) => {
    expect(await verifyConsistency({ fromRoot: emptyTreeHash(), toRoot: emptyTreeHash(), ...claim })).toBe(false);
  });
});

describe("verify.ts accepts what tree.ts proves, and nothing tampered", async () => {
  const leaves = sampleLeafHashes(71);
  const tree = await MemoryTree.of(leaves);
  const roots = [emptyTreeHash(), ...leaves.map((_, i) => referenceRoot(leaves.slice(0, i + 1)))];

  it("computeRoot agrees with tree.ts for every size", async () => {
    for (let size = 1; size <= 70; size++) expect(await computeRoot(leaves.slice(0, size))).toEqual(roots[size]);
  });

  it("inclusion: every leaf of every size 1..70", async () => {
    for (let treeSize = 1; treeSize <= 70; treeSize++) {
      const rootHash = roots[treeSize] as Uint8Array;
      for (let leafIndex = 0; leafIndex < treeSize; leafIndex++) {
        const proof = await inclusionProof(tree.readerAt(treeSize), leafIndex, treeSize);
        const claim: InclusionClaim = { leafHash: leaves[leafIndex] as Uint8Array, leafIndex, treeSize, proof, rootHash };
        const where = `leaf ${leafIndex} of ${treeSize}`;
        expect(await verifyInclusion(claim), where).toBe(true);
        // Another size needs that size's root: a root is only bound to its size by the checkpoint.
        expect(await verifyInclusion({ ...claim, treeSize: treeSize + 1, rootHash: roots[treeSize + 1] as Uint8Array }), `${where}, size + 1`).toBe(false);
        if (leafIndex < treeSize - 1) {
          expect(await verifyInclusion({ ...claim, treeSize: treeSize - 1, rootHash: roots[treeSize - 1] as Uint8Array }), `${where}, size - 1`).toBe(false);
        }
        if (leafIndex + 1 < treeSize) expect(await verifyInclusion({ ...claim, leafIndex: leafIndex + 1 }), `${where}, index + 1`).toBe(false);
        if (leafIndex > 0) expect(await verifyInclusion({ ...claim, leafIndex: leafIndex - 1 }), `${where}, index - 1`).toBe(false);
        for (let i = 0; i < proof.length; i++) expect(await verifyInclusion({ ...claim, proof: flipped(proof, i) }), `${where}, flipped ${i}`).toBe(false);
        if (proof.length > 0) expect(await verifyInclusion({ ...claim, proof: proof.slice(0, -1) }), `${where}, truncated`).toBe(false);
        expect(await verifyInclusion({ ...claim, proof: [...proof, someHash] }), `${where}, extra element`).toBe(false);
      }
    }
  });

  it("consistency: every pair of sizes up to 45", async () => {
    for (let toSize = 1; toSize <= 45; toSize++) {
      for (let fromSize = 1; fromSize <= toSize; fromSize++) {
        const proof = await consistencyProof(tree.readerAt(toSize), fromSize, toSize);
        const claim: ConsistencyClaim = { fromSize, toSize, fromRoot: roots[fromSize] as Uint8Array, toRoot: roots[toSize] as Uint8Array, proof };
        const where = `${fromSize} -> ${toSize}`;
        expect(await verifyConsistency(claim), where).toBe(true);
        expect(await verifyConsistency({ ...claim, proof: [...proof, someHash] }), `${where}, extra element`).toBe(false);
        if (fromSize === toSize) continue;
        expect(await verifyConsistency({ ...claim, fromRoot: someHash }), `${where}, wrong fromRoot`).toBe(false);
        expect(await verifyConsistency({ ...claim, toRoot: someHash }), `${where}, wrong toRoot`).toBe(false);
        if (fromSize > 1) {
          expect(await verifyConsistency({ ...claim, fromSize: fromSize - 1, fromRoot: roots[fromSize - 1] as Uint8Array }), `${where}, from - 1`).toBe(false);
        }
        expect(await verifyConsistency({ ...claim, fromSize: fromSize + 1, fromRoot: roots[fromSize + 1] as Uint8Array }), `${where}, from + 1`).toBe(false);
        expect(await verifyConsistency({ ...claim, toSize: toSize + 1, toRoot: roots[toSize + 1] as Uint8Array }), `${where}, to + 1`).toBe(false);
        for (let i = 0; i < proof.length; i++) expect(await verifyConsistency({ ...claim, proof: flipped(proof, i) }), `${where}, flipped ${i}`).toBe(false);
        expect(await verifyConsistency({ ...claim, proof: proof.slice(0, -1) }), `${where}, truncated`).toBe(false);
      }
    }
  });
});
