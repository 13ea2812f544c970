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
import type { RecordKind, RecordQuery, SpendRow, SpendSum, StoredRecord, UsageQuery, UsageRow } from "./governance/records.js";

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
  /** Set when the member was removed: their sessions and tokens stop working (console/members.ts). */
  removedAtMs: number | null;
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

/** An AI agent of a tenant (SPEC 1). Its wallet is a ledger account of kind `wallet`. */
export interface AgentRow {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  walletAccountId: string;
  status: "active" | "disabled";
  metadata: Record<string, string> | null;
  createdAtMs: number;
  updatedAtMs: number;
  /** The team it belongs to (governance/teams.ts), or null. */
  teamId: string | null;
  /** The agent that spawned it (governance/spawn.ts), or null for an owner's agent. */
  parentAgentId: string | null;
  /** 0 for an owner's agent, the parent's depth + 1 for a spawned one (at most `spawnDepthMax`). */
  spawnDepth: number;
}

/** A one-time registration ticket (`bursar-reg-…`); only its SHA-256 is stored. */
export interface RegistrationTicketRow {
  id: string;
  tenantId: string;
  agentId: string;
  tokenHash: string;
  /** The most a registration with this ticket may be granted (agent scopes only). */
  scopeCeiling: string[];
  createdByUserId: string;
  createdAtMs: number;
  expiresAtMs: number;
  consumedAtMs: number | null;
  /** The binding it created, once consumed. */
  bindingId: string | null;
}

/** An agent's registered public key (`cb_…`); its id is the OAuth client_id. */
export interface CredentialBindingRow {
  id: string;
  tenantId: string;
  agentId: string;
  /** The public JWK as registered (kty/crv/x/y only). */
  publicKeyJwk: Record<string, string>;
  /** RFC 7638 thumbprint (base64url SHA-256); unique across all tenants. */
  thumbprint: string;
  algorithm: "ES256" | "EdDSA";
  scopes: string[];
  clientMetadata: Record<string, unknown> | null;
  createdAtMs: number;
  revokedAtMs: number | null;
}

/** A refresh token (stored hashed). Rotation makes a chain; a family shares `familyId`. */
export interface RefreshTokenRow {
  id: string;
  tenantId: string;
  bindingId: string;
  familyId: string;
  tokenHash: string;
  scopes: string[];
  createdAtMs: number;
  expiresAtMs: number;
  /** Set when exchanged for a new token; a second use of it revokes the whole family. */
  usedAtMs: number | null;
  revokedAtMs: number | null;
}

/** An API key (`bsk_…`, id `key_…`) for an agent or a service account; only its hash is stored. */
export interface ApiKeyRow {
  id: string;
  tenantId: string;
  /** The agent it acts as, or null for a service account. */
  agentId: string | null;
  name: string;
  tokenHash: string;
  scopes: string[];
  /** Requests per minute allowed for this key. */
  rateLimitPerMinute: number;
  createdAtMs: number;
  /** Set on the old key by a rotation with a grace period, and by revocation. */
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  /** The key this one replaced, if it came from a rotation. */
  rotatedFromId: string | null;
  lastUsedAtMs: number | null;
  acceptedCount: number;
  /** Denials by reason code, e.g. `{ "insufficient_scope": 2, "rate_limited": 5 }`. */
  deniedCounts: Record<string, number>;
}

/**
 * The authorization server's access-token signing key (Ed25519). One per deployment, stored in
 * the database so that every server process on one store signs and verifies with the same key.
 */
export interface ServerSigningKeyRow {
  /** Key id (`kid`): the RFC 7638 thumbprint of the public key. */
  id: string;
  /** Ed25519 private key, PKCS#8 DER. Never leaves the server. */
  privateKeyPkcs8: Uint8Array;
  /** Ed25519 public key, raw 32 bytes. */
  publicKey: Uint8Array;
  createdAtMs: number;
}

/** One journal entry to store: the event and its canonical JSON (what the Merkle leaf hashes). */
export interface JournalEntryWrite {
  event: JournalEvent;
  canonicalBody: string;
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
  /**
   * The tenant's `config_version` as committed now (null: no such tenant). Triggers bump it in
   * any transaction that changes what processes cache per tenant (webhook endpoints, policies,
   * budgets, credentials: store migrations 19 and 23), so a cached row read at this version is
   * still current. Cheap on purpose: authentication asks it on every request.
   */
  configVersion(tenantId: string): Promise<number | null>;
  getUser(tenantId: string, userId: string): Promise<UserRow | null>;
  /** The tenant's members (removed ones included), oldest first, at most `limit`. */
  listUsers(tenantId: string, limit: number): Promise<UserRow[]>;
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

