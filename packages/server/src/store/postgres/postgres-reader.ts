/**
 * StoreReader over PostgreSQL. `store.read` runs it on the pool (each query autocommits and sees
 * committed data); a transaction runs it on its own client, so it sees its own writes.
 */
import {
  type RecordKind,
  type RecordQuery,
  type UsageQuery,
  type UsageRow,
  type SpendSum,
  type StoredRecord,
  invariant,
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
import {
  accountFrom,
  agentFrom,
  apiKeyFrom,
  balanceSumFrom,
  bytesFrom,
  checkLimit,
  credentialBindingFrom,
  eventFrom,
  idempotencyRecordFrom,
  integerFrom,
  personalAccessTokenFrom,
  refreshTokenFrom,
  registrationTicketFrom,
  rowsPerQueryMax,
  serverSigningKeyFrom,
  tenantFrom,
  textFrom,
  transferFrom,
  treeNodeKeyText,
  userFrom,
  webhookDeliveryFrom,
  webhookEndpointFrom,
  type Row,
} from "../rows.js";
import { recordFrom, spendSumFrom, sumSpendWindowsStatement, sumSpendsOfStatement, sumSpendsStatement, usageRowFrom } from "../records-sql.js";
import type { PagedSql, PostgresSql } from "./postgres-sql.js";

/** What both a pg Pool and a pg PoolClient offer. */
export interface Queryable {
  query(config: string | { name?: string; text: string; values?: unknown[] }, values?: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/**
 * Statement texts run as named prepared statements: each connection parses and plans one once,
 * then only binds and executes it. Texts are fixed per store (postgres-sql.ts, records-sql.ts)
 * or come from a few query shapes; past `preparedStatementsMax` distinct texts the rest run
 * unnamed, so a connection's prepared statements stay bounded.
 */
const preparedStatementsMax = 500;
const statementNames = new Map<string, string>();

function statementNameOf(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < preparedStatementsMax) {
    name = `bursar_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

/** Runs `text` on `db` as a named prepared statement (see above). */
export function runPrepared(db: Queryable, text: string, values: unknown[]): ReturnType<Queryable["query"]> {
  const name = statementNameOf(text);
  return name === undefined ? db.query(text, values) : db.query({ name, text, values });
}

/** The five parts of an idempotency scope, as $1..$5. */
export function scopeParams(scope: IdempotencyScope): unknown[] {
  return [scope.tenantId, scope.principalId, scope.method, scope.route, scope.key];
}

export class PostgresReader implements StoreReader {
  constructor(
    protected readonly db: Queryable,
    protected readonly sql: PostgresSql,
  ) {}

  /** Hook for transactions, which refuse calls after they ended. */
  protected checkActive(): void {}

  /** Runs a query after the transaction check. */
  protected async rows(text: string, values: unknown[]): Promise<Row[]> {
    this.checkActive();
    return (await runPrepared(this.db, text, values)).rows;
  }

  protected async first(text: string, values: unknown[]): Promise<Row | null> {
    return (await this.rows(text, values))[0] ?? null;
  }

  /** One keyset page; `params` are those of the statements' condition. */
  private async page(statements: PagedSql, params: unknown[], query: PageQuery): Promise<Row[]> {
    const limit = checkLimit(query.limit);
    return query.beforeId === undefined
      ? this.rows(statements.first, [...params, limit])
      : this.rows(statements.before, [...params, limit, query.beforeId]);
  }

  async countTenants(): Promise<number> {
    const row = await this.first(this.sql.countTenants, []);
    return integerFrom(row?.count, "count");
  }

  async getTenant(tenantId: string): Promise<TenantRow | null> {
    const row = await this.first(this.sql.getTenant, [tenantId]);
    return row ? tenantFrom(row) : null;
  }

  async configVersion(tenantId: string): Promise<number | null> {
    const row = await this.first(this.sql.configVersion, [tenantId]);
    return row ? integerFrom(row.config_version, "tenants.config_version") : null;
  }

  async getUser(tenantId: string, userId: string): Promise<UserRow | null> {
    const row = await this.first(this.sql.getUser, [tenantId, userId]);
    return row ? userFrom(row) : null;
  }

  async listUsers(tenantId: string, limit: number): Promise<UserRow[]> {
    return (await this.rows(this.sql.listUsers, [tenantId, limit])).map(userFrom);
  }

  async findPersonalAccessTokenByHash(tokenHash: string): Promise<PersonalAccessTokenRow | null> {
    const row = await this.first(this.sql.findPersonalAccessTokenByHash, [tokenHash]);
    return row ? personalAccessTokenFrom(row) : null;
  }

  async getAccount(tenantId: string, accountId: string): Promise<Account | null> {
    const row = await this.first(this.sql.getAccount, [tenantId, accountId]);
    return row ? accountFrom(row) : null;
  }

  async listAccounts(tenantId: string, page: PageQuery): Promise<Account[]> {
    const limit = checkLimit(page.limit);
    const rows =
      page.beforeId === undefined
        ? await this.rows(this.sql.listAccounts, [tenantId, limit])
        : await this.rows(this.sql.listAccountsBefore, [tenantId, limit, page.beforeId]);
    return rows.map(accountFrom);
  }

  async findFundingAccount(tenantId: string, currency: string): Promise<Account | null> {
    const row = await this.first(this.sql.findFundingAccount, [tenantId, currency]);
    return row ? accountFrom(row) : null;
  }

  async sumBalances(tenantId: string): ReturnType<StoreReader["sumBalances"]> {
    return (await this.rows(this.sql.sumBalances, [tenantId])).map(balanceSumFrom);
  }

  async getTransfer(tenantId: string, transferId: string): Promise<Transfer | null> {
    const row = await this.first(this.sql.getTransfer, [tenantId, transferId]);
    return row ? transferFrom(row) : null;
  }

  async listTransfers(tenantId: string, page: PageQuery & { accountId?: string }): Promise<Transfer[]> {
    const limit = checkLimit(page.limit);
    let rows: Row[];
    if (page.accountId !== undefined) {
      rows =
        page.beforeId === undefined
          ? await this.rows(this.sql.listAccountTransfers, [tenantId, page.accountId, limit])
          : await this.rows(this.sql.listAccountTransfersBefore, [tenantId, page.accountId, limit, page.beforeId]);
    } else {
      rows =
        page.beforeId === undefined
          ? await this.rows(this.sql.listTransfers, [tenantId, limit])
          : await this.rows(this.sql.listTransfersBefore, [tenantId, limit, page.beforeId]);
    }
    return rows.map(transferFrom);
  }

  async listExpiredHolds(nowMs: number, limit: number): Promise<Array<{ tenantId: string; transferId: string }>> {
    const rows = await this.rows(this.sql.listExpiredHolds, [nowMs, checkLimit(limit)]);
    return rows.map((row) => ({
      tenantId: textFrom(row.tenant_id, "transfers.tenant_id"),
      transferId: textFrom(row.id, "transfers.id"),
    }));
  }

  async listEvents(tenantId: string, query: EventQuery): Promise<JournalEvent[]> {
    const { text, params } = eventQuerySql("postgres", this.sql.events, tenantId, query);
    return (await this.rows(text, params)).map(eventFrom);
  }

  async getEventBySeq(tenantId: string, seq: number): Promise<JournalEvent | null> {
    const row = await this.first(this.sql.getEventBySeq, [tenantId, seq]);
    return row ? eventFrom(row) : null;
  }

  /** One round trip for all keys, then put back in the order asked. */
  async getTreeNodes(tenantId: string, keys: TreeNodeKey[]): Promise<Uint8Array[]> {
    invariant(keys.length <= rowsPerQueryMax, `${keys.length} tree nodes asked at once`);
    if (keys.length === 0) return [];
    const rows = await this.rows(this.sql.getTreeNodes, [
      tenantId,
      keys.map((key) => key.level),
      keys.map((key) => key.index),
    ]);
    const hashes = new Map<string, Uint8Array>();
    for (const row of rows) {
      const key = treeNodeKeyText(integerFrom(row.level, "journal_nodes.level"), integerFrom(row.idx, "journal_nodes.idx"));
      hashes.set(key, bytesFrom(row.hash, "journal_nodes.hash"));
    }
    return keys.map(({ level, index }) => {
      const hash = hashes.get(treeNodeKeyText(level, index));
      invariant(hash, `journal node (${level}, ${index}) of tenant ${tenantId} is missing`);
      return hash;
    });
  }

  async getIdempotencyRecord(scope: IdempotencyScope): Promise<IdempotencyRecord | null> {
    const row = await this.first(this.sql.getIdempotencyRecord, scopeParams(scope));
    return row ? idempotencyRecordFrom(row) : null;
  }

  async getEventSeqById(tenantId: string, eventId: string): Promise<number | null> {
    const row = await this.first(this.sql.getEventSeqById, [tenantId, eventId]);
    return row ? integerFrom(row.seq, "events.seq") : null;
  }

  async nextWebhookDeliveryDueAtMs(): Promise<number | null> {
    const due = (await this.first(this.sql.nextWebhookDeliveryDueAtMs, []))?.due;
    return due === null || due === undefined ? null : integerFrom(due, "min(next_attempt_at_ms)");
  }

  async getWebhookEndpoint(tenantId: string, endpointId: string): Promise<WebhookEndpointRow | null> {
    const row = await this.first(this.sql.getWebhookEndpoint, [tenantId, endpointId]);
    return row ? webhookEndpointFrom(row) : null;
  }

  async listWebhookEndpoints(tenantId: string, page: PageQuery): Promise<WebhookEndpointRow[]> {
    const limit = checkLimit(page.limit);
    const rows =
      page.beforeId === undefined
        ? await this.rows(this.sql.listWebhookEndpoints, [tenantId, limit])
        : await this.rows(this.sql.listWebhookEndpointsBefore, [tenantId, limit, page.beforeId]);
    return rows.map(webhookEndpointFrom);
  }

  async listEnabledWebhookEndpoints(tenantId: string, limit: number): Promise<WebhookEndpointRow[]> {
    return (await this.rows(this.sql.listEnabledWebhookEndpoints, [tenantId, checkLimit(limit)])).map(webhookEndpointFrom);
  }

  async countWebhookEndpoints(tenantId: string): Promise<number> {
    const row = await this.first(this.sql.countWebhookEndpoints, [tenantId]);
    return integerFrom(row?.count, "count");
  }

  async getWebhookDelivery(tenantId: string, deliveryId: string): Promise<WebhookDeliveryRow | null> {
    const row = await this.first(this.sql.getWebhookDelivery, [tenantId, deliveryId]);
    return row ? webhookDeliveryFrom(row) : null;
  }

  async listWebhookDeliveries(tenantId: string, endpointId: string, page: PageQuery): Promise<WebhookDeliveryRow[]> {
    const limit = checkLimit(page.limit);
    const rows =
      page.beforeId === undefined
        ? await this.rows(this.sql.listWebhookDeliveries, [tenantId, endpointId, limit])
        : await this.rows(this.sql.listWebhookDeliveriesBefore, [tenantId, endpointId, limit, page.beforeId]);
    return rows.map(webhookDeliveryFrom);
  }

  async getAgent(tenantId: string, agentId: string): Promise<AgentRow | null> {
    const row = await this.first(this.sql.getAgent, [tenantId, agentId]);
    return row ? agentFrom(row) : null;
  }

  async listAgents(tenantId: string, query: PageQuery): Promise<AgentRow[]> {
    return (await this.page(this.sql.listAgents, [tenantId], query)).map(agentFrom);
  }

  async listTeamAgents(tenantId: string, teamId: string, limit: number): Promise<AgentRow[]> {
    return (await this.rows(this.sql.listTeamAgents, [tenantId, teamId, checkLimit(limit)])).map(agentFrom);
  }

  async listChildAgents(tenantId: string, parentAgentId: string, limit: number): Promise<AgentRow[]> {
    return (await this.rows(this.sql.listChildAgents, [tenantId, parentAgentId, checkLimit(limit)])).map(agentFrom);
  }

  async findRegistrationTicketByHash(tokenHash: string): Promise<RegistrationTicketRow | null> {
    const row = await this.first(this.sql.findRegistrationTicketByHash, [tokenHash]);
    return row ? registrationTicketFrom(row) : null;
  }

  async findCredentialBinding(bindingId: string): Promise<CredentialBindingRow | null> {
    const row = await this.first(this.sql.findCredentialBinding, [bindingId]);
    return row ? credentialBindingFrom(row) : null;
  }

  async findCredentialBindingByThumbprint(thumbprint: string): Promise<CredentialBindingRow | null> {
    const row = await this.first(this.sql.findCredentialBindingByThumbprint, [thumbprint]);
    return row ? credentialBindingFrom(row) : null;
  }

  async listCredentialBindings(tenantId: string, query: PageQuery & { agentId?: string }): Promise<CredentialBindingRow[]> {
    const rows =
      query.agentId === undefined
        ? await this.page(this.sql.listCredentialBindings, [tenantId], query)
        : await this.page(this.sql.listAgentCredentialBindings, [tenantId, query.agentId], query);
    return rows.map(credentialBindingFrom);
  }

  async findRefreshTokenByHash(tokenHash: string): Promise<RefreshTokenRow | null> {
    const row = await this.first(this.sql.findRefreshTokenByHash, [tokenHash]);
    return row ? refreshTokenFrom(row) : null;
  }

  async findApiKeyByHash(tokenHash: string): Promise<ApiKeyRow | null> {
    const row = await this.first(this.sql.findApiKeyByHash, [tokenHash]);
    return row ? apiKeyFrom(row) : null;
  }

  async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRow | null> {
    const row = await this.first(this.sql.getApiKey, [tenantId, keyId]);
    return row ? apiKeyFrom(row) : null;
  }

  async listApiKeys(tenantId: string, query: PageQuery): Promise<ApiKeyRow[]> {
    return (await this.page(this.sql.listApiKeys, [tenantId], query)).map(apiKeyFrom);
  }

  async getServerSigningKey(): Promise<ServerSigningKeyRow | null> {
    const row = await this.first(this.sql.getServerSigningKey, []);
    return row ? serverSigningKeyFrom(row) : null;
  }

  async getRecord(tenantId: string, kind: RecordKind, id: string): Promise<StoredRecord | null> {
    const row = await this.first(this.sql.records.getRecord, [tenantId, kind, id]);
    return row ? recordFrom(row) : null;
  }

  async listRecords(tenantId: string, query: RecordQuery): Promise<StoredRecord[]> {
    const { text, params } = this.sql.records.listRecords(tenantId, query);
    return (await this.rows(text, params)).map(recordFrom);
  }

  async countRecords(tenantId: string, query: Pick<RecordQuery, "kind" | "agentId" | "status">, limit: number): Promise<number> {
    const { text, params } = this.sql.records.countRecords(tenantId, query, limit);
    return integerFrom((await this.rows(text, params))[0]?.count ?? 0, "count");
  }

  async findRecordIdsByName(tenantId: string, kind: RecordKind, nameKey: string, limit: number): Promise<string[]> {
    const rows = await this.rows(this.sql.records.findRecordIdsByName, [tenantId, kind, nameKey, checkLimit(limit)]);
    return rows.map((row) => textFrom(row.id, "record_names.id"));
  }

  async listDueRecords(kind: RecordKind, nowMs: number, limit: number): Promise<Array<{ tenantId: string; id: string }>> {
    const rows = await this.rows(this.sql.records.listDueRecords, [kind, nowMs, checkLimit(limit)]);
    return rows.map((row) => ({ tenantId: textFrom(row.tenant_id, "records.tenant_id"), id: textFrom(row.id, "records.id") }));
  }

  async sumSpends(tenantId: string, agentId: string, currency: string, sinceMs: number): Promise<SpendSum> {
    const { text, params } = sumSpendsStatement(this.sql.records, tenantId, agentId, currency, sinceMs);
    return spendSumFrom(await this.first(text, params));
  }

  /** One round trip for every window (see `sumSpendWindowsStatement`). */
  async sumSpendWindows(tenantId: string, agentId: string, currency: string, sinceMs: readonly number[]): Promise<SpendSum[]> {
    if (sinceMs.length === 0) return [];
    const { text, params } = sumSpendWindowsStatement(this.sql.records, tenantId, agentId, currency, sinceMs);
    const sums: SpendSum[] = new Array<SpendSum>(sinceMs.length);
    for (const row of await this.rows(text, params)) sums[integerFrom(row.position, "position")] = spendSumFrom(row);
    for (let i = 0; i < sums.length; i++) invariant(sums[i], `spend window ${i} missing from its read`);
    return sums;
  }

  async sumOperationSpends(tenantId: string, agentId: string, currency: string, sinceMs: number, pattern: string): Promise<SpendSum> {
    const { text, params } = this.sql.records.sumOperationSpends(currency, tenantId, agentId, sinceMs, pattern);
    return spendSumFrom(await this.first(text, params));
  }

  async usage(tenantId: string, query: UsageQuery): Promise<UsageRow[]> {
    const { text, params } = this.sql.records.usage(tenantId, query);
    return (await this.rows(text, params)).map(usageRowFrom);
  }

  async findTriggerTenant(triggerId: string): Promise<string | null> {
    const row = await this.first(this.sql.records.findTriggerTenant, [triggerId]);
    return row ? textFrom(row.tenant_id, "records.tenant_id") : null;
  }

  async sumSpendsOf(tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<SpendSum> {
    const { text, params } = sumSpendsOfStatement(this.sql.records, tenantId, agentIds, currency, sinceMs);
    return spendSumFrom(await this.first(text, params));
  }

  async sumHeldSpendsOf(tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<number> {
    const row = await this.first(this.sql.records.sumHeldSpendsOf, [tenantId, this.sql.records.agentSet(agentIds), sinceMs, currency]);
    return spendSumFrom(row).amountMinor;
  }

  async hasSettledSpend(tenantId: string, agentId: string, payeeId: string): Promise<boolean> {
    return (await this.first(this.sql.records.hasSettledSpend, [tenantId, agentId, payeeId])) !== null;
  }
}
