/**
 * The journal's privacy model (issue 17, item 7; docs/concepts.md "Journal"): an agent's
 * credential reads its own entries in full, and every other entry as its seq and leaf hash only.
 * With that it verifies the whole tree against the signed checkpoint and proves its own entry's
 * inclusion, while nothing of another agent's payments (payee, reference, amount) reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { canonicalJson, computeRoot, decodeBase64, hashLeaf, verifyInclusion } from "@bursar/core";
import { getToken, dpopCall } from "./agents-support.js";
import { fetchVerifiedCheckpoint } from "./books.js";
import { createPayee, expectStatus, fundedAgent } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

const encoder = new TextEncoder();

for (const kind of storeKinds) {
  describe(`journal entries for an agent credential on ${kind}`, () => {
    let server: RunningServer;
    let owner: ReturnType<typeof client>;

    beforeAll(async () => {
      server = await startTestServer(kind);
      owner = client(server.url, (await createTestTenant(server.store)).token);
    });
    afterAll(() => server.close());

    it("reads its own entries, sees only leaf hashes of the rest, verifies the tree and proves its own entry", async () => {
      const scopes = ["agents:execute", "events:read"];
      const alice = await fundedAgent(server.url, owner, 50_000, scopes);
      const bob = await fundedAgent(server.url, owner, 50_000, scopes);
      await createPayee(owner, "Carol");
      await createPayee(owner, "Dave Hiddenpayee");
      const secret = `bob-only-${Date.now()}`;
      // Bob pays through the owner acting for him; Alice pays too.
      expectStatus(await owner.post("/v1/payment-intents", { agent_id: bob.agentId, payee: "Dave Hiddenpayee", amount: 4321, currency: "GBP", reference: secret }), 201);
      const mine = expectStatus(await owner.post("/v1/payment-intents", { agent_id: alice.agentId, payee: "Carol", amount: 1000, currency: "GBP", reference: "alice's own" }), 201);

      const token = (await getToken(server.url, alice)).body.access_token as string;
      const checkpoint = await fetchVerifiedCheckpoint(owner);
      const page = await dpopCall(server.url, "GET", `/v1/journal/entries?limit=1000`, token, alice.key);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      const entries = page.body.data as Array<{ seq: number; leaf_hash: string; event: { agent_id: string | null; data: unknown } | null }>;
      expect(entries.length).toBe(checkpoint.tree_size);

      // Nothing of Bob's (or of the tenant's own doings) is readable; Alice's own entries are whole.
      const text = JSON.stringify(page.body);
      for (const leaked of [secret, "4321", "Hiddenpayee", bob.agentId]) expect(text, leaked).not.toContain(leaked);
      const own = entries.filter((entry) => entry.event !== null);
      expect(own.length).toBeGreaterThan(0);
      expect(own.every((entry) => entry.event!.agent_id === alice.agentId)).toBe(true);
      expect(entries.some((entry) => entry.event === null)).toBe(true);

      // The whole tree: own leaves recomputed from their bodies, the others taken as given.
      const leaves: Uint8Array[] = [];
      for (const entry of entries) {
        const given = decodeBase64(entry.leaf_hash)!;
        if (entry.event === null) {
          leaves.push(given);
          continue;
        }
        const computed = await hashLeaf(encoder.encode(canonicalJson(entry.event)));
        expect(Buffer.from(computed).equals(Buffer.from(given)), `leaf ${entry.seq}`).toBe(true);
        leaves.push(computed);
      }
      expect(Buffer.from(await computeRoot(leaves)).equals(Buffer.from(decodeBase64(checkpoint.root_hash)!))).toBe(true);

      // Its own payment's entry is provably in the signed journal.
      const created = own.find((entry) => (entry.event as { type?: string; data: { payment_intent?: { id: string } } }).data.payment_intent?.id === mine.id)!;
      expect(created).toBeDefined();
      const proof = await dpopCall(server.url, "GET", `/v1/journal/proofs/inclusion?seq=${created.seq}&tree_size=${checkpoint.tree_size}`, token, alice.key);
      expect(proof.status).toBe(200);
      const included = await verifyInclusion({
        leafHash: await hashLeaf(encoder.encode(canonicalJson(created.event))),
        leafIndex: created.seq - 1,
        treeSize: checkpoint.tree_size,
        proof: proof.body.proof.map((hash: string) => decodeBase64(hash)!),
        rootHash: decodeBase64(checkpoint.root_hash)!,
      });
      expect(included).toBe(true);

      // An owner still reads everything.
      const all = expectStatus(await owner.get("/v1/journal/entries?limit=1000"), 200);
      expect(all.data.every((entry: { event: unknown }) => entry.event !== null)).toBe(true);
      expect(JSON.stringify(all)).toContain(secret);
    });
  });
}
