/**
 * StoreTx over the writer connection. One instance per operation of a group commit (a few
 * fields, no statements: those are prepared once in `SqliteWriteStatements`). It refuses calls
 * once its operation has ended, so a stray promise cannot write into the next operation.
 */
import type Database from "better-sqlite3";
import {
  canonicalJson,
  invariant,
  type Account,
  type IdempotencyRecord,
  type IdempotencyScope,
  type JournalEvent,
  type PersonalAccessTokenRow,
  type StoreTx,
  type TenantRow,
  type Transfer,
  type TreeNode,
  type UserRow,
} from "@bursar/core";
import {
  accountColumns,
  checkLimit,
  idempotencyColumns,
  idempotencyRecordFrom,
  metadataTo,
  personalAccessTokenColumns,
  rowsPerQueryMax,
  tenantColumns,
  transferColumns,
  userColumns,
  type Row,
} from "../rows.js";
import { scopeParams, SqliteReader, type RowStatement, type SqliteReadStatements } from "./sqlite-reader.js";

const placeholders = (columns: string) => columns.split(",").map(() => "?").join(", ");
const scopeCondition = "tenant_id = ? AND principal_id = ? AND method = ? AND route = ? AND idempotency_key = ?";

/** The INSERT/UPDATE/DELETE statements of the writer connection, prepared once. */
export class SqliteWriteStatements {
  readonly insertTenant: RowStatement;
  readonly setJournalSize: RowStatement;
  readonly insertUser: RowStatement;
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
  readonly deleteExpiredIdempotencyRecords: RowStatement;

  constructor(db: Database.Database) {
    const prepare = (sql: string): RowStatement => db.prepare<unknown[], Row>(sql);
    const insert = (table: string, columns: string) =>
      prepare(`INSERT INTO ${table} (${columns}) VALUES (${placeholders(columns)})`);
    this.insertTenant = insert("tenants", tenantColumns);
    this.setJournalSize = prepare("UPDATE tenants SET journal_size = ? WHERE id = ?");
    this.insertUser = insert("users", userColumns);
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
    this.deleteExpiredIdempotencyRecords = prepare(
      "DELETE FROM idempotency_keys WHERE (tenant_id, principal_id, method, route, idempotency_key) IN " +
        "(SELECT tenant_id, principal_id, method, route, idempotency_key FROM idempotency_keys " +
        "WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?)",
    );
  }
}

/** better-sqlite3 binds Buffers; this views a Uint8Array as one without copying. */
const blob = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class SqliteTransaction extends SqliteReader implements StoreTx {
  private active = true;

  constructor(
    reads: SqliteReadStatements,
    private readonly writes: SqliteWriteStatements,
  ) {
    super(reads);
  }

  /** Called by the group commit when the operation's function has settled. */
  end(): void {
    this.active = false;
  }

  protected override checkActive(): void {
    invariant(this.active, "store transaction used after its write() callback settled");
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
    this.writes.insertUser.run(row.tenantId, row.id, row.email, row.name, row.role, row.createdAtMs);
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
  }

  async updateAccountBalances(tenantId: string, accounts: Account[]): Promise<void> {
    this.checkActive();
    invariant(accounts.length <= rowsPerQueryMax, `${accounts.length} accounts updated at once`);
    invariant(new Set(accounts.map((account) => account.id)).size === accounts.length, "an account appears twice in one balance update");
    for (const account of accounts) {
      invariant(account.tenantId === tenantId, `account ${account.id} belongs to another tenant`);
      const { changes } = this.writes.updateAccountBalances.run(
        account.debitsPendingMinor, account.debitsPostedMinor, account.creditsPendingMinor, account.creditsPostedMinor,
        tenantId, account.id,
      );
      invariant(changes === 1, `account ${account.id} not found in tenant ${tenantId}`);
    }
  }

  async insertTransfer(row: Transfer): Promise<void> {
    this.checkActive();
    this.writes.insertTransfer.run(
      row.tenantId, row.id, row.debitAccountId, row.creditAccountId, row.currency, row.amountMinor, row.status,
      row.postedAmountMinor, row.expiresAtMs, row.reference, metadataTo(row.metadata), row.batchId, row.fingerprint,
      row.createdAtMs, row.updatedAtMs,
    );
  }

  async updateTransfer(row: Transfer): Promise<void> {
    this.checkActive();
    const { changes } = this.writes.updateTransfer.run(row.status, row.postedAmountMinor, row.updatedAtMs, row.tenantId, row.id);
    invariant(changes === 1, `transfer ${row.id} not found in tenant ${row.tenantId}`);
  }

  async insertEvent(event: JournalEvent): Promise<void> {
    this.checkActive();
    this.writes.insertEvent.run(event.tenant_id, event.seq, event.id, event.type, event.agent_id, canonicalJson(event));
  }

  async putTreeNodes(tenantId: string, nodes: TreeNode[]): Promise<void> {
    this.checkActive();
    for (const node of nodes) this.writes.insertTreeNode.run(tenantId, node.level, node.index, blob(node.hash));
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

  async deleteExpiredIdempotencyRecords(nowMs: number, limit: number): Promise<number> {
    this.checkActive();
    return this.writes.deleteExpiredIdempotencyRecords.run(nowMs, checkLimit(limit)).changes;
  }
}
