/**
 * Ports: what the domain needs from the outside world. Adapters live in packages/server
 * (store/sqlite, store/postgres). One contract suite (packages/server/src/store/contract.ts)
 * runs against every adapter.
 *
 * Every method that touches tenant data takes the tenant id and filters by it: tenant isolation
 * is enforced in every query, not by callers remembering to check.
 */
import type { Account, Transfer } from "./ledger/types.js";
import type { JournalEvent, TreeNode, TreeNodeKey } from "./journal/types.js";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "./webhooks/types.js";

export interface TenantRow {
  id: string;
  name: string;
  /** Ed25519 journal signing key, PKCS#8 DER. Never leaves the server. */
  journalPrivateKeyPkcs8: Uint8Array;
  /** Ed25519 public key, raw 32 bytes. */
  journalPublicKey: Uint8Array;
  /** Number of events in the tenant's journal (= the seq of the last one). */
  journalSize: number;
  createdAtMs: number;
}

export type OwnerRole = "owner" | "admin" | "approver" | "viewer";

export interface UserRow {
  id: string;
  tenantId: string;
  email: string | null;
  name: string;
  role: OwnerRole;
  createdAtMs: number;
}

export interface PersonalAccessTokenRow {
  id: string;
  tenantId: string;
  userId: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  tokenHash: string;
  name: string;
  scopes: string[];
  createdAtMs: number;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

/** One idempotency record (SPEC 3 "Idempotency"). Scope: tenant, principal, method, route, key. */
export interface IdempotencyScope {
  tenantId: string;
  principalId: string;
  method: string;
  route: string;
  key: string;
}

export interface IdempotencyRecord extends IdempotencyScope {
  /** SHA-256 (hex) of the RFC 8785 canonical request body. */
  fingerprint: string;
  state: "in_progress" | "completed";
  responseStatus: number | null;
  /** The response body as sent, with shown-once secrets removed. */
  responseBody: string | null;
  createdAtMs: number;
  expiresAtMs: number;
}

/** Keyset pagination: rows strictly older than the cursor id, newest first. */
export interface PageQuery {
  limit: number;
  /** Id of the last row of the previous page. */
  beforeId?: string;
}

export interface EventQuery {
  afterSeq?: number;
  /**
   * Event-type patterns (exact, `prefix.*` or `*`, see webhooks/event-types.ts), already
   * validated; empty or absent means all.
   */
  types?: string[];
  agentId?: string;
  limit: number;
  /** Oldest first (journal order) when true; newest first otherwise. */
  ascending: boolean;
  /** With ascending=false: only events with seq below this. */
  beforeSeq?: number;
}

/** Reads of committed state. Inside a write, the same methods see the write's own changes. */
export interface StoreReader {
  countTenants(): Promise<number>;
  getTenant(tenantId: string): Promise<TenantRow | null>;
  getUser(tenantId: string, userId: string): Promise<UserRow | null>;
  /** Looks a token up by hash across tenants: this is how a bearer token finds its tenant. */
  findPersonalAccessTokenByHash(tokenHash: string): Promise<PersonalAccessTokenRow | null>;

  getAccount(tenantId: string, accountId: string): Promise<Account | null>;
  listAccounts(tenantId: string, page: PageQuery): Promise<Account[]>;
  /** The tenant's funding account for a currency (kind `funding`), if created yet. */
  findFundingAccount(tenantId: string, currency: string): Promise<Account | null>;
  /** Sums over all accounts of a tenant, per currency (for invariant checks and audits). */
  sumBalances(tenantId: string): Promise<Array<{ currency: string; debitsPostedMinor: number; creditsPostedMinor: number; debitsPendingMinor: number; creditsPendingMinor: number }>>;

  getTransfer(tenantId: string, transferId: string): Promise<Transfer | null>;
  listTransfers(tenantId: string, page: PageQuery & { accountId?: string }): Promise<Transfer[]>;
  /** Pending transfers whose hold expired at or before `nowMs`, any tenant, oldest first. */
  listExpiredHolds(nowMs: number, limit: number): Promise<Array<{ tenantId: string; transferId: string }>>;

  listEvents(tenantId: string, query: EventQuery): Promise<JournalEvent[]>;
  getEventBySeq(tenantId: string, seq: number): Promise<JournalEvent | null>;
  /** The seq of an event of this tenant, by id (resuming a stream from `Last-Event-ID`). */
  getEventSeqById(tenantId: string, eventId: string): Promise<number | null>;
  /** Stored Merkle nodes, in the order asked. Every key must exist (caller bug otherwise). */
  getTreeNodes(tenantId: string, keys: TreeNodeKey[]): Promise<Uint8Array[]>;

  getIdempotencyRecord(scope: IdempotencyScope): Promise<IdempotencyRecord | null>;

