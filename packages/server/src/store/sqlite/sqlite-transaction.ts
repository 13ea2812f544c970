/**
 * StoreTx over the writer connection. One instance per operation of a group commit (a few
 * fields, no statements: those are prepared once in `SqliteWriteStatements`). It refuses calls
 * once its operation has ended, so a stray promise cannot write into the next operation.
 */
import type Database from "better-sqlite3";
import {
  canonicalJson,
  type RecordKind,
  type RecordQuery,
  type SpendRow,
  type StoredRecord,
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
  accountColumns,
  agentColumns,
  apiKeyColumns,
  checkCounts,
  checkLimit,
  credentialBindingColumns,
  idempotencyColumns,
  idempotencyRecordFrom,
  metadataTo,
  transferParams,
  personalAccessTokenColumns,
  refreshTokenColumns,
  registrationTicketColumns,
  rowsPerQueryMax,
  serverSigningKeyColumns,
  serverSigningKeyFrom,
  tenantColumns,
  transferColumns,
  userColumns,
  webhookDeliveryColumns,
  webhookDeliveryFrom,
  webhookDeliveryParams,
  webhookEndpointColumns,
  webhookEndpointParams,
  sqliteLimit,
  type Row,
} from "../rows.js";
import { recordParams, recordUpdateParams, spendParams } from "../records-sql.js";
import { ConfigReads, configKeys, configRecordKinds, recordQueryKey, type TenantConfigCache } from "../tenant-config-cache.js";
import type { JournalEdgeCache } from "../journal-edge-cache.js";
import { scopeParams, SqliteReader, type RowStatement, type SqliteReadStatements } from "./sqlite-reader.js";

const placeholders = (columns: string) => columns.split(",").map(() => "?").join(", ");
const scopeCondition = "tenant_id = ? AND principal_id = ? AND method = ? AND route = ? AND idempotency_key = ?";

/** Rows per multi-row journal INSERT: 6 × 64 bound values, far below SQLite's 32,766. */
const journalInsertRowsMax = 64;

const accountCopy = (account: Account): Account => ({ ...account, metadata: account.metadata && { ...account.metadata } });
const transferCopy = (transfer: Transfer): Transfer => ({ ...transfer, metadata: transfer.metadata && { ...transfer.metadata } });

function cachedInsert(cache: Map<number, RowStatement>, rows: number, prepare: () => RowStatement): RowStatement {
  let statement = cache.get(rows);
  if (!statement) {
    statement = prepare();
    cache.set(rows, statement);
  }
  return statement;
}

/** The INSERT/UPDATE/DELETE statements of the writer connection, prepared once. */
export class SqliteWriteStatements {
  readonly insertTenant: RowStatement;
  readonly setJournalSize: RowStatement;
  readonly configVersion: RowStatement;
  readonly insertUser: RowStatement;
  readonly updateUser: RowStatement;
  readonly insertPersonalAccessToken: RowStatement;
  readonly insertAccount: RowStatement;
  readonly updateAccountBalances: RowStatement;
  readonly insertTransfer: RowStatement;
  readonly updateTransfer: RowStatement;
  readonly insertEvent: RowStatement;
  readonly insertTreeNode: RowStatement;
  readonly claimIdempotencyKey: RowStatement;
  readonly completeIdempotencyKey: RowStatement;
  readonly releaseIdempotencyKey: RowStatement;
  readonly redactIdempotencyAnswers: RowStatement;
  readonly deleteExpiredIdempotencyRecords: RowStatement;
  readonly insertWebhookEndpoint: RowStatement;
  readonly updateWebhookEndpoint: RowStatement;
  readonly deleteWebhookDeliveriesOfEndpoint: RowStatement;
  readonly deleteWebhookEndpoint: RowStatement;
  readonly insertWebhookDelivery: RowStatement;
  readonly updateWebhookDelivery: RowStatement;
  readonly claimDueWebhookDeliveries: RowStatement;
  readonly insertAgent: RowStatement;
  readonly updateAgent: RowStatement;
  readonly insertRegistrationTicket: RowStatement;
  readonly consumeRegistrationTicket: RowStatement;
  readonly insertCredentialBinding: RowStatement;
  readonly revokeCredentialBinding: RowStatement;
  readonly insertRefreshToken: RowStatement;
  readonly useRefreshToken: RowStatement;
  readonly revokeRefreshTokenFamily: RowStatement;
  readonly revokeRefreshTokensOfBinding: RowStatement;
  readonly insertApiKey: RowStatement;
  readonly updateApiKeyLifecycle: RowStatement;
  readonly addApiKeyUsage: RowStatement;
  readonly insertServerSigningKey: RowStatement;
  /** Multi-row journal inserts by row count, prepared on first use (a write appends a handful). */
  private readonly eventInserts = new Map<number, RowStatement>();
  private readonly treeNodeInserts = new Map<number, RowStatement>();

