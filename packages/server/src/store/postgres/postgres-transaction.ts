/** StoreTx on one pooled client inside BEGIN … COMMIT (see postgres-store.ts). */
import {
  type RecordKind,
  type RecordQuery,
  type SpendRow,
  type StoredRecord,
  canonicalJson,
  invariant,
  type Account,
  type AgentRow,
  type ApiKeyRow,
  type CredentialBindingRow,
  type IdempotencyRecord,
  type IdempotencyScope,
  type JournalEvent,
  type JournalEntryWrite,
  type PersonalAccessTokenRow,
  type RefreshTokenRow,
  type RegistrationTicketRow,
  type ServerSigningKeyRow,
  type StoreTx,
  type TenantRow,
  type Transfer,
  type TreeNode,
  type TreeNodeKey,
  type UserRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "@bursar/core";
import {
  accountFrom,
  checkCounts,
  checkLimit,
  idempotencyRecordFrom,
  metadataTo,
  transferParams,
  rowsPerQueryMax,
  serverSigningKeyFrom,
  webhookDeliveryFrom,
  webhookDeliveryParams,
  webhookEndpointParams,
} from "../rows.js";
import { PostgresReader, runPrepared, scopeParams, type Queryable } from "./postgres-reader.js";
import type { PostgresSql } from "./postgres-sql.js";
import { ConfigReads, configKeys, configRecordKinds, recordQueryKey, type TenantConfigCache } from "../tenant-config-cache.js";
import { recordParams, recordUpdateParams, spendParams } from "../records-sql.js";
import type { JournalEdgeCache } from "../journal-edge-cache.js";

/** The tenant a write locked: its row as the lock read it, and its config version then. */
export interface LockedTenant {
  tenantId: string;
  configVersion: number;
  row: TenantRow;
}

/** A write whose answer nothing waits for, sent with the next batch (see `flush`). */
interface DeferredWrite {
  text: string;
  values: unknown[];
  /** The row count it must report, or null for any. */
  rows: number | null;
  what: string;
}

/**
 * `text` with its `$n` placeholders replaced by `values` as SQL literals, for a multi-statement
 * simple query. A value is written as the text pg would send for it as a parameter (numbers and
 * booleans as text, bytes as bytea hex, arrays as array literals, objects as JSON), quoted as pg's
 * `escapeLiteral` would: an untyped literal, which PostgreSQL types from its context exactly as it
 * types an untyped parameter. The texts are the store's own (postgres-sql.ts, records-sql.ts),
 * in which `$n` is only ever a placeholder.
 */
export function inlineParameters(text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => {
    const position = Number(index);
    invariant(position >= 1 && position <= values.length, `placeholder $${index} without a value`);
    const value = values[position - 1];
    if (value === null || value === undefined) return "NULL";
    return quoted(Array.isArray(value) ? `{${value.map(arrayElementText).join(",")}}` : parameterText(value));
  });
}

/**
 * `text` as a string literal, as pg's `escapeLiteral` writes it (quotes doubled; with an `E`
 * prefix and backslashes doubled when it holds one, whatever `standard_conforming_strings` says),
 * with native replaces: `escapeLiteral` walks the text a character at a time in JavaScript, which
 * cost as much as the socket write for a payment's journal entries.
 */
function quoted(text: string): string {
  const body = text.replaceAll("'", "''");
  return text.includes("\\") ? `E'${body.replaceAll("\\", "\\\\")}'` : `'${body}'`;
}

/** A parameter's text, as pg would send it. */
function parameterText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      invariant(Number.isFinite(value), `${value} as an SQL parameter`);
      return String(value);
    case "bigint":
    case "boolean":
      return String(value);
    default:
      if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}`;
      return JSON.stringify(value);
  }
}

/** An element of an array literal: NULL, or its text double-quoted with `\` and `"` escaped. */
function arrayElementText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  return `"${parameterText(value).replace(/[\\"]/g, "\\$&")}"`;
}

