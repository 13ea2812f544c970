/**
 * Every runtime statement of the PostgreSQL store, built once per store with each table
 * qualified by the store's schema. Qualifying (rather than relying on `search_path`) keeps a
 * statement's meaning independent of how the connection was set up, including through poolers
 * that drop start-up options.
 */
import {
  accountColumns,
  agentColumns,
  apiKeyColumns,
  credentialBindingColumns,
  idempotencyColumns,
  personalAccessTokenColumns,
  refreshTokenColumns,
  registrationTicketColumns,
  serverSigningKeyColumns,
  tenantColumns,
  transferColumns,
  userColumns,
  webhookDeliveryColumns,
  webhookEndpointColumns,
} from "../rows.js";
import { RecordsSql } from "../records-sql.js";
import { claimOwnerLockClass } from "./claim-owner.js";

/** Schema names Bursar accepts: plain lower-case identifiers, so quoting is trivial and safe. */
const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema as a quoted identifier; throws on anything but a plain lower-case name. */
export function quoteSchema(schema: string): string {
  if (!schemaNamePattern.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

const placeholders = (columns: string, first = 1) =>
  columns.split(",").map((_, position) => `$${first + position}`).join(", ");

/** A keyset page's two statements: the first page, and a page before a cursor id. */
export interface PagedSql {
  first: string;
  before: string;
}

const scopeCondition = "tenant_id = $1 AND principal_id = $2 AND method = $3 AND route = $4 AND idempotency_key = $5";

export class PostgresSql {
  readonly events: string;
  /** Governance records and spends (shared with SQLite, see records-sql.ts). */
  readonly records: RecordsSql;
  /** The tenant row lock (`… = 'id' FOR UPDATE`) up to the id, for a literal id (postgres-store.ts `beginAndLock`). */
  readonly lockTenantWhereId: string;
  readonly countTenants: string;
  readonly getTenant: string;
  readonly configVersion: string;
  readonly getUser: string;
  readonly listUsers: string;
  readonly findPersonalAccessTokenByHash: string;
  readonly getAccount: string;
  readonly listAccounts: string;
  readonly listAccountsBefore: string;
  readonly findFundingAccount: string;
  readonly sumBalances: string;
  readonly getTransfer: string;
  readonly listTransfers: string;
  readonly listTransfersBefore: string;
  readonly listAccountTransfers: string;
  readonly listAccountTransfersBefore: string;
  readonly listExpiredHolds: string;
  readonly getEventBySeq: string;
  readonly getTreeNodes: string;
  readonly getIdempotencyRecord: string;
  readonly getAgent: string;
  readonly listAgents: PagedSql;
  readonly listTeamAgents: string;
  readonly listChildAgents: string;
  readonly findRegistrationTicketByHash: string;
  readonly findCredentialBinding: string;
  readonly findCredentialBindingByThumbprint: string;
  readonly listCredentialBindings: PagedSql;
  readonly listAgentCredentialBindings: PagedSql;
  readonly findRefreshTokenByHash: string;
  readonly findApiKeyByHash: string;
  readonly getApiKey: string;
  readonly listApiKeys: PagedSql;
  readonly getServerSigningKey: string;

  readonly insertTenant: string;
  readonly setJournalSize: string;
  readonly insertUser: string;
  readonly updateUser: string;
  readonly insertPersonalAccessToken: string;
  readonly getAccountsForUpdate: string;
  readonly insertAccount: string;
  readonly updateAccountBalances: string;
  readonly insertTransfer: string;
  readonly updateTransfer: string;
  readonly insertEvent: string;
  readonly insertTreeNodes: string;
  readonly appendJournal: string;
  readonly claimIdempotencyKey: string;
  readonly completeIdempotencyKey: string;
  readonly releaseIdempotencyKey: string;
  readonly redactIdempotencyAnswers: string;
  readonly deleteExpiredIdempotencyRecords: string;
  readonly insertAgent: string;
  readonly updateAgent: string;
  readonly insertRegistrationTicket: string;
  readonly consumeRegistrationTicket: string;
  readonly insertCredentialBinding: string;
  readonly revokeCredentialBinding: string;
  readonly insertRefreshToken: string;
  readonly useRefreshToken: string;
  readonly revokeRefreshTokenFamily: string;
  readonly revokeRefreshTokensOfBinding: string;
  readonly insertApiKey: string;
  readonly updateApiKeyLifecycle: string;
  readonly addApiKeyUsage: string;
  readonly insertServerSigningKey: string;

  readonly getEventSeqById: string;
  readonly nextWebhookDeliveryDueAtMs: string;
  readonly getWebhookEndpoint: string;
  readonly listWebhookEndpoints: string;
  readonly listWebhookEndpointsBefore: string;
  readonly listEnabledWebhookEndpoints: string;
  readonly countWebhookEndpoints: string;
  readonly getWebhookDelivery: string;
  readonly listWebhookDeliveries: string;
  readonly listWebhookDeliveriesBefore: string;
  readonly insertWebhookEndpoint: string;
  readonly updateWebhookEndpoint: string;
  readonly deleteWebhookDeliveriesOfEndpoint: string;
  readonly deleteWebhookEndpoint: string;
  readonly insertWebhookDelivery: string;
  readonly updateWebhookDelivery: string;
  readonly claimDueWebhookDeliveries: string;

  constructor(schema: string) {
    const s = quoteSchema(schema);
    this.records = new RecordsSql("postgres", (table) => `${s}.${table}`);
    this.events = `${s}.events`;
    // The locked row is the write's view of the tenant (getTenant inside the write answers from it).
    this.lockTenantWhereId = `SELECT ${tenantColumns}, config_version FROM ${s}.tenants WHERE id = `;
    this.countTenants = `SELECT count(*) AS count FROM ${s}.tenants`;
    this.getTenant = `SELECT ${tenantColumns} FROM ${s}.tenants WHERE id = $1`;
    this.configVersion = `SELECT config_version FROM ${s}.tenants WHERE id = $1`;
    this.getUser = `SELECT ${userColumns} FROM ${s}.users WHERE tenant_id = $1 AND id = $2`;
    this.listUsers = `SELECT ${userColumns} FROM ${s}.users WHERE tenant_id = $1 ORDER BY id LIMIT $2`;
    this.findPersonalAccessTokenByHash =
      `SELECT ${personalAccessTokenColumns} FROM ${s}.personal_access_tokens WHERE token_hash = $1`;
    this.getAccount = `SELECT ${accountColumns} FROM ${s}.accounts WHERE tenant_id = $1 AND id = $2`;
    this.listAccounts = `SELECT ${accountColumns} FROM ${s}.accounts WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`;
    this.listAccountsBefore =
      `SELECT ${accountColumns} FROM ${s}.accounts WHERE tenant_id = $1 AND id < $3 ORDER BY id DESC LIMIT $2`;
    this.findFundingAccount =
      `SELECT ${accountColumns} FROM ${s}.accounts WHERE tenant_id = $1 AND kind = 'funding' AND currency = $2 ORDER BY id LIMIT 1`;
    this.sumBalances =
      "SELECT currency, sum(debits_posted_minor) AS debits_posted_minor, sum(credits_posted_minor) AS credits_posted_minor, " +
      "sum(debits_pending_minor) AS debits_pending_minor, sum(credits_pending_minor) AS credits_pending_minor " +
      `FROM ${s}.accounts WHERE tenant_id = $1 GROUP BY currency ORDER BY currency`;
    this.getTransfer = `SELECT ${transferColumns} FROM ${s}.transfers WHERE tenant_id = $1 AND id = $2`;
    this.listTransfers = `SELECT ${transferColumns} FROM ${s}.transfers WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`;
    this.listTransfersBefore =
      `SELECT ${transferColumns} FROM ${s}.transfers WHERE tenant_id = $1 AND id < $3 ORDER BY id DESC LIMIT $2`;
    // Each side reads its own index and stops at the limit (see the SQLite reader).
    const accountSide = (column: string, cursor: string) =>
      `(SELECT ${transferColumns} FROM ${s}.transfers WHERE tenant_id = $1 AND ${column} = $2 ${cursor} ORDER BY id DESC LIMIT $3)`;
    const accountTransfers = (cursor: string) =>
      `SELECT ${transferColumns} FROM (${accountSide("debit_account_id", cursor)} UNION ${accountSide("credit_account_id", cursor)}) ` +
      "AS account_transfers ORDER BY id DESC LIMIT $3";
    this.listAccountTransfers = accountTransfers("");
    this.listAccountTransfersBefore = accountTransfers("AND id < $4");
    this.listExpiredHolds =
      `SELECT tenant_id, id FROM ${s}.transfers WHERE status = 'pending' AND expires_at_ms <= $1 ` +
      "ORDER BY expires_at_ms, tenant_id, id LIMIT $2";
    this.getEventBySeq = `SELECT tenant_id, seq, body FROM ${s}.events WHERE tenant_id = $1 AND seq = $2`;
    this.getTreeNodes =
      `SELECT level, idx, hash FROM ${s}.journal_nodes WHERE tenant_id = $1 ` +
      "AND (level, idx) IN (SELECT * FROM unnest($2::int[], $3::bigint[]))";
    this.getIdempotencyRecord = `SELECT ${idempotencyColumns} FROM ${s}.idempotency_keys WHERE ${scopeCondition}`;
    // Keyset pages, newest first: the condition uses $1..$n, then the limit and the cursor follow.
    const paged = (columns: string, table: string, condition: string, conditionParams: number): PagedSql => ({
      first: `SELECT ${columns} FROM ${s}.${table} WHERE ${condition} ORDER BY id DESC LIMIT $${conditionParams + 1}`,
      before:
        `SELECT ${columns} FROM ${s}.${table} WHERE ${condition} AND id < $${conditionParams + 2} ` +
        `ORDER BY id DESC LIMIT $${conditionParams + 1}`,
    });
    this.getAgent = `SELECT ${agentColumns} FROM ${s}.agents WHERE tenant_id = $1 AND id = $2`;
    this.listAgents = paged(agentColumns, "agents", "tenant_id = $1", 1);
    this.listTeamAgents = `SELECT ${agentColumns} FROM ${s}.agents WHERE tenant_id = $1 AND team_id = $2 ORDER BY id LIMIT $3`;
    this.listChildAgents = `SELECT ${agentColumns} FROM ${s}.agents WHERE tenant_id = $1 AND parent_agent_id = $2 ORDER BY id LIMIT $3`;
    this.findRegistrationTicketByHash =
      `SELECT ${registrationTicketColumns} FROM ${s}.registration_tickets WHERE token_hash = $1`;
    this.findCredentialBinding = `SELECT ${credentialBindingColumns} FROM ${s}.credential_bindings WHERE id = $1`;
    this.findCredentialBindingByThumbprint =
      `SELECT ${credentialBindingColumns} FROM ${s}.credential_bindings WHERE thumbprint = $1`;
    this.listCredentialBindings = paged(credentialBindingColumns, "credential_bindings", "tenant_id = $1", 1);
    this.listAgentCredentialBindings = paged(credentialBindingColumns, "credential_bindings", "tenant_id = $1 AND agent_id = $2", 2);
    this.findRefreshTokenByHash = `SELECT ${refreshTokenColumns} FROM ${s}.refresh_tokens WHERE token_hash = $1`;
    this.findApiKeyByHash = `SELECT ${apiKeyColumns} FROM ${s}.api_keys WHERE token_hash = $1`;
    this.getApiKey = `SELECT ${apiKeyColumns} FROM ${s}.api_keys WHERE tenant_id = $1 AND id = $2`;
    this.listApiKeys = paged(apiKeyColumns, "api_keys", "tenant_id = $1", 1);
    this.getServerSigningKey = `SELECT ${serverSigningKeyColumns} FROM ${s}.server_signing_keys WHERE singleton = 1`;

    const insert = (table: string, columns: string) => `INSERT INTO ${s}.${table} (${columns}) VALUES (${placeholders(columns)})`;
    this.insertTenant = insert("tenants", tenantColumns);
    this.setJournalSize = `UPDATE ${s}.tenants SET journal_size = $2 WHERE id = $1`;
    this.insertUser = insert("users", userColumns);
    this.updateUser = `UPDATE ${s}.users SET name = $3, email = $4, role = $5, removed_at_ms = $6 WHERE tenant_id = $1 AND id = $2`;
    this.insertPersonalAccessToken = insert("personal_access_tokens", personalAccessTokenColumns);
    // Rows are locked in id order, so two writers never wait on each other in a cycle.
    this.getAccountsForUpdate =
      `SELECT ${accountColumns} FROM ${s}.accounts WHERE tenant_id = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE`;
    this.insertAccount = insert("accounts", accountColumns);
    this.updateAccountBalances =
      `UPDATE ${s}.accounts AS account SET debits_pending_minor = change.debits_pending_minor, ` +
      "debits_posted_minor = change.debits_posted_minor, credits_pending_minor = change.credits_pending_minor, " +
      "credits_posted_minor = change.credits_posted_minor " +
      "FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) " +
      "AS change (id, debits_pending_minor, debits_posted_minor, credits_pending_minor, credits_posted_minor) " +
      "WHERE account.tenant_id = $1 AND account.id = change.id";
    this.insertTransfer = insert("transfers", transferColumns);
    this.updateTransfer =
      `UPDATE ${s}.transfers SET status = $3, posted_amount_minor = $4, updated_at_ms = $5 WHERE tenant_id = $1 AND id = $2`;
    this.insertEvent = `INSERT INTO ${s}.events (tenant_id, seq, id, type, agent_id, body) VALUES ($1, $2, $3, $4, $5, $6)`;
    // Nodes are immutable once stored: a second insert of the same key is a bug and fails on the key.
    this.insertTreeNodes =
      `INSERT INTO ${s}.journal_nodes (tenant_id, level, idx, hash) ` +
      "SELECT $1, level, idx, hash FROM unnest($2::int[], $3::bigint[], $4::bytea[]) AS node (level, idx, hash)";
    // A write's journal pass in one statement: data-modifying CTEs all run, whatever the outer
    // query reads; the size update's row count tells the tenant exists.
    this.appendJournal =
      `WITH new_events AS (INSERT INTO ${s}.events (tenant_id, seq, id, type, agent_id, body) ` +
      "SELECT $1, seq, id, type, agent_id, body FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS event (seq, id, type, agent_id, body)), " +
      `new_nodes AS (INSERT INTO ${s}.journal_nodes (tenant_id, level, idx, hash) ` +
      "SELECT $1, level, idx, hash FROM unnest($7::int[], $8::bigint[], $9::bytea[]) AS node (level, idx, hash)) " +
      `UPDATE ${s}.tenants SET journal_size = $10 WHERE id = $1`;
    // Claims a fresh key or takes over an expired record or a stale claim in one statement; no
    // row comes back when a live record holds the scope (that row is then locked by us).
    // A claim is stale when it is older than the claim timeout ($12), or when its owner's
    // session advisory lock is gone from pg_locks: the process that made it died (claim-owner.ts).
    // $13 is this store's owner key (null while its owner connection is down).
    this.claimIdempotencyKey =
      `INSERT INTO ${s}.idempotency_keys AS record (${idempotencyColumns}, owner_key) VALUES (${placeholders(idempotencyColumns)}, $13) ` +
      "ON CONFLICT (tenant_id, principal_id, method, route, idempotency_key) DO UPDATE SET " +
      "fingerprint = excluded.fingerprint, state = excluded.state, response_status = excluded.response_status, " +
      "response_body = excluded.response_body, created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms, " +
      "owner_key = excluded.owner_key " +
      "WHERE record.expires_at_ms <= excluded.created_at_ms " +
      "OR (record.state = 'in_progress' AND (record.created_at_ms < $12 OR (record.owner_key IS NOT NULL AND NOT EXISTS (" +
      "SELECT 1 FROM pg_catalog.pg_locks AS held WHERE held.locktype = 'advisory' AND held.granted " +
      "AND held.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) " +
      `AND held.classid = ${claimOwnerLockClass}::oid AND held.objid = record.owner_key::oid AND held.objsubid = 2)))) RETURNING state`;
    this.completeIdempotencyKey =
      `UPDATE ${s}.idempotency_keys SET state = 'completed', response_status = $6, response_body = $7 WHERE ${scopeCondition}`;
    // A completed answer is never released: only an in-flight claim is given up.
    this.releaseIdempotencyKey = `DELETE FROM ${s}.idempotency_keys WHERE ${scopeCondition} AND state = 'in_progress'`;
    // strpos, not LIKE: ids hold `_`, which LIKE reads as a wildcard.
    this.redactIdempotencyAnswers =
      `UPDATE ${s}.idempotency_keys SET response_status = $1, response_body = $2 ` +
      "WHERE tenant_id = $3 AND route = ANY($4::text[]) AND state = 'completed' AND strpos(response_body, $5) > 0";
    this.deleteExpiredIdempotencyRecords =
      `DELETE FROM ${s}.idempotency_keys WHERE (tenant_id, principal_id, method, route, idempotency_key) IN ` +
      `(SELECT tenant_id, principal_id, method, route, idempotency_key FROM ${s}.idempotency_keys ` +
      "WHERE expires_at_ms <= $1 ORDER BY expires_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED)";

    this.getEventSeqById = `SELECT seq FROM ${s}.events WHERE tenant_id = $1 AND id = $2`;
    this.nextWebhookDeliveryDueAtMs = `SELECT min(next_attempt_at_ms) AS due FROM ${s}.webhook_deliveries WHERE status = 'pending'`;
    const endpoints = `SELECT ${webhookEndpointColumns} FROM ${s}.webhook_endpoints WHERE tenant_id = $1`;
    this.getWebhookEndpoint = `${endpoints} AND id = $2`;
    this.listWebhookEndpoints = `${endpoints} ORDER BY id DESC LIMIT $2`;
    this.listWebhookEndpointsBefore = `${endpoints} AND id < $3 ORDER BY id DESC LIMIT $2`;
    this.listEnabledWebhookEndpoints = `${endpoints} AND enabled ORDER BY id LIMIT $2`;
    this.countWebhookEndpoints = `SELECT count(*) AS count FROM ${s}.webhook_endpoints WHERE tenant_id = $1`;
    const deliveries = `SELECT ${webhookDeliveryColumns} FROM ${s}.webhook_deliveries WHERE tenant_id = $1`;
    this.getWebhookDelivery = `${deliveries} AND id = $2`;
    this.listWebhookDeliveries = `${deliveries} AND endpoint_id = $2 ORDER BY id DESC LIMIT $3`;
    this.listWebhookDeliveriesBefore = `${deliveries} AND endpoint_id = $2 AND id < $4 ORDER BY id DESC LIMIT $3`;
    this.insertWebhookEndpoint = insert("webhook_endpoints", webhookEndpointColumns);
    this.updateWebhookEndpoint =
      `UPDATE ${s}.webhook_endpoints SET url = $3, description = $4, event_types = $5, enabled = $6, disabled_reason = $7, ` +
      "secret = $8, previous_secret = $9, previous_secret_expires_at_ms = $10, ed25519_private_key_pkcs8 = $11, " +
      "ed25519_public_key = $12, updated_at_ms = $13, task_ids = $14 WHERE tenant_id = $1 AND id = $2";
    this.deleteWebhookDeliveriesOfEndpoint = `DELETE FROM ${s}.webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2`;
    this.deleteWebhookEndpoint = `DELETE FROM ${s}.webhook_endpoints WHERE tenant_id = $1 AND id = $2`;
    this.insertWebhookDelivery = insert("webhook_deliveries", webhookDeliveryColumns);
    this.updateWebhookDelivery =
      `UPDATE ${s}.webhook_deliveries SET status = $3, attempt_count = $4, next_attempt_at_ms = $5, last_attempt_at_ms = $6, ` +
      "attempts = $7, updated_at_ms = $8 WHERE tenant_id = $1 AND id = $2";
    // SKIP LOCKED: several server processes poll at once; each takes rows no other holds, and the
    // lease (next_attempt_at_ms in the future) keeps them its own after this transaction commits.
    this.claimDueWebhookDeliveries =
      `UPDATE ${s}.webhook_deliveries SET next_attempt_at_ms = $1 WHERE (tenant_id, id) IN ` +
      `(SELECT tenant_id, id FROM ${s}.webhook_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= $2 ` +
      `ORDER BY next_attempt_at_ms, event_seq LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING ${webhookDeliveryColumns}`;
    this.insertAgent = insert("agents", agentColumns);
    this.updateAgent =
      `UPDATE ${s}.agents SET name = $3, description = $4, status = $5, metadata = $6, updated_at_ms = $7, team_id = $8 ` +
      "WHERE tenant_id = $1 AND id = $2";
    this.insertRegistrationTicket = insert("registration_tickets", registrationTicketColumns);
    // The condition is the single-use guarantee: a concurrent second UPDATE waits for the first
    // one's row lock, re-checks the condition on the committed row and changes nothing.
    this.consumeRegistrationTicket =
      `UPDATE ${s}.registration_tickets SET consumed_at_ms = $3, binding_id = $4 ` +
      "WHERE tenant_id = $1 AND id = $2 AND consumed_at_ms IS NULL";
    this.insertCredentialBinding = insert("credential_bindings", credentialBindingColumns);
    // Revoking again keeps the first revocation time.
    this.revokeCredentialBinding =
      `UPDATE ${s}.credential_bindings SET revoked_at_ms = coalesce(revoked_at_ms, $3) WHERE tenant_id = $1 AND id = $2`;
    this.insertRefreshToken = insert("refresh_tokens", refreshTokenColumns);
    this.useRefreshToken =
      `UPDATE ${s}.refresh_tokens SET used_at_ms = $3 WHERE tenant_id = $1 AND id = $2 AND used_at_ms IS NULL`;
    this.revokeRefreshTokenFamily =
      `UPDATE ${s}.refresh_tokens SET revoked_at_ms = $3 WHERE tenant_id = $1 AND family_id = $2 AND revoked_at_ms IS NULL`;
    this.revokeRefreshTokensOfBinding =
      `UPDATE ${s}.refresh_tokens SET revoked_at_ms = $3 WHERE tenant_id = $1 AND binding_id = $2 AND revoked_at_ms IS NULL`;
    this.insertApiKey = insert("api_keys", apiKeyColumns);
    this.updateApiKeyLifecycle =
      `UPDATE ${s}.api_keys SET expires_at_ms = $3, revoked_at_ms = $4 WHERE tenant_id = $1 AND id = $2`;
    // Counts are added, and the denial maps merged, inside the one UPDATE: a concurrent writer
    // waits for the row lock and recomputes from the row as committed, so no count is lost.
    // UNION ALL keeps equal (reason, count) pairs of both sides; GREATEST ignores a NULL side.
    this.addApiKeyUsage =
      `UPDATE ${s}.api_keys AS api_key SET accepted_count = api_key.accepted_count + $3, ` +
      "denied_counts = (SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb) FROM " +
      "(SELECT key, sum(value::bigint) AS total FROM (SELECT key, value FROM jsonb_each_text(api_key.denied_counts) " +
      "UNION ALL SELECT key, value FROM jsonb_each_text($4::jsonb)) AS counts GROUP BY key) AS totals), " +
      "last_used_at_ms = GREATEST(api_key.last_used_at_ms, $5::bigint) WHERE api_key.tenant_id = $1 AND api_key.id = $2";
    this.insertServerSigningKey =
      `INSERT INTO ${s}.server_signing_keys (singleton, ${serverSigningKeyColumns}) VALUES (1, ${placeholders(serverSigningKeyColumns)}) ` +
      "ON CONFLICT (singleton) DO NOTHING";
  }
}
