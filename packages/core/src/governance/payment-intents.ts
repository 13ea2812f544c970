/**
 * Payment intents (SPEC 1 `pi_`) and the transactions they execute (`txn_`). An agent asks to pay
 * one or more payees (`instructions`, the legs). In one write, each leg is decided by policy and,
 * unless denied, its money is held in the ledger; allowed legs start on the payee's rail, legs
 * that need a human wait for one approval covering them, denied legs carry their reasons. The
 * intent keeps `approval_status`, `execution_status` and each leg's status; every change is a
 * journal event.
 *
 * Leg statuses: `denied` | `pending_approval` | `executing` | `completed` | `failed` | `cancelled`.
 *
 * A transaction is how money leaves for a payee on the payee's rail, whatever asked for it: a
 * payment intent's leg, or an escrow intent's payout (escrow-intents.ts). Both take the hold
 * first, start the transaction with `newTransaction`, and settle it with the rail's outcome
 * through `settleTransaction` (callback, dispatcher, sweeper at the rail deadline), which
 * captures or releases the hold exactly once and then tells the transaction's subject.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { holdGraceSeconds, railTimeoutSecondsDefault } from "../limits.js";
import { formatMinor } from "../money.js";
import type { AvailableAction, DecisionKind } from "../policy/policy.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { openApproval, type ApprovalRecord } from "./approvals.js";
import { resolvePayee, type PayeeBody, type PayeeRecord, type RailName } from "./payees.js";
import { sandboxBehaviour, sandboxOutcome, type RailOutcome, type RailPayment } from "./rails.js";
import type { StoredRecord } from "./records.js";
import { capture, checkSpend, release, reserve, voidHold } from "./spending.js";
import { postTransfer } from "../ledger/ledger.js";
import type { Transfer } from "../ledger/types.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

export type LegStatus = "denied" | "pending_approval" | "executing" | "completed" | "failed" | "cancelled";
export type ApprovalState = "auto_approved" | "pending_approval" | "approved_by_user" | "rejected" | "expired";
export type ExecutionStatus = "pending" | "executing" | "completed" | "partially_failed" | "failed" | "cancelled";

export interface PaymentLeg {
  index: number;
  payee_id: string;
  payee_name: string;
  amount: number;
  currency: string;
  reference: string | null;
  status: LegStatus;
  decision: DecisionKind;
  reason_codes: string[];
  available_actions: AvailableAction[];
  remaining: Record<string, number | null>;
  hold_transfer_id: string | null;
  transaction_id: string | null;
  failure_reason: string | null;
}

export interface PaymentIntentBody {
  agent_id: string;
  reference: string | null;
  metadata: Record<string, string> | null;
  approval_status: ApprovalState;
  execution_status: ExecutionStatus;
  approval_id: string | null;
  legs: PaymentLeg[];
}
export type PaymentIntentRecord = StoredRecord<PaymentIntentBody>;

export interface TransactionBody {
  /** What it pays for: a payment intent's leg, or (both null) an escrow intent's payout. */
  payment_intent_id: string | null;
  leg_index: number | null;
  /** The escrow intent whose payout it is; absent on transactions stored before escrow payouts. */
  escrow_intent_id?: string | null;
  agent_id: string;
  amount: number;
  currency: string;
  status: "pending" | "completed" | "failed";
  creditor: { payee_id: string; name: string; account_id: string };
  debtor: { agent_id: string; account_id: string };
  reference: string | null;
  rail: RailName;
  rail_reference: string | null;
  failure_reason: string | null;
  hold_transfer_id: string;
  completed_at: string | null;
}
export type TransactionRecord = StoredRecord<TransactionBody>;

export interface PaymentInstruction {
  /** A `pay_` id, or a payee's name or alias. */
  payee: string;
  amountMinor: number;
  currency: string;
  reference?: string | null;
}

export interface CreatePaymentIntentInput {
  instructions: PaymentInstruction[];
  reference?: string | null;
  metadata?: Record<string, string> | null;
}

/** What a write did to payments: the intent, and transactions that an asynchronous rail must now run. */
export interface PaymentChange {
  intent: PaymentIntentRecord;
  dispatch: string[];
}

const decisionRank: Record<DecisionKind, number> = { allow: 0, approval_required: 1, deny: 2 };

