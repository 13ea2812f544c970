/**
 * The double-entry ledger. Every operation runs inside one store write transaction
 * (`WriteContext.tx`): it loads what it needs, decides in memory, and only then writes — so an
 * expected failure (a `Failure` result) has written nothing, and a batch succeeds or fails as one.
 *
 * Balance rules (as TigerBeetle's): a transfer of `a` from D to C adds `a` to D's debits and C's
 * credits, pending first when it is a hold. Posting a hold moves `posted ≤ a` from pending to
 * posted and releases the rest; voiding or expiry releases all of it. An account with
 * `debitsMustNotExceedCredits` refuses any debit that would make
 * `debits_pending + debits_posted > credits_posted` (the floor).
 */
import { canonicalJson } from "../canonical.js";
import { sha256Hex } from "../hash.js";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { balanceMinorMax, holdTimeoutSecondsMax, holdTimeoutSecondsMin, transferBatchCountMax } from "../limits.js";
import { isCurrency, isValidAmountMinor } from "../money.js";
import { fail, invariant, ok, type FieldError, type Result } from "../result.js";
import type { Account, AccountKind, Transfer } from "./types.js";
import { accountView, transferView } from "./views.js";

export interface CreateAccountInput {
  currency: string;
  kind?: AccountKind;
  name?: string | null;
  /** Defaults to true: an account cannot go below zero unless its creator says so. */
  debitsMustNotExceedCredits?: boolean;
  metadata?: Record<string, string> | null;
}

export interface TransferInput {
  /** Client-supplied id (`tr_…`): the idempotency key of the transfer. Generated when absent. */
  id?: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: string;
  /** A hold: the amount is reserved until posted, voided or expired. */
  pending?: boolean;
  /** Hold lifetime; required bounds in limits.ts. */
  timeoutSeconds?: number;
  reference?: string | null;
  metadata?: Record<string, string> | null;
}

export interface CreatedTransfers {
  transfers: Transfer[];
  /** Per transfer: false when the id existed with the same fields (the first result, replayed). */
  created: boolean[];
}

/** Default hold lifetime when a pending transfer does not say: one hour. */
export const defaultHoldTimeoutSeconds = 3600;

/** Creates a ledger account with zero balances. */
export async function createAccount(context: WriteContext, input: CreateAccountInput): Promise<Result<Account>> {
  if (!isCurrency(input.currency)) return fail("unknown_currency", `${input.currency} is not a known ISO 4217 currency`);
  const account: Account = {
    id: newId("acc", context.nowMs),
    tenantId: context.tenantId,
    currency: input.currency,
    kind: input.kind ?? "general",
    name: input.name ?? null,
    debitsMustNotExceedCredits: input.debitsMustNotExceedCredits ?? true,
    debitsPendingMinor: 0,
    debitsPostedMinor: 0,
    creditsPendingMinor: 0,
    creditsPostedMinor: 0,
    metadata: input.metadata ?? null,
    createdAtMs: context.nowMs,
  };
  await context.tx.insertAccount(account);
  await appendEvent(context, "account.created", { account: accountView(account) });
  return ok(account);
}

/**
 * Creates transfers as one atomic batch: either every transfer applies, or none does and the
 * failure names the first one that could not (`errors[i].path = "transfers.i"`), the others
 * marked `linked_transfer_failed`. A transfer whose id exists with identical fields is not
 * applied again: the stored transfer is returned with `created: false`.
 */
