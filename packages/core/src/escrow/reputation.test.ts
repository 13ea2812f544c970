/** The reputation formula as a table: counts, rates in basis points, volume and nearest-rank percentiles. */
import { describe, expect, it } from "vitest";
import { computeReputation, type ReputationInput } from "./reputation.js";

const meta = { tenantId: "ten_1", payeeId: "pay_1", journalSeq: 42, computedAt: "2026-12-01T00:00:00.000Z", truncated: false };
const settled = (status: ReputationInput["status"], seconds: number, paid: number, extra: Partial<ReputationInput> = {}): ReputationInput => ({
  status, currency: "GBP", wasDisputed: false, payeeAmountMinor: paid, fundedAtMs: 0, settledAtMs: seconds * 1000, ...extra,
});

describe("reputation receipts", () => {
  it("counts settled, funded intents only, with rates rounded down and nearest-rank percentiles", () => {
    const receipt = computeReputation(meta, [
      settled("released", 10, 100), settled("released", 20, 200), settled("released", 30, 300), settled("split", 40, 50, { wasDisputed: true }),
      settled("refunded", 5, 0), settled("expired", 99, 0), settled("released", 50, 10, { currency: "USD" }),
      settled("funded", 1, 0), settled("open", 1, 0), settled("expired", 1, 0, { fundedAtMs: null }),
    ]);
    expect(receipt.counts).toEqual({ settled: 7, released: 4, refunded: 1, split: 1, expired: 1, disputed: 1 });
    expect(receipt.rates_bps).toEqual({ released: 5714, refunded: 1428, split: 1428, expired: 1428, disputed: 1428 });
    expect(receipt.volume).toEqual({ GBP: 650, USD: 10 });
    // Release times 10, 20, 30, 40, 50: median = 3rd smallest, p90 = ⌈4.5⌉ = 5th.
    expect(receipt.time_to_release_seconds).toEqual({ median: 30, p90: 50, samples: 5 });
    expect(receipt).toMatchObject({ version: 1, journal_seq: 42, payee_id: "pay_1", truncated: false });
  });

  it("an empty record has zero rates and no percentiles", () => {
    expect(computeReputation(meta, [])).toMatchObject({ counts: { settled: 0 }, rates_bps: { released: 0 }, volume: {}, time_to_release_seconds: { median: null, p90: null, samples: 0 } });
  });
});
