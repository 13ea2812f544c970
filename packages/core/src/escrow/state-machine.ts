/**
 * The escrow intent state machine, as one pure function: which action is allowed in which status,
 * and with which result code it is refused. escrow-intents.ts asks it before every change, and
 * state-machine.test.ts checks every status × action pair.
 *
 *   open ──fund──▶ funded ──evidence──▶ evidence_submitted ──▶ released | refunded | split
 *     │              │   └──────release / refund / split──────▶ (settled)
 *     │              └──dispute──▶ disputed ──release / refund / split──▶ (settled)
 *     └──deadline──▶ expired  ◀──deadline── funded | evidence_submitted (refunds)
 *
 * A release or split whose payee part goes out on an asynchronous rail (the webhook rail, a
 * delayed sandbox) passes through `payout_pending` while the payee's rail runs the payout
 * transaction: the same release or split again answers it as it is, anything else is
 * `escrow_payout_pending`, and neither the deadline nor a dispute can touch the money. The rail's
 * outcome settles it (`released` / `split`), or, when the payout fails, puts it back where it was.
 *
 * Settled statuses (`released`, `refunded`, `split`, `expired`) are final: the same settlement
 * again answers the first result (a retry is safe), any other change is `escrow_already_settled`.
 */
import type { ResultCode } from "../result.js";

export const escrowStatuses = ["open", "funded", "evidence_submitted", "disputed", "payout_pending", "released", "refunded", "split", "expired"] as const;
export type EscrowStatus = (typeof escrowStatuses)[number];
export const settledEscrowStatuses: readonly EscrowStatus[] = ["released", "refunded", "split", "expired"];

export const escrowActions = ["fund", "submit_evidence", "release", "refund", "split", "dispute", "expire", "draw"] as const;
export type EscrowAction = (typeof escrowActions)[number];

/** What the guard needs to know besides the status. */
export interface EscrowFacts {
  /** The deadline has passed (for a disputed intent: its decision window has). */
  pastDeadline: boolean;
  /** A submission already passed the predicate (confirm mode waits for an owner). */
  evidenceAccepted: boolean;
  /** Submissions so far, and the most allowed. */
  attempts: number;
  attemptsMax: number;
  /** While `payout_pending`: the settling action whose payout is on the rail. */
  payoutAction?: "release" | "split" | null;
}

/** `proceed`: do it; `unchanged`: answer the intent as it is (a retry of what was done). */
export type EscrowGuard = { verdict: "proceed" } | { verdict: "unchanged" } | { verdict: "refuse"; code: ResultCode };

const proceed: EscrowGuard = { verdict: "proceed" };
const unchanged: EscrowGuard = { verdict: "unchanged" };
const refuse = (code: ResultCode): EscrowGuard => ({ verdict: "refuse", code });

/** The settled status each settling action leads to. */
const settles: Partial<Record<EscrowAction, EscrowStatus>> = { release: "released", refund: "refunded", split: "split", expire: "expired" };

/** Whether `action` may happen to an intent in `status` (see the module comment). */
export function guardEscrowAction(status: EscrowStatus, action: EscrowAction, facts: EscrowFacts): EscrowGuard {
  if (settledEscrowStatuses.includes(status)) {
    if (settles[action] === status || action === "expire") return unchanged;
    return refuse("escrow_already_settled");
  }
  // A payout on the payee's rail: only its rail outcome moves the money now (not even the deadline).
  if (status === "payout_pending") {
    if (action === "expire" || action === "fund" || action === facts.payoutAction) return unchanged;
    return refuse("escrow_payout_pending");
  }
  // Past the deadline only the sweep's expiry happens (a caller's action expires the intent first).
  if (facts.pastDeadline) return action === "expire" ? proceed : refuse("escrow_expired");
  if (action === "expire") return unchanged;
  if (status === "open") return action === "fund" ? proceed : refuse("escrow_not_funded");
  if (action === "fund") return unchanged;
  if (status === "disputed") {
    if (action === "dispute") return unchanged;
    if (action === "submit_evidence" || action === "draw") return refuse("escrow_disputed");
    return proceed;
  }
  if (action === "submit_evidence") {
    if (facts.evidenceAccepted) return refuse("evidence_already_accepted");
    if (facts.attempts >= facts.attemptsMax) return refuse("evidence_attempts_exhausted");
  }
  return proceed;
}
