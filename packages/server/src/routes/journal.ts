/** `/v1/journal/*`: the tenant's tamper-evident journal — authority, checkpoints, entries, proofs. */
import {
  currentCheckpoint,
  encodeBase64,
  journalKeyId,
  journalVerifierKey,
  journalOrigin,
  proveConsistency,
  proveInclusion,
  tenantConfigCacheEntriesMax,
  TreeNodeCache,
  wire,
  type JournalOf,
  type TenantRow,
} from "@bursar/core";
import type { FastifyRequest } from "fastify";
import type { RouteModule } from "./context.js";
import { orProblem } from "./context.js";

const read = { config: { scopes: ["events:read"] } } as const;
/**
 * The journal's public key is public by design (SPEC: anyone holding it verifies the journal and
 * the tenant's signed receipts): any credential of the tenant may read it, whatever its scopes,
 * so a caller allowed to read a signed reputation receipt (`payees:read`) can check it. What the
 * key verifies — checkpoints, entries, proofs — still needs `events:read`.
 */
const publicKey = { config: { scopes: [] } } as const;

export const journalRoutes: RouteModule = (app, { store, clock }) => {
  /** Committed tree nodes and roots, immutable once written (core journal/node-cache.ts). */
  const nodes = new TreeNodeCache();
  /** Each tenant's journal size as last read here (its id and size only; no keys kept). */
  const journals = new Map<string, JournalOf>();
  async function tenantOf(request: FastifyRequest): Promise<TenantRow> {
    const tenant = await store.read.getTenant(request.principal.tenantId);
    if (!tenant) throw new Error("authenticated principal without a tenant");
    journals.delete(tenant.id);
    if (journals.size >= tenantConfigCacheEntriesMax) journals.delete(journals.keys().next().value!);
    journals.set(tenant.id, { id: tenant.id, journalSize: tenant.journalSize });
    return tenant;
  }
  /**
   * The tenant's journal for a proof up to `size` leaves: the journal only grows, so a size
   * within the committed size read before is within today's, and the row need not be read again.
   */
  async function journalCovering(request: FastifyRequest, size: number): Promise<JournalOf> {
    const known = journals.get(request.principal.tenantId);
    return known !== undefined && size <= known.journalSize ? known : tenantOf(request);
  }

  app.get(
    "/v1/journal/authority",
    { ...publicKey, schema: { tags: ["journal"], summary: "The journal's Ed25519 public key and signed-note key id", description: "The tenant's journal public key (Ed25519) and its signed-note key id: what a verifier needs to check checkpoints and signed reputation receipts without trusting the server. Public information: any credential of the tenant may read it, whatever its scopes.", response: { 200: wire.authority } } },
    async (request) => {
      const tenant = await tenantOf(request);
      const origin = journalOrigin(tenant.id);
      const keyId = journalKeyId(origin, tenant.journalPublicKey);
      return {
        tenant_id: tenant.id,
        origin,
        key_name: origin,
        key_id: encodeBase64(keyId),
        algorithm: "Ed25519" as const,
        public_key: encodeBase64(tenant.journalPublicKey),
        verifier_key: journalVerifierKey(origin, tenant.journalPublicKey),
      };
    },
  );

  app.get(
    "/v1/journal/checkpoint",
    { ...read, schema: { tags: ["journal"], summary: "The latest signed checkpoint (C2SP tlog-checkpoint)", description: "The latest checkpoint: tree size, root hash and time, signed with the tenant's journal key as a C2SP `tlog-checkpoint` signed note.", response: { 200: wire.checkpoint } } },
    async (request) => currentCheckpoint(store.read, await tenantOf(request), clock.nowMs(), nodes),
  );

  app.get(
    "/v1/journal/entries",
    {
      config: { ...read.config, example: { query: "after_seq=0&limit=100" } },
      schema: {
        tags: ["journal"],
        summary: "Journal entries in order, with their leaf hashes",
        description:
          "Journal entries in `seq` order after `after_seq`, each with its RFC 9162 leaf hash and the event it records. For a credential acting for an agent, entries about other agents (or about no agent) come with `event: null`: their leaf hashes still verify the tree against the checkpoint.",
        querystring: wire.entriesQuery,
        response: { 200: wire.page(wire.entry) },
      },
    },
    async (request) => {
      const { after_seq, limit } = request.query;
      const events = await store.read.listEvents(request.principal.tenantId, { afterSeq: after_seq, limit: limit + 1, ascending: true });
      const page = events.slice(0, limit);
      // The leaf hashes come from the stored tree, not from re-hashing the body here: a verifier
      // recomputes them from the events and so checks the tree and the bodies against each other.
      const leaves = await store.read.getTreeNodes(request.principal.tenantId, page.map((event) => ({ level: 0, index: event.seq - 1 })));
      // An agent's credential reads its own entries only; the others come as leaf hashes, enough
      // to verify the tree and its own inclusion, and nothing of another agent's payees,
      // references or amounts (docs/concepts.md "Journal").
      const own = request.principal.agentId;
      const data = page.map((event, i) => ({ seq: event.seq, leaf_hash: encodeBase64(leaves[i]!), event: own === null || event.agent_id === own ? event : null }));
      const hasMore = events.length > limit;
      return { data, has_more: hasMore, next_cursor: hasMore ? String(data[data.length - 1]!.seq) : null };
    },
  );

  app.get(
    "/v1/journal/proofs/inclusion",
    { config: { ...read.config, errors: ["seq_out_of_range", "tree_size_out_of_range"], example: { query: "seq=1&tree_size=8" } }, schema: { tags: ["journal"], summary: "RFC 9162 inclusion proof", description: "An RFC 9162 inclusion proof that the entry `seq` is in the tree of size `tree_size` (from a checkpoint). O(log n) hashes.", querystring: wire.inclusionQuery, response: { 200: wire.inclusionProof } } },
    async (request) => orProblem(await proveInclusion(store.read, await journalCovering(request, request.query.tree_size), request.query.seq, request.query.tree_size, nodes)),
  );

  app.get(
    "/v1/journal/proofs/consistency",
    {
      config: { ...read.config, errors: ["tree_size_out_of_range"], example: { query: "from_size=4&to_size=8" } },
      schema: { tags: ["journal"], summary: "RFC 9162 consistency proof", description: "An RFC 9162 consistency proof that the tree of size `to_size` extends the tree of size `from_size`: the journal only grew.", querystring: wire.consistencyQuery, response: { 200: wire.consistencyProof } },
    },
    async (request) => orProblem(await proveConsistency(store.read, await journalCovering(request, request.query.to_size), request.query.from_size, request.query.to_size, nodes)),
  );
};
