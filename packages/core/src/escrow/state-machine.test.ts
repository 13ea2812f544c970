/**
 * Every status × every action → the guard's verdict (TigerBeetle-style state-machine table). Read a
 * row as "an intent in this status, asked to do this, answers this". `proceed` changes it,
 * `unchanged` answers it as it is (a retry), a code refuses.
 */
import { describe, expect, it } from "vitest";
import { escrowActions, escrowStatuses, guardEscrowAction, type EscrowAction, type EscrowFacts, type EscrowStatus } from "./state-machine.js";

const before: EscrowFacts = { pastDeadline: false, evidenceAccepted: false, attempts: 0, attemptsMax: 10, payoutAction: "release" };
const P = "proceed";
const U = "unchanged";

// Columns in the order of `escrowActions`: fund, submit_evidence, release, refund, split, dispute, expire, draw.
const table: Record<EscrowStatus, string[]> = {
  open: [P, "escrow_not_funded", "escrow_not_funded", "escrow_not_funded", "escrow_not_funded", "escrow_not_funded", U, "escrow_not_funded"],
  funded: [U, P, P, P, P, P, U, P],
  evidence_submitted: [U, P, P, P, P, P, U, P],
  disputed: [U, "escrow_disputed", P, P, P, U, U, "escrow_disputed"],
  // A release's payout on the payee's rail (facts.payoutAction = "release"; see the split case below).
  payout_pending: [U, "escrow_payout_pending", U, "escrow_payout_pending", "escrow_payout_pending", "escrow_payout_pending", U, "escrow_payout_pending"],
  released: ["escrow_already_settled", "escrow_already_settled", U, "escrow_already_settled", "escrow_already_settled", "escrow_already_settled", U, "escrow_already_settled"],
  refunded: ["escrow_already_settled", "escrow_already_settled", "escrow_already_settled", U, "escrow_already_settled", "escrow_already_settled", U, "escrow_already_settled"],
  split: ["escrow_already_settled", "escrow_already_settled", "escrow_already_settled", "escrow_already_settled", U, "escrow_already_settled", U, "escrow_already_settled"],
  expired: ["escrow_already_settled", "escrow_already_settled", "escrow_already_settled", "escrow_already_settled", "escrow_already_settled", "escrow_already_settled", U, "escrow_already_settled"],
};

// Past the deadline: only the expiry proceeds while unsettled; settled intents answer as before.
const pastDeadline: Record<EscrowStatus, string[]> = {
  ...Object.fromEntries(["open", "funded", "evidence_submitted", "disputed"].map((status) => [status, escrowActions.map((action) => (action === "expire" ? P : "escrow_expired"))])),
  // The deadline does not interrupt a payout: the rail's outcome (or its own deadline) decides.
  payout_pending: table.payout_pending,
  released: table.released, refunded: table.refunded, split: table.split, expired: table.expired,
} as Record<EscrowStatus, string[]>;

function verdictOf(status: EscrowStatus, action: EscrowAction, facts: EscrowFacts): string {
  const guard = guardEscrowAction(status, action, facts);
  return guard.verdict === "refuse" ? guard.code : guard.verdict;
}

describe("escrow intent state machine", () => {
  it("covers every status and action", () => {
    expect(Object.keys(table).sort()).toEqual([...escrowStatuses].sort());
    for (const row of Object.values(table)) expect(row).toHaveLength(escrowActions.length);
  });

  for (const status of escrowStatuses) {
    for (const [index, action] of escrowActions.entries()) {
      it(`${status} × ${action} → ${table[status][index]} (past the deadline: ${pastDeadline[status][index]})`, () => {
        expect(verdictOf(status, action, before)).toBe(table[status][index]);
        expect(verdictOf(status, action, { ...before, pastDeadline: true })).toBe(pastDeadline[status][index]);
      });
    }
  }

  it.each([
    ["release", "release", "unchanged"],
    ["release", "split", "escrow_payout_pending"],
    ["split", "split", "unchanged"],
    ["split", "release", "escrow_payout_pending"],
  ] as const)("payout_pending for a %s: %s again → %s", (payoutAction, action, expected) => {
    expect(verdictOf("payout_pending", action, { ...before, payoutAction })).toBe(expected);
    expect(verdictOf("payout_pending", action, { ...before, payoutAction, pastDeadline: true })).toBe(expected);
  });

  it.each([
    ["funded", { evidenceAccepted: true }, "evidence_already_accepted"],
    ["evidence_submitted", { evidenceAccepted: true }, "evidence_already_accepted"],
    ["evidence_submitted", { attempts: 10 }, "evidence_attempts_exhausted"],
    ["evidence_submitted", { attempts: 9 }, "proceed"],
  ] as const)("%s: submitting evidence with %o → %s", (status, facts, expected) => {
    expect(verdictOf(status, "submit_evidence", { ...before, ...facts })).toBe(expected);
  });
});
