/**
 * `/v1/journal/*`: the tenant's tamper-evident journal, checked without trusting the server
 * (SPEC 2.5). The client remembers the last checkpoint that verified (and, with a credential
 * store, keeps it between runs): every later checkpoint must be signed by the same key and be
 * proven, by an RFC 9162 consistency proof, to extend it. A forged checkpoint, a rewritten
 * history or a rolled-back log is refused with `JournalVerificationError`.
 *
 * Trust starts from the verifier key given in the options, or else from the server's
 * `/v1/journal/authority` the first time (trust on first use); after that, a store pins it.
 */
import { computeRoot, hashLeaf, parseVerifierKey, verifyCheckpoint, verifyConsistency, verifyInclusion, type JournalKey } from "@bursar/core/verify";
import { canonicalJson } from "../canonical.ts";
import type { CredentialStore, JournalTrust } from "../credential-store.ts";
import { JournalVerificationError } from "../errors.ts";
import { base64Decode, base64Encode } from "../jose.ts";
import { journalEntriesPageLimit } from "../limits.ts";
import { Page } from "../pagination.ts";
import type { BursarEvent, ConsistencyProof, InclusionProof, JournalAuthority, JournalCheckpoint, JournalEntry, PageBody } from "../types.ts";
import { Resource, type CallOptions, type Requester } from "./resource.ts";

export interface JournalOptions {
  /**
   * The journal's signed-note verifier key (`bursar/ten_…+<hex id>+<base64>`), from a source you
   * trust more than the server (the owner's console, configuration). Without it, the first
   * authority the server shows is trusted and pinned.
   */
  verifierKey?: string;
  /** When known, the journal must be this tenant's (`bursar/<tenant id>`), whatever the server says. */
  tenantId?: string;
  /** Where the last verified checkpoint is kept between runs. */
  trustStore?: Pick<CredentialStore, "loadJournalTrust" | "saveJournalTrust">;
}

/** A checkpoint whose signature verified; `rootHash` is base64. */
export interface VerifiedCheckpoint {
  origin: string;
  treeSize: number;
  rootHash: string;
  time: string;
  note: string;
}

export interface InclusionResult {
  seq: number;
  /** The checkpoint size the proof was checked against. */
  treeSize: number;
  event: BursarEvent;
}

const encoder = new TextEncoder();

function hash(text: string, what: string): Uint8Array {
  const bytes = base64Decode(text);
  if (!bytes || bytes.length !== 32) throw new JournalVerificationError("invalid_checkpoint", `${what} is not a base64 SHA-256 hash`);
  return bytes;
}

function hashes(list: string[], what: string): Uint8Array[] {
  if (!Array.isArray(list)) throw new JournalVerificationError("not_consistent", `${what} is not a list`);
  return list.map((item, i) => hash(item, `${what}[${i}]`));
}

export class Journal extends Resource {
  private key: (JournalKey & { verifierKey: string }) | null = null;
  private trusted: VerifiedCheckpoint | null = null;
  private trustLoaded = false;

  constructor(
    client: Requester,
    private readonly options: JournalOptions = {},
  ) {
    super(client);
  }

  /** The journal's Ed25519 public key, as the server states it (unverified). */
  authority(options?: CallOptions): Promise<JournalAuthority> {
    return this.getJson("/v1/journal/authority", undefined, options);
  }

  /** Entries in journal order from `after_seq`, with their leaf hashes. */
  async entries(params: { after_seq?: number; limit?: number } = {}, options?: CallOptions): Promise<Page<JournalEntry>> {
    const fetchPage = async (afterSeq: number): Promise<Page<JournalEntry>> =>
      new Page(await this.getJson<PageBody<JournalEntry>>("/v1/journal/entries", { after_seq: afterSeq, limit: params.limit }, options), (next) => fetchPage(Number(next)));
    return fetchPage(params.after_seq ?? 0);
  }

  /** The last checkpoint that verified, or null before the first. */
  get trustedCheckpoint(): VerifiedCheckpoint | null {
    return this.trusted;
  }

  /**
   * Fetches the latest checkpoint, checks its signature, and proves it extends the trusted one;
   * then trusts it. A checkpoint smaller than the trusted one is accepted only if the trusted one
   * extends it (a lagging view), and does not replace it.
   *
   * @example const { treeSize, rootHash } = await bursar.journal.checkpoint();
   */
  async checkpoint(options?: CallOptions): Promise<VerifiedCheckpoint> {
    const key = await this.trustedKey(options);
    const served = await this.getJson<JournalCheckpoint>("/v1/journal/checkpoint", undefined, options);
    const fresh = await this.verifySigned(served, key);
    const trusted = this.trusted;
    if (trusted === null) return this.trust(fresh);
    if (fresh.treeSize >= trusted.treeSize) {
      await this.verifyConsistency(trusted, fresh, options);
      return this.trust(fresh);
    }
    await this.verifyConsistency(fresh, trusted, options);
    return fresh;
  }