export function paymentIntentView(intent: PaymentIntentRecord) {
  const { legs } = intent.body;
  const currencies = new Set(legs.map((leg) => leg.currency));
  const currency = currencies.size === 1 ? legs[0]!.currency : null;
  const amount = currency === null ? null : legs.reduce((sum, leg) => sum + leg.amount, 0);
  const decision = legs.reduce<DecisionKind>((worst, leg) => (decisionRank[leg.decision] > decisionRank[worst] ? leg.decision : worst), "allow");
  const union = (pick: (leg: PaymentLeg) => string[]) => [...new Set(legs.flatMap(pick))];
  return {
    object: "payment_intent" as const,
    ...recordStamp(intent, toRfc3339),
    ...intent.body,
    amount,
    amount_display: amount === null || currency === null ? null : formatMinor(amount, currency),
    currency,
    decision,
    reason_codes: union((leg) => leg.reason_codes),
    available_actions: union((leg) => leg.available_actions),
    legs: legs.map((leg) => ({ ...leg, amount_display: formatMinor(leg.amount, leg.currency) })),
    transaction_ids: legs.flatMap((leg) => (leg.transaction_id ? [leg.transaction_id] : [])),
  };
}

export function transactionView(transaction: TransactionRecord) {
  const body = transaction.body;
  return {
    object: "transaction" as const, ...recordStamp(transaction, toRfc3339), ...body, escrow_intent_id: body.escrow_intent_id ?? null,
    amount_display: formatMinor(body.amount, body.currency),
  };
}

/** The intent's execution status, from its legs. */
export function executionStatusOf(legs: readonly PaymentLeg[]): ExecutionStatus {
  const count = (status: LegStatus) => legs.filter((leg) => leg.status === status).length;
  if (count("executing") > 0) return "executing";
  if (count("pending_approval") > 0) return "pending";
  const completed = count("completed");
  if (completed === legs.length) return "completed";
  if (completed > 0) return "partially_failed";
  if (count("cancelled") > 0 && count("failed") === 0) return "cancelled";
  return "failed";
}

/**
 * Creates a payment intent for `agent` and acts on each leg. Fails, writing nothing, when a payee
 * cannot be resolved or a leg's currency is not its payee's. Events: `payment_intent.created`,
 * then `approval.created` + `payment_intent.approval_required` when legs wait, then the
 * execution events of legs that settled at once (see `settle`).
 */
export async function createPaymentIntent(context: WriteContext, agent: AgentRow, input: CreatePaymentIntentInput): Promise<Result<PaymentChange>> {
  const { tx, tenantId, nowMs } = context;
  if (agent.status !== "active") return fail("agent_disabled", `agent ${agent.id} is disabled`);

  const payees: PayeeRecord[] = [];
  for (const [index, instruction] of input.instructions.entries()) {
    const payee = await resolvePayee(tx, tenantId, instruction.payee);
    if (!payee.ok) return fail(payee.code, `instructions.${index}: ${payee.detail}`);
    if (payee.value.body.currency !== instruction.currency) {
      return fail("currency_mismatch", `instructions.${index}: payee ${payee.value.id} is paid in ${payee.value.body.currency}, not ${instruction.currency}`);
    }
    payees.push(payee.value);
  }
  // The wallet and every payee's account in one read for update: the holds below find them read
  // and locked already (on PostgreSQL one round trip instead of one per hold, and one for the wallet).
  const accounts = await tx.getAccountsForUpdate(tenantId, [agent.walletAccountId, ...payees.map((payee) => payee.body.account_id)]);
  const wallet = accounts.find((account) => account.id === agent.walletAccountId);
  invariant(wallet, `agent ${agent.id} has its wallet`);

  const intent: PaymentIntentRecord = {
    tenantId, kind: "payment_intent", id: newId("pi", nowMs), agentId: agent.id, status: "pending", refId: null, dueAtMs: null,
    createdAtMs: nowMs, updatedAtMs: nowMs,
    body: {
      agent_id: agent.id, reference: input.reference ?? null, metadata: input.metadata ?? null,
      approval_status: "auto_approved", execution_status: "pending", approval_id: null, legs: [],
    },
  };
  let expirySeconds = 0;
  const holds = new Map<string, Transfer>();
  for (const [index, instruction] of input.instructions.entries()) {
    const payee = payees[index]!;
    const { decision, policy } = await checkSpend(tx, agent, wallet.currency, { kind: "payment", amountMinor: instruction.amountMinor, currency: instruction.currency, payeeId: payee.id }, nowMs);
    const leg: PaymentLeg = {
      index, payee_id: payee.id, payee_name: payee.body.name, amount: instruction.amountMinor, currency: instruction.currency,
      reference: instruction.reference ?? input.reference ?? null, status: "denied", decision: decision.decision,
      reason_codes: decision.reason_codes, available_actions: decision.available_actions, remaining: decision.remaining,
      hold_transfer_id: null, transaction_id: null, failure_reason: null,
    };
    intent.body.legs.push(leg);
    if (decision.decision === "deny") continue;
    const waits = decision.decision === "approval_required";
    expirySeconds = Math.max(expirySeconds, policy.policy.approval_expiry_seconds);
    const hold = await reserve(context, {
      agentId: agent.id, walletAccountId: wallet.id, creditAccountId: payee.body.account_id, amountMinor: leg.amount,
      currency: leg.currency, payeeId: payee.id, reference: leg.reference,
      timeoutSeconds: (waits ? policy.policy.approval_expiry_seconds : 0) + railTimeoutSecondsDefault + holdGraceSeconds,
      metadata: { payment_intent_id: intent.id, leg: String(index) },
    });
    if (!hold.ok) {
      Object.assign(leg, {
        decision: "deny", reason_codes: [...leg.reason_codes, hold.code],
        available_actions: hold.code === "insufficient_funds" ? ["lower_amount", "fund_wallet"] : leg.available_actions,
      });
      continue;
    }
    leg.hold_transfer_id = hold.value.id;
    holds.set(hold.value.id, hold.value);
    leg.status = waits ? "pending_approval" : "executing";
  }

  const waiting = intent.body.legs.filter((leg) => leg.status === "pending_approval");
  let approval: ApprovalRecord | null = null;
  if (waiting.length > 0) {
    approval = await openApproval(context, {
      subjectType: "payment_intent", subjectId: intent.id, agentId: agent.id,
      amountMinor: waiting.reduce((sum, leg) => sum + leg.amount, 0), currency: waiting[0]!.currency,
      reasonCodes: [...new Set(waiting.flatMap((leg) => leg.reason_codes))], expirySeconds,
    });
    intent.body.approval_status = "pending_approval";
    intent.body.approval_id = approval.id;
  }
  intent.body.execution_status = executionStatusOf(intent.body.legs);
  intent.status = intent.body.execution_status;
  await appendEvent(context, "payment_intent.created", { payment_intent: paymentIntentView(intent) }, agent.id);
  if (approval) await appendEvent(context, "payment_intent.approval_required", { payment_intent: paymentIntentView(intent), approval_id: approval.id }, agent.id);
  // The intent is stored once, by startLegs, in its state after this write (one insert, not an
  // insert then an update: nothing in between reads it from the store).
  return startLegs(context, intent, "executing", true, { payees, holds });
}

