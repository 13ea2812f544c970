/**
 * Governance records (SPEC 1: policy, budget, payee, approval, payment intent, transaction,
 * service, service request, conversation, spend authorization, capability, escrow intent, an owner's signing key; a tenant's rail
 * configuration, `rail_config`; and `vendor`, who an authorization's money went to outside Bursar).
 * Each is stored as one JSON document with the few columns its lookups need (agent, status, a
 * link to another record, a due time), in one table that both store adapters implement once.
 * Money never lives here: balances and holds are in the ledger, spending history in `spends`.
 */
import type { PageQuery } from "../ports.js";

export const recordKinds = [
  "policy",
  "budget",
  "payee",
  "approval",
  "payment_intent",
  "transaction",
  "service",
  "service_request",
  "conversation",
  "rail_config",
  "spend_authorization",
  "capability",
  "vendor",
  "escrow_intent",
  "signing_key",
  // The owner console (console/sessions.ts): sessions, and one-time login and invite codes.
  "console_session",
  "console_code",
  // Teams and budget requests (issue 15): governance/teams.ts, governance/budget-requests.ts.
  "team",
  "budget_request",
] as const;
export type RecordKind = (typeof recordKinds)[number];

export interface StoredRecord<Body = Record<string, unknown>> {
  tenantId: string;
  kind: RecordKind;
  id: string;
  agentId: string | null;
  /** Lifecycle state, when the kind has one (indexed for listing by status). */
  status: string | null;
  /** The record this one belongs to (an approval's subject, a transaction's payment intent). */
  refId: string | null;
  /** When the sweeper must look at it (approval expiry, rail deadline); null when nothing is due. */
  dueAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  body: Body;
}

/** Keyset page of one kind, newest first, with optional equality filters. */
export interface RecordQuery extends PageQuery {
  kind: RecordKind;
  agentId?: string;
  status?: string;
  refId?: string;
}

/** One amount an agent committed: held while a payment waits, settled once paid, released when it never happens. */
export interface SpendRow {
  tenantId: string;
  /** The id of what spent (a payment leg's transaction or hold, a service request). */
  id: string;
  agentId: string;
  amountMinor: number;
  currency: string;
  payeeId: string | null;
  /** A spend authorization's operation (per-operation limits); null for payments and service requests. */
  operation: string | null;
  atMs: number;
  state: "held" | "settled" | "released";
}

/** Sum of an agent's spends (not released) after a moment: amount in one currency, count in all. */
export interface SpendSum {
  amountMinor: number;
  count: number;
}
