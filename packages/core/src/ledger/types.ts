/** Ledger types (SPEC 1: account, transfer). Amounts are integer minor units. */

export const accountKinds = ["wallet", "funding", "payee", "escrow", "rail_clearing", "fees", "vendor", "general"] as const;
export type AccountKind = (typeof accountKinds)[number];

export interface Account {
  id: string;
  tenantId: string;
  currency: string;
  kind: AccountKind;
  name: string | null;
  /** The floor: posted and pending debits may never exceed posted credits. */
  debitsMustNotExceedCredits: boolean;
  debitsPendingMinor: number;
  debitsPostedMinor: number;
  creditsPendingMinor: number;
  creditsPostedMinor: number;
  metadata: Record<string, string> | null;
  createdAtMs: number;
}

export const transferStatuses = ["posted", "pending", "voided", "expired"] as const;
export type TransferStatus = (typeof transferStatuses)[number];

export interface Transfer {
  id: string;
  tenantId: string;
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amountMinor: number;
  status: TransferStatus;
  /** The amount that moved: `amountMinor` for a direct transfer, the posted part of a hold, 0 while pending. */
  postedAmountMinor: number;
  /** Hold expiry (pending transfers only). */
  expiresAtMs: number | null;
  reference: string | null;
  metadata: Record<string, string> | null;
  /** Transfers created in one atomic batch share this id. */
  batchId: string | null;
  /** SHA-256 (hex) of the canonical creation fields: a retry with the same id must match it. */
  fingerprint: string;
  createdAtMs: number;
  updatedAtMs: number;
}