export class PostgresTransaction extends PostgresReader implements StoreTx {
  private active = true;
  private readonly config: ConfigReads;
  /** The connection itself; `this.db` sends the deferred writes before anything else it runs. */
  private readonly client: Queryable;
  /**
   * Writes not sent yet, in order. A write of rows that no statement of this transaction reads
   * back before it is sent (balances, transfers, spends, records, journal entries) waits here and
   * goes with the others in one round trip: when the transaction next needs the database for
   * anything else, and at the end of the write (`runBeforeCommit`). Statements still run in their
   * order, each seeing the ones before; a failing one fails the write as it did when it was sent
   * alone (its savepoint or transaction rolls back), only later in the callback.
   */
  private deferred: DeferredWrite[] = [];

  /**
   * Transfer and spend inserts still in `deferred`, by row: an update of such a row changes the
   * queued insert instead of queuing an UPDATE (a hold captured in the same write goes in once,
   * posted and settled, with none of the spend triggers' work for the update), as on SQLite.
   */
  private readonly queuedTransfers = new Map<string, { write: DeferredWrite; row: Transfer }>();
  private readonly queuedSpends = new Map<string, { write: DeferredWrite; row: SpendRow }>();

  /**
   * `locked`: the tenant this write locked and its config version as the lock read it (null for
   * writes without a tenant); `configCache` is the process's cache of config rows.
   */
  constructor(
    db: Queryable,
    sql: PostgresSql,
    configCache: TenantConfigCache,
    private readonly locked: LockedTenant | null,
    private readonly journalEdges: JournalEdgeCache,
    /** Shared by the writes of one group commit: a tenant whose config one of them changed. */
    configChanged?: Set<string>,
  ) {
    const gate: { tx?: PostgresTransaction } = {};
    super({ query: async (config, values) => (await gate.tx!.flush(), db.query(config, values)) }, sql);
    gate.tx = this;
    this.client = db;
    this.config = new ConfigReads(configCache, async (tenantId) => (locked?.tenantId === tenantId ? locked.configVersion : null), configChanged);
  }

  /**
   * The locked tenant from its lock (no round trip): the row cannot change under the lock but by
   * this transaction, which keeps `journalSize` up to date below.
   */
  override async getTenant(tenantId: string): Promise<TenantRow | null> {
    this.checkActive();
    if (this.locked?.tenantId === tenantId) return { ...this.locked.row };
    return super.getTenant(tenantId);
  }

  override async listEnabledWebhookEndpoints(tenantId: string, limit: number): Promise<WebhookEndpointRow[]> {
    this.checkActive();
    return this.config.read(tenantId, configKeys.endpoints(limit), () => super.listEnabledWebhookEndpoints(tenantId, limit));
  }

  override async listRecords(tenantId: string, query: RecordQuery): Promise<StoredRecord[]> {
    this.checkActive();
    if (!configRecordKinds.has(query.kind)) return super.listRecords(tenantId, query);
    return this.config.read(tenantId, recordQueryKey(query), () => super.listRecords(tenantId, query));
  }

  override async getAgent(tenantId: string, agentId: string): Promise<AgentRow | null> {
    this.checkActive();
    return this.config.read(tenantId, configKeys.agent(agentId), () => super.getAgent(tenantId, agentId));
  }

  override async listChildAgents(tenantId: string, parentAgentId: string, limit: number): Promise<AgentRow[]> {
    this.checkActive();
    return this.config.read(tenantId, configKeys.childAgents(parentAgentId, limit), () => super.listChildAgents(tenantId, parentAgentId, limit));
  }

  override async listTeamAgents(tenantId: string, teamId: string, limit: number): Promise<AgentRow[]> {
    this.checkActive();
    return this.config.read(tenantId, configKeys.teamAgents(teamId, limit), () => super.listTeamAgents(tenantId, teamId, limit));
  }

  /**
   * The journal's right edge from what this process last appended, when known: no round trip
   * (journal-edge-cache.ts). Under the tenant's lock, so no other writer appends meanwhile.
   */
  override async getTreeNodes(tenantId: string, keys: TreeNodeKey[]): Promise<Uint8Array[]> {
    this.checkActive();
    const known = this.journalEdges.lookup(tenantId, keys);
    if (known) return known;
    const hashes = await super.getTreeNodes(tenantId, keys);
    this.journalEdges.remember(tenantId, keys, hashes);
    return hashes;
  }

