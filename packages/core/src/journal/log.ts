/**
 * Reading a tenant's journal: signed checkpoints and proofs, straight from stored tree nodes.
 * Nodes are immutable once written, so reading the journal size first and then its nodes gives a
 * consistent answer even while writers append.
 */
import type { StoreReader, TenantRow } from "../ports.js";
import { fail, ok } from "../result.js";
import { toRfc3339 } from "../time.js";
import { signCheckpoint } from "./checkpoint.js";
import { encodeBase64 } from "./encoding.js";
import type { TreeNodeCache } from "./node-cache.js";
import { consistencyProof, inclusionProof, rootHash } from "./tree.js";
import type { TreeNodeReader } from "./types.js";

/** The checkpoint origin and signed-note key name of a tenant's journal. */
export function journalOrigin(tenantId: string): string {
  return `bursar/${tenantId}`;
}

export interface CheckpointView {
  origin: string;
  tree_size: number;
  root_hash: string;
  time: string;
  note: string;
}

/** What a proof needs of a tenant: its id and the committed journal size it was read with. */
export type JournalOf = Pick<TenantRow, "id" | "journalSize">;

/**
 * The stored-node reader of `tenant` and its root of `size` leaves, through `cache` when the
 * caller keeps one (a reading process: routes/journal.ts), else straight from the store.
 */
function treeOf(read: StoreReader, tenant: JournalOf, cache: TreeNodeCache | undefined) {
  const direct: TreeNodeReader = (keys) => read.getTreeNodes(tenant.id, keys);
  const reader = cache ? cache.reader(tenant.id, direct) : direct;
  const root = (size: number) => (cache ? cache.root(tenant.id, size, () => rootHash(reader, size)) : rootHash(reader, size));
  const encodedPath = async (leafIndex: number, size: number) => (await inclusionProof(reader, leafIndex, size)).map(encodeBase64);
  const path = (leafIndex: number, size: number) => (cache ? cache.inclusionProof(tenant.id, leafIndex, size, () => encodedPath(leafIndex, size)) : encodedPath(leafIndex, size));
  return { reader, root, path };
}

/** Signs a checkpoint of the tenant's journal as it is now. */
export async function currentCheckpoint(read: StoreReader, tenant: TenantRow, nowMs: number, cache?: TreeNodeCache): Promise<CheckpointView> {
  const treeSize = tenant.journalSize;
  const root = await treeOf(read, tenant, cache).root(treeSize);
  const origin = journalOrigin(tenant.id);
  const signed = signCheckpoint({ origin, keyName: origin, treeSize, rootHash: root, timeMs: nowMs, privateKeyPkcs8: tenant.journalPrivateKeyPkcs8 });
  return { origin, tree_size: treeSize, root_hash: encodeBase64(root), time: toRfc3339(nowMs), note: signed.note };
}

/** RFC 9162 inclusion proof of the event with `seq` in the tree of `treeSize` leaves. */
export async function proveInclusion(read: StoreReader, tenant: JournalOf, seq: number, treeSize: number, cache?: TreeNodeCache) {
  if (treeSize > tenant.journalSize) return fail("tree_size_out_of_range", `tree_size ${treeSize} exceeds the journal size ${tenant.journalSize}`);
  if (seq > treeSize) return fail("seq_out_of_range", `seq ${seq} is not in a tree of ${treeSize} entries`);
  const { reader, root: rootOf, path } = treeOf(read, tenant, cache);
  const [leaf] = await reader([{ level: 0, index: seq - 1 }]);
  const [root, proof] = await Promise.all([rootOf(treeSize), path(seq - 1, treeSize)]);
  return ok({
    seq,
    leaf_index: seq - 1,
    tree_size: treeSize,
    leaf_hash: encodeBase64(leaf!),
    root_hash: encodeBase64(root),
    proof: [...proof],
  });
}

/** RFC 9162 consistency proof between two sizes of the journal. */
export async function proveConsistency(read: StoreReader, tenant: JournalOf, fromSize: number, toSize: number, cache?: TreeNodeCache) {
  if (toSize > tenant.journalSize) return fail("tree_size_out_of_range", `to_size ${toSize} exceeds the journal size ${tenant.journalSize}`);
  if (fromSize > toSize) return fail("tree_size_out_of_range", `from_size ${fromSize} exceeds to_size ${toSize}`);
  const { reader, root } = treeOf(read, tenant, cache);
  const [fromRoot, toRoot, proof] = await Promise.all([root(fromSize), root(toSize), consistencyProof(reader, fromSize, toSize)]);
  return ok({ from_size: fromSize, to_size: toSize, from_root: encodeBase64(fromRoot), to_root: encodeBase64(toRoot), proof: proof.map(encodeBase64) });
}

export type InclusionProofView = Extract<Awaited<ReturnType<typeof proveInclusion>>, { ok: true }>["value"];
