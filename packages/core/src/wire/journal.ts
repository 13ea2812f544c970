/** Wire schemas of events and the journal. */
import { z } from "zod";
import { journalEntriesPageMax, journalSizeMax } from "../limits.js";
import { pageLimit, queryInteger, timestamp } from "./common.js";

export const event = z.object({
  id: z.string(),
  seq: z.number().int().positive(),
  type: z.string(),
  tenant_id: z.string(),
  agent_id: z.string().nullable(),
  created_at: timestamp,
  actor: z.object({ type: z.enum(["user", "agent", "system", "api_key"]), id: z.string() }),
  data: z.record(z.string(), z.unknown()),
});

/** A journal position: 0 (before the first entry) up to the largest journal. */
const seq = queryInteger(0, journalSizeMax);
/** A tree size or an entry's seq: 1 up to the largest journal. */
const size = queryInteger(1, journalSizeMax);

export const eventsQuery = z.object({
  limit: pageLimit(),
  cursor: seq.optional().describe("next_cursor of the previous page"),
  after_seq: seq.optional().describe("Only events after this seq, oldest first"),
  type: z.string().max(1000).optional().describe("Comma-separated event types; `prefix.*` and `*` allowed"),
  agent_id: z.string().max(64).optional(),
});

export const authority = z.object({
  tenant_id: z.string(),
  origin: z.string(),
  key_name: z.string(),
  key_id: z.string().describe("base64 of the 4-byte signed-note key id"),
  algorithm: z.literal("Ed25519"),
  public_key: z.string().describe("base64 of the raw 32-byte Ed25519 public key"),
  verifier_key: z.string().describe("signed-note verifier key: <name>+<hex key id>+<base64(0x01 || public key)>"),
});

export const checkpoint = z.object({
  origin: z.string(),
  tree_size: z.number().int().min(0),
  root_hash: z.string().describe("base64 SHA-256 Merkle root"),
  time: timestamp,
  note: z.string().describe("the C2SP tlog-checkpoint signed note"),
});

export const entriesQuery = z.object({
  after_seq: seq.default(0),
  limit: pageLimit(journalEntriesPageMax, 100),
});

/**
 * One journal entry. `event` is null when the entry is outside the caller's view: for a
 * credential that acts for an agent, every entry that is not about that agent (the same events
 * `/v1/events` hides from it). Its leaf hash is still given, so the caller can recompute the
 * whole tree and check it against the signed checkpoint, and prove its own entries, while
 * reading nothing of another agent's.
 */
export const entry = z.object({
  seq: z.number().int(),
  leaf_hash: z.string(),
  event: event.nullable().describe("null when the entry is outside the caller's view (another agent's); its leaf hash still counts"),
});

export const inclusionQuery = z.object({ seq: size, tree_size: size });
export const inclusionProof = z.object({
  seq: z.number().int(),
  leaf_index: z.number().int(),
  tree_size: z.number().int(),
  leaf_hash: z.string(),
  root_hash: z.string(),
  proof: z.array(z.string()).describe("base64 hashes, RFC 9162 2.1.3"),
});

export const consistencyQuery = z.object({ from_size: size, to_size: size });
export const consistencyProof = z.object({
  from_size: z.number().int(),
  to_size: z.number().int(),
  from_root: z.string(),
  to_root: z.string(),
  proof: z.array(z.string()).describe("base64 hashes, RFC 9162 2.1.4"),
});