/** Payees and holds this write already has in hand, by id: startLegs need not read them again. */
interface KnownRows {
  payees: readonly PayeeRecord[];
  holds: ReadonlyMap<string, Transfer>;
}

/**
 * Starts every leg in `from` status on its rail: creates its transaction, settles sandbox legs
 * at once, and returns the others for dispatch. Saves the intent and emits its terminal event.
 */
async function startLegs(context: WriteContext, intent: PaymentIntentRecord, from: LegStatus, saveFirst: boolean, known?: KnownRows): Promise<Result<PaymentChange>> {
  const dispatch: string[] = [];
  const before = intent.body.execution_status;
  for (const leg of intent.body.legs) {
    if (leg.status !== from) continue;
    const payee = known?.payees.find((row) => row.id === leg.payee_id) ?? (await loadRecord<PayeeBody>(context.tx, context.tenantId, "payee", leg.payee_id));
    const holdId = leg.hold_transfer_id;
    const hold = holdId === null ? null : (known?.holds.get(holdId) ?? (await context.tx.getTransfer(context.tenantId, holdId)));
    invariant(payee && hold, `leg ${leg.index} of ${intent.id} has its payee and hold`);
    leg.status = "executing";
    const { transaction, inlineOutcome } = newTransaction(context, {
      paymentIntentId: intent.id, legIndex: leg.index, escrowIntentId: null, agentId: intent.body.agent_id, payee, hold, reference: leg.reference,
    });
    leg.transaction_id = transaction.id;
    if (inlineOutcome) {
      await settleLeg(context, intent, leg, transaction, inlineOutcome, true);
    } else {
      await saveRecord(context.tx, transaction, true);
      dispatch.push(transaction.id);
    }
  }
  await saveIntent(context, intent, before, saveFirst);
  return ok({ intent, dispatch });
}

/** What a new transaction pays for and from which hold (a pending transfer to the payee's account). */
export interface TransactionStart {
  paymentIntentId: string | null;
  legIndex: number | null;
  escrowIntentId: string | null;
  agentId: string;
  payee: PayeeRecord;
  hold: Transfer;
  reference: string | null;
}

