/**
 * Draws: spend authorizations that present an escrow intent's capability take their hold from the
 * intent's escrow account instead of the wallet (the ledger's floor on that account means
 * concurrent draws can never take more than was escrowed). The money was counted in the payer's
 * windows when it was escrowed, so while a draw holds or has consumed part of it, that part counts
 * as the draw's own spend (with its operation, for per-operation limits) and the funding's spend
 * counts the rest: the windows see the escrowed amount once.
 */
import type { WriteContext } from "../journal/events.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { guardEscrowAction } from "../escrow/state-machine.js";
import { escrowEvidenceAttemptsMax } from "../limits.js";
import type { EscrowIntentBody } from "./escrow-intents.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, saveRecord } from "./store.js";

export interface EscrowDrawSource {
  intentId: string;
  escrowAccountId: string;
}

/** Sets what the funding counts in the windows (a spend amount is positive, so nothing counted is `released`). */
export async function setFundingSpend(context: WriteContext, holdId: string, amountMinor: number): Promise<void> {
  if (amountMinor > 0) await context.tx.setSpendState(context.tenantId, holdId, "settled", amountMinor);
  else await context.tx.setSpendState(context.tenantId, holdId, "released");
}

async function loadFunded(context: WriteContext, intentId: string): Promise<StoredRecord<EscrowIntentBody>> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  invariant(intent && intent.body.hold_transfer_id && intent.body.escrow_account_id, `escrow intent ${intentId} was funded`);
  return intent;
}

/** Moves `amountMinor` of the funding's counted spend to (positive) or back from (negative) draws. */
async function shiftDrawn(context: WriteContext, intent: StoredRecord<EscrowIntentBody>, amountMinor: number): Promise<void> {
  const drawn = intent.body.drawn_amount + amountMinor;
  invariant(drawn >= 0 && drawn <= intent.body.amount, `escrow intent ${intent.id} draws within its amount`);
  intent.body.drawn_amount = drawn;
  intent.updatedAtMs = context.nowMs;
  await saveRecord(context.tx, intent, false);
  if (intent.body.settlement === null) await setFundingSpend(context, intent.body.hold_transfer_id!, intent.body.amount - drawn);
}

/**
 * Where a draw on `intentId` takes its hold from, before the policy decides: the funding's spend
 * already counts `amountMinor` less, so the decision does not count the escrowed money twice.
 * Fails `escrow_not_funded`, `escrow_disputed`, `escrow_already_settled` or `escrow_expired`.
 * `undoDrawStart` puts it back when the draw is denied.
 */
export async function startEscrowDraw(context: WriteContext, intentId: string, amountMinor: number): Promise<Result<EscrowDrawSource>> {
  const intent = await loadRecord<EscrowIntentBody>(context.tx, context.tenantId, "escrow_intent", intentId);
  if (!intent) return fail("capability_invalid", `the capability's escrow intent ${intentId} is unknown`);
  const verdict = guardEscrowAction(intent.body.status, "draw", {
    pastDeadline: Date.parse(intent.body.deadline) <= context.nowMs, evidenceAccepted: intent.body.accepted_evidence !== null,
    attempts: intent.body.attempts.length, attemptsMax: escrowEvidenceAttemptsMax,
  });
  if (verdict.verdict === "refuse") return fail(verdict.code, `escrow intent ${intentId} is ${intent.body.status}; nothing can be drawn on it`);
  if (verdict.verdict === "unchanged") return fail("escrow_already_settled", `escrow intent ${intentId} is ${intent.body.status}`);
  const funded = await loadFunded(context, intentId);
  await setFundingSpend(context, funded.body.hold_transfer_id!, funded.body.amount - funded.body.drawn_amount - amountMinor);
  return ok({ intentId, escrowAccountId: funded.body.escrow_account_id! });
}

/** The draw was denied or could not hold: the funding's spend counts as before. */
export async function undoDrawStart(context: WriteContext, intentId: string): Promise<void> {
  const intent = await loadFunded(context, intentId);
  await setFundingSpend(context, intent.body.hold_transfer_id!, intent.body.amount - intent.body.drawn_amount);
}

/** The draw holds `amountMinor` of the escrow. */
export async function recordDraw(context: WriteContext, intentId: string, amountMinor: number): Promise<void> {
  await shiftDrawn(context, await loadFunded(context, intentId), amountMinor);
}

/** The draw closed having consumed less than it held: the rest is the escrow's again. */
export async function returnDraw(context: WriteContext, intentId: string, amountMinor: number): Promise<void> {
  if (amountMinor === 0) return;
  await shiftDrawn(context, await loadFunded(context, intentId), -amountMinor);
}