  /**
   * Rows this write already read or wrote, served again without a round trip (a payment reads its
   * payee, transfer and accounts twice). Sound because the write holds its tenant's lock: no other
   * write of the tenant changes these rows meanwhile, and every change this write makes goes
   * through the methods below, which update or drop the entry. Per write (a savepoint rolled back
   * discards its transaction object with it). Copies are handed out, so callers cannot alter it.
   */
  private readonly known = new Map<string, Account | Transfer | StoredRecord>();
  /** Accounts locked by `getAccountsForUpdate`: the read that locked them, and their rank in it. */
  private readonly lockedAccounts = new Map<string, { read: number; rank: number }>();
  private accountLockReads = 0;

  override async getAccount(tenantId: string, accountId: string): Promise<Account | null> {
    this.checkActive();
    const known = this.known.get(`account:${tenantId}:${accountId}`) as Account | undefined;
    if (known) return structuredClone(known);
    const account = await super.getAccount(tenantId, accountId);
    if (account) this.known.set(`account:${tenantId}:${accountId}`, structuredClone(account));
    return account;
  }

  override async getTransfer(tenantId: string, transferId: string): Promise<Transfer | null> {
    this.checkActive();
    const known = this.known.get(`transfer:${tenantId}:${transferId}`) as Transfer | undefined;
    if (known) return structuredClone(known);
    const transfer = await super.getTransfer(tenantId, transferId);
    if (transfer) this.known.set(`transfer:${tenantId}:${transferId}`, structuredClone(transfer));
    return transfer;
  }

  override async getRecord(tenantId: string, kind: RecordKind, id: string): Promise<StoredRecord | null> {
    this.checkActive();
    if (configRecordKinds.has(kind)) return this.config.read(tenantId, configKeys.record(kind, id), () => super.getRecord(tenantId, kind, id));
    const key = `record:${tenantId}:${kind}:${id}`;
    const known = this.known.get(key) as StoredRecord | undefined;
    if (known) return structuredClone(known);
    const record = await super.getRecord(tenantId, kind, id);
    if (record) this.known.set(key, structuredClone(record));
    return record;
  }

  private readonly commitHooks: Array<() => Promise<void>> = [];

  /** The owner key recorded with idempotency claims (claim-owner.ts); null: claims only time out. */
  claimOwnerKey: number | null = null;

  /** Called when the write's callback has settled; later calls are bugs and throw. */
  end(): void {
    this.active = false;
  }

  beforeCommit(hook: () => Promise<void>): void {
    this.checkActive();
    this.commitHooks.push(hook);
  }

  /**
   * Runs the `beforeCommit` hooks (the store calls it once the write's callback resolved), then
   * sends what is deferred. `then`, a statement without parameters (the group commit's next
   * SAVEPOINT), goes out after them in the same round trip: a row-count check that fails here
   * fails this write after `then` ran, which its caller must allow for (a savepoint of its own
   * name, behind this write's, is rolled back with it).
   */
  async runBeforeCommit(then?: string): Promise<void> {
    for (let i = 0; i < this.commitHooks.length; i++) await this.commitHooks[i]!();
    await this.flush(then);
  }

  /** Sends the deferred writes (and `then`): one alone as its prepared statement, more in one simple query. */
  async flush(then?: string): Promise<void> {
    const writes = this.deferred;
    if (writes.length === 0 && then === undefined) return;
    this.deferred = [];
    this.queuedTransfers.clear();
    this.queuedSpends.clear();
    let counts: number[];
    if (writes.length === 1 && then === undefined) {
      counts = [(await runPrepared(this.client, writes[0]!.text, writes[0]!.values)).rowCount ?? 0];
    } else {
      const texts = writes.map((write) => inlineParameters(write.text, write.values));
      if (then !== undefined) texts.push(then);
      const answer = (await this.client.query(texts.join(";\n"))) as unknown as { rowCount: number | null } | Array<{ rowCount: number | null }>;
      counts = (Array.isArray(answer) ? answer : [answer]).map((result) => result.rowCount ?? 0);
    }
    writes.forEach((write, i) => invariant(write.rows === null || counts[i] === write.rows, `${write.what} (${counts[i]} rows)`));
  }