/**
 * A new `pending` transaction on the payee's rail, due at the rail deadline (not saved). A sandbox
 * payee without a delay has its outcome now (`inlineOutcome`: settle it in this write); any other
 * transaction is saved by the caller and dispatched to its rail once the write has committed.
 */
export function newTransaction(context: WriteContext, start: TransactionStart): { transaction: TransactionRecord; inlineOutcome: RailOutcome | null } {
  const { payee, hold } = start;
  const transaction: TransactionRecord = {
    tenantId: context.tenantId, kind: "transaction", id: newId("txn", context.nowMs), agentId: start.agentId, status: "pending",
    refId: start.paymentIntentId ?? start.escrowIntentId, dueAtMs: context.nowMs + railTimeoutSecondsDefault * 1000, createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      payment_intent_id: start.paymentIntentId, leg_index: start.legIndex, escrow_intent_id: start.escrowIntentId, agent_id: start.agentId,
      amount: hold.amountMinor, currency: hold.currency, status: "pending",
      creditor: { payee_id: payee.id, name: payee.body.name, account_id: payee.body.account_id },
      debtor: { agent_id: start.agentId, account_id: hold.debitAccountId }, reference: start.reference, rail: payee.body.rail,
      rail_reference: null, failure_reason: null, hold_transfer_id: hold.id, completed_at: null,
    },
  };
  const behaviour = payee.body.rail === "sandbox" ? sandboxBehaviour(payee.body.rail_details) : null;
  return { transaction, inlineOutcome: behaviour && behaviour.delayMs === 0 ? sandboxOutcome(behaviour, transaction.id) : null };
}

/**
 * Applies a rail outcome to a transaction: captures its hold (completed) or releases it (failed),
 * saves it and emits `transaction.completed` / `.failed`. A payment's hold is a spend in the
 * agent's windows and settles with it; an escrow payout's hold moves money already counted when
 * the escrow was funded, so only the ledger moves. Answers the outcome applied (a hold that can
 * no longer be captured fails the transaction).
 */
export async function applyRailOutcome(context: WriteContext, transaction: TransactionRecord, outcome: RailOutcome, isNew: boolean): Promise<RailOutcome> {
  const countsAsSpend = (transaction.body.escrow_intent_id ?? null) === null;
  const holdId = transaction.body.hold_transfer_id;
  let result = outcome;
  if (result.status === "completed") {
    const captured = countsAsSpend ? await capture(context, holdId) : await postTransfer(context, holdId);
    if (!captured.ok) result = { status: "failed", reason: captured.code };
  }
  if (result.status === "failed") await (countsAsSpend ? release(context, holdId) : voidHold(context, holdId));
  const completed = result.status === "completed";
  transaction.status = completed ? "completed" : "failed";
  transaction.dueAtMs = null;
  transaction.updatedAtMs = context.nowMs;
  transaction.body = {
    ...transaction.body, status: transaction.status as TransactionBody["status"],
    rail_reference: result.status === "completed" ? result.railReference : null,
    failure_reason: result.status === "failed" ? result.reason : null, completed_at: completed ? toRfc3339(context.nowMs) : null,
  };
  await saveRecord(context.tx, transaction, isNew);
  await appendEvent(context, `transaction.${transaction.status}`, { transaction: transactionView(transaction) }, transaction.agentId);
  return result;
}

/** Applies a rail outcome to one leg and its transaction, capturing or releasing the hold. */
async function settleLeg(context: WriteContext, intent: PaymentIntentRecord, leg: PaymentLeg, transaction: TransactionRecord, outcome: RailOutcome, isNew: boolean): Promise<void> {
  await applyRailOutcome(context, transaction, outcome, isNew);
  leg.status = transaction.body.status === "completed" ? "completed" : "failed";
  leg.failure_reason = transaction.body.failure_reason;
}

/** What a settled escrow payout does to its escrow intent (escrow-intents.ts registers it; no import cycle). */
type EscrowPayoutSettled = (context: WriteContext, transaction: TransactionRecord) => Promise<void>;
let escrowPayoutSettled: EscrowPayoutSettled | null = null;

/** Registers what settling an escrow payout's transaction does to its intent. */
export function registerEscrowPayoutSubject(settled: EscrowPayoutSettled): void {
  escrowPayoutSettled = settled;
}

/** Saves the intent with statuses recomputed; emits `payment_intent.executed` / `.failed` when it just finished. */
async function saveIntent(context: WriteContext, intent: PaymentIntentRecord, before: ExecutionStatus, isNew: boolean): Promise<void> {
  const after = executionStatusOf(intent.body.legs);
  intent.body.execution_status = after;
  intent.status = after;
  intent.updatedAtMs = context.nowMs;
  await saveRecord(context.tx, intent, isNew);
  if (after === before) return;
  const type = after === "completed" || after === "partially_failed" ? "executed" : after === "failed" ? "failed" : after === "cancelled" ? "cancelled" : null;
  if (type) await appendEvent(context, `payment_intent.${type}`, { payment_intent: paymentIntentView(intent) }, intent.agentId);
}