  /**
   * Proves that `to` extends `from` (RFC 9162 §2.1.4): the journal only grew between them. Both
   * must be verified checkpoints; the proof comes from the server and is checked against their
   * signed roots, never the server's restatement of them.
   */
  async verifyConsistency(from: VerifiedCheckpoint, to: VerifiedCheckpoint, options?: CallOptions): Promise<void> {
    if (from.origin !== to.origin) throw new JournalVerificationError("not_consistent", `checkpoints of two logs (${from.origin}, ${to.origin})`);
    if (from.treeSize > to.treeSize) throw new JournalVerificationError("not_consistent", `the journal shrank from ${from.treeSize} to ${to.treeSize} entries`);
    if (from.treeSize === to.treeSize) {
      if (from.rootHash !== to.rootHash) throw new JournalVerificationError("not_consistent", `two different journals of ${to.treeSize} entries were signed`);
      return;
    }
    // The empty tree is a prefix of every tree.
    if (from.treeSize === 0) return;
    const proof = await this.getJson<ConsistencyProof>("/v1/journal/proofs/consistency", { from_size: from.treeSize, to_size: to.treeSize }, options);
    const ok = await verifyConsistency({
      fromSize: from.treeSize,
      toSize: to.treeSize,
      fromRoot: hash(from.rootHash, "trusted root"),
      toRoot: hash(to.rootHash, "new root"),
      proof: hashes(proof.proof, "consistency proof"),
    });
    if (!ok) {
      throw new JournalVerificationError("not_consistent", `the journal of ${to.treeSize} entries does not extend the trusted one of ${from.treeSize}: its history was rewritten`);
    }
  }