  /** Queues a write (see `deferred`). */
  private defer(text: string, values: unknown[], rows: number | null, what: string): DeferredWrite {
    this.checkActive();
    const write = { text, values, rows, what };
    this.deferred.push(write);
    return write;
  }

  protected override checkActive(): void {
    invariant(this.active, "store transaction used after its write() callback settled");
  }

  private async execute(text: string, values: unknown[]): Promise<number> {
    this.checkActive();
    return (await runPrepared(this.db, text, values)).rowCount ?? 0;
  }

  async insertTenant(row: TenantRow): Promise<void> {
    await this.execute(this.sql.insertTenant, [
      row.id, row.name, row.journalPrivateKeyPkcs8, row.journalPublicKey, row.journalSize, row.createdAtMs,
    ]);
  }

  async setJournalSize(tenantId: string, size: number): Promise<void> {
    const changed = await this.execute(this.sql.setJournalSize, [tenantId, size]);
    invariant(changed === 1, `tenant ${tenantId} not found when setting its journal size`);
    if (this.locked?.tenantId === tenantId) this.locked.row.journalSize = size;
  }

  async insertUser(row: UserRow): Promise<void> {
    await this.execute(this.sql.insertUser, [row.tenantId, row.id, row.email, row.name, row.role, row.createdAtMs, row.removedAtMs]);
  }

  async updateUser(row: UserRow): Promise<void> {
    const changed = await this.execute(this.sql.updateUser, [row.tenantId, row.id, row.name, row.email, row.role, row.removedAtMs]);
    invariant(changed === 1, `user ${row.id} not found in tenant ${row.tenantId}`);
  }

  async insertPersonalAccessToken(row: PersonalAccessTokenRow): Promise<void> {
    await this.execute(this.sql.insertPersonalAccessToken, [
      row.tenantId, row.id, row.userId, row.tokenHash, row.name, JSON.stringify(row.scopes),
      row.createdAtMs, row.expiresAtMs, row.revokedAtMs,
    ]);
  }

  async getAccountsForUpdate(tenantId: string, accountIds: string[]): Promise<Account[]> {
    invariant(accountIds.length <= rowsPerQueryMax, `${accountIds.length} accounts asked at once`);
    // Accounts one earlier read of this write locked: still locked (until COMMIT), and in the
    // order (by id, the database's collation) that read returned them.
    const locks = accountIds.map((id) => this.lockedAccounts.get(`${tenantId}:${id}`));
    if (accountIds.length > 0 && locks.every((lock) => lock !== undefined && lock.read === locks[0]!.read)) {
      const known = accountIds.map((id) => this.known.get(`account:${tenantId}:${id}`) as Account | undefined);
      if (known.every((account) => account !== undefined)) {
        const ranked = [...new Set(accountIds)].map((id) => ({ id, rank: this.lockedAccounts.get(`${tenantId}:${id}`)!.rank }));
        ranked.sort((a, b) => a.rank - b.rank);
        return ranked.map(({ id }) => structuredClone(this.known.get(`account:${tenantId}:${id}`) as Account));
      }
    }
    const accounts = (await this.rows(this.sql.getAccountsForUpdate, [tenantId, accountIds])).map(accountFrom);
    const read = ++this.accountLockReads;
    accounts.forEach((account, rank) => {
      this.known.set(`account:${tenantId}:${account.id}`, structuredClone(account));
      this.lockedAccounts.set(`${tenantId}:${account.id}`, { read, rank });
    });
    return accounts;
  }

  async insertAccount(row: Account): Promise<void> {
    await this.execute(this.sql.insertAccount, [
      row.tenantId, row.id, row.currency, row.kind, row.name, row.debitsMustNotExceedCredits,
      row.debitsPendingMinor, row.debitsPostedMinor, row.creditsPendingMinor, row.creditsPostedMinor,
      metadataTo(row.metadata), row.createdAtMs,
    ]);
  }