/**
 * Settles a transaction with its rail's outcome (a rail callback, a rail that answered, or the
 * sweeper at the rail deadline). A repeat of the same outcome is a no-op; a different outcome
 * for a settled transaction fails with `transaction_not_pending`.
 */
export async function settleTransaction(context: WriteContext, transactionId: string, outcome: RailOutcome): Promise<Result<TransactionRecord>> {
  const transaction = await loadRecord<TransactionBody>(context.tx, context.tenantId, "transaction", transactionId);
  if (!transaction) return fail("not_found", `transaction ${transactionId} not found`);
  if (transaction.body.status !== "pending") {
    const same = transaction.body.status === (outcome.status === "completed" ? "completed" : "failed");
    return same ? ok(transaction) : fail("transaction_not_pending", `transaction ${transactionId} is ${transaction.body.status}`);
  }
  if (transaction.body.payment_intent_id === null) {
    invariant(transaction.body.escrow_intent_id && escrowPayoutSettled, `transaction ${transactionId} is an escrow payout`);
    await applyRailOutcome(context, transaction, outcome, false);
    await escrowPayoutSettled(context, transaction);
    return ok(transaction);
  }
  const intent = await loadRecord<PaymentIntentBody>(context.tx, context.tenantId, "payment_intent", transaction.body.payment_intent_id);
  invariant(intent, `transaction ${transactionId} has its payment intent`);
  const leg = intent.body.legs[transaction.body.leg_index!];
  invariant(leg && leg.transaction_id === transactionId, `leg of transaction ${transactionId}`);
  const before = intent.body.execution_status;
  await settleLeg(context, intent, leg, transaction, outcome, false);
  await saveIntent(context, intent, before, false);
  return ok(transaction);
}

/** The approval of `intent` was granted: its waiting legs start. Event: `payment_intent.approved`. */
export async function approvePaymentIntent(context: WriteContext, intentId: string): Promise<Result<PaymentChange>> {
  const intent = await loadRecord<PaymentIntentBody>(context.tx, context.tenantId, "payment_intent", intentId);
  invariant(intent, `payment intent ${intentId} exists`);
  intent.body.approval_status = "approved_by_user";
  await appendEvent(context, "payment_intent.approved", { payment_intent_id: intent.id, approval_id: intent.body.approval_id }, intent.agentId);
  return startLegs(context, intent, "pending_approval", false);
}

/** The approval of `intent` was rejected or expired: waiting legs are cancelled and their holds released. */
export async function closePaymentIntent(context: WriteContext, intentId: string, outcome: "rejected" | "expired"): Promise<PaymentIntentRecord> {
  const intent = await loadRecord<PaymentIntentBody>(context.tx, context.tenantId, "payment_intent", intentId);
  invariant(intent, `payment intent ${intentId} exists`);
  const before = intent.body.execution_status;
  intent.body.approval_status = outcome;
  for (const leg of intent.body.legs) {
    if (leg.status !== "pending_approval") continue;
    await release(context, leg.hold_transfer_id!);
    leg.status = "cancelled";
  }
  await appendEvent(context, `payment_intent.${outcome}`, { payment_intent_id: intent.id, approval_id: intent.body.approval_id }, intent.agentId);
  await saveIntent(context, intent, before, false);
  return intent;
}

/** What an asynchronous rail needs to run a transaction. */
export async function railPaymentOf(reader: StoreReader, tenantId: string, transactionId: string): Promise<RailPayment | null> {
  const transaction = await loadRecord<TransactionBody>(reader, tenantId, "transaction", transactionId);
  if (!transaction || transaction.body.status !== "pending") return null;
  const payee = await loadRecord<PayeeBody>(reader, tenantId, "payee", transaction.body.creditor.payee_id);
  invariant(payee, `transaction ${transactionId} has its payee`);
  return {
    tenantId, transactionId, paymentIntentId: transaction.body.payment_intent_id, escrowIntentId: transaction.body.escrow_intent_id ?? null, agentId: transaction.body.agent_id,
    amountMinor: transaction.body.amount, currency: transaction.body.currency, reference: transaction.body.reference,
    payee: { id: payee.id, name: payee.body.name, rail: payee.body.rail, railDetails: payee.body.rail_details },
  };
}