  /**
   * Proves that the event with `seq` is in the journal: fetches the event, hashes it locally
   * (RFC 8785 canonical JSON, RFC 9162 leaf hash) and checks the inclusion proof against the
   * trusted checkpoint (refreshed first when it is too small to contain `seq`). Pass `event` to
   * prove that this exact event body, from a webhook or a list, is the one journaled.
   *
   * @example const { event } = await bursar.journal.verifyInclusion({ seq: 42 });
   */
  async verifyInclusion(params: { seq: number; event?: BursarEvent }, options?: CallOptions): Promise<InclusionResult> {
    const { seq } = params;
    let checkpoint = this.trusted;
    if (checkpoint === null || checkpoint.treeSize < seq) checkpoint = await this.checkpoint(options);
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > checkpoint.treeSize) {
      throw new JournalVerificationError("not_included", `seq ${seq} is not in the signed journal of ${checkpoint.treeSize} entries`);
    }
    let event = params.event;
    if (event === undefined) {
      const page = await this.getJson<PageBody<JournalEntry>>("/v1/journal/entries", { after_seq: seq - 1, limit: 1 }, options);
      event = page.data[0]?.event ?? undefined;
      if (event === undefined || event.seq !== seq) throw new JournalVerificationError("not_included", `the server did not return entry ${seq}`);
    }
    if (event.seq !== seq) throw new JournalVerificationError("leaf_mismatch", `the event is seq ${event.seq}, not ${seq}`);
    const leafHash = await hashLeaf(encoder.encode(canonicalJson(event)));
    const proof = await this.getJson<InclusionProof>("/v1/journal/proofs/inclusion", { seq, tree_size: checkpoint.treeSize }, options);
    const ok = await verifyInclusion({
      leafHash,
      leafIndex: seq - 1,
      treeSize: checkpoint.treeSize,
      proof: hashes(proof.proof, "inclusion proof"),
      rootHash: hash(checkpoint.rootHash, "trusted root"),
    });
    if (!ok) throw new JournalVerificationError("not_included", `event ${seq} (${event.id}) is not in the signed journal of ${checkpoint.treeSize} entries`);
    return { seq, treeSize: checkpoint.treeSize, event };
  }

  /**
   * Audits the whole journal: reads every entry up to the latest verified checkpoint, recomputes
   * each leaf from the event body and the Merkle root from the leaves, and compares it with the
   * signed root. O(n) in the journal's size, so for audits, not for every request.
   *
   * @example const { treeSize } = await bursar.journal.verifyEntries();
   */
  async verifyEntries(options: CallOptions & { onProgress?: (verified: number, total: number) => void } = {}): Promise<VerifiedCheckpoint> {
    const checkpoint = await this.checkpoint(options);
    const leaves: Uint8Array[] = [];
    let afterSeq = 0;
    while (afterSeq < checkpoint.treeSize) {
      const page = await this.getJson<PageBody<JournalEntry>>("/v1/journal/entries", { after_seq: afterSeq, limit: journalEntriesPageLimit }, options);
      if (page.data.length === 0) break;
      for (const entry of page.data) {
        if (entry.seq !== afterSeq + 1) throw new JournalVerificationError("not_included", `entry ${afterSeq + 1} is missing (got ${entry.seq})`);
        if (entry.seq > checkpoint.treeSize) break;
        // An entry outside this credential's view comes as its leaf hash only: it counts in the
        // root, and the root is what the signed checkpoint vouches for.
        const leaf = entry.event === null ? hash(entry.leaf_hash, `entry ${entry.seq}'s leaf hash`) : await hashLeaf(encoder.encode(canonicalJson(entry.event)));
        if (base64Encode(leaf) !== entry.leaf_hash || (entry.event !== null && entry.event.seq !== entry.seq)) {
          throw new JournalVerificationError("leaf_mismatch", `entry ${entry.seq}'s body does not hash to its leaf`);
        }
        leaves.push(leaf);
        afterSeq = entry.seq;
      }
      options.onProgress?.(afterSeq, checkpoint.treeSize);
    }
    if (leaves.length !== checkpoint.treeSize) throw new JournalVerificationError("not_included", `the server returned ${leaves.length} of ${checkpoint.treeSize} entries`);
    const root = base64Encode(await computeRoot(leaves));
    if (root !== checkpoint.rootHash) throw new JournalVerificationError("not_consistent", "the entries do not hash to the signed root");
    return checkpoint;
  }

  private async verifySigned(served: JournalCheckpoint, key: JournalKey): Promise<VerifiedCheckpoint> {
    const checked = await verifyCheckpoint(String(served.note), { ...key, origin: key.keyName });
    if (!checked.ok) throw new JournalVerificationError("invalid_checkpoint", `${checked.reason}: ${checked.detail}`);
    const rootHash = base64Encode(checked.rootHash);
    if (served.tree_size !== checked.treeSize || served.root_hash !== rootHash || served.origin !== checked.origin) {
      throw new JournalVerificationError("checkpoint_mismatch", "the checkpoint's fields differ from what its signed note says");
    }
    return { origin: checked.origin, treeSize: checked.treeSize, rootHash, time: served.time, note: served.note };
  }

  private async trust(checkpoint: VerifiedCheckpoint): Promise<VerifiedCheckpoint> {
    this.trusted = checkpoint;
    const { trustStore } = this.options;
    if (trustStore?.saveJournalTrust && this.key) {
      const trust: JournalTrust = {
        verifierKey: this.key.verifierKey,
        checkpoint: { origin: checkpoint.origin, tree_size: checkpoint.treeSize, root_hash: checkpoint.rootHash, time: checkpoint.time, note: checkpoint.note },
      };
      await trustStore.saveJournalTrust(checkpoint.origin, trust);
    }
    return checkpoint;
  }

  /** The key checkpoints must be signed with: configured, pinned in the store, or first seen. */
  private async trustedKey(options?: CallOptions): Promise<JournalKey & { verifierKey: string }> {
    if (this.key) return this.key;
    let verifierKey = this.options.verifierKey;
    let origin: string;
    if (verifierKey === undefined) {
      const authority = await this.authority(options);
      verifierKey = authority.verifier_key;
      origin = authority.origin;
    } else {
      origin = verifierKey.slice(0, verifierKey.indexOf("+"));
    }
    if (this.options.tenantId !== undefined && origin !== `bursar/${this.options.tenantId}`) {
      throw new JournalVerificationError("untrusted_key", `the server presented the journal of ${origin}, not of tenant ${this.options.tenantId}`);
    }
    const { trustStore } = this.options;
    if (!this.trustLoaded && trustStore?.loadJournalTrust) {
      this.trustLoaded = true;
      const stored = await trustStore.loadJournalTrust(origin);
      if (stored) {
        if (stored.verifierKey !== verifierKey) {
          throw new JournalVerificationError("untrusted_key", `the journal key of ${origin} changed since it was first trusted (${stored.verifierKey})`);
        }
        const pinned = await parseVerifierKey(stored.verifierKey);
        if (!pinned) throw new JournalVerificationError("untrusted_key", "the stored verifier key is malformed");
        this.key = { ...pinned, verifierKey: stored.verifierKey };
        // The stored checkpoint verified once; it is checked again, it costs one signature.
        this.trusted = await this.verifySigned(stored.checkpoint, pinned);
        return this.key;
      }
    }
    const parsed = await parseVerifierKey(verifierKey);
    if (!parsed || parsed.keyName !== origin) throw new JournalVerificationError("untrusted_key", `not a valid journal verifier key: ${verifierKey}`);
    this.key = { ...parsed, verifierKey };
    return this.key;
  }
}