  /** One statement for all accounts; every account must exist in the tenant, once. */
  async updateAccountBalances(tenantId: string, accounts: Account[]): Promise<void> {
    invariant(accounts.length <= rowsPerQueryMax, `${accounts.length} accounts updated at once`);
    for (const account of accounts) invariant(account.tenantId === tenantId, `account ${account.id} belongs to another tenant`);
    const ids = accounts.map((account) => account.id);
    invariant(new Set(ids).size === ids.length, "an account appears twice in one balance update");
    if (accounts.length === 0) return;
    this.defer(this.sql.updateAccountBalances, [
      tenantId,
      ids,
      accounts.map((account) => account.debitsPendingMinor),
      accounts.map((account) => account.debitsPostedMinor),
      accounts.map((account) => account.creditsPendingMinor),
      accounts.map((account) => account.creditsPostedMinor),
    ], accounts.length, `not all of ${accounts.length} accounts found in tenant ${tenantId}`);
    // Only the balances changed: the other columns stay as this write last read them.
    for (const account of accounts) {
      const known = this.known.get(`account:${tenantId}:${account.id}`) as Account | undefined;
      if (!known) continue;
      known.debitsPendingMinor = account.debitsPendingMinor;
      known.debitsPostedMinor = account.debitsPostedMinor;
      known.creditsPendingMinor = account.creditsPendingMinor;
      known.creditsPostedMinor = account.creditsPostedMinor;
    }
  }

  async insertTransfer(row: Transfer): Promise<void> {
    const key = `transfer:${row.tenantId}:${row.id}`;
    const queued = { ...row };
    this.queuedTransfers.set(key, { write: this.defer(this.sql.insertTransfer, transferParams(queued), 1, `transfer ${row.id} not inserted`), row: queued });
    this.known.set(key, structuredClone(row));
  }

  async updateTransfer(row: Transfer): Promise<void> {
    const key = `transfer:${row.tenantId}:${row.id}`;
    this.known.delete(key);
    const queued = this.queuedTransfers.get(key);
    if (queued) {
      this.checkActive();
      Object.assign(queued.row, { status: row.status, postedAmountMinor: row.postedAmountMinor, updatedAtMs: row.updatedAtMs });
      queued.write.values = transferParams(queued.row);
      return;
    }
    this.defer(this.sql.updateTransfer, [row.tenantId, row.id, row.status, row.postedAmountMinor, row.updatedAtMs], 1, `transfer ${row.id} not found in tenant ${row.tenantId}`);
  }

  async insertEvent(event: JournalEvent, canonicalBody?: string): Promise<void> {
    this.defer(this.sql.insertEvent, [event.tenant_id, event.seq, event.id, event.type, event.agent_id, canonicalBody ?? canonicalJson(event)], 1, `event ${event.id} not inserted`);
  }

  /**
   * One statement for everything (events and nodes as arrays, unnest'ed in data-modifying CTEs,
   * and the size): a write's whole journal pass costs one round trip.
   */
  async appendJournal(tenantId: string, entries: readonly JournalEntryWrite[], nodes: readonly TreeNode[], size: number): Promise<void> {
    invariant(entries.length <= rowsPerQueryMax && nodes.length <= rowsPerQueryMax, `${entries.length} journal entries in one write`);
    for (const { event } of entries) invariant(event.tenant_id === tenantId, "journal entries belong to the tenant");
    this.defer(this.sql.appendJournal, [
      tenantId,
      entries.map(({ event }) => event.seq),
      entries.map(({ event }) => event.id),
      entries.map(({ event }) => event.type),
      entries.map(({ event }) => event.agent_id),
      entries.map(({ canonicalBody }) => canonicalBody),
      nodes.map((node) => node.level),
      nodes.map((node) => node.index),
      nodes.map((node) => node.hash),
      size,
    ], 1, `tenant ${tenantId} not found when setting its journal size`);
    if (this.locked?.tenantId === tenantId) this.locked.row.journalSize = size;
    this.journalEdges.appended(tenantId, nodes, size);
  }

