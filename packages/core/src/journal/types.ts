/** Journal types shared by the domain, the stores and the verifier. */

/** Who caused an event. */
export interface Actor {
  type: "user" | "agent" | "system" | "api_key";
  id: string;
}

/**
 * One journal entry, exactly as served and as hashed: the leaf of the Merkle tree is
 * SHA-256(0x00 || RFC 8785 canonical JSON of this object).
 */
export interface JournalEvent {
  id: string;
  /** 1-based position in the tenant's journal; the Merkle leaf index is seq - 1. */
  seq: number;
  type: string;
  tenant_id: string;
  /** The agent the event concerns, if any (used by filters and agent-scoped streams). */
  agent_id: string | null;
  created_at: string;
  actor: Actor;
  data: Record<string, unknown>;
}

/**
 * A stored Merkle node: the hash of the perfect subtree of 2^level leaves starting at leaf
 * index * 2^level. Level 0 nodes are leaf hashes.
 */
export interface TreeNodeKey {
  level: number;
  index: number;
}

export interface TreeNode extends TreeNodeKey {
  hash: Uint8Array;
}

/** Batched read of stored nodes, in the order asked. */
export type TreeNodeReader = (keys: TreeNodeKey[]) => Promise<Uint8Array[]>;