export async function createTransfers(context: WriteContext, inputs: TransferInput[]): Promise<Result<CreatedTransfers>> {
  invariant(inputs.length > 0 && inputs.length <= transferBatchCountMax, "batch size validated by the caller");
  const { tx, tenantId, nowMs } = context;
  const batchId = inputs.length > 1 ? newId("bat", nowMs) : null;

  // 1. Idempotency by transfer id, and duplicate ids inside the batch.
  const results: Array<Transfer | null> = [];
  const seenIds = new Set<string>();
  const fingerprints = inputs.map(transferFingerprint);
  for (const [index, input] of inputs.entries()) {
    const fingerprint = fingerprints[index]!;
    if (input.id === undefined) {
      results.push(null);
      continue;
    }
    if (seenIds.has(input.id)) return batchFailure(inputs.length, index, "validation_failed", `transfer id ${input.id} appears twice in the batch`);
    seenIds.add(input.id);
    const existing = await tx.getTransfer(tenantId, input.id);
    if (existing && existing.fingerprint !== fingerprint) {
      return batchFailure(inputs.length, index, "transfer_exists_with_different_fields", `transfer ${input.id} exists with different fields`);
    }
    results.push(existing);
  }

  // 2. Load every account involved once, then apply in memory, in order.
  const accountIds = [...new Set(inputs.flatMap((input) => [input.debitAccountId, input.creditAccountId]))];
  const accounts = new Map((await tx.getAccountsForUpdate(tenantId, accountIds)).map((a) => [a.id, { ...a }]));
  const touched = new Set<string>();
  const newTransfers: Transfer[] = [];
  for (const [index, input] of inputs.entries()) {
    if (results[index]) continue;
    const decided = decideTransfer(input, accounts, nowMs);
    if (!decided.ok) return batchFailure(inputs.length, index, decided.code, decided.detail);
    const transfer: Transfer = {
      ...decided.value,
      id: input.id ?? newId("tr", nowMs),
      tenantId,
      batchId,
      fingerprint: fingerprints[index]!,
    };
    applyCreate(transfer, accounts);
    touched.add(transfer.debitAccountId).add(transfer.creditAccountId);
    newTransfers.push(transfer);
    results[index] = transfer;
  }

  // 3. Write. Nothing was written before this point.
  await tx.updateAccountBalances(tenantId, [...touched].map((id) => checkedAccount(accounts.get(id))));
  for (const transfer of newTransfers) {
    await tx.insertTransfer(transfer);
    await appendEvent(context, "transfer.created", { transfer: transferView(transfer) });
  }
  const fresh = new Set(newTransfers);
  const created = inputs.map((_, index) => fresh.has(results[index]!));
  return ok({ transfers: results.map((t) => t!), created });
}

/**
 * Posts a hold: moves `amountMinor` (default: all of it) from pending to posted and releases the
 * rest. A hold past its expiry is expired instead, and the failure says so.
 */
export async function postTransfer(context: WriteContext, transferId: string, amountMinor?: number): Promise<Result<Transfer>> {
  const loaded = await loadLiveHold(context, transferId);
  if (!loaded.ok) return loaded;
  const { transfer } = loaded.value;
  const postedMinor = amountMinor ?? transfer.amountMinor;
  if (!isValidAmountMinor(postedMinor)) return fail("validation_failed", "amount must be a positive integer of minor units");
  if (postedMinor > transfer.amountMinor) {
    return fail("post_amount_exceeds_pending_amount", `cannot post ${postedMinor}; the hold is ${transfer.amountMinor}`);
  }
  return ok(await settle(context, loaded.value, "posted", postedMinor));
}

/** Voids a hold: releases all of it. */
export async function voidTransfer(context: WriteContext, transferId: string): Promise<Result<Transfer>> {
  const loaded = await loadLiveHold(context, transferId);
  if (!loaded.ok) return loaded;
  return ok(await settle(context, loaded.value, "voided", 0));
}

/**
 * Expires a hold whose time has come (the expiry sweeper calls this). Fails with
 * `transfer_not_pending` when it was settled meanwhile, and `validation_failed` when it is not due.
 */
export async function expireHold(context: WriteContext, transferId: string): Promise<Result<Transfer>> {
  const loaded = await loadHold(context, transferId);
  if (!loaded.ok) return loaded;
  const { expiresAtMs } = loaded.value.transfer;
  if (expiresAtMs === null || expiresAtMs > context.nowMs) return fail("validation_failed", `transfer ${transferId} is not due to expire`);
  return ok(await settle({ ...context, actor: holdExpiryActor }, loaded.value, "expired", 0));
}

/**
 * Funds an account from the tenant's funding account for its currency (created on first use,
 * with no floor: it is where outside money enters the books, so its balance is negative).
 */