  getAgent(tenantId: string, agentId: string): Promise<AgentRow | null>;
  listAgents(tenantId: string, page: PageQuery): Promise<AgentRow[]>;
  /** A team's members, oldest first, at most `limit`. */
  listTeamAgents(tenantId: string, teamId: string, limit: number): Promise<AgentRow[]>;
  /** The agents `parentAgentId` spawned, oldest first, at most `limit`. */
  listChildAgents(tenantId: string, parentAgentId: string, limit: number): Promise<AgentRow[]>;
  /** Looks a ticket up by hash across tenants (the ticket is how a registration finds its tenant). */
  findRegistrationTicketByHash(tokenHash: string): Promise<RegistrationTicketRow | null>;
  /** Looks a binding up by id across tenants (the OAuth client_id is all a token request names). */
  findCredentialBinding(bindingId: string): Promise<CredentialBindingRow | null>;
  findCredentialBindingByThumbprint(thumbprint: string): Promise<CredentialBindingRow | null>;
  listCredentialBindings(tenantId: string, page: PageQuery & { agentId?: string }): Promise<CredentialBindingRow[]>;
  findRefreshTokenByHash(tokenHash: string): Promise<RefreshTokenRow | null>;
  findApiKeyByHash(tokenHash: string): Promise<ApiKeyRow | null>;
  getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRow | null>;
  listApiKeys(tenantId: string, page: PageQuery): Promise<ApiKeyRow[]>;
  /** The server's access-token signing key, or null before the first one is made. */
  getServerSigningKey(): Promise<ServerSigningKeyRow | null>;