  getWebhookEndpoint(tenantId: string, endpointId: string): Promise<WebhookEndpointRow | null>;
  /** Newest first, keyset by id. */
  listWebhookEndpoints(tenantId: string, page: PageQuery): Promise<WebhookEndpointRow[]>;
  /** The tenant's enabled endpoints, oldest first (read by every journal append). */
  listEnabledWebhookEndpoints(tenantId: string, limit: number): Promise<WebhookEndpointRow[]>;
  countWebhookEndpoints(tenantId: string): Promise<number>;
  getWebhookDelivery(tenantId: string, deliveryId: string): Promise<WebhookDeliveryRow | null>;
  /**
   * When the earliest pending delivery is due (any tenant), or null when none is pending. The
   * worker reads this before claiming, so an idle poll costs one index lookup, not a write.
   */
  nextWebhookDeliveryDueAtMs(): Promise<number | null>;
  /** One endpoint's deliveries, newest first, keyset by id. */
  listWebhookDeliveries(tenantId: string, endpointId: string, page: PageQuery): Promise<WebhookDeliveryRow[]>;
}

/** A write transaction. Everything written commits together, durably, or not at all. */
export interface StoreTx extends StoreReader {
  insertTenant(row: TenantRow): Promise<void>;
  /** Sets the journal size (the caller appended events and nodes in the same transaction). */
  setJournalSize(tenantId: string, size: number): Promise<void>;
  insertUser(row: UserRow): Promise<void>;
  insertPersonalAccessToken(row: PersonalAccessTokenRow): Promise<void>;

  /**
   * Reads accounts for a change. PostgreSQL locks the rows (`FOR UPDATE`, in id order); SQLite
   * has one writer. Missing ids are absent from the result.
   */
  getAccountsForUpdate(tenantId: string, accountIds: string[]): Promise<Account[]>;
  insertAccount(row: Account): Promise<void>;
  /** Writes the four balance fields of each account. */
  updateAccountBalances(tenantId: string, accounts: Account[]): Promise<void>;

  insertTransfer(row: Transfer): Promise<void>;
  /** Writes status, postedAmountMinor and updatedAtMs. */
  updateTransfer(row: Transfer): Promise<void>;

  /** `canonicalBody`, when given, is `canonicalJson(event)` already computed by the caller. */
  insertEvent(event: JournalEvent, canonicalBody?: string): Promise<void>;
  putTreeNodes(tenantId: string, nodes: TreeNode[]): Promise<void>;

  /**
   * Claims an idempotency key: inserts `record` unless a live record exists for its scope, and
   * returns the existing one instead. An expired record, or an in-progress claim older than
   * `staleClaimBeforeMs`, is replaced.
   */
  claimIdempotencyKey(record: IdempotencyRecord, staleClaimBeforeMs: number): Promise<IdempotencyRecord | null>;
  completeIdempotencyKey(scope: IdempotencyScope, responseStatus: number, responseBody: string): Promise<void>;
  releaseIdempotencyKey(scope: IdempotencyScope): Promise<void>;
  deleteExpiredIdempotencyRecords(nowMs: number, limit: number): Promise<number>;

  insertWebhookEndpoint(row: WebhookEndpointRow): Promise<void>;
  /** Writes every mutable field (url, description, filters, enabled, secrets, keys, updatedAtMs). */
  updateWebhookEndpoint(row: WebhookEndpointRow): Promise<void>;
  /** Deletes the endpoint and its deliveries. */
  deleteWebhookEndpoint(tenantId: string, endpointId: string): Promise<void>;
  insertWebhookDelivery(row: WebhookDeliveryRow): Promise<void>;
  /** Writes status, attempt count and records, next and last attempt times, updatedAtMs. */
  updateWebhookDelivery(row: WebhookDeliveryRow): Promise<void>;
  /**
   * Claims up to `limit` pending deliveries due at `nowMs`, any tenant, oldest due first (then by
   * seq), and leases them: their next attempt time becomes `leaseUntilMs`, so no other worker
   * takes them meanwhile, and a worker that dies mid-attempt leaves them due again once the lease
   * ends. PostgreSQL skips rows other workers hold locked (`FOR UPDATE SKIP LOCKED`).
   */
  claimDueWebhookDeliveries(nowMs: number, leaseUntilMs: number, limit: number): Promise<WebhookDeliveryRow[]>;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Creates or upgrades the schema. Safe to run on every start. */
  migrate(): Promise<void>;
  /** Committed state, without a transaction. */
  readonly read: StoreReader;
  /**
   * Runs `fn` in one write transaction and resolves after the commit is durable (SQLite
   * `synchronous=FULL`; PostgreSQL `synchronous_commit` on). Writes of one tenant are serialised
   * (PostgreSQL locks the tenant row first; SQLite has one writer), so journal sequence numbers
   * have no gaps. If `fn` throws, nothing it wrote is kept and the error is rethrown.
   * `tenantId` null is for writes that create a tenant.
   */
  write<T>(tenantId: string | null, fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Time source, injectable for tests of expiry. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
