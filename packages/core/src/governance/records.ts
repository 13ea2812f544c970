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
  // Delegated work with an optional escrowed bounty (governance/tasks.ts).
  "task",
  // The owner console (console/sessions.ts): sessions, and one-time login and invite codes.
  "console_session",
  "console_code",
  // Triggers (governance/triggers.ts): an external signed event bound to an agent's action, and each fire.
  "trigger",
  "trigger_fire",
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

/** What `GET /v1/usage` groups spends by. `team` is the agent's team now (key '' for agents in none). */
export type UsageGrouping = "day" | "agent" | "team" | "payee" | "operation";

/** A usage query: whole UTC days `[fromMs, toMs)`, of one agent, of a team's members, or of the whole tenant. */
export interface UsageQuery {
  fromMs: number;
  toMs: number;
  groupBy: UsageGrouping;
  agentId?: string;
  /** Only the spends of the agents in this team now. */
  teamId?: string;
  /** Buckets read at most (a bound, not a page). */
  limit: number;
}

/** One bucket of usage: a key (a day's start in ms as text, an agent, team, payee or operation) in one currency. */
export interface UsageRow {
  key: string;
  currency: string;
  settledMinor: number;
  settledCount: number;
  heldMinor: number;
  heldCount: number;
}