  /** A journal append stores a few dozen nodes; bulk loads are cut into bounded statements. */
  async putTreeNodes(tenantId: string, nodes: TreeNode[]): Promise<void> {
    for (let start = 0; start < nodes.length; start += rowsPerQueryMax) {
      const chunk = nodes.slice(start, start + rowsPerQueryMax);
      await this.execute(this.sql.insertTreeNodes, [
        tenantId,
        chunk.map((node) => node.level),
        chunk.map((node) => node.index),
        chunk.map((node) => node.hash),
      ]);
    }
  }

  async claimIdempotencyKey(record: IdempotencyRecord, staleClaimBeforeMs: number): Promise<IdempotencyRecord | null> {
    const claimed = await this.rows(this.sql.claimIdempotencyKey, [
      ...scopeParams(record), record.fingerprint, record.state, record.responseStatus, record.responseBody,
      record.createdAtMs, record.expiresAtMs, staleClaimBeforeMs, this.claimOwnerKey,
    ]);
    if (claimed.length > 0) return null;
    const existing = await this.first(this.sql.getIdempotencyRecord, scopeParams(record));
    invariant(existing, "idempotency claim lost its conflicting record");
    return idempotencyRecordFrom(existing);
  }

  async completeIdempotencyKey(scope: IdempotencyScope, responseStatus: number, responseBody: string): Promise<void> {
    await this.execute(this.sql.completeIdempotencyKey, [...scopeParams(scope), responseStatus, responseBody]);
  }

  async releaseIdempotencyKey(scope: IdempotencyScope): Promise<void> {
    await this.execute(this.sql.releaseIdempotencyKey, scopeParams(scope));
  }

  async redactIdempotencyAnswers(tenantId: string, routes: readonly string[], marker: string, responseStatus: number, responseBody: string): Promise<number> {
    return this.execute(this.sql.redactIdempotencyAnswers, [responseStatus, responseBody, tenantId, [...routes], marker]);
  }

  async deleteExpiredIdempotencyRecords(nowMs: number, limit: number): Promise<number> {
    return this.execute(this.sql.deleteExpiredIdempotencyRecords, [nowMs, checkLimit(limit)]);
  }

  async insertWebhookEndpoint(row: WebhookEndpointRow): Promise<void> {
    this.config.changedBy(row.tenantId);
    await this.execute(this.sql.insertWebhookEndpoint, webhookEndpointParams(row, (value) => value, (value) => value));
  }

  async updateWebhookEndpoint(row: WebhookEndpointRow): Promise<void> {
    this.config.changedBy(row.tenantId);
    const changed = await this.execute(this.sql.updateWebhookEndpoint, [
      row.tenantId, row.id, row.url, row.description, JSON.stringify(row.eventTypes), row.enabled, row.disabledReason,
      row.secret, row.previousSecret, row.previousSecretExpiresAtMs, row.ed25519PrivateKeyPkcs8, row.ed25519PublicKey,
      row.updatedAtMs, row.taskIds === null ? null : JSON.stringify(row.taskIds),
    ]);
    invariant(changed === 1, `webhook endpoint ${row.id} not found in tenant ${row.tenantId}`);
  }

  async deleteWebhookEndpoint(tenantId: string, endpointId: string): Promise<void> {
    this.config.changedBy(tenantId);
    await this.execute(this.sql.deleteWebhookDeliveriesOfEndpoint, [tenantId, endpointId]);
    await this.execute(this.sql.deleteWebhookEndpoint, [tenantId, endpointId]);
  }

  async insertWebhookDelivery(row: WebhookDeliveryRow): Promise<void> {
    this.defer(this.sql.insertWebhookDelivery, webhookDeliveryParams(row), 1, `webhook delivery ${row.id} not inserted`);
  }

  async updateWebhookDelivery(row: WebhookDeliveryRow): Promise<void> {
    const changed = await this.execute(this.sql.updateWebhookDelivery, [
      row.tenantId, row.id, row.status, row.attemptCount, row.nextAttemptAtMs, row.lastAttemptAtMs,
      JSON.stringify(row.attempts), row.updatedAtMs,
    ]);
    invariant(changed === 1, `delivery ${row.id} not found in tenant ${row.tenantId}`);
  }

