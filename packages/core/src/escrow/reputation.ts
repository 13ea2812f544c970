/**
 * Reputation receipts (`GET /v1/payees/{id}/reputation`): what a payee's escrow record says, as of
 * a journal position, signed with the tenant's Ed25519 journal key so that anyone holding the
 * tenant's public key (`GET /v1/journal/authority`) can check it offline.
 *
 * The formula (docs/escrow.md, "Reputation receipts"), over the payee's escrow intents that were
 * funded and are settled (`released`, `refunded`, `split`, `expired`), at most
 * `reputationIntentsMax` of the newest (an intent never funded says nothing about the payee):
 * - `counts`: settled intents per outcome, and `disputed`: those that were ever disputed;
 * - `rates_bps`: each count × 10 000 ÷ settled, rounded down (0 when nothing settled);
 * - `volume`: per currency, the minor units paid to the payee by settlements;
 * - `time_to_release_seconds`: over `released` and `split` intents, the median and 90th
 *   percentile (nearest rank: the ⌈p·n⌉-th smallest) of settled_at − funded_at, whole seconds;
 * - `journal_seq`: the tenant's journal size when it was computed.
 * The signed bytes are ASCII `bursar-reputation-receipt-v1.` followed by the RFC 8785 canonical JSON
 * of the receipt; the signature is the raw 64-byte Ed25519 signature, base64url.
 */
import { canonicalJson } from "../canonical.js";
import type { EscrowStatus } from "./state-machine.js";

export const reputationReceiptDomain = "bursar-reputation-receipt-v1";

export interface ReputationReceipt {
  version: 1;
  tenant_id: string;
  payee_id: string;
  journal_seq: number;
  computed_at: string;
  counts: { settled: number; released: number; refunded: number; split: number; expired: number; disputed: number };
  rates_bps: { released: number; refunded: number; split: number; expired: number; disputed: number };
  volume: Record<string, number>;
  time_to_release_seconds: { median: number | null; p90: number | null; samples: number };
  /** True when more intents exist than were read (`reputationIntentsMax`). */
  truncated: boolean;
}

/** What the receipt reads of one intent. */
export interface ReputationInput {
  status: EscrowStatus;
  currency: string;
  wasDisputed: boolean;
  payeeAmountMinor: number;
  fundedAtMs: number | null;
  settledAtMs: number | null;
}

function nearestRank(sorted: number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** Computes the receipt (see the module comment). Pure. */
export function computeReputation(meta: { tenantId: string; payeeId: string; journalSeq: number; computedAt: string; truncated: boolean }, intents: readonly ReputationInput[]): ReputationReceipt {
  const counts = { settled: 0, released: 0, refunded: 0, split: 0, expired: 0, disputed: 0 };
  const volume: Record<string, number> = {};
  const durations: number[] = [];
  for (const intent of intents) {
    if (intent.status !== "released" && intent.status !== "refunded" && intent.status !== "split" && intent.status !== "expired") continue;
    if (intent.fundedAtMs === null) continue;
    counts.settled++;
    counts[intent.status]++;
    if (intent.wasDisputed) counts.disputed++;
    if (intent.payeeAmountMinor > 0) volume[intent.currency] = (volume[intent.currency] ?? 0) + intent.payeeAmountMinor;
    if ((intent.status === "released" || intent.status === "split") && intent.fundedAtMs !== null && intent.settledAtMs !== null) {
      durations.push(Math.floor((intent.settledAtMs - intent.fundedAtMs) / 1000));
    }
  }
  durations.sort((a, b) => a - b);
  const rate = (count: number) => (counts.settled === 0 ? 0 : Math.floor((count * 10_000) / counts.settled));
  return {
    version: 1, tenant_id: meta.tenantId, payee_id: meta.payeeId, journal_seq: meta.journalSeq, computed_at: meta.computedAt, counts,
    rates_bps: { released: rate(counts.released), refunded: rate(counts.refunded), split: rate(counts.split), expired: rate(counts.expired), disputed: rate(counts.disputed) },
    volume, time_to_release_seconds: { median: nearestRank(durations, 0.5), p90: nearestRank(durations, 0.9), samples: durations.length },
    truncated: meta.truncated,
  };
}

/** The ASCII bytes the tenant's key signs for a receipt. */
export function reputationSigningInput(receipt: ReputationReceipt): Buffer {
  return Buffer.from(`${reputationReceiptDomain}.${canonicalJson(receipt)}`, "utf8");
}
