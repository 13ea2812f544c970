/**
 * Journal proofs while the journal grows (issue 19): the server keeps committed tree nodes,
 * roots, proofs and the journal size it read in memory (core journal/node-cache.ts,
 * routes/journal.ts). Every answer must still verify against the checkpoint of its size, a size
 * past the committed journal is refused, and a size reached by later writes is served at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { decodeBase64, verifyConsistency, verifyInclusion } from "@bursar/core";
import { fetchVerifiedCheckpoint } from "./books.js";
import { createPayee, expectStatus } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

for (const kind of storeKinds) {
  describe(`journal proofs as the journal grows on ${kind}`, () => {
    let server: RunningServer;
    let owner: ReturnType<typeof client>;

    beforeAll(async () => {
      server = await startTestServer(kind);
      owner = client(server.url, (await createTestTenant(server.store)).token);
    });
    afterAll(() => server.close());

    async function leafHashes(): Promise<Uint8Array[]> {
      const page = expectStatus(await owner.get("/v1/journal/entries?limit=1000"), 200);
      return page.data.map((entry: { leaf_hash: string }) => decodeBase64(entry.leaf_hash)!);
    }

    async function expectAllProven(size: number, root: Uint8Array, leaves: Uint8Array[]): Promise<void> {
      for (let seq = 1; seq <= size; seq++) {
        const answer = expectStatus(await owner.get(`/v1/journal/proofs/inclusion?seq=${seq}&tree_size=${size}`), 200);
        expect(decodeBase64(answer.root_hash)).toEqual(root);
        const proof = answer.proof.map((hash: string) => decodeBase64(hash)!);
        expect(await verifyInclusion({ leafHash: leaves[seq - 1]!, leafIndex: seq - 1, treeSize: size, proof, rootHash: root }), `seq ${seq} of ${size}`).toBe(true);
      }
    }

    it("proves every entry at every checkpoint, refuses sizes not yet committed, and serves them once written", async () => {
      for (let i = 0; i < 3; i++) await createPayee(owner, `Payee ${i}`);
      const first = await fetchVerifiedCheckpoint(owner);
      const firstRoot = decodeBase64(first.root_hash)!;
      await expectAllProven(first.tree_size, firstRoot, await leafHashes());
      // Asked twice: the cached answers are the same proofs.
      await expectAllProven(first.tree_size, firstRoot, await leafHashes());

      const beyond = await owner.get(`/v1/journal/proofs/inclusion?seq=1&tree_size=${first.tree_size + 1}`);
      expect(beyond.status).toBe(400);
      expect(beyond.body.code).toBe("tree_size_out_of_range");
      const beyondConsistency = await owner.get(`/v1/journal/proofs/consistency?from_size=1&to_size=${first.tree_size + 1}`);
      expect(beyondConsistency.body.code).toBe("tree_size_out_of_range");

      for (let i = 3; i < 8; i++) await createPayee(owner, `Payee ${i}`);
      const second = await fetchVerifiedCheckpoint(owner);
      expect(second.tree_size).toBeGreaterThan(first.tree_size);
      const secondRoot = decodeBase64(second.root_hash)!;
      const leaves = await leafHashes();
      await expectAllProven(second.tree_size, secondRoot, leaves);
      // The older size still answers with its own root.
      await expectAllProven(first.tree_size, firstRoot, leaves);

      const consistency = expectStatus(await owner.get(`/v1/journal/proofs/consistency?from_size=${first.tree_size}&to_size=${second.tree_size}`), 200);
      expect(
        await verifyConsistency({
          fromSize: first.tree_size,
          toSize: second.tree_size,
          fromRoot: firstRoot,
          toRoot: secondRoot,
          proof: consistency.proof.map((hash: string) => decodeBase64(hash)!),
        }),
      ).toBe(true);
    });
  });
}