export async function deposit(
  context: WriteContext,
  input: { accountId: string; amountMinor: number; id?: string; reference?: string | null },
): Promise<Result<CreatedTransfers>> {
  const account = await context.tx.getAccount(context.tenantId, input.accountId);
  if (!account) return fail("not_found", `account ${input.accountId} not found`);
  let funding = await context.tx.findFundingAccount(context.tenantId, account.currency);
  if (!funding) {
    const created = await createAccount(context, {
      currency: account.currency,
      kind: "funding",
      name: `Funding ${account.currency}`,
      debitsMustNotExceedCredits: false,
    });
    invariant(created.ok, "funding account creation cannot fail for a known currency");
    funding = created.value;
  }
  return createTransfers(context, [
    {
      id: input.id,
      debitAccountId: funding.id,
      creditAccountId: account.id,
      amountMinor: input.amountMinor,
      currency: account.currency,
      reference: input.reference ?? null,
      metadata: null,
    },
  ]);
}

// ---------------------------------------------------------------------------------------------

type Decided = Omit<Transfer, "id" | "tenantId" | "batchId" | "fingerprint">;

function decideTransfer(input: TransferInput, accounts: Map<string, Account>, nowMs: number): Result<Decided> {
  if (!isValidAmountMinor(input.amountMinor)) return fail("validation_failed", "amount must be a positive integer of minor units, at most 10^15");
  if (!isCurrency(input.currency)) return fail("unknown_currency", `${input.currency} is not a known ISO 4217 currency`);
  if (input.debitAccountId === input.creditAccountId) return fail("accounts_must_be_different", "debit and credit accounts must differ");
  const debit = accounts.get(input.debitAccountId);
  if (!debit) return fail("not_found", `account ${input.debitAccountId} not found`);
  const credit = accounts.get(input.creditAccountId);
  if (!credit) return fail("not_found", `account ${input.creditAccountId} not found`);
  if (debit.currency !== input.currency || credit.currency !== input.currency) {
    return fail("currency_mismatch", `transfer in ${input.currency} between accounts in ${debit.currency} and ${credit.currency}`);
  }
  const pending = input.pending ?? false;
  if (!pending && input.timeoutSeconds !== undefined) return fail("validation_failed", "timeout_seconds applies to pending transfers only");
  const timeoutSeconds = input.timeoutSeconds ?? defaultHoldTimeoutSeconds;
  if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < holdTimeoutSecondsMin || timeoutSeconds > holdTimeoutSecondsMax) {
    return fail("validation_failed", `timeout_seconds must be between ${holdTimeoutSecondsMin} and ${holdTimeoutSecondsMax}`);
  }
  const amount = input.amountMinor;
  if (debit.debitsMustNotExceedCredits && debit.debitsPendingMinor + debit.debitsPostedMinor + amount > debit.creditsPostedMinor) {
    const available = debit.creditsPostedMinor - debit.debitsPostedMinor - debit.debitsPendingMinor;
    return fail("insufficient_funds", `account ${debit.id} has ${available} available; the transfer needs ${amount}`);
  }
  const debitField = pending ? debit.debitsPendingMinor : debit.debitsPostedMinor;
  const creditField = pending ? credit.creditsPendingMinor : credit.creditsPostedMinor;
  if (debitField + amount > balanceMinorMax || creditField + amount > balanceMinorMax) {
    return fail("overflows_balance", "the transfer would take a balance beyond the largest exact amount");
  }
  return ok({
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    currency: input.currency,
    amountMinor: amount,
    status: pending ? "pending" : "posted",
    postedAmountMinor: pending ? 0 : amount,
    expiresAtMs: pending ? nowMs + timeoutSeconds * 1000 : null,
    reference: input.reference ?? null,
    metadata: input.metadata ?? null,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  });
}

function applyCreate(transfer: Transfer, accounts: Map<string, Account>): void {
  const debit = accounts.get(transfer.debitAccountId)!;
  const credit = accounts.get(transfer.creditAccountId)!;
  if (transfer.status === "pending") {
    debit.debitsPendingMinor += transfer.amountMinor;
    credit.creditsPendingMinor += transfer.amountMinor;
  } else {
    debit.debitsPostedMinor += transfer.amountMinor;
    credit.creditsPostedMinor += transfer.amountMinor;
  }
}

interface LoadedHold {
  transfer: Transfer;
  debit: Account;
  credit: Account;
}

