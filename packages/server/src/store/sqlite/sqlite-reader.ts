/**
 * StoreReader over one better-sqlite3 connection. The store builds one over the read-only
 * connection (committed snapshots, `store.read`) and one over the writer (reads inside a write
 * see the write's own changes). Statements are prepared once per connection and reused: the
 * group commit's throughput depends on per-operation work staying small.
 */
import type Database from "better-sqlite3";
import {
  invariant,
  tenantConfigCacheEntriesMax,
  type RecordKind,
  type RecordQuery,
  type UsageQuery,
  type UsageRow,
  type SpendSum,
  type StoredRecord,
  type Account,
  type AgentRow,
  type ApiKeyRow,
  type CredentialBindingRow,
  type EventQuery,
  type IdempotencyRecord,
  type IdempotencyScope,
  type JournalEvent,
  type PageQuery,
  type PersonalAccessTokenRow,
  type RefreshTokenRow,
  type RegistrationTicketRow,
  type ServerSigningKeyRow,
  type StoreReader,
  type TenantRow,
  type Transfer,
  type TreeNodeKey,
  type UserRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "@bursar/core";
import { eventQuerySql } from "../event-query.js";
import { RecordsSql, recordFrom, spendSumFrom, sumSpendsOfStatement, sumSpendsStatement, usageRowFrom } from "../records-sql.js";
import {
  accountColumns,
  accountFrom,
  agentColumns,
  agentFrom,
  apiKeyColumns,
  apiKeyFrom,
  balanceSumFrom,
  bytesFrom,
  checkLimit,
  credentialBindingColumns,
  credentialBindingFrom,
  eventFrom,
  idempotencyColumns,
  idempotencyRecordFrom,
  integerFrom,
  personalAccessTokenColumns,
  personalAccessTokenFrom,
  refreshTokenColumns,
  refreshTokenFrom,
  registrationTicketColumns,
  registrationTicketFrom,
  rowsPerQueryMax,
  serverSigningKeyColumns,
  serverSigningKeyFrom,
  tenantColumns,
  tenantFrom,
  textFrom,
  transferColumns,
  transferFrom,
  userColumns,
  userFrom,
  webhookDeliveryColumns,
  webhookDeliveryFrom,
  webhookEndpointColumns,
  webhookEndpointFrom,
  sqliteLimit,
  type Row,
} from "../rows.js";

export type RowStatement = Database.Statement<unknown[], Row>;

const idempotencyScopeCondition =
  "tenant_id = ? AND principal_id = ? AND method = ? AND route = ? AND idempotency_key = ?";

/** The SELECT statements of one connection, prepared once. */
export class SqliteReadStatements {
  readonly countTenants: RowStatement;
  readonly getTenant: RowStatement;
  readonly configVersion: RowStatement;
  /** `PRAGMA data_version`: changes when another connection (or process) committed. */
  readonly dataVersion: Database.Statement<unknown[], number>;
  readonly getUser: RowStatement;
  readonly listUsers: RowStatement;
  readonly findPersonalAccessTokenByHash: RowStatement;
  readonly getAccount: RowStatement;
  readonly listAccounts: RowStatement;
  readonly listAccountsBefore: RowStatement;
  readonly findFundingAccount: RowStatement;
  readonly sumBalances: RowStatement;
  readonly getTransfer: RowStatement;
  readonly listTransfers: RowStatement;
  readonly listTransfersBefore: RowStatement;
  readonly listAccountTransfers: RowStatement;
  readonly listAccountTransfersBefore: RowStatement;
  readonly listExpiredHolds: RowStatement;
  readonly getEventBySeq: RowStatement;
  readonly getTreeNodes: RowStatement;
  readonly getIdempotencyRecord: RowStatement;
  readonly getEventSeqById: RowStatement;
  readonly nextWebhookDeliveryDueAtMs: RowStatement;
  readonly getWebhookEndpoint: RowStatement;
  readonly listWebhookEndpoints: RowStatement;
  readonly listWebhookEndpointsBefore: RowStatement;
  readonly listEnabledWebhookEndpoints: RowStatement;
  readonly countWebhookEndpoints: RowStatement;
  readonly getWebhookDelivery: RowStatement;
  readonly listWebhookDeliveries: RowStatement;
  readonly listWebhookDeliveriesBefore: RowStatement;
  readonly getAgent: RowStatement;
  readonly listAgents: PagedStatements;
  readonly listTeamAgents: RowStatement;
  readonly listChildAgents: RowStatement;
  readonly findRegistrationTicketByHash: RowStatement;
  readonly findCredentialBinding: RowStatement;
  readonly findCredentialBindingByThumbprint: RowStatement;
  readonly listCredentialBindings: PagedStatements;
  readonly listAgentCredentialBindings: PagedStatements;
  readonly findRefreshTokenByHash: RowStatement;
  readonly findApiKeyByHash: RowStatement;
  readonly getApiKey: RowStatement;
  readonly listApiKeys: PagedStatements;
  readonly getServerSigningKey: RowStatement;
  /** Governance records and spends (shared with PostgreSQL, see records-sql.ts). */
  readonly records = new RecordsSql("sqlite");
  /** Statements built from query shapes (`listEvents`, `listRecords`), by SQL text; a few dozen at most. */
  private readonly shapedStatements = new Map<string, RowStatement>();

  constructor(private readonly db: Database.Database) {
    const prepare = (sql: string): RowStatement => db.prepare<unknown[], Row>(sql);
    this.countTenants = prepare("SELECT count(*) AS count FROM tenants");
    this.getTenant = prepare(`SELECT ${tenantColumns} FROM tenants WHERE id = ?`);
    this.configVersion = prepare("SELECT config_version FROM tenants WHERE id = ?");
    this.dataVersion = db.prepare<unknown[], number>("PRAGMA data_version").pluck();
    this.getUser = prepare(`SELECT ${userColumns} FROM users WHERE tenant_id = ? AND id = ?`);
    this.listUsers = prepare(`SELECT ${userColumns} FROM users WHERE tenant_id = ? ORDER BY id ${sqliteLimit}`);
    this.findPersonalAccessTokenByHash = prepare(
      `SELECT ${personalAccessTokenColumns} FROM personal_access_tokens WHERE token_hash = ?`,
    );
    this.getAccount = prepare(`SELECT ${accountColumns} FROM accounts WHERE tenant_id = ? AND id = ?`);
    this.listAccounts = prepare(`SELECT ${accountColumns} FROM accounts WHERE tenant_id = ? ORDER BY id DESC ${sqliteLimit}`);
    this.listAccountsBefore = prepare(
      `SELECT ${accountColumns} FROM accounts WHERE tenant_id = ? AND id < ? ORDER BY id DESC ${sqliteLimit}`,
    );
    this.findFundingAccount = prepare(
      `SELECT ${accountColumns} FROM accounts WHERE tenant_id = ? AND kind = 'funding' AND currency = ? ORDER BY id LIMIT 1`,
    );
    this.sumBalances = prepare(
      "SELECT currency, sum(debits_posted_minor) AS debits_posted_minor, sum(credits_posted_minor) AS credits_posted_minor, " +
        "sum(debits_pending_minor) AS debits_pending_minor, sum(credits_pending_minor) AS credits_pending_minor " +
        "FROM accounts WHERE tenant_id = ? GROUP BY currency ORDER BY currency",
    );
    this.getTransfer = prepare(`SELECT ${transferColumns} FROM transfers WHERE tenant_id = ? AND id = ?`);
    this.listTransfers = prepare(`SELECT ${transferColumns} FROM transfers WHERE tenant_id = ? ORDER BY id DESC ${sqliteLimit}`);
    this.listTransfersBefore = prepare(
      `SELECT ${transferColumns} FROM transfers WHERE tenant_id = ? AND id < ? ORDER BY id DESC ${sqliteLimit}`,
    );
    this.listAccountTransfers = prepare(accountTransfersSql(""));
    this.listAccountTransfersBefore = prepare(accountTransfersSql("AND id < @beforeId"));
    // Matches the partial index transfers_pending_by_expiry (same literal status condition).
    this.listExpiredHolds = prepare(
      "SELECT tenant_id, id FROM transfers WHERE status = 'pending' AND expires_at_ms <= ? " +
        `ORDER BY expires_at_ms, tenant_id, id ${sqliteLimit}`,
    );
    this.getEventBySeq = prepare("SELECT tenant_id, seq, body FROM events WHERE tenant_id = ? AND seq = ?");
    // All keys in one statement (a JSON array of [level, idx] pairs): one call into SQLite per
    // proof, whatever its length, so proof time grows with B-tree seeks only. CROSS JOIN keeps
    // the key list as the outer loop (SQLite does not reorder it): one index seek per key.
    this.getTreeNodes = prepare(
      "SELECT key.key AS position, node.hash AS hash FROM json_each(?) AS key " +
        "CROSS JOIN journal_nodes AS node WHERE node.tenant_id = ? AND node.level = key.value ->> 0 AND node.idx = key.value ->> 1",
    );
    this.getIdempotencyRecord = prepare(`SELECT ${idempotencyColumns} FROM idempotency_keys WHERE ${idempotencyScopeCondition}`);
    this.getEventSeqById = prepare("SELECT seq FROM events WHERE tenant_id = ? AND id = ?");
    // Same literal condition as the partial index webhook_deliveries_due: a min over its first column.
    this.nextWebhookDeliveryDueAtMs = prepare("SELECT min(next_attempt_at_ms) AS due FROM webhook_deliveries WHERE status = 'pending'");
    const endpoints = `SELECT ${webhookEndpointColumns} FROM webhook_endpoints WHERE tenant_id = ?`;
    this.getWebhookEndpoint = prepare(`${endpoints} AND id = ?`);
    this.listWebhookEndpoints = prepare(`${endpoints} ORDER BY id DESC ${sqliteLimit}`);
    this.listWebhookEndpointsBefore = prepare(`${endpoints} AND id < ? ORDER BY id DESC ${sqliteLimit}`);
    this.listEnabledWebhookEndpoints = prepare(`${endpoints} AND enabled = 1 ORDER BY id ${sqliteLimit}`);
    this.countWebhookEndpoints = prepare("SELECT count(*) AS count FROM webhook_endpoints WHERE tenant_id = ?");
    const deliveries = `SELECT ${webhookDeliveryColumns} FROM webhook_deliveries WHERE tenant_id = ?`;
    this.getWebhookDelivery = prepare(`${deliveries} AND id = ?`);
    this.listWebhookDeliveries = prepare(`${deliveries} AND endpoint_id = ? ORDER BY id DESC ${sqliteLimit}`);
    this.listWebhookDeliveriesBefore = prepare(`${deliveries} AND endpoint_id = ? AND id < ? ORDER BY id DESC ${sqliteLimit}`);
    // Keyset pages, newest first: `condition` binds the leading parameters, then the cursor, then the limit.
    const paged = (columns: string, table: string, condition: string): PagedStatements => ({
      first: prepare(`SELECT ${columns} FROM ${table} WHERE ${condition} ORDER BY id DESC ${sqliteLimit}`),
      before: prepare(`SELECT ${columns} FROM ${table} WHERE ${condition} AND id < ? ORDER BY id DESC ${sqliteLimit}`),
    });
    this.getAgent = prepare(`SELECT ${agentColumns} FROM agents WHERE tenant_id = ? AND id = ?`);
    this.listAgents = paged(agentColumns, "agents", "tenant_id = ?");
    this.listTeamAgents = prepare(`SELECT ${agentColumns} FROM agents INDEXED BY agents_by_team WHERE tenant_id = ? AND team_id = ? ORDER BY id ${sqliteLimit}`);
    this.listChildAgents = prepare(`SELECT ${agentColumns} FROM agents INDEXED BY agents_by_parent WHERE tenant_id = ? AND parent_agent_id = ? ORDER BY id ${sqliteLimit}`);
    this.findRegistrationTicketByHash = prepare(
      `SELECT ${registrationTicketColumns} FROM registration_tickets WHERE token_hash = ?`,
    );
    this.findCredentialBinding = prepare(`SELECT ${credentialBindingColumns} FROM credential_bindings WHERE id = ?`);
    this.findCredentialBindingByThumbprint = prepare(
      `SELECT ${credentialBindingColumns} FROM credential_bindings WHERE thumbprint = ?`,
    );
    this.listCredentialBindings = paged(credentialBindingColumns, "credential_bindings", "tenant_id = ?");
    this.listAgentCredentialBindings = paged(credentialBindingColumns, "credential_bindings", "tenant_id = ? AND agent_id = ?");
    this.findRefreshTokenByHash = prepare(`SELECT ${refreshTokenColumns} FROM refresh_tokens WHERE token_hash = ?`);
    this.findApiKeyByHash = prepare(`SELECT ${apiKeyColumns} FROM api_keys WHERE token_hash = ?`);
    this.getApiKey = prepare(`SELECT ${apiKeyColumns} FROM api_keys WHERE tenant_id = ? AND id = ?`);
    this.listApiKeys = paged(apiKeyColumns, "api_keys", "tenant_id = ?");
    this.getServerSigningKey = prepare(`SELECT ${serverSigningKeyColumns} FROM server_signing_keys WHERE singleton = 1`);
  }

  /** The statement for `text`, prepared on first use. */
  statement(text: string): RowStatement {
    let statement = this.shapedStatements.get(text);
    if (!statement) {
      statement = this.db.prepare<unknown[], Row>(text);
      this.shapedStatements.set(text, statement);
    }
    return statement;
  }
}

/** A keyset page's two statements: the first page, and a page before a cursor id. */
export interface PagedStatements {
  first: RowStatement;
  before: RowStatement;
}

/** Runs one page of `statements`; `params` are those of its condition. */
function page(statements: PagedStatements, params: unknown[], query: PageQuery): Row[] {
  const limit = checkLimit(query.limit);
  return query.beforeId === undefined
    ? statements.first.all(...params, limit)
    : statements.before.all(...params, query.beforeId, limit);
}

/**
 * Transfers touching one account, newest first: each side reads its own index and stops at the
 * limit, so a busy tenant's other transfers are never scanned.
 */
function accountTransfersSql(cursorCondition: string): string {
  const side = (column: string) =>
    `SELECT ${transferColumns} FROM (SELECT ${transferColumns} FROM transfers ` +
    `WHERE tenant_id = @tenantId AND ${column} = @accountId ${cursorCondition} ORDER BY id DESC LIMIT @limit)`;
  return `${side("debit_account_id")} UNION ${side("credit_account_id")} ORDER BY id DESC LIMIT @limit`;
}

/** Binds the five parts of an idempotency scope, in the order of `idempotencyScopeCondition`. */
export function scopeParams(scope: IdempotencyScope): [string, string, string, string, string] {
  return [scope.tenantId, scope.principalId, scope.method, scope.route, scope.key];
}

export class SqliteReader implements StoreReader {
  constructor(protected readonly reads: SqliteReadStatements) {}

  /** Hook for transactions, which refuse calls after they ended. */
  protected checkActive(): void {}

  /**
   * Before a read of the ledger's tables (accounts, transfers, spends and what their triggers
   * maintain): a transaction sends the writes it holds back first (SqliteTransaction).
   */
  protected checkLedgerRead(): void {
    this.checkActive();
  }

  async countTenants(): Promise<number> {
    this.checkActive();
    return integerFrom(this.reads.countTenants.get()?.count, "count");
  }

  async getTenant(tenantId: string): Promise<TenantRow | null> {
    this.checkActive();
    const row = this.reads.getTenant.get(tenantId);
    return row ? tenantFrom(row) : null;
  }

  async configVersion(tenantId: string): Promise<number | null> {
    this.checkActive();
    const row = this.reads.configVersion.get(tenantId);
    return row ? integerFrom(row.config_version, "tenants.config_version") : null;
  }

  async getUser(tenantId: string, userId: string): Promise<UserRow | null> {
    this.checkActive();
    const row = this.reads.getUser.get(tenantId, userId);
    return row ? userFrom(row) : null;
  }

  async listUsers(tenantId: string, limit: number): Promise<UserRow[]> {
    this.checkActive();
    return this.reads.listUsers.all(tenantId, limit).map(userFrom);
  }

  async findPersonalAccessTokenByHash(tokenHash: string): Promise<PersonalAccessTokenRow | null> {
    this.checkActive();
    const row = this.reads.findPersonalAccessTokenByHash.get(tokenHash);
    return row ? personalAccessTokenFrom(row) : null;
  }

  async getAccount(tenantId: string, accountId: string): Promise<Account | null> {
    this.checkLedgerRead();
    const row = this.reads.getAccount.get(tenantId, accountId);
    return row ? accountFrom(row) : null;
  }

  async listAccounts(tenantId: string, page: PageQuery): Promise<Account[]> {
    this.checkLedgerRead();
    const limit = checkLimit(page.limit);
    const rows =
      page.beforeId === undefined
        ? this.reads.listAccounts.all(tenantId, limit)
        : this.reads.listAccountsBefore.all(tenantId, page.beforeId, limit);
    return rows.map(accountFrom);
  }

  async findFundingAccount(tenantId: string, currency: string): Promise<Account | null> {
    this.checkLedgerRead();
    const row = this.reads.findFundingAccount.get(tenantId, currency);
    return row ? accountFrom(row) : null;
  }

  async sumBalances(tenantId: string): ReturnType<StoreReader["sumBalances"]> {
    this.checkLedgerRead();
    return this.reads.sumBalances.all(tenantId).map(balanceSumFrom);
  }

  async getTransfer(tenantId: string, transferId: string): Promise<Transfer | null> {
    this.checkLedgerRead();
    const row = this.reads.getTransfer.get(tenantId, transferId);
    return row ? transferFrom(row) : null;
  }

  async listTransfers(tenantId: string, page: PageQuery & { accountId?: string }): Promise<Transfer[]> {
    this.checkLedgerRead();
    const limit = checkLimit(page.limit);
    let rows: Row[];
    if (page.accountId !== undefined) {
      const params = { tenantId, accountId: page.accountId, limit };
      rows =
        page.beforeId === undefined
          ? this.reads.listAccountTransfers.all(params)
          : this.reads.listAccountTransfersBefore.all({ ...params, beforeId: page.beforeId });
    } else {
      rows =
        page.beforeId === undefined
          ? this.reads.listTransfers.all(tenantId, limit)
          : this.reads.listTransfersBefore.all(tenantId, page.beforeId, limit);
    }
    return rows.map(transferFrom);
  }

  async listExpiredHolds(nowMs: number, limit: number): Promise<Array<{ tenantId: string; transferId: string }>> {
    this.checkLedgerRead();
    return this.reads.listExpiredHolds.all(nowMs, checkLimit(limit)).map((row) => ({
      tenantId: textFrom(row.tenant_id, "transfers.tenant_id"),
      transferId: textFrom(row.id, "transfers.id"),
    }));
  }

  async listEvents(tenantId: string, query: EventQuery): Promise<JournalEvent[]> {
    this.checkActive();
    const { text, params } = eventQuerySql("sqlite", "events", tenantId, query);
    return this.reads.statement(text).all(...params).map(eventFrom);
  }

  async getEventBySeq(tenantId: string, seq: number): Promise<JournalEvent | null> {
    this.checkActive();
    const row = this.reads.getEventBySeq.get(tenantId, seq);
    return row ? eventFrom(row) : null;
  }

  async getTreeNodes(tenantId: string, keys: TreeNodeKey[]): Promise<Uint8Array[]> {
    this.checkActive();
    invariant(keys.length <= rowsPerQueryMax, `${keys.length} tree nodes asked at once`);
    if (keys.length === 0) return [];
    const rows = this.reads.getTreeNodes.all(JSON.stringify(keys.map(({ level, index }) => [level, index])), tenantId);
    const hashes: Uint8Array[] = new Array(keys.length);
    for (const row of rows) hashes[row.position as number] = bytesFrom(row.hash, "journal_nodes.hash");
    for (const [position, { level, index }] of keys.entries()) {
      invariant(hashes[position], `journal node (${level}, ${index}) of tenant ${tenantId} is missing`);
    }
    return hashes;
  }

  async getIdempotencyRecord(scope: IdempotencyScope): Promise<IdempotencyRecord | null> {
    this.checkActive();
    const row = this.reads.getIdempotencyRecord.get(...scopeParams(scope));
    return row ? idempotencyRecordFrom(row) : null;
  }

  async getEventSeqById(tenantId: string, eventId: string): Promise<number | null> {
    this.checkActive();
    const row = this.reads.getEventSeqById.get(tenantId, eventId);
    return row ? integerFrom(row.seq, "events.seq") : null;
  }

  async nextWebhookDeliveryDueAtMs(): Promise<number | null> {
    this.checkActive();
    const due = this.reads.nextWebhookDeliveryDueAtMs.get()?.due;
    return due === null || due === undefined ? null : integerFrom(due, "min(next_attempt_at_ms)");
  }

  async getWebhookEndpoint(tenantId: string, endpointId: string): Promise<WebhookEndpointRow | null> {
    this.checkActive();
    const row = this.reads.getWebhookEndpoint.get(tenantId, endpointId);
    return row ? webhookEndpointFrom(row) : null;
  }

  async listWebhookEndpoints(tenantId: string, page: PageQuery): Promise<WebhookEndpointRow[]> {
    this.checkActive();
    const limit = checkLimit(page.limit);
    const rows =
      page.beforeId === undefined
        ? this.reads.listWebhookEndpoints.all(tenantId, limit)
        : this.reads.listWebhookEndpointsBefore.all(tenantId, page.beforeId, limit);
    return rows.map(webhookEndpointFrom);
  }

  async listEnabledWebhookEndpoints(tenantId: string, limit: number): Promise<WebhookEndpointRow[]> {
    this.checkActive();
    return this.reads.listEnabledWebhookEndpoints.all(tenantId, checkLimit(limit)).map(webhookEndpointFrom);
  }

  async countWebhookEndpoints(tenantId: string): Promise<number> {
    this.checkActive();
    return integerFrom(this.reads.countWebhookEndpoints.get(tenantId)?.count, "count");
  }

  async getWebhookDelivery(tenantId: string, deliveryId: string): Promise<WebhookDeliveryRow | null> {
    this.checkActive();
    const row = this.reads.getWebhookDelivery.get(tenantId, deliveryId);
    return row ? webhookDeliveryFrom(row) : null;
  }

  async listWebhookDeliveries(tenantId: string, endpointId: string, page: PageQuery): Promise<WebhookDeliveryRow[]> {
    this.checkActive();
    const limit = checkLimit(page.limit);
    const rows =
      page.beforeId === undefined
        ? this.reads.listWebhookDeliveries.all(tenantId, endpointId, limit)
        : this.reads.listWebhookDeliveriesBefore.all(tenantId, endpointId, page.beforeId, limit);
    return rows.map(webhookDeliveryFrom);
  }

  async getAgent(tenantId: string, agentId: string): Promise<AgentRow | null> {
    this.checkActive();
    const row = this.reads.getAgent.get(tenantId, agentId);
    return row ? agentFrom(row) : null;
  }

  async listAgents(tenantId: string, query: PageQuery): Promise<AgentRow[]> {
    this.checkActive();
    return page(this.reads.listAgents, [tenantId], query).map(agentFrom);
  }

  async listTeamAgents(tenantId: string, teamId: string, limit: number): Promise<AgentRow[]> {
    this.checkActive();
    return this.reads.listTeamAgents.all(tenantId, teamId, checkLimit(limit)).map(agentFrom);
  }

  async listChildAgents(tenantId: string, parentAgentId: string, limit: number): Promise<AgentRow[]> {
    this.checkActive();
    return this.reads.listChildAgents.all(tenantId, parentAgentId, checkLimit(limit)).map(agentFrom);
  }

  async findRegistrationTicketByHash(tokenHash: string): Promise<RegistrationTicketRow | null> {
    this.checkActive();
    const row = this.reads.findRegistrationTicketByHash.get(tokenHash);
    return row ? registrationTicketFrom(row) : null;
  }

  async findCredentialBinding(bindingId: string): Promise<CredentialBindingRow | null> {
    this.checkActive();
    const row = this.reads.findCredentialBinding.get(bindingId);
    return row ? credentialBindingFrom(row) : null;
  }

  async findCredentialBindingByThumbprint(thumbprint: string): Promise<CredentialBindingRow | null> {
    this.checkActive();
    const row = this.reads.findCredentialBindingByThumbprint.get(thumbprint);
    return row ? credentialBindingFrom(row) : null;
  }

  async listCredentialBindings(tenantId: string, query: PageQuery & { agentId?: string }): Promise<CredentialBindingRow[]> {
    this.checkActive();
    const rows =
      query.agentId === undefined
        ? page(this.reads.listCredentialBindings, [tenantId], query)
        : page(this.reads.listAgentCredentialBindings, [tenantId, query.agentId], query);
    return rows.map(credentialBindingFrom);
  }

  async findRefreshTokenByHash(tokenHash: string): Promise<RefreshTokenRow | null> {
    this.checkActive();
    const row = this.reads.findRefreshTokenByHash.get(tokenHash);
    return row ? refreshTokenFrom(row) : null;
  }

  async findApiKeyByHash(tokenHash: string): Promise<ApiKeyRow | null> {
    this.checkActive();
    const row = this.reads.findApiKeyByHash.get(tokenHash);
    return row ? apiKeyFrom(row) : null;
  }

  async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRow | null> {
    this.checkActive();
    const row = this.reads.getApiKey.get(tenantId, keyId);
    return row ? apiKeyFrom(row) : null;
  }

  async listApiKeys(tenantId: string, query: PageQuery): Promise<ApiKeyRow[]> {
    this.checkActive();
    return page(this.reads.listApiKeys, [tenantId], query).map(apiKeyFrom);
  }

  async getServerSigningKey(): Promise<ServerSigningKeyRow | null> {
    this.checkActive();
    const row = this.reads.getServerSigningKey.get();
    return row ? serverSigningKeyFrom(row) : null;
  }

  async getRecord(tenantId: string, kind: RecordKind, id: string): Promise<StoredRecord | null> {
    this.checkActive();
    const row = this.reads.statement(this.reads.records.getRecord).get(tenantId, kind, id);
    return row ? recordFrom(row) : null;
  }

  async listRecords(tenantId: string, query: RecordQuery): Promise<StoredRecord[]> {
    this.checkActive();
    const { text, params } = this.reads.records.listRecords(tenantId, query);
    return this.reads.statement(text).all(...params).map(recordFrom);
  }

  async countRecords(tenantId: string, query: Pick<RecordQuery, "kind" | "agentId" | "status">, limit: number): Promise<number> {
    this.checkActive();
    const { text, params } = this.reads.records.countRecords(tenantId, query, limit);
    return integerFrom(this.reads.statement(text).get(...params)?.count ?? 0, "count");
  }

  async findRecordIdsByName(tenantId: string, kind: RecordKind, nameKey: string, limit: number): Promise<string[]> {
    this.checkActive();
    const rows = this.reads.statement(this.reads.records.findRecordIdsByName).all(tenantId, kind, nameKey, checkLimit(limit));
    return rows.map((row) => textFrom(row.id, "record_names.id"));
  }

  async listDueRecords(kind: RecordKind, nowMs: number, limit: number): Promise<Array<{ tenantId: string; id: string }>> {
    this.checkActive();
    const rows = this.reads.statement(this.reads.records.listDueRecords).all(kind, nowMs, checkLimit(limit));
    return rows.map((row) => ({ tenantId: textFrom(row.tenant_id, "records.tenant_id"), id: textFrom(row.id, "records.id") }));
  }

  async sumSpends(tenantId: string, agentId: string, currency: string, sinceMs: number): Promise<SpendSum> {
    this.checkLedgerRead();
    const { text, params } = sumSpendsStatement(this.reads.records, tenantId, agentId, currency, sinceMs);
    return spendSumFrom(this.reads.statement(text).get(...params));
  }

  /** In process, a statement costs no round trip: each window runs its own cached statement. */
  async sumSpendWindows(tenantId: string, agentId: string, currency: string, sinceMs: readonly number[]): Promise<SpendSum[]> {
    const sums: SpendSum[] = [];
    for (const since of sinceMs) sums.push(await this.sumSpends(tenantId, agentId, currency, since));
    return sums;
  }

  async sumOperationSpends(tenantId: string, agentId: string, currency: string, sinceMs: number, pattern: string): Promise<SpendSum> {
    this.checkLedgerRead();
    const { text, params } = this.reads.records.sumOperationSpends(currency, tenantId, agentId, sinceMs, pattern);
    return spendSumFrom(this.reads.statement(text).get(...params));
  }

  async usage(tenantId: string, query: UsageQuery): Promise<UsageRow[]> {
    this.checkLedgerRead();
    const { text, params } = this.reads.records.usage(tenantId, query);
    return this.reads.statement(text).all(...params).map(usageRowFrom);
  }

  async findTriggerTenant(triggerId: string): Promise<string | null> {
    this.checkActive();
    const row = this.reads.statement(this.reads.records.findTriggerTenant).get(triggerId);
    return row ? textFrom(row.tenant_id, "records.tenant_id") : null;
  }

  async sumSpendsOf(tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<SpendSum> {
    this.checkLedgerRead();
    const { text, params } = sumSpendsOfStatement(this.reads.records, tenantId, agentIds, currency, sinceMs);
    return spendSumFrom(this.reads.statement(text).get(...params));
  }

  async sumHeldSpendsOf(tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<number> {
    this.checkLedgerRead();
    const row = this.reads.statement(this.reads.records.sumHeldSpendsOf).get(tenantId, this.reads.records.agentSet(agentIds), sinceMs, currency);
    return spendSumFrom(row).amountMinor;
  }

  async hasSettledSpend(tenantId: string, agentId: string, payeeId: string): Promise<boolean> {
    this.checkLedgerRead();
    return this.reads.statement(this.reads.records.hasSettledSpend).get(tenantId, agentId, payeeId) !== undefined;
  }
}

/**
 * The reader of committed state (`store.read`, over the read-only connection). Its
 * `configVersion` answers from memory while `PRAGMA data_version` says no connection, of this
 * process or another, has committed since the version was read: a request that checks its
 * cached credentials against the version then costs no table read while nothing is written.
 * Any commit anywhere (a transfer as much as a revocation) makes the next call read the row.
 */
export class SqliteCommittedReader extends SqliteReader {
  private readonly versions = new Map<string, number>();
  private versionsAtDataVersion = -1;

  override async configVersion(tenantId: string): Promise<number | null> {
    const dataVersion = this.reads.dataVersion.get()!;
    if (dataVersion !== this.versionsAtDataVersion) {
      this.versions.clear();
      this.versionsAtDataVersion = dataVersion;
    }
    const known = this.versions.get(tenantId);
    if (known !== undefined) return known;
    const version = await super.configVersion(tenantId);
    // Bounded by the tenants that made requests since the last commit anywhere.
    if (version !== null && this.versions.size < tenantConfigCacheEntriesMax) this.versions.set(tenantId, version);
    return version;
  }
}