  constructor(private readonly db: Database.Database) {
    const prepare = (sql: string): RowStatement => db.prepare<unknown[], Row>(sql);
    const insert = (table: string, columns: string) =>
      prepare(`INSERT INTO ${table} (${columns}) VALUES (${placeholders(columns)})`);
    this.insertTenant = insert("tenants", tenantColumns);
    this.setJournalSize = prepare("UPDATE tenants SET journal_size = ? WHERE id = ?");
    this.configVersion = prepare("SELECT config_version FROM tenants WHERE id = ?");
    this.insertUser = insert("users", userColumns);
    this.updateUser = prepare("UPDATE users SET name = ?, email = ?, role = ?, removed_at_ms = ? WHERE tenant_id = ? AND id = ?");
    this.insertPersonalAccessToken = insert("personal_access_tokens", personalAccessTokenColumns);
    this.insertAccount = insert("accounts", accountColumns);
    this.updateAccountBalances = prepare(
      "UPDATE accounts SET debits_pending_minor = ?, debits_posted_minor = ?, credits_pending_minor = ?, " +
        "credits_posted_minor = ? WHERE tenant_id = ? AND id = ?",
    );
    this.insertTransfer = insert("transfers", transferColumns);
    this.updateTransfer = prepare(
      "UPDATE transfers SET status = ?, posted_amount_minor = ?, updated_at_ms = ? WHERE tenant_id = ? AND id = ?",
    );
    this.insertEvent = prepare("INSERT INTO events (tenant_id, seq, id, type, agent_id, body) VALUES (?, ?, ?, ?, ?, ?)");
    // Nodes are immutable once stored: a second insert of the same key is a bug and fails on the key.
    this.insertTreeNode = prepare("INSERT INTO journal_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)");
    // One statement claims a fresh key or takes over an expired record or a stale claim; it
    // returns no row when a live record already holds the scope.
    this.claimIdempotencyKey = prepare(
      `INSERT INTO idempotency_keys (${idempotencyColumns}) VALUES (${placeholders(idempotencyColumns)}) ` +
        "ON CONFLICT (tenant_id, principal_id, method, route, idempotency_key) DO UPDATE SET " +
        "fingerprint = excluded.fingerprint, state = excluded.state, response_status = excluded.response_status, " +
        "response_body = excluded.response_body, created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms " +
        "WHERE idempotency_keys.expires_at_ms <= excluded.created_at_ms " +
        "OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.created_at_ms < ?) RETURNING state",
    );
    this.completeIdempotencyKey = prepare(
      `UPDATE idempotency_keys SET state = 'completed', response_status = ?, response_body = ? WHERE ${scopeCondition}`,
    );
    // A completed answer is never released: only an in-flight claim is given up.
    this.releaseIdempotencyKey = prepare(`DELETE FROM idempotency_keys WHERE ${scopeCondition} AND state = 'in_progress'`);
    // instr, not LIKE: ids hold `_`, which LIKE reads as a wildcard.
    this.redactIdempotencyAnswers = prepare(
      "UPDATE idempotency_keys SET response_status = ?, response_body = ? " +
        "WHERE tenant_id = ? AND route = ? AND state = 'completed' AND instr(response_body, ?) > 0",
    );
    this.deleteExpiredIdempotencyRecords = prepare(
      "DELETE FROM idempotency_keys WHERE (tenant_id, principal_id, method, route, idempotency_key) IN " +
        "(SELECT tenant_id, principal_id, method, route, idempotency_key FROM idempotency_keys " +
        `WHERE expires_at_ms <= ? ORDER BY expires_at_ms ${sqliteLimit})`,
    );
    this.insertWebhookEndpoint = insert("webhook_endpoints", webhookEndpointColumns);
    this.updateWebhookEndpoint = prepare(
      "UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, disabled_reason = ?, secret = ?, " +
        "previous_secret = ?, previous_secret_expires_at_ms = ?, ed25519_private_key_pkcs8 = ?, ed25519_public_key = ?, " +
        "updated_at_ms = ?, task_ids = ? WHERE tenant_id = ? AND id = ?",
    );
    this.deleteWebhookDeliveriesOfEndpoint = prepare("DELETE FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?");
    this.deleteWebhookEndpoint = prepare("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?");
    this.insertWebhookDelivery = insert("webhook_deliveries", webhookDeliveryColumns);
    this.updateWebhookDelivery = prepare(
      "UPDATE webhook_deliveries SET status = ?, attempt_count = ?, next_attempt_at_ms = ?, last_attempt_at_ms = ?, " +
        "attempts = ?, updated_at_ms = ? WHERE tenant_id = ? AND id = ?",
    );
    // One writer process: no other worker competes, so the lease is the only claim needed.
    this.claimDueWebhookDeliveries = prepare(
      `UPDATE webhook_deliveries SET next_attempt_at_ms = ? WHERE (tenant_id, id) IN ` +
        "(SELECT tenant_id, id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= ? " +
        `ORDER BY next_attempt_at_ms, event_seq ${sqliteLimit}) RETURNING ${webhookDeliveryColumns}`,
    );
    this.insertAgent = insert("agents", agentColumns);
    this.updateAgent = prepare(
      "UPDATE agents SET name = ?, description = ?, status = ?, metadata = ?, team_id = ?, updated_at_ms = ? WHERE tenant_id = ? AND id = ?",
    );
    this.insertRegistrationTicket = insert("registration_tickets", registrationTicketColumns);
    // The condition is the single-use guarantee: of two registrations racing for one ticket, the
    // second finds it consumed and changes nothing.
    this.consumeRegistrationTicket = prepare(
      "UPDATE registration_tickets SET consumed_at_ms = ?, binding_id = ? WHERE tenant_id = ? AND id = ? AND consumed_at_ms IS NULL",
    );
    this.insertCredentialBinding = insert("credential_bindings", credentialBindingColumns);
    // Revoking again keeps the first revocation time.
    this.revokeCredentialBinding = prepare(
      "UPDATE credential_bindings SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE tenant_id = ? AND id = ?",
    );
    this.insertRefreshToken = insert("refresh_tokens", refreshTokenColumns);
    this.useRefreshToken = prepare("UPDATE refresh_tokens SET used_at_ms = ? WHERE tenant_id = ? AND id = ? AND used_at_ms IS NULL");
    this.revokeRefreshTokenFamily = prepare(
      "UPDATE refresh_tokens SET revoked_at_ms = ? WHERE tenant_id = ? AND family_id = ? AND revoked_at_ms IS NULL",
    );
    this.revokeRefreshTokensOfBinding = prepare(
      "UPDATE refresh_tokens SET revoked_at_ms = ? WHERE tenant_id = ? AND binding_id = ? AND revoked_at_ms IS NULL",
    );
    this.insertApiKey = insert("api_keys", apiKeyColumns);
    this.updateApiKeyLifecycle = prepare("UPDATE api_keys SET expires_at_ms = ?, revoked_at_ms = ? WHERE tenant_id = ? AND id = ?");
    // Counts are added, and the denial maps merged, inside the one UPDATE: nothing is read
    // first, so no concurrent writer's counts can be lost. UNION ALL keeps equal (reason, count)
    // pairs of both sides. `max` of two values ignores a NULL side through coalesce.
    this.addApiKeyUsage = prepare(
      "UPDATE api_keys SET accepted_count = accepted_count + @accepted, " +
        "denied_counts = (SELECT json_group_object(key, total) FROM (SELECT key, sum(value) AS total FROM " +
        "(SELECT key, value FROM json_each(api_keys.denied_counts) UNION ALL SELECT key, value FROM json_each(@denied)) " +
        "GROUP BY key)), " +
        "last_used_at_ms = max(coalesce(last_used_at_ms, @lastUsedAtMs), coalesce(@lastUsedAtMs, last_used_at_ms)) " +
        "WHERE tenant_id = @tenantId AND id = @keyId",
    );
    this.insertServerSigningKey = prepare(
      `INSERT INTO server_signing_keys (singleton, ${serverSigningKeyColumns}) VALUES (1, ${placeholders(serverSigningKeyColumns)}) ` +
        "ON CONFLICT (singleton) DO NOTHING",
    );
  }