const holdExpiryActor = { type: "system", id: "hold_expiry" } as const;

/** Loads a pending transfer and its two accounts. */
async function loadHold(context: WriteContext, transferId: string): Promise<Result<LoadedHold>> {
  const { tx, tenantId } = context;
  const transfer = await tx.getTransfer(tenantId, transferId);
  if (!transfer) return fail("not_found", `transfer ${transferId} not found`);
  if (transfer.status !== "pending") return fail("transfer_not_pending", `transfer ${transferId} is ${transfer.status}`);
  const accounts = await tx.getAccountsForUpdate(tenantId, [transfer.debitAccountId, transfer.creditAccountId]);
  const debit = accounts.find((a) => a.id === transfer.debitAccountId);
  const credit = accounts.find((a) => a.id === transfer.creditAccountId);
  invariant(debit && credit, `accounts of transfer ${transferId} exist`);
  return ok({ transfer, debit, credit });
}

/** Loads a hold that may still be posted or voided; one past its expiry is expired here and then. */
async function loadLiveHold(context: WriteContext, transferId: string): Promise<Result<LoadedHold>> {
  const loaded = await loadHold(context, transferId);
  if (!loaded.ok) return loaded;
  const { expiresAtMs } = loaded.value.transfer;
  if (expiresAtMs !== null && expiresAtMs <= context.nowMs) {
    await settle({ ...context, actor: holdExpiryActor }, loaded.value, "expired", 0);
    return fail("pending_transfer_expired", `transfer ${transferId} expired at ${new Date(expiresAtMs).toISOString()}`);
  }
  return loaded;
}

async function settle(
  context: WriteContext,
  { transfer, debit, credit }: LoadedHold,
  status: "posted" | "voided" | "expired",
  postedMinor: number,
): Promise<Transfer> {
  const d = { ...debit };
  const c = { ...credit };
  d.debitsPendingMinor -= transfer.amountMinor;
  c.creditsPendingMinor -= transfer.amountMinor;
  d.debitsPostedMinor += postedMinor;
  c.creditsPostedMinor += postedMinor;
  const settled: Transfer = { ...transfer, status, postedAmountMinor: postedMinor, updatedAtMs: context.nowMs };
  await context.tx.updateAccountBalances(context.tenantId, [checkedAccount(d), checkedAccount(c)]);
  await context.tx.updateTransfer(settled);
  await appendEvent(context, `transfer.${status}`, { transfer: transferView(settled) });
  return settled;
}

/** Asserts the balance invariants of an account about to be written. */
function checkedAccount(account: Account | undefined): Account {
  invariant(account, "touched account was loaded");
  for (const field of ["debitsPendingMinor", "debitsPostedMinor", "creditsPendingMinor", "creditsPostedMinor"] as const) {
    const value = account[field];
    invariant(Number.isSafeInteger(value) && value >= 0 && value <= balanceMinorMax, `${account.id}.${field} = ${value} in range`);
  }
  if (account.debitsMustNotExceedCredits) {
    invariant(account.debitsPendingMinor + account.debitsPostedMinor <= account.creditsPostedMinor, `${account.id} above its floor`);
  }
  return account;
}

/** The fields a retry with the same transfer id must repeat exactly. */
function transferFingerprint(input: TransferInput): string {
  return sha256Hex(
    canonicalJson({
      debit_account_id: input.debitAccountId,
      credit_account_id: input.creditAccountId,
      amount: input.amountMinor,
      currency: input.currency,
      pending: input.pending ?? false,
      timeout_seconds: input.timeoutSeconds ?? null,
      reference: input.reference ?? null,
      metadata: input.metadata ?? null,
    }),
  );
}

function batchFailure(count: number, failedIndex: number, code: FieldError["code"], detail: string) {
  const errors: FieldError[] = [];
  for (let index = 0; index < count; index++) {
    errors.push(
      index === failedIndex
        ? { path: `transfers.${index}`, code, detail }
        : { path: `transfers.${index}`, code: "linked_transfer_failed", detail: `transfer ${failedIndex} of the batch failed` },
    );
  }
  return count === 1 ? fail(code, detail) : fail(code, `transfer ${failedIndex} of the batch failed: ${detail}`, errors);
}
