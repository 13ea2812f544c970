/**
 * Checks a tenant's books from the outside, over HTTP, trusting nothing the server says without
 * recomputing it: double entry, floors, exactly-once application of transfers, and the journal
 * verified from its first entry against a signed checkpoint.
 */
import {
  bytesEqual,
  canonicalJson,
  computeRoot,
  decodeBase64,
  encodeUtf8,
  hashLeaf,
  parseVerifierKey,
  verifyCheckpoint,
  verifyConsistency,
} from "@bursar/core";
import { expect } from "vitest";
import { client, listAll } from "./support.js";

type Api = ReturnType<typeof client>;

export interface Checkpoint {
  origin: string;
  tree_size: number;
  root_hash: string;
  note: string;
}

/** Fetches the checkpoint and verifies its signature with the journal authority's key. */
export async function fetchVerifiedCheckpoint(api: Api): Promise<Checkpoint> {
  const authority = await api.get("/v1/journal/authority");
  expect(authority.status).toBe(200);
  const key = await parseVerifierKey(authority.body.verifier_key);
  expect(key, "verifier key parses").not.toBeNull();
  const checkpoint = await api.get("/v1/journal/checkpoint");
  expect(checkpoint.status).toBe(200);
  const verified = await verifyCheckpoint(checkpoint.body.note, { ...key!, origin: authority.body.origin });
  expect(verified.ok, `checkpoint signature: ${JSON.stringify(verified)}`).toBe(true);
  if (verified.ok) {
    expect(verified.treeSize).toBe(checkpoint.body.tree_size);
    expect(bytesEqual(verified.rootHash, decodeBase64(checkpoint.body.root_hash)!)).toBe(true);
  }
  return checkpoint.body;
}

/** Double entry, floors, and balances that equal the sum of the transfers, exactly once each. */
export async function checkLedger(api: Api): Promise<{ accounts: any[]; transfers: any[] }> {
  const accounts = await listAll(api, "/v1/accounts");
  const transfers = await listAll(api, "/v1/transfers");

  const ids = transfers.map((t) => t.id);
  expect(new Set(ids).size, "no transfer listed twice").toBe(ids.length);

  const totals = new Map<string, { debits: number; credits: number; debitsPending: number; creditsPending: number }>();
  for (const account of accounts) {
    const sum = totals.get(account.currency) ?? { debits: 0, credits: 0, debitsPending: 0, creditsPending: 0 };
    sum.debits += account.debits_posted;
    sum.credits += account.credits_posted;
    sum.debitsPending += account.debits_pending;
    sum.creditsPending += account.credits_pending;
    totals.set(account.currency, sum);
    if (account.debits_must_not_exceed_credits) {
      expect(account.debits_posted + account.debits_pending, `floor of ${account.id}`).toBeLessThanOrEqual(account.credits_posted);
    }
    // Each balance field equals what the transfers say: nothing applied twice, nothing lost.
    const expected = { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0 };
    for (const t of transfers) {
      const pending = t.status === "pending" ? t.amount : 0;
      if (t.debit_account_id === account.id) {
        expected.debits_posted += t.posted_amount;
        expected.debits_pending += pending;
      }
      if (t.credit_account_id === account.id) {
        expected.credits_posted += t.posted_amount;
        expected.credits_pending += pending;
      }
    }
    expect(
      { debits_posted: account.debits_posted, credits_posted: account.credits_posted, debits_pending: account.debits_pending, credits_pending: account.credits_pending },
      `balances of ${account.id} equal the sum of its transfers`,
    ).toEqual(expected);
  }
  for (const [currency, sum] of totals) {
    expect(sum.debits, `${currency}: posted debits equal posted credits`).toBe(sum.credits);
    expect(sum.debitsPending, `${currency}: pending debits equal pending credits`).toBe(sum.creditsPending);
  }
  return { accounts, transfers };
}

/**
 * Reads the whole journal, recomputes every leaf from the event bodies (RFC 8785 + SHA-256 via
 * WebCrypto, independent of the server's hashing), and checks the root against a verified
 * checkpoint of the same size. Returns the events.
 */
export async function checkJournal(api: Api, checkpoint: Checkpoint): Promise<any[]> {
  const entries: any[] = [];
  let afterSeq = 0;
  while (entries.length < checkpoint.tree_size) {
    const page = await api.get(`/v1/journal/entries?after_seq=${afterSeq}&limit=1000`);
    expect(page.status).toBe(200);
    if (page.body.data.length === 0) break;
    entries.push(...page.body.data);
    afterSeq = entries[entries.length - 1].seq;
  }
  const covered = entries.slice(0, checkpoint.tree_size);
  expect(covered.length, "journal has as many entries as the checkpoint says").toBe(checkpoint.tree_size);
  const leaves: Uint8Array[] = [];
  for (const [index, entry] of covered.entries()) {
    expect(entry.seq, "seq has no gaps").toBe(index + 1);
    const leaf = await hashLeaf(encodeUtf8(canonicalJson(entry.event)));
    expect(bytesEqual(leaf, decodeBase64(entry.leaf_hash)!), `leaf ${entry.seq} matches its event`).toBe(true);
    leaves.push(leaf);
  }
  const root = await computeRoot(leaves);
  expect(bytesEqual(root, decodeBase64(checkpoint.root_hash)!), "root recomputed from the first entry equals the signed root").toBe(true);
  return covered.map((entry) => entry.event);
}

/** Proves with the server's consistency proof that `older` is a prefix of `newer`. */
export async function checkConsistency(api: Api, older: Checkpoint, newer: Checkpoint): Promise<void> {
  expect(newer.tree_size).toBeGreaterThanOrEqual(older.tree_size);
  if (older.tree_size === 0) return;
  const proof = await api.get(`/v1/journal/proofs/consistency?from_size=${older.tree_size}&to_size=${newer.tree_size}`);
  expect(proof.status).toBe(200);
  const ok = await verifyConsistency({
    fromSize: older.tree_size,
    toSize: newer.tree_size,
    fromRoot: decodeBase64(older.root_hash)!,
    toRoot: decodeBase64(newer.root_hash)!,
    proof: proof.body.proof.map((hash: string) => decodeBase64(hash)!),
  });
  expect(ok, `checkpoint ${older.tree_size} is consistent with ${newer.tree_size}`).toBe(true);
}