  async claimDueWebhookDeliveries(nowMs: number, leaseUntilMs: number, limit: number): Promise<WebhookDeliveryRow[]> {
    const rows = await this.rows(this.sql.claimDueWebhookDeliveries, [leaseUntilMs, nowMs, checkLimit(limit)]);
    return rows.map(webhookDeliveryFrom).sort((a, b) => a.eventSeq - b.eventSeq);
  }

  async insertAgent(row: AgentRow): Promise<void> {
    this.config.changedBy(row.tenantId);
    await this.execute(this.sql.insertAgent, [
      row.tenantId, row.id, row.name, row.description, row.walletAccountId, row.status, metadataTo(row.metadata),
      row.createdAtMs, row.updatedAtMs, row.teamId, row.parentAgentId, row.spawnDepth,
    ]);
  }

  async updateAgent(row: AgentRow): Promise<void> {
    this.config.changedBy(row.tenantId);
    const changed = await this.execute(this.sql.updateAgent, [
      row.tenantId, row.id, row.name, row.description, row.status, metadataTo(row.metadata), row.updatedAtMs, row.teamId,
    ]);
    invariant(changed === 1, `agent ${row.id} not found in tenant ${row.tenantId}`);
  }

  async insertRegistrationTicket(row: RegistrationTicketRow): Promise<void> {
    await this.execute(this.sql.insertRegistrationTicket, [
      row.tenantId, row.id, row.agentId, row.tokenHash, JSON.stringify(row.scopeCeiling), row.createdByUserId,
      row.createdAtMs, row.expiresAtMs, row.consumedAtMs, row.bindingId,
    ]);
  }

  async consumeRegistrationTicket(tenantId: string, ticketId: string, bindingId: string, nowMs: number): Promise<boolean> {
    return (await this.execute(this.sql.consumeRegistrationTicket, [tenantId, ticketId, nowMs, bindingId])) === 1;
  }

  async insertCredentialBinding(row: CredentialBindingRow): Promise<void> {
    await this.execute(this.sql.insertCredentialBinding, [
      row.tenantId, row.id, row.agentId, JSON.stringify(row.publicKeyJwk), row.thumbprint, row.algorithm,
      JSON.stringify(row.scopes), row.clientMetadata === null ? null : JSON.stringify(row.clientMetadata),
      row.createdAtMs, row.revokedAtMs,
    ]);
  }

  async revokeCredentialBinding(tenantId: string, bindingId: string, nowMs: number): Promise<void> {
    const changed = await this.execute(this.sql.revokeCredentialBinding, [tenantId, bindingId, nowMs]);
    invariant(changed === 1, `credential binding ${bindingId} not found in tenant ${tenantId}`);
  }

  async insertRefreshToken(row: RefreshTokenRow): Promise<void> {
    await this.execute(this.sql.insertRefreshToken, [
      row.tenantId, row.id, row.bindingId, row.familyId, row.tokenHash, JSON.stringify(row.scopes),
      row.createdAtMs, row.expiresAtMs, row.usedAtMs, row.revokedAtMs,
    ]);
  }

  async useRefreshToken(tenantId: string, tokenId: string, nowMs: number): Promise<boolean> {
    return (await this.execute(this.sql.useRefreshToken, [tenantId, tokenId, nowMs])) === 1;
  }

  async revokeRefreshTokenFamily(tenantId: string, familyId: string, nowMs: number): Promise<void> {
    await this.execute(this.sql.revokeRefreshTokenFamily, [tenantId, familyId, nowMs]);
  }