  /** INSERT of `rows` journal entries. */
  insertEvents(rows: number): RowStatement {
    return cachedInsert(this.eventInserts, rows, () =>
      this.db.prepare<unknown[], Row>(`INSERT INTO events (tenant_id, seq, id, type, agent_id, body) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`));
  }

  /** INSERT of `rows` journal tree nodes. */
  insertTreeNodes(rows: number): RowStatement {
    return cachedInsert(this.treeNodeInserts, rows, () =>
      this.db.prepare<unknown[], Row>(`INSERT INTO journal_nodes (tenant_id, level, idx, hash) VALUES ${Array(rows).fill("(?, ?, ?, ?)").join(", ")}`));
  }
}

/** better-sqlite3 binds Buffers; this views a Uint8Array as one without copying. */
const blob = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class SqliteTransaction extends SqliteReader implements StoreTx {
  private active = true;

  private readonly config: ConfigReads;

  constructor(
    reads: SqliteReadStatements,
    private readonly writes: SqliteWriteStatements,
    configCache: TenantConfigCache,
    private readonly journalEdges: JournalEdgeCache,
  ) {
    super(reads);
    this.config = new ConfigReads(configCache, async (tenantId) => {
      const version = this.writes.configVersion.get(tenantId)?.config_version;
      return typeof version === "number" ? version : null;
    });
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

  override async getRecord(tenantId: string, kind: RecordKind, id: string): Promise<StoredRecord | null> {
    this.checkActive();
    if (!configRecordKinds.has(kind)) return super.getRecord(tenantId, kind, id);
    return this.config.read(tenantId, configKeys.record(kind, id), () => super.getRecord(tenantId, kind, id));
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

  /** The journal's right edge from what this writer last appended, when known (journal-edge-cache.ts). */
  override async getTreeNodes(tenantId: string, keys: TreeNodeKey[]): Promise<Uint8Array[]> {
    this.checkActive();
    const known = this.journalEdges.lookup(tenantId, keys);
    if (known) return known;
    const hashes = await super.getTreeNodes(tenantId, keys);
    this.journalEdges.remember(tenantId, keys, hashes);
    return hashes;
  }

  private readonly commitHooks: Array<() => Promise<void>> = [];

  /**
   * Accounts and transfers this operation has read or inserted, as they now stand in its
   * transaction: a payment reads its wallet, holds, then posts the hold, and the post need not
   * read back the rows the hold just wrote. Every write of these rows goes through this object
   * (one operation, one writer), and updates apply to the copy too; copies go out, so callers
   * cannot change it.
   */
  private readonly accounts = new Map<string, Account>();
  private readonly transfers = new Map<string, Transfer>();

  /**
   * Writes held back, by row key (coalesced writes, issue 19): accounts whose balances changed,
   * transfers and spends inserted. Each names the copy above (or the spend row) as it now
   * stands, so a row inserted and then updated in one operation is written once, in its final
   * state: a sandbox payment holds and at once captures, and its hold transfer goes in posted
   * and its spend settled, with no UPDATE (nor the spend triggers' four rollup and usage
   * upserts of one). They go out, in this order, before the operation next reads those tables
   * (`checkLedgerRead`) or writes them otherwise, and when it ends (`runBeforeCommit`): nothing
   * can observe the difference (no trigger or key links them to the other tables), and a
   * constraint they break still fails the operation.
   */
  private readonly heldAccounts = new Set<string>();
  private readonly heldTransfers = new Map<string, Transfer>();
  private readonly heldSpends = new Map<string, SpendRow>();
  private holding = false;

  private flushHeld(): void {
    this.holding = false;
    for (const key of this.heldAccounts) this.writeBalances(this.accounts.get(key)!);
    this.heldAccounts.clear();
    for (const row of this.heldTransfers.values()) {
      this.writes.insertTransfer.run(...transferParams(row));
    }
    this.heldTransfers.clear();
    for (const row of this.heldSpends.values()) this.reads.statement(this.reads.records.insertSpend).run(...spendParams(row));
    this.heldSpends.clear();
  }

  override async getAccount(tenantId: string, accountId: string): Promise<Account | null> {
    const key = `${tenantId}/${accountId}`;
    const known = this.accounts.get(key);
    if (known) {
      this.checkActive();
      return accountCopy(known);
    }
    const account = await super.getAccount(tenantId, accountId);
    if (account) this.accounts.set(key, accountCopy(account));
    return account;
  }

  override async getTransfer(tenantId: string, transferId: string): Promise<Transfer | null> {
    const key = `${tenantId}/${transferId}`;
    const known = this.transfers.get(key);
    if (known) {
      this.checkActive();
      return transferCopy(known);
    }
    const transfer = await super.getTransfer(tenantId, transferId);
    if (transfer) this.transfers.set(key, transferCopy(transfer));
    return transfer;
  }

  /** Called by the group commit when the operation's function has settled. */
  end(): void {
    this.active = false;
  }

  beforeCommit(hook: () => Promise<void>): void {
    this.checkActive();
    this.commitHooks.push(hook);
  }

  /** Runs the `beforeCommit` hooks (the group commit calls it once the operation's function resolved). */
  async runBeforeCommit(): Promise<void> {
    for (let i = 0; i < this.commitHooks.length; i++) await this.commitHooks[i]!();
    if (this.holding) this.flushHeld();
  }

  protected override checkActive(): void {
    invariant(this.active, "store transaction used after its write() callback settled");
  }

  protected override checkLedgerRead(): void {
    this.checkActive();
    if (this.holding) this.flushHeld();
  }

  async insertTenant(row: TenantRow): Promise<void> {
    this.checkActive();
    this.writes.insertTenant.run(
      row.id, row.name, blob(row.journalPrivateKeyPkcs8), blob(row.journalPublicKey), row.journalSize, row.createdAtMs,
    );
  }

  async setJournalSize(tenantId: string, size: number): Promise<void> {
    this.checkActive();
    const { changes } = this.writes.setJournalSize.run(size, tenantId);
    invariant(changes === 1, `tenant ${tenantId} not found when setting its journal size`);
  }

  async insertUser(row: UserRow): Promise<void> {
    this.checkActive();
    this.writes.insertUser.run(row.tenantId, row.id, row.email, row.name, row.role, row.createdAtMs, row.removedAtMs);
  }

  async updateUser(row: UserRow): Promise<void> {
    this.checkActive();
    const { changes } = this.writes.updateUser.run(row.name, row.email, row.role, row.removedAtMs, row.tenantId, row.id);
    invariant(changes === 1, `user ${row.id} not found in tenant ${row.tenantId}`);
  }

  async insertPersonalAccessToken(row: PersonalAccessTokenRow): Promise<void> {
    this.checkActive();
    this.writes.insertPersonalAccessToken.run(
      row.tenantId, row.id, row.userId, row.tokenHash, row.name, JSON.stringify(row.scopes),
      row.createdAtMs, row.expiresAtMs, row.revokedAtMs,
    );
  }

  /** SQLite has one writer, so reading is enough; the result is in id order like PostgreSQL's. */
  async getAccountsForUpdate(tenantId: string, accountIds: string[]): Promise<Account[]> {
    this.checkActive();
    invariant(accountIds.length <= rowsPerQueryMax, `${accountIds.length} accounts asked at once`);
    const accounts: Account[] = [];
    for (const accountId of [...new Set(accountIds)].sort()) {
      const account = await this.getAccount(tenantId, accountId);
      if (account) accounts.push(account);
    }
    return accounts;
  }

  async insertAccount(row: Account): Promise<void> {
    this.checkActive();
    this.writes.insertAccount.run(
      row.tenantId, row.id, row.currency, row.kind, row.name, row.debitsMustNotExceedCredits ? 1 : 0,
      row.debitsPendingMinor, row.debitsPostedMinor, row.creditsPendingMinor, row.creditsPostedMinor,
      metadataTo(row.metadata), row.createdAtMs,
    );
    this.accounts.set(`${row.tenantId}/${row.id}`, accountCopy(row));
  }

  /** Held (see `heldAccounts`) for accounts this operation read; any other is updated at once. */
  async updateAccountBalances(tenantId: string, accounts: Account[]): Promise<void> {
    this.checkActive();
    invariant(accounts.length <= rowsPerQueryMax, `${accounts.length} accounts updated at once`);
    invariant(new Set(accounts.map((account) => account.id)).size === accounts.length, "an account appears twice in one balance update");
    for (const account of accounts) {
      invariant(account.tenantId === tenantId, `account ${account.id} belongs to another tenant`);
      const key = `${tenantId}/${account.id}`;
      const known = this.accounts.get(key);
      if (known) {
        known.debitsPendingMinor = account.debitsPendingMinor;
        known.debitsPostedMinor = account.debitsPostedMinor;
        known.creditsPendingMinor = account.creditsPendingMinor;
        known.creditsPostedMinor = account.creditsPostedMinor;
        this.heldAccounts.add(key);
        this.holding = true;
        continue;
      }
      if (this.holding) this.flushHeld();
      this.writeBalances(account);
    }
  }

  private writeBalances(account: Account): void {
    const { changes } = this.writes.updateAccountBalances.run(
      account.debitsPendingMinor, account.debitsPostedMinor, account.creditsPendingMinor, account.creditsPostedMinor,
      account.tenantId, account.id,
    );
    invariant(changes === 1, `account ${account.id} not found in tenant ${account.tenantId}`);
  }

  async insertTransfer(row: Transfer): Promise<void> {
    this.checkActive();
    const key = `${row.tenantId}/${row.id}`;
    const copy = transferCopy(row);
    this.transfers.set(key, copy);
    this.heldTransfers.set(key, copy);
    this.holding = true;
  }

  async updateTransfer(row: Transfer): Promise<void> {
    this.checkActive();
    const key = `${row.tenantId}/${row.id}`;
    if (!this.heldTransfers.has(key)) {
      this.checkLedgerRead();
      const { changes } = this.writes.updateTransfer.run(row.status, row.postedAmountMinor, row.updatedAtMs, row.tenantId, row.id);
      invariant(changes === 1, `transfer ${row.id} not found in tenant ${row.tenantId}`);
    }
    const known = this.transfers.get(key);
    if (known) {
      known.status = row.status;
      known.postedAmountMinor = row.postedAmountMinor;
      known.updatedAtMs = row.updatedAtMs;
    }
  }

  async insertEvent(event: JournalEvent, canonicalBody?: string): Promise<void> {
    this.checkActive();
    this.writes.insertEvent.run(event.tenant_id, event.seq, event.id, event.type, event.agent_id, canonicalBody ?? canonicalJson(event));
  }

  async putTreeNodes(tenantId: string, nodes: TreeNode[]): Promise<void> {
    this.checkActive();
    for (const node of nodes) this.writes.insertTreeNode.run(tenantId, node.level, node.index, blob(node.hash));
  }

  /**
   * One multi-row INSERT for the entries and one for the nodes (chunks of
   * `journalInsertRowsMax`): a statement costs no round trip here, but each still pays binding
   * and VDBE setup, and a payment appends five entries and about ten nodes.
   */
  async appendJournal(tenantId: string, entries: readonly JournalEntryWrite[], nodes: readonly TreeNode[], size: number): Promise<void> {
    this.checkActive();
    for (let start = 0; start < entries.length; start += journalInsertRowsMax) {
      const chunk = entries.slice(start, start + journalInsertRowsMax);
      const params: unknown[] = [];
      for (const { event, canonicalBody } of chunk) {
        invariant(event.tenant_id === tenantId, "journal entries belong to the tenant");
        params.push(tenantId, event.seq, event.id, event.type, event.agent_id, canonicalBody);
      }
      this.writes.insertEvents(chunk.length).run(...params);
    }
    for (let start = 0; start < nodes.length; start += journalInsertRowsMax) {
      const chunk = nodes.slice(start, start + journalInsertRowsMax);
      const params: unknown[] = [];
      for (const node of chunk) params.push(tenantId, node.level, node.index, blob(node.hash));
      this.writes.insertTreeNodes(chunk.length).run(...params);
    }
    const { changes } = this.writes.setJournalSize.run(size, tenantId);
    invariant(changes === 1, `tenant ${tenantId} not found when setting its journal size`);
    this.journalEdges.appended(tenantId, nodes, size);
  }

  async claimIdempotencyKey(record: IdempotencyRecord, staleClaimBeforeMs: number): Promise<IdempotencyRecord | null> {
    this.checkActive();
    const claimed = this.writes.claimIdempotencyKey.get(
      ...scopeParams(record), record.fingerprint, record.state, record.responseStatus, record.responseBody,
      record.createdAtMs, record.expiresAtMs, staleClaimBeforeMs,
    );
    if (claimed) return null;
    const existing = this.reads.getIdempotencyRecord.get(...scopeParams(record));
    invariant(existing, "idempotency claim lost its conflicting record");
    return idempotencyRecordFrom(existing);
  }

  async completeIdempotencyKey(scope: IdempotencyScope, responseStatus: number, responseBody: string): Promise<void> {
    this.checkActive();
    this.writes.completeIdempotencyKey.run(responseStatus, responseBody, ...scopeParams(scope));
  }

  async releaseIdempotencyKey(scope: IdempotencyScope): Promise<void> {
    this.checkActive();
    this.writes.releaseIdempotencyKey.run(...scopeParams(scope));
  }

  async redactIdempotencyAnswers(tenantId: string, routes: readonly string[], marker: string, responseStatus: number, responseBody: string): Promise<number> {
    this.checkActive();
    let changed = 0;
    for (const route of routes) changed += this.writes.redactIdempotencyAnswers.run(responseStatus, responseBody, tenantId, route, marker).changes;
    return changed;
  }

  async deleteExpiredIdempotencyRecords(nowMs: number, limit: number): Promise<number> {
    this.checkActive();
    return this.writes.deleteExpiredIdempotencyRecords.run(nowMs, checkLimit(limit)).changes;
  }

  async insertWebhookEndpoint(row: WebhookEndpointRow): Promise<void> {
    this.checkActive();
    this.config.changedBy(row.tenantId);
    this.writes.insertWebhookEndpoint.run(...webhookEndpointParams(row, (value) => (value ? 1 : 0), blob));
  }

  async updateWebhookEndpoint(row: WebhookEndpointRow): Promise<void> {
    this.checkActive();
    this.config.changedBy(row.tenantId);
    const { changes } = this.writes.updateWebhookEndpoint.run(
      row.url, row.description, JSON.stringify(row.eventTypes), row.enabled ? 1 : 0, row.disabledReason, row.secret,
      row.previousSecret, row.previousSecretExpiresAtMs,
      row.ed25519PrivateKeyPkcs8 === null ? null : blob(row.ed25519PrivateKeyPkcs8),
      row.ed25519PublicKey === null ? null : blob(row.ed25519PublicKey),
      row.updatedAtMs, row.taskIds === null ? null : JSON.stringify(row.taskIds), row.tenantId, row.id,
    );
    invariant(changes === 1, `webhook endpoint ${row.id} not found in tenant ${row.tenantId}`);
  }

  async deleteWebhookEndpoint(tenantId: string, endpointId: string): Promise<void> {
    this.checkActive();
    this.config.changedBy(tenantId);
    this.writes.deleteWebhookDeliveriesOfEndpoint.run(tenantId, endpointId);
    this.writes.deleteWebhookEndpoint.run(tenantId, endpointId);
  }

  async insertWebhookDelivery(row: WebhookDeliveryRow): Promise<void> {
    this.checkActive();
    this.writes.insertWebhookDelivery.run(...webhookDeliveryParams(row));
  }

  async updateWebhookDelivery(row: WebhookDeliveryRow): Promise<void> {
    this.checkActive();
    const { changes } = this.writes.updateWebhookDelivery.run(
      row.status, row.attemptCount, row.nextAttemptAtMs, row.lastAttemptAtMs, JSON.stringify(row.attempts), row.updatedAtMs,
      row.tenantId, row.id,
    );
    invariant(changes === 1, `delivery ${row.id} not found in tenant ${row.tenantId}`);
  }

  async claimDueWebhookDeliveries(nowMs: number, leaseUntilMs: number, limit: number): Promise<WebhookDeliveryRow[]> {
    this.checkActive();
    const rows = this.writes.claimDueWebhookDeliveries.all(leaseUntilMs, nowMs, checkLimit(limit)).map(webhookDeliveryFrom);
    // RETURNING gives no order guarantee: put them back in due order.
    return rows.sort((a, b) => a.eventSeq - b.eventSeq);
  }

  async insertAgent(row: AgentRow): Promise<void> {
    this.checkActive();
    this.config.changedBy(row.tenantId);
    this.writes.insertAgent.run(
      row.tenantId, row.id, row.name, row.description, row.walletAccountId, row.status, metadataTo(row.metadata),
      row.createdAtMs, row.updatedAtMs, row.teamId, row.parentAgentId, row.spawnDepth,
    );
  }

  async updateAgent(row: AgentRow): Promise<void> {
    this.checkActive();
    this.config.changedBy(row.tenantId);
    const { changes } = this.writes.updateAgent.run(
      row.name, row.description, row.status, metadataTo(row.metadata), row.teamId, row.updatedAtMs, row.tenantId, row.id,
    );
    invariant(changes === 1, `agent ${row.id} not found in tenant ${row.tenantId}`);
  }

  async insertRegistrationTicket(row: RegistrationTicketRow): Promise<void> {
    this.checkActive();
    this.writes.insertRegistrationTicket.run(
      row.tenantId, row.id, row.agentId, row.tokenHash, JSON.stringify(row.scopeCeiling), row.createdByUserId,
      row.createdAtMs, row.expiresAtMs, row.consumedAtMs, row.bindingId,
    );
  }

  async consumeRegistrationTicket(tenantId: string, ticketId: string, bindingId: string, nowMs: number): Promise<boolean> {
    this.checkActive();
    return this.writes.consumeRegistrationTicket.run(nowMs, bindingId, tenantId, ticketId).changes === 1;
  }

  async insertCredentialBinding(row: CredentialBindingRow): Promise<void> {
    this.checkActive();
    this.writes.insertCredentialBinding.run(
      row.tenantId, row.id, row.agentId, JSON.stringify(row.publicKeyJwk), row.thumbprint, row.algorithm,
      JSON.stringify(row.scopes), row.clientMetadata === null ? null : JSON.stringify(row.clientMetadata),
      row.createdAtMs, row.revokedAtMs,
    );
  }

  async revokeCredentialBinding(tenantId: string, bindingId: string, nowMs: number): Promise<void> {
    this.checkActive();
    const { changes } = this.writes.revokeCredentialBinding.run(nowMs, tenantId, bindingId);
    invariant(changes === 1, `credential binding ${bindingId} not found in tenant ${tenantId}`);
  }

  async insertRefreshToken(row: RefreshTokenRow): Promise<void> {
    this.checkActive();
    this.writes.insertRefreshToken.run(
      row.tenantId, row.id, row.bindingId, row.familyId, row.tokenHash, JSON.stringify(row.scopes),
      row.createdAtMs, row.expiresAtMs, row.usedAtMs, row.revokedAtMs,
    );
  }

  async useRefreshToken(tenantId: string, tokenId: string, nowMs: number): Promise<boolean> {
    this.checkActive();
    return this.writes.useRefreshToken.run(nowMs, tenantId, tokenId).changes === 1;
  }

  async revokeRefreshTokenFamily(tenantId: string, familyId: string, nowMs: number): Promise<void> {
    this.checkActive();
    this.writes.revokeRefreshTokenFamily.run(nowMs, tenantId, familyId);
  }

  async revokeRefreshTokensOfBinding(tenantId: string, bindingId: string, nowMs: number): Promise<void> {
    this.checkActive();
    this.writes.revokeRefreshTokensOfBinding.run(nowMs, tenantId, bindingId);
  }

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    this.checkActive();
    checkCounts(row.acceptedCount, row.deniedCounts);
    this.writes.insertApiKey.run(
      row.tenantId, row.id, row.agentId, row.name, row.tokenHash, JSON.stringify(row.scopes), row.rateLimitPerMinute,
      row.createdAtMs, row.expiresAtMs, row.revokedAtMs, row.rotatedFromId, row.lastUsedAtMs, row.acceptedCount,
      JSON.stringify(row.deniedCounts),
    );
  }

  async updateApiKeyLifecycle(tenantId: string, keyId: string, expiresAtMs: number | null, revokedAtMs: number | null): Promise<void> {
    this.checkActive();
    const { changes } = this.writes.updateApiKeyLifecycle.run(expiresAtMs, revokedAtMs, tenantId, keyId);
    invariant(changes === 1, `API key ${keyId} not found in tenant ${tenantId}`);
  }

  async addApiKeyUsage(
    tenantId: string,
    keyId: string,
    usage: { accepted: number; denied: Record<string, number>; lastUsedAtMs: number | null },
  ): Promise<void> {
    this.checkActive();
    checkCounts(usage.accepted, usage.denied);
    const { changes } = this.writes.addApiKeyUsage.run({
      accepted: usage.accepted,
      denied: JSON.stringify(usage.denied),
      lastUsedAtMs: usage.lastUsedAtMs,
      tenantId,
      keyId,
    });
    invariant(changes === 1, `API key ${keyId} not found in tenant ${tenantId}`);
  }

  async ensureServerSigningKey(row: ServerSigningKeyRow): Promise<ServerSigningKeyRow> {
    this.checkActive();
    this.writes.insertServerSigningKey.run(row.id, blob(row.privateKeyPkcs8), blob(row.publicKey), row.createdAtMs);
    const stored = this.reads.getServerSigningKey.get();
    invariant(stored, "server signing key missing after insert");
    return serverSigningKeyFrom(stored);
  }

  /** Runs one of the shared governance statements on the writer; returns the rows changed. */
  private runRecords(text: string, params: unknown[]): number {
    this.checkActive();
    return this.reads.statement(text).run(...params).changes;
  }

  async insertRecord(row: StoredRecord): Promise<void> {
    if (configRecordKinds.has(row.kind)) this.config.changedBy(row.tenantId);
    this.runRecords(this.reads.records.insertRecord, recordParams(row));
  }

  async updateRecord(row: StoredRecord): Promise<void> {
    if (configRecordKinds.has(row.kind)) this.config.changedBy(row.tenantId);
    const changed = this.runRecords(this.reads.records.updateRecord, recordUpdateParams(row));
    invariant(changed === 1, `${row.kind} ${row.id} not found in tenant ${row.tenantId}`);
  }

  async setRecordNames(tenantId: string, kind: RecordKind, id: string, nameKeys: string[]): Promise<void> {
    this.runRecords(this.reads.records.deleteRecordNames, [tenantId, kind, id]);
    for (const key of new Set(nameKeys)) this.runRecords(this.reads.records.insertRecordName, [tenantId, kind, key, id]);
  }

  async insertSpend(row: SpendRow): Promise<void> {
    this.checkActive();
    // The rollups' hour buckets (migration 19) assume times since the epoch.
    invariant(row.atMs >= 0, `spend ${row.id} at ${row.atMs} ms, before the epoch`);
    this.heldSpends.set(`${row.tenantId}/${row.id}`, { ...row });
    this.holding = true;
  }

  async setSpendState(tenantId: string, spendId: string, state: SpendRow["state"], amountMinor?: number): Promise<void> {
    const held = this.heldSpends.get(`${tenantId}/${spendId}`);
    if (held) {
      this.checkActive();
      held.state = state;
      if (amountMinor !== undefined) held.amountMinor = amountMinor;
      return;
    }
    this.checkLedgerRead();
    const changed = this.runRecords(this.reads.records.setSpendState, [state, amountMinor ?? null, tenantId, spendId]);
    invariant(changed === 1, `spend ${spendId} not found in tenant ${tenantId}`);
  }
}
