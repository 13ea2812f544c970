/**
 * The right edge of each tenant's journal tree as this process's writes last saw it, so that a
 * write's first journal append (core journal/events.ts) does not read the edge back from the
 * store: on PostgreSQL that read is a round trip per write.
 *
 * Why it is safe: a tree node, once committed, never changes (the journal is append-only, the
 * node's key fixes the leaves it covers). The tenant's size is always read in the write itself,
 * and only the keys of that size's edge are looked up; one unknown key means a read of all of
 * them, so another process appending to the tenant costs a read, never a wrong hash. A node of an
 * append that rolled back covers a leaf at or past the committed size: no edge of that size asks
 * for it, and the next append that completes its subtree writes it anew. The stores clear the
 * cache on every rollback all the same (contract test: "the cached right edge").
 */
import { journalEdgeCacheTenantsMax, journalEdgeKeys, type TreeNode, type TreeNodeKey } from "@bursar/core";

const keyText = (level: number, index: number) => `${level}:${index}`;

export class JournalEdgeCache {
  private readonly byTenant = new Map<string, Map<string, Uint8Array>>();

  /** The hashes of `keys` in order, when every one is known; otherwise null. */
  lookup(tenantId: string, keys: readonly TreeNodeKey[]): Uint8Array[] | null {
    const nodes = this.byTenant.get(tenantId);
    if (!nodes || keys.length === 0) return null;
    const hashes: Uint8Array[] = [];
    for (const { level, index } of keys) {
      const hash = nodes.get(keyText(level, index));
      if (!hash) return null;
      hashes.push(hash);
    }
    return hashes;
  }

  /** Remembers nodes the writer read (the edge of the size it read them for). */
  remember(tenantId: string, keys: readonly TreeNodeKey[], hashes: readonly Uint8Array[]): void {
    const nodes = new Map<string, Uint8Array>();
    keys.forEach(({ level, index }, i) => nodes.set(keyText(level, index), hashes[i]!));
    this.put(tenantId, nodes);
  }

  /** After an append reached `size`: the edge of `size` from the known edge and the new nodes. */
  appended(tenantId: string, nodes: readonly TreeNode[], size: number): void {
    const known = this.byTenant.get(tenantId) ?? new Map<string, Uint8Array>();
    for (const node of nodes) known.set(keyText(node.level, node.index), node.hash);
    const edge = new Map<string, Uint8Array>();
    for (const { level, index } of journalEdgeKeys(size)) {
      const hash = known.get(keyText(level, index));
      if (hash) edge.set(keyText(level, index), hash);
    }
    this.put(tenantId, edge);
  }

  /** Forgets everything (a write or batch rolled back). */
  clear(): void {
    this.byTenant.clear();
  }

  private put(tenantId: string, nodes: Map<string, Uint8Array>): void {
    this.byTenant.delete(tenantId);
    this.byTenant.set(tenantId, nodes);
    if (this.byTenant.size > journalEdgeCacheTenantsMax) this.byTenant.delete(this.byTenant.keys().next().value!);
  }
}