  async revokeRefreshTokensOfBinding(tenantId: string, bindingId: string, nowMs: number): Promise<void> {
    await this.execute(this.sql.revokeRefreshTokensOfBinding, [tenantId, bindingId, nowMs]);
  }

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    checkCounts(row.acceptedCount, row.deniedCounts);
    await this.execute(this.sql.insertApiKey, [
      row.tenantId, row.id, row.agentId, row.name, row.tokenHash, JSON.stringify(row.scopes), row.rateLimitPerMinute,
      row.createdAtMs, row.expiresAtMs, row.revokedAtMs, row.rotatedFromId, row.lastUsedAtMs, row.acceptedCount,
      JSON.stringify(row.deniedCounts),
    ]);
  }

  async updateApiKeyLifecycle(tenantId: string, keyId: string, expiresAtMs: number | null, revokedAtMs: number | null): Promise<void> {
    const changed = await this.execute(this.sql.updateApiKeyLifecycle, [tenantId, keyId, expiresAtMs, revokedAtMs]);
    invariant(changed === 1, `API key ${keyId} not found in tenant ${tenantId}`);
  }

  async addApiKeyUsage(
    tenantId: string,
    keyId: string,
    usage: { accepted: number; denied: Record<string, number>; lastUsedAtMs: number | null },
  ): Promise<void> {
    checkCounts(usage.accepted, usage.denied);
    const changed = await this.execute(this.sql.addApiKeyUsage, [
      tenantId, keyId, usage.accepted, JSON.stringify(usage.denied), usage.lastUsedAtMs,
    ]);
    invariant(changed === 1, `API key ${keyId} not found in tenant ${tenantId}`);
  }

  /**
   * ON CONFLICT DO NOTHING waits for a concurrent insert of the key to commit; the SELECT after
   * it (a new snapshot under READ COMMITTED) then sees whichever key won.
   */
  async ensureServerSigningKey(row: ServerSigningKeyRow): Promise<ServerSigningKeyRow> {
    await this.execute(this.sql.insertServerSigningKey, [row.id, row.privateKeyPkcs8, row.publicKey, row.createdAtMs]);
    const stored = await this.first(this.sql.getServerSigningKey, []);
    invariant(stored, "server signing key missing after insert");
    return serverSigningKeyFrom(stored);
  }

  async insertRecord(row: StoredRecord): Promise<void> {
    this.known.delete(`record:${row.tenantId}:${row.kind}:${row.id}`);
    if (configRecordKinds.has(row.kind)) this.config.changedBy(row.tenantId);
    this.defer(this.sql.records.insertRecord, recordParams(row), 1, `${row.kind} ${row.id} not inserted`);
  }

  async updateRecord(row: StoredRecord): Promise<void> {
    this.known.delete(`record:${row.tenantId}:${row.kind}:${row.id}`);
    if (configRecordKinds.has(row.kind)) this.config.changedBy(row.tenantId);
    this.defer(this.sql.records.updateRecord, recordUpdateParams(row), 1, `${row.kind} ${row.id} not found in tenant ${row.tenantId}`);
  }

  async setRecordNames(tenantId: string, kind: RecordKind, id: string, nameKeys: string[]): Promise<void> {
    this.defer(this.sql.records.deleteRecordNames, [tenantId, kind, id], null, `names of ${kind} ${id}`);
    for (const key of new Set(nameKeys)) this.defer(this.sql.records.insertRecordName, [tenantId, kind, key, id], null, `name of ${kind} ${id}`);
  }

  async insertSpend(row: SpendRow): Promise<void> {
    // The rollups' hour buckets (migration 19) assume times since the epoch.
    invariant(row.atMs >= 0, `spend ${row.id} at ${row.atMs} ms, before the epoch`);
    const queued = { ...row };
    this.queuedSpends.set(`${row.tenantId}/${row.id}`, { write: this.defer(this.sql.records.insertSpend, spendParams(queued), 1, `spend ${row.id} not inserted`), row: queued });
  }

  async setSpendState(tenantId: string, spendId: string, state: SpendRow["state"], amountMinor?: number): Promise<void> {
    const queued = this.queuedSpends.get(`${tenantId}/${spendId}`);
    if (queued) {
      this.checkActive();
      queued.row.state = state;
      if (amountMinor !== undefined) queued.row.amountMinor = amountMinor;
      queued.write.values = spendParams(queued.row);
      return;
    }
    this.defer(this.sql.records.setSpendState, [state, amountMinor ?? null, tenantId, spendId], 1, `spend ${spendId} not found in tenant ${tenantId}`);
  }
}