  getRecord(tenantId: string, kind: RecordKind, id: string): Promise<StoredRecord | null>;
  listRecords(tenantId: string, query: RecordQuery): Promise<StoredRecord[]>;
  /** How many records match (kind, agent, status), counting at most `limit`: a cap check, not a report. */
  countRecords(tenantId: string, query: Pick<RecordQuery, "kind" | "agentId" | "status">, limit: number): Promise<number>;
  /** Ids of records of a kind with this name key (see `setRecordNames`), oldest first. */
  findRecordIdsByName(tenantId: string, kind: RecordKind, nameKey: string, limit: number): Promise<string[]>;
  /** Records of a kind due at or before `nowMs`, any tenant, earliest first. */
  listDueRecords(kind: RecordKind, nowMs: number, limit: number): Promise<Array<{ tenantId: string; id: string }>>;
  /** The agent's spends not released with `atMs > sinceMs`: amount in `currency`, count in every currency. */
  sumSpends(tenantId: string, agentId: string, currency: string, sinceMs: number): Promise<SpendSum>;
  /**
   * `sumSpends` for each window start of `sinceMs`, in that order, in one read: a policy decision
   * checks several windows (daily, all time, …) and on PostgreSQL each read is a round trip.
   */
  sumSpendWindows(tenantId: string, agentId: string, currency: string, sinceMs: readonly number[]): Promise<SpendSum[]>;
  /** As `sumSpends`, over the spends whose operation `pattern` matches (exact, `prefix.*` or `*`, see dotted-names.ts). */
  sumOperationSpends(tenantId: string, agentId: string, currency: string, sinceMs: number, pattern: string): Promise<SpendSum>;
  /** Usage buckets (migration 22's daily rollup), ordered by key then currency, at most `query.limit`. */
  usage(tenantId: string, query: UsageQuery): Promise<UsageRow[]>;
  /** The tenant of a trigger, by id alone (a fire names no tenant), or null. */
  findTriggerTenant(triggerId: string): Promise<string | null>;
  /** As `sumSpends`, over the spends of every agent in `agentIds` (a team, or an agent and its descendants). */
  sumSpendsOf(tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<SpendSum>;
  /** The amount in `currency` of the spends of `agentIds` still held (not settled) with `atMs > sinceMs`. */
  sumHeldSpendsOf(tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<number>;
  /** Whether the agent has a settled spend to this payee (it paid them before). */
  hasSettledSpend(tenantId: string, agentId: string, payeeId: string): Promise<boolean>;
}

/** A write transaction. Everything written commits together, durably, or not at all. */
export interface StoreTx extends StoreReader {
  insertTenant(row: TenantRow): Promise<void>;
  /** Sets the journal size (the caller appended events and nodes in the same transaction). */
  setJournalSize(tenantId: string, size: number): Promise<void>;
  insertUser(row: UserRow): Promise<void>;
  /** Writes name, email, role and removedAtMs. */
  updateUser(row: UserRow): Promise<void>;
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
   * A write's journal entries in one pass (journal/events.ts): the events (with their canonical
   * bodies), every tree node they complete, and the new journal size, in as few statements as
   * the store allows (multi-row inserts). Events must follow the stored journal without a gap.
   */
  appendJournal(tenantId: string, entries: readonly JournalEntryWrite[], nodes: readonly TreeNode[], size: number): Promise<void>;
  /**
   * Runs `hook` once the write's callback has resolved, before the commit, in the order hooks
   * were added (a hook may add another). A hook that throws fails the write like the callback.
   */
  beforeCommit(hook: () => Promise<void>): void;

  /**
   * Claims an idempotency key: inserts `record` unless a live record exists for its scope, and
   * returns the existing one instead. An expired record, or an in-progress claim older than
   * `staleClaimBeforeMs`, is replaced.
   */
  claimIdempotencyKey(record: IdempotencyRecord, staleClaimBeforeMs: number): Promise<IdempotencyRecord | null>;
  completeIdempotencyKey(scope: IdempotencyScope, responseStatus: number, responseBody: string): Promise<void>;
  releaseIdempotencyKey(scope: IdempotencyScope): Promise<void>;
  deleteExpiredIdempotencyRecords(nowMs: number, limit: number): Promise<number>;
  /**
   * Erasure: replaces the stored answer of every completed record of the tenant on one of
   * `routes` whose answer contains `marker` (a conversation id) by `responseStatus` and
   * `responseBody`, so a replay cannot bring erased text back. Returns how many it replaced.
   */
  redactIdempotencyAnswers(tenantId: string, routes: readonly string[], marker: string, responseStatus: number, responseBody: string): Promise<number>;

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

  insertAgent(row: AgentRow): Promise<void>;
  /** Writes name, description, status, metadata, teamId and updatedAtMs (parent and depth never change). */
  updateAgent(row: AgentRow): Promise<void>;
  insertRegistrationTicket(row: RegistrationTicketRow): Promise<void>;
  /**
   * Marks a ticket consumed, only if it is not yet: returns false when another registration
   * consumed it first (the single-use guarantee under concurrency).
   */
  consumeRegistrationTicket(tenantId: string, ticketId: string, bindingId: string, nowMs: number): Promise<boolean>;
  /** Fails (throws) on a duplicate thumbprint: the unique index is the last line of defence. */
  insertCredentialBinding(row: CredentialBindingRow): Promise<void>;
  revokeCredentialBinding(tenantId: string, bindingId: string, nowMs: number): Promise<void>;
  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  /** Marks a refresh token used, only if unused: false when it was used already (reuse). */
  useRefreshToken(tenantId: string, tokenId: string, nowMs: number): Promise<boolean>;
  revokeRefreshTokenFamily(tenantId: string, familyId: string, nowMs: number): Promise<void>;
  /** Revokes every refresh token of a binding (binding revocation). */
  revokeRefreshTokensOfBinding(tenantId: string, bindingId: string, nowMs: number): Promise<void>;
  insertApiKey(row: ApiKeyRow): Promise<void>;
  /** Writes expiresAtMs and revokedAtMs. */
  updateApiKeyLifecycle(tenantId: string, keyId: string, expiresAtMs: number | null, revokedAtMs: number | null): Promise<void>;
  /** Adds usage: accepted requests, denials by reason, and the last-used time (kept at the maximum). */
  addApiKeyUsage(tenantId: string, keyId: string, usage: { accepted: number; denied: Record<string, number>; lastUsedAtMs: number | null }): Promise<void>;
  /**
   * Stores `row` as the server's signing key unless one exists, and returns the stored key.
   * Several processes starting at once all end up with the same key (called with tenantId null).
   */
  ensureServerSigningKey(row: ServerSigningKeyRow): Promise<ServerSigningKeyRow>;

  insertRecord(row: StoredRecord): Promise<void>;
  /** Writes agentId, status, refId, dueAtMs, updatedAtMs and body. */
  updateRecord(row: StoredRecord): Promise<void>;
  /** Replaces the name keys a record can be found by (a payee's name and aliases). */
  setRecordNames(tenantId: string, kind: RecordKind, id: string, nameKeys: string[]): Promise<void>;
  insertSpend(row: SpendRow): Promise<void>;
  /** Sets a spend's state; `amountMinor`, when given (a partial capture), becomes its amount. */
  setSpendState(tenantId: string, spendId: string, state: SpendRow["state"], amountMinor?: number): Promise<void>;
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
  /**
   * Erasure: after a write that erased text has committed, removes the copies the database still
   * keeps of the old rows where it can (SQLite: the WAL, by a TRUNCATE checkpoint, with
   * `secure_delete` zeroing freed cells; PostgreSQL: dead row versions, by VACUUM). Best effort:
   * resolves whether or not a busy database let it finish.
   */
  purgeErased(): Promise<void>;
  close(): Promise<void>;
}

/** Time source, injectable for tests of expiry. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
