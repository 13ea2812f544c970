/**
 * The wire form of ledger objects: what the HTTP API returns and what journal events carry.
 * One function per object, so an event and a response can never describe a transfer differently.
 */
import { formatMinor } from "../money.js";
import { toRfc3339 } from "../time.js";
import type { Account, Transfer } from "./types.js";
import type { AccountView, TransferView } from "../wire/ledger.js";

export function accountView(account: Account): AccountView {
  const balance = account.creditsPostedMinor - account.debitsPostedMinor;
  const available = balance - account.debitsPendingMinor;
  return {
    id: account.id,
    object: "account",
    currency: account.currency,
    kind: account.kind,
    name: account.name,
    debits_must_not_exceed_credits: account.debitsMustNotExceedCredits,
    debits_pending: account.debitsPendingMinor,
    debits_posted: account.debitsPostedMinor,
    credits_pending: account.creditsPendingMinor,
    credits_posted: account.creditsPostedMinor,
    balance,
    balance_display: formatMinor(balance, account.currency),
    available,
    available_display: formatMinor(available, account.currency),
    metadata: account.metadata,
    created_at: toRfc3339(account.createdAtMs),
  };
}

export function transferView(transfer: Transfer): TransferView {
  return {
    id: transfer.id,
    object: "transfer",
    debit_account_id: transfer.debitAccountId,
    credit_account_id: transfer.creditAccountId,
    amount: transfer.amountMinor,
    amount_display: formatMinor(transfer.amountMinor, transfer.currency),
    currency: transfer.currency,
    status: transfer.status,
    posted_amount: transfer.postedAmountMinor,
    expires_at: transfer.expiresAtMs === null ? null : toRfc3339(transfer.expiresAtMs),
    reference: transfer.reference,
    metadata: transfer.metadata,
    batch_id: transfer.batchId,
    created_at: toRfc3339(transfer.createdAtMs),
    updated_at: toRfc3339(transfer.updatedAtMs),
  };
}
