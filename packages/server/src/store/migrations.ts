/**
 * Versioned schema migrations, one ordered list with both dialects side by side so a change to
 * one cannot be forgotten in the other. A migration, once released, is never edited: add a new
 * version instead. `schema_migrations` records what ran; `pendingMigrations` refuses to start
 * against a database that a newer Bursar (or an edited migration) has touched.
 *
 * Conventions shared by both dialects:
 * - every tenant-scoped table has `tenant_id` first in its primary key, so every lookup and every
 *   keyset page is an index range inside one tenant;
 * - money and timestamps are 64-bit integers (minor units, milliseconds since the epoch);
 * - ids compare bytewise (`COLLATE "C"` on PostgreSQL; SQLite's default BINARY), which is what
 *   makes time-sortable ids sort by time;
 * - the event body is the canonical JSON text, stored as TEXT on both: it is what the Merkle leaf
 *   hashes, and JSONB would reorder keys and normalise numbers.
 */

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
}

const initialSqlite = `
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  journal_private_key_pkcs8 BLOB NOT NULL,
  journal_public_key BLOB NOT NULL,
  journal_size INTEGER NOT NULL CHECK (journal_size >= 0),
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  email TEXT,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE personal_access_tokens (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER,
  revoked_at_ms INTEGER,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE accounts (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  currency TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT,
  debits_must_not_exceed_credits INTEGER NOT NULL CHECK (debits_must_not_exceed_credits IN (0, 1)),
  debits_pending_minor INTEGER NOT NULL CHECK (debits_pending_minor >= 0),
  debits_posted_minor INTEGER NOT NULL CHECK (debits_posted_minor >= 0),
  credits_pending_minor INTEGER NOT NULL CHECK (credits_pending_minor >= 0),
  credits_posted_minor INTEGER NOT NULL CHECK (credits_posted_minor >= 0),
  metadata TEXT,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX accounts_funding_by_currency ON accounts (tenant_id, currency) WHERE kind = 'funding';

CREATE TABLE transfers (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  debit_account_id TEXT NOT NULL,
  credit_account_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
  status TEXT NOT NULL,
  posted_amount_minor INTEGER NOT NULL CHECK (posted_amount_minor >= 0),
  expires_at_ms INTEGER,
  reference TEXT,
  metadata TEXT,
  batch_id TEXT,
  fingerprint TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, debit_account_id) REFERENCES accounts (tenant_id, id),
  FOREIGN KEY (tenant_id, credit_account_id) REFERENCES accounts (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX transfers_by_debit_account ON transfers (tenant_id, debit_account_id, id);
CREATE INDEX transfers_by_credit_account ON transfers (tenant_id, credit_account_id, id);
CREATE INDEX transfers_pending_by_expiry ON transfers (expires_at_ms, tenant_id, id) WHERE status = 'pending';

CREATE TABLE events (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  agent_id TEXT,
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX events_by_type ON events (tenant_id, type, seq);
CREATE INDEX events_by_agent ON events (tenant_id, agent_id, seq);

CREATE TABLE journal_nodes (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  level INTEGER NOT NULL CHECK (level >= 0),
  idx INTEGER NOT NULL CHECK (idx >= 0),
  hash BLOB NOT NULL,
  PRIMARY KEY (tenant_id, level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status INTEGER,
  response_body TEXT,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, principal_id, method, route, idempotency_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at_ms);
`;

const initialPostgres = `
CREATE TABLE tenants (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  journal_private_key_pkcs8 BYTEA NOT NULL,
  journal_public_key BYTEA NOT NULL,
  journal_size BIGINT NOT NULL CHECK (journal_size >= 0),
  created_at_ms BIGINT NOT NULL
);

CREATE TABLE users (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  email TEXT,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE personal_access_tokens (
  tenant_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  user_id TEXT COLLATE "C" NOT NULL,
  token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes JSONB NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT,
  revoked_at_ms BIGINT,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

CREATE TABLE accounts (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  currency TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL,
  name TEXT,
  debits_must_not_exceed_credits BOOLEAN NOT NULL,
  debits_pending_minor BIGINT NOT NULL CHECK (debits_pending_minor >= 0),
  debits_posted_minor BIGINT NOT NULL CHECK (debits_posted_minor >= 0),
  credits_pending_minor BIGINT NOT NULL CHECK (credits_pending_minor >= 0),
  credits_posted_minor BIGINT NOT NULL CHECK (credits_posted_minor >= 0),
  metadata JSONB,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX accounts_funding_by_currency ON accounts (tenant_id, currency) WHERE kind = 'funding';

CREATE TABLE transfers (
  tenant_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  debit_account_id TEXT COLLATE "C" NOT NULL,
  credit_account_id TEXT COLLATE "C" NOT NULL,
  currency TEXT COLLATE "C" NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
  status TEXT NOT NULL,
  posted_amount_minor BIGINT NOT NULL CHECK (posted_amount_minor >= 0),
  expires_at_ms BIGINT,
  reference TEXT,
  metadata JSONB,
  batch_id TEXT COLLATE "C",
  fingerprint TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, debit_account_id) REFERENCES accounts (tenant_id, id),
  FOREIGN KEY (tenant_id, credit_account_id) REFERENCES accounts (tenant_id, id)
);
CREATE INDEX transfers_by_debit_account ON transfers (tenant_id, debit_account_id, id);
CREATE INDEX transfers_by_credit_account ON transfers (tenant_id, credit_account_id, id);
CREATE INDEX transfers_pending_by_expiry ON transfers (expires_at_ms, tenant_id, id) WHERE status = 'pending';

CREATE TABLE events (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  seq BIGINT NOT NULL CHECK (seq >= 1),
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  type TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C",
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_by_type ON events (tenant_id, type, seq);
CREATE INDEX events_by_agent ON events (tenant_id, agent_id, seq);

CREATE TABLE journal_nodes (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  level INTEGER NOT NULL CHECK (level >= 0),
  idx BIGINT NOT NULL CHECK (idx >= 0),
  hash BYTEA NOT NULL,
  PRIMARY KEY (tenant_id, level, idx)
);

CREATE TABLE idempotency_keys (
  tenant_id TEXT COLLATE "C" NOT NULL,
  principal_id TEXT COLLATE "C" NOT NULL,
  method TEXT COLLATE "C" NOT NULL,
  route TEXT COLLATE "C" NOT NULL,
  idempotency_key TEXT COLLATE "C" NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status INTEGER,
  response_body TEXT,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, principal_id, method, route, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at_ms);
`;

/**
 * Webhook endpoints and their durable delivery queue. Deliveries are claimed by
 * (status, next_attempt_at_ms): the partial index holds only pending rows, so the worker's poll
 * stays an index range however many deliveries are done.
 */
const webhooksSqlite = `
CREATE TABLE webhook_endpoints (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  disabled_reason TEXT,
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_expires_at_ms INTEGER,
  ed25519_private_key_pkcs8 BLOB,
  ed25519_public_key BLOB,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempt_count INTEGER NOT NULL CHECK (attempt_count >= 0),
  next_attempt_at_ms INTEGER NOT NULL,
  last_attempt_at_ms INTEGER,
  attempts TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms, event_seq) WHERE status = 'pending';
CREATE INDEX events_by_id ON events (tenant_id, id);
`;

const webhooksPostgres = `
CREATE TABLE webhook_endpoints (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  event_types JSONB NOT NULL,
  enabled BOOLEAN NOT NULL,
  disabled_reason TEXT,
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_expires_at_ms BIGINT,
  ed25519_private_key_pkcs8 BYTEA,
  ed25519_public_key BYTEA,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
  tenant_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  endpoint_id TEXT COLLATE "C" NOT NULL,
  event_id TEXT COLLATE "C" NOT NULL,
  event_seq BIGINT NOT NULL,
  event_type TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempt_count INTEGER NOT NULL CHECK (attempt_count >= 0),
  next_attempt_at_ms BIGINT NOT NULL,
  last_attempt_at_ms BIGINT,
  attempts JSONB NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms, event_seq) WHERE status = 'pending';
CREATE INDEX events_by_id ON events (tenant_id, id);
`;

/**
 * Identity (SPEC 1, 3): agents, registration tickets, credential bindings, refresh tokens, API
 * keys, and the server's access-token signing key. Secrets are stored as SHA-256 hashes only.
 *
 * - credential binding ids are the OAuth client_id and globally unique (`cb_…`): a token request
 *   names only the id, so `id` alone has a unique index besides the (tenant_id, id) key;
 * - a public key may be registered once across all tenants (unique thumbprint);
 * - a ticket's `binding_id` has no foreign key: the ticket is consumed before its binding is
 *   inserted, in the same transaction;
 * - `created_by_user_id` has none either: it records the principal that made the ticket;
 * - the signing key table holds at most one row (`singleton = 1`), so processes starting at once
 *   agree on one key.
 */
const identitySqlite = `
CREATE TABLE agents (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  wallet_account_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  metadata TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, wallet_account_id) REFERENCES accounts (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE registration_tickets (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  scope_ceiling TEXT NOT NULL,
  created_by_user_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  consumed_at_ms INTEGER,
  binding_id TEXT,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE credential_bindings (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  public_key_jwk TEXT NOT NULL,
  thumbprint TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('ES256', 'EdDSA')),
  scopes TEXT NOT NULL,
  client_metadata TEXT,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX credential_bindings_by_id ON credential_bindings (id);
CREATE UNIQUE INDEX credential_bindings_by_thumbprint ON credential_bindings (thumbprint);
CREATE INDEX credential_bindings_by_agent ON credential_bindings (tenant_id, agent_id, id);

CREATE TABLE refresh_tokens (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  binding_id TEXT NOT NULL,
  family_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  used_at_ms INTEGER,
  revoked_at_ms INTEGER,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, binding_id) REFERENCES credential_bindings (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_by_binding ON refresh_tokens (tenant_id, binding_id);

CREATE TABLE api_keys (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  agent_id TEXT,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  rate_limit_per_minute INTEGER NOT NULL CHECK (rate_limit_per_minute >= 0),
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER,
  revoked_at_ms INTEGER,
  rotated_from_id TEXT,
  last_used_at_ms INTEGER,
  accepted_count INTEGER NOT NULL CHECK (accepted_count >= 0),
  denied_counts TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
  FOREIGN KEY (tenant_id, rotated_from_id) REFERENCES api_keys (tenant_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE server_signing_keys (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  id TEXT NOT NULL,
  private_key_pkcs8 BLOB NOT NULL,
  public_key BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`;

const identityPostgres = `
CREATE TABLE agents (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  wallet_account_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  metadata JSONB,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, wallet_account_id) REFERENCES accounts (tenant_id, id)
);

CREATE TABLE registration_tickets (
  tenant_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL,
  token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  scope_ceiling JSONB NOT NULL,
  created_by_user_id TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  consumed_at_ms BIGINT,
  binding_id TEXT COLLATE "C",
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
);

CREATE TABLE credential_bindings (
  tenant_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL,
  public_key_jwk JSONB NOT NULL,
  thumbprint TEXT COLLATE "C" NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('ES256', 'EdDSA')),
  scopes JSONB NOT NULL,
  client_metadata JSONB,
  created_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id)
);
CREATE UNIQUE INDEX credential_bindings_by_id ON credential_bindings (id);
CREATE UNIQUE INDEX credential_bindings_by_thumbprint ON credential_bindings (thumbprint);
CREATE INDEX credential_bindings_by_agent ON credential_bindings (tenant_id, agent_id, id);

CREATE TABLE refresh_tokens (
  tenant_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  binding_id TEXT COLLATE "C" NOT NULL,
  family_id TEXT COLLATE "C" NOT NULL,
  token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  scopes JSONB NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  used_at_ms BIGINT,
  revoked_at_ms BIGINT,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, binding_id) REFERENCES credential_bindings (tenant_id, id)
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_by_binding ON refresh_tokens (tenant_id, binding_id);

CREATE TABLE api_keys (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C",
  name TEXT NOT NULL,
  token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  scopes JSONB NOT NULL,
  rate_limit_per_minute INTEGER NOT NULL CHECK (rate_limit_per_minute >= 0),
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT,
  revoked_at_ms BIGINT,
  rotated_from_id TEXT COLLATE "C",
  last_used_at_ms BIGINT,
  accepted_count BIGINT NOT NULL CHECK (accepted_count >= 0),
  denied_counts JSONB NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
  FOREIGN KEY (tenant_id, rotated_from_id) REFERENCES api_keys (tenant_id, id)
);

CREATE TABLE server_signing_keys (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  id TEXT COLLATE "C" NOT NULL,
  private_key_pkcs8 BYTEA NOT NULL,
  public_key BYTEA NOT NULL,
  created_at_ms BIGINT NOT NULL
);
`;

const governanceSqlite = `
CREATE TABLE records (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  agent_id TEXT,
  status TEXT,
  ref_id TEXT,
  due_at_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX records_by_kind ON records (tenant_id, kind, id);
CREATE INDEX records_by_agent ON records (tenant_id, kind, agent_id, id);
CREATE INDEX records_by_status ON records (tenant_id, kind, status, id);
CREATE INDEX records_by_ref ON records (tenant_id, kind, ref_id, id);
CREATE INDEX records_due ON records (kind, due_at_ms, tenant_id, id) WHERE due_at_ms IS NOT NULL;

CREATE TABLE record_names (
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  name_key TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, kind, name_key, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE spends (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  payee_id TEXT,
  at_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('held', 'settled', 'released')),
  PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
-- Covering: a window's sum reads this index only.
CREATE INDEX spends_by_agent ON spends (tenant_id, agent_id, at_ms, state, currency, amount_minor);
CREATE INDEX spends_by_payee ON spends (tenant_id, agent_id, payee_id) WHERE state = 'settled';
`;

const governancePostgres = `
CREATE TABLE records (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C",
  status TEXT COLLATE "C",
  ref_id TEXT COLLATE "C",
  due_at_ms BIGINT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  body JSONB NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX records_by_kind ON records (tenant_id, kind, id);
CREATE INDEX records_by_agent ON records (tenant_id, kind, agent_id, id);
CREATE INDEX records_by_status ON records (tenant_id, kind, status, id);
CREATE INDEX records_by_ref ON records (tenant_id, kind, ref_id, id);
CREATE INDEX records_due ON records (kind, due_at_ms, tenant_id, id) WHERE due_at_ms IS NOT NULL;

CREATE TABLE record_names (
  tenant_id TEXT COLLATE "C" NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant_id, kind, name_key, id)
);

CREATE TABLE spends (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
  id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  payee_id TEXT COLLATE "C",
  at_ms BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('held', 'settled', 'released')),
  PRIMARY KEY (tenant_id, id)
);
-- Covering: a window's sum reads this index only.
CREATE INDEX spends_by_agent ON spends (tenant_id, agent_id, at_ms, state, currency, amount_minor);
CREATE INDEX spends_by_payee ON spends (tenant_id, agent_id, payee_id) WHERE state = 'settled';
`;

/** Spend authorizations: a spend may name its operation, for per-operation limits. */
const spendOperationsSqlite = `
ALTER TABLE spends ADD COLUMN operation TEXT;
CREATE INDEX spends_by_operation ON spends (tenant_id, agent_id, operation, at_ms) WHERE operation IS NOT NULL;
`;

const spendOperationsPostgres = `
ALTER TABLE spends ADD COLUMN operation TEXT COLLATE "C";
CREATE INDEX spends_by_operation ON spends (tenant_id, agent_id, operation, at_ms) WHERE operation IS NOT NULL;
`;

/**
 * Rolling spend counters (issue 19): a policy decision sums the agent's spends over trailing
 * windows, and the all-time window summed every spend the agent ever made. `spend_rollups` keeps,
 * per agent and currency, the not-released spends of each hour (`bucket_start_ms` a multiple of
 * `spendRollupBucketMs`) and of all time (`bucket_start_ms` = -1), maintained by triggers on
 * `spends`, so every way a spend changes (inserted held, settled, settled for less than it held,
 * released, deleted) moves the counters in the same statement. A window then reads at most one
 * partial hour of spends plus whole-hour buckets (records-sql.ts `sumSpends`); all time reads one
 * row per currency.
 *
 * `tenants.config_version` counts changes to what writes read on every journal append or spend
 * decision (the tenant's webhook endpoints, policy and budget records), bumped by triggers in the
 * changing transaction: a process caches those rows under the version it read with the tenant's
 * row (store/tenant-config-cache.ts), so another process's change is seen by the next write,
 * with no query while nothing changed.
 *
 * Versioned 19 (this issue's number), so parallel branches' migrations keep their own numbers.
 */
const spendRollupsSqlite = `
CREATE TABLE spend_rollups (
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  bucket_start_ms INTEGER NOT NULL,
  currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  spend_count INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, bucket_start_ms, currency)
) STRICT, WITHOUT ROWID;

INSERT INTO spend_rollups (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
  SELECT tenant_id, agent_id, (at_ms / 3600000) * 3600000, currency, sum(amount_minor), count(*) FROM spends WHERE state <> 'released'
  GROUP BY tenant_id, agent_id, (at_ms / 3600000) * 3600000, currency;
INSERT INTO spend_rollups (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
  SELECT tenant_id, agent_id, -1, currency, sum(amount_minor), count(*) FROM spends WHERE state <> 'released'
  GROUP BY tenant_id, agent_id, currency;

CREATE TRIGGER spends_rollup_insert AFTER INSERT ON spends WHEN NEW.state <> 'released' BEGIN
  INSERT INTO spend_rollups (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
    SELECT NEW.tenant_id, NEW.agent_id, bucket.start_ms, NEW.currency, NEW.amount_minor, 1
    FROM (SELECT -1 AS start_ms UNION ALL SELECT (NEW.at_ms / 3600000) * 3600000) AS bucket WHERE true
    ON CONFLICT DO UPDATE SET amount_minor = amount_minor + excluded.amount_minor, spend_count = spend_count + excluded.spend_count;
END;

CREATE TRIGGER spends_rollup_update AFTER UPDATE OF tenant_id, agent_id, amount_minor, currency, at_ms, state ON spends
WHEN OLD.state IS NOT NEW.state OR OLD.amount_minor IS NOT NEW.amount_minor OR OLD.at_ms IS NOT NEW.at_ms
  OR OLD.currency IS NOT NEW.currency OR OLD.agent_id IS NOT NEW.agent_id OR OLD.tenant_id IS NOT NEW.tenant_id BEGIN
  UPDATE spend_rollups SET amount_minor = amount_minor - OLD.amount_minor, spend_count = spend_count - 1
    WHERE OLD.state <> 'released' AND tenant_id = OLD.tenant_id AND agent_id = OLD.agent_id AND currency = OLD.currency
      AND bucket_start_ms IN (-1, (OLD.at_ms / 3600000) * 3600000);
  INSERT INTO spend_rollups (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
    SELECT NEW.tenant_id, NEW.agent_id, bucket.start_ms, NEW.currency, NEW.amount_minor, 1
    FROM (SELECT -1 AS start_ms UNION ALL SELECT (NEW.at_ms / 3600000) * 3600000) AS bucket WHERE NEW.state <> 'released'
    ON CONFLICT DO UPDATE SET amount_minor = amount_minor + excluded.amount_minor, spend_count = spend_count + excluded.spend_count;
END;

CREATE TRIGGER spends_rollup_delete AFTER DELETE ON spends WHEN OLD.state <> 'released' BEGIN
  UPDATE spend_rollups SET amount_minor = amount_minor - OLD.amount_minor, spend_count = spend_count - 1
    WHERE tenant_id = OLD.tenant_id AND agent_id = OLD.agent_id AND currency = OLD.currency
      AND bucket_start_ms IN (-1, (OLD.at_ms / 3600000) * 3600000);
END;

ALTER TABLE tenants ADD COLUMN config_version INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER webhook_endpoints_version_insert AFTER INSERT ON webhook_endpoints BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER webhook_endpoints_version_update AFTER UPDATE ON webhook_endpoints BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER webhook_endpoints_version_delete AFTER DELETE ON webhook_endpoints BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER config_records_version_insert AFTER INSERT ON records WHEN NEW.kind IN ('policy', 'budget') BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER config_records_version_update AFTER UPDATE ON records WHEN NEW.kind IN ('policy', 'budget') OR OLD.kind IN ('policy', 'budget') BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER config_records_version_delete AFTER DELETE ON records WHEN OLD.kind IN ('policy', 'budget') BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
END;
`;

const spendRollupsPostgres = `
CREATE TABLE spend_rollups (
  tenant_id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL,
  bucket_start_ms BIGINT NOT NULL,
  currency TEXT NOT NULL,
  amount_minor BIGINT NOT NULL,
  spend_count BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, bucket_start_ms, currency)
);

INSERT INTO spend_rollups (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
  SELECT tenant_id, agent_id, (at_ms / 3600000) * 3600000, currency, sum(amount_minor), count(*) FROM spends WHERE state <> 'released'
  GROUP BY tenant_id, agent_id, (at_ms / 3600000) * 3600000, currency;
INSERT INTO spend_rollups (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
  SELECT tenant_id, agent_id, -1, currency, sum(amount_minor), count(*) FROM spends WHERE state <> 'released'
  GROUP BY tenant_id, agent_id, currency;

-- Adds (sign 1) or removes (sign -1) one spend's contribution to its hour and to all time.
-- SET search_path FROM CURRENT: the function resolves spend_rollups in the schema it was made in.
CREATE FUNCTION spend_rollup_apply(t TEXT, a TEXT, c TEXT, at BIGINT, amount BIGINT, sign BIGINT) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
  INSERT INTO spend_rollups AS r (tenant_id, agent_id, bucket_start_ms, currency, amount_minor, spend_count)
    VALUES (t, a, -1, c, sign * amount, sign), (t, a, (at / 3600000) * 3600000, c, sign * amount, sign)
    ON CONFLICT (tenant_id, agent_id, bucket_start_ms, currency)
    DO UPDATE SET amount_minor = r.amount_minor + excluded.amount_minor, spend_count = r.spend_count + excluded.spend_count;
$$;

CREATE FUNCTION spends_rollup() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state <> 'released' THEN
    PERFORM spend_rollup_apply(OLD.tenant_id, OLD.agent_id, OLD.currency, OLD.at_ms, OLD.amount_minor, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state <> 'released' THEN
    PERFORM spend_rollup_apply(NEW.tenant_id, NEW.agent_id, NEW.currency, NEW.at_ms, NEW.amount_minor, 1);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER spends_rollup_insert AFTER INSERT ON spends FOR EACH ROW WHEN (NEW.state <> 'released') EXECUTE FUNCTION spends_rollup();
CREATE TRIGGER spends_rollup_update AFTER UPDATE ON spends FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.at_ms IS DISTINCT FROM NEW.at_ms
    OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.agent_id IS DISTINCT FROM NEW.agent_id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION spends_rollup();
CREATE TRIGGER spends_rollup_delete AFTER DELETE ON spends FOR EACH ROW WHEN (OLD.state <> 'released') EXECUTE FUNCTION spends_rollup();

ALTER TABLE tenants ADD COLUMN config_version BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION tenant_config_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE tenants SET config_version = config_version + 1
    WHERE id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.tenant_id END, CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.tenant_id END);
  RETURN NULL;
END;
$$;
CREATE TRIGGER webhook_endpoints_version AFTER INSERT OR UPDATE OR DELETE ON webhook_endpoints FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER config_records_version_insert AFTER INSERT ON records FOR EACH ROW WHEN (NEW.kind IN ('policy', 'budget'))
  EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER config_records_version_update AFTER UPDATE ON records FOR EACH ROW WHEN (NEW.kind IN ('policy', 'budget') OR OLD.kind IN ('policy', 'budget'))
  EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER config_records_version_delete AFTER DELETE ON records FOR EACH ROW WHEN (OLD.kind IN ('policy', 'budget'))
  EXECUTE FUNCTION tenant_config_changed();
`;

/**
 * Teams and spawned agents (issue 15). A team is a governance record (kind `team`: its managers,
 * pools and allocations in one document, so an allocation is checked against the pool in the
 * same write that changes it); which team an agent belongs to is a column of the agent, so a pool
 * decision lists the members by index. An agent spawned by another keeps its parent and depth:
 * a decision of the child walks up to three parents, and a parent's window lists its descendants
 * by `agents_by_parent`.
 *
 * Versioned 15 (this issue's number), so parallel branches' migrations keep their own numbers.
 */
const teamsSqlite = `
ALTER TABLE agents ADD COLUMN team_id TEXT;
ALTER TABLE agents ADD COLUMN parent_agent_id TEXT;
ALTER TABLE agents ADD COLUMN spawn_depth INTEGER NOT NULL DEFAULT 0;
CREATE INDEX agents_by_team ON agents (tenant_id, team_id, id) WHERE team_id IS NOT NULL;
CREATE INDEX agents_by_parent ON agents (tenant_id, parent_agent_id, id) WHERE parent_agent_id IS NOT NULL;
`;

const teamsPostgres = `
ALTER TABLE agents ADD COLUMN team_id TEXT COLLATE "C";
ALTER TABLE agents ADD COLUMN parent_agent_id TEXT COLLATE "C";
ALTER TABLE agents ADD COLUMN spawn_depth INTEGER NOT NULL DEFAULT 0;
CREATE INDEX agents_by_team ON agents (tenant_id, team_id, id) WHERE team_id IS NOT NULL;
CREATE INDEX agents_by_parent ON agents (tenant_id, parent_agent_id, id) WHERE parent_agent_id IS NOT NULL;
`;

/**
 * The process that owns an in-flight idempotency claim on PostgreSQL: the key of the session
 * advisory lock it holds while alive (postgres/claim-owner.ts). SQLite needs nothing: one process
 * owns the file and releases every claim when it starts.
 */
const claimOwnersSqlite = `SELECT 1;`;
const claimOwnersPostgres = `ALTER TABLE idempotency_keys ADD COLUMN owner_key INTEGER;`;

/**
 * Usage (issue 15 part B): `GET /v1/usage` reports spent, held and counts per day, agent, payee
 * or operation over up to a year. `spend_usage` keeps, per UTC day, agent, currency, payee and
 * operation, the settled and the held spends (released ones count nowhere), maintained by
 * triggers on `spends` like migration 19's hourly rollups, so a year's report reads at most one
 * row per day and key, however many spends there were. `payee_key` is '' for a spend without a
 * payee; `operation_key` is a spend authorization's operation, else `payment` (a spend with a
 * payee) or `service_request`.
 *
 * Also: triggers (`trg_`) are fired by id alone (`POST /v1/triggers/{id}/fire` names no tenant),
 * so their records get an index by id.
 *
 * Versioned 22, the number this work was given.
 */
const usageColumns = "tenant_id, day_start_ms, agent_id, currency, payee_key, operation_key, settled_minor, settled_count, held_minor, held_count";
const usageUpsert = "ON CONFLICT (tenant_id, day_start_ms, agent_id, currency, payee_key, operation_key) DO UPDATE SET settled_minor = spend_usage.settled_minor + excluded.settled_minor, " +
  "settled_count = spend_usage.settled_count + excluded.settled_count, held_minor = spend_usage.held_minor + excluded.held_minor, held_count = spend_usage.held_count + excluded.held_count";
/** The usage row values of one spend row (`NEW` or `OLD`), signed. */
const usageValues = (row: "NEW" | "OLD", sign: "" | "-") =>
  `${row}.tenant_id, (${row}.at_ms / 86400000) * 86400000, ${row}.agent_id, ${row}.currency, coalesce(${row}.payee_id, ''), ` +
  `coalesce(${row}.operation, CASE WHEN ${row}.payee_id IS NULL THEN 'service_request' ELSE 'payment' END), ` +
  `CASE WHEN ${row}.state = 'settled' THEN ${sign}${row}.amount_minor ELSE 0 END, CASE WHEN ${row}.state = 'settled' THEN ${sign}1 ELSE 0 END, ` +
  `CASE WHEN ${row}.state = 'held' THEN ${sign}${row}.amount_minor ELSE 0 END, CASE WHEN ${row}.state = 'held' THEN ${sign}1 ELSE 0 END`;
const usageBackfill = `INSERT INTO spend_usage (${usageColumns})
  SELECT tenant_id, (at_ms / 86400000) * 86400000, agent_id, currency, coalesce(payee_id, ''),
    coalesce(operation, CASE WHEN payee_id IS NULL THEN 'service_request' ELSE 'payment' END),
    sum(CASE WHEN state = 'settled' THEN amount_minor ELSE 0 END), sum(CASE WHEN state = 'settled' THEN 1 ELSE 0 END),
    sum(CASE WHEN state = 'held' THEN amount_minor ELSE 0 END), sum(CASE WHEN state = 'held' THEN 1 ELSE 0 END)
  FROM spends WHERE state <> 'released'
  GROUP BY tenant_id, (at_ms / 86400000) * 86400000, agent_id, currency, coalesce(payee_id, ''),
    coalesce(operation, CASE WHEN payee_id IS NULL THEN 'service_request' ELSE 'payment' END);`;

const usageSqlite = `
CREATE TABLE spend_usage (
  tenant_id TEXT NOT NULL,
  day_start_ms INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  payee_key TEXT NOT NULL,
  operation_key TEXT NOT NULL,
  settled_minor INTEGER NOT NULL,
  settled_count INTEGER NOT NULL,
  held_minor INTEGER NOT NULL,
  held_count INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day_start_ms, agent_id, currency, payee_key, operation_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX spend_usage_by_agent ON spend_usage (tenant_id, agent_id, day_start_ms);
${usageBackfill}

CREATE TRIGGER spends_usage_insert AFTER INSERT ON spends WHEN NEW.state <> 'released' BEGIN
  INSERT INTO spend_usage (${usageColumns}) VALUES (${usageValues("NEW", "")}) ${usageUpsert};
END;

CREATE TRIGGER spends_usage_update AFTER UPDATE OF tenant_id, agent_id, amount_minor, currency, payee_id, operation, at_ms, state ON spends
WHEN OLD.state IS NOT NEW.state OR OLD.amount_minor IS NOT NEW.amount_minor OR OLD.at_ms IS NOT NEW.at_ms OR OLD.currency IS NOT NEW.currency
  OR OLD.agent_id IS NOT NEW.agent_id OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.payee_id IS NOT NEW.payee_id OR OLD.operation IS NOT NEW.operation BEGIN
  INSERT INTO spend_usage (${usageColumns}) SELECT ${usageValues("OLD", "-")} WHERE OLD.state <> 'released' ${usageUpsert};
  INSERT INTO spend_usage (${usageColumns}) SELECT ${usageValues("NEW", "")} WHERE NEW.state <> 'released' ${usageUpsert};
END;

CREATE TRIGGER spends_usage_delete AFTER DELETE ON spends WHEN OLD.state <> 'released' BEGIN
  INSERT INTO spend_usage (${usageColumns}) VALUES (${usageValues("OLD", "-")}) ${usageUpsert};
END;

CREATE INDEX records_triggers_by_id ON records (id) WHERE kind = 'trigger';
`;

const usagePostgres = `
CREATE TABLE spend_usage (
  tenant_id TEXT COLLATE "C" NOT NULL,
  day_start_ms BIGINT NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL,
  currency TEXT COLLATE "C" NOT NULL,
  payee_key TEXT COLLATE "C" NOT NULL,
  operation_key TEXT COLLATE "C" NOT NULL,
  settled_minor BIGINT NOT NULL,
  settled_count BIGINT NOT NULL,
  held_minor BIGINT NOT NULL,
  held_count BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, day_start_ms, agent_id, currency, payee_key, operation_key)
);
CREATE INDEX spend_usage_by_agent ON spend_usage (tenant_id, agent_id, day_start_ms);
${usageBackfill}

CREATE FUNCTION spends_usage() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state <> 'released' THEN
    INSERT INTO spend_usage (${usageColumns}) VALUES (${usageValues("OLD", "-")}) ${usageUpsert};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state <> 'released' THEN
    INSERT INTO spend_usage (${usageColumns}) VALUES (${usageValues("NEW", "")}) ${usageUpsert};
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER spends_usage_insert AFTER INSERT ON spends FOR EACH ROW WHEN (NEW.state <> 'released') EXECUTE FUNCTION spends_usage();
CREATE TRIGGER spends_usage_update AFTER UPDATE ON spends FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.at_ms IS DISTINCT FROM NEW.at_ms
    OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.agent_id IS DISTINCT FROM NEW.agent_id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.payee_id IS DISTINCT FROM NEW.payee_id OR OLD.operation IS DISTINCT FROM NEW.operation)
  EXECUTE FUNCTION spends_usage();
CREATE TRIGGER spends_usage_delete AFTER DELETE ON spends FOR EACH ROW WHEN (OLD.state <> 'released') EXECUTE FUNCTION spends_usage();

CREATE INDEX records_triggers_by_id ON records (id) WHERE kind = 'trigger';
`;

/**
 * The journal's rows on SQLite as a rowid table (issue 19). A WITHOUT ROWID table keeps at most
 * ~1,000 bytes of a row in its B-tree page; every larger event body (a payment intent's is
 * ~1.3 kB) spilled the rest onto an overflow page of its own, mostly empty: measured, 0.77 pages
 * per event and 64 % of the table's bytes unused, so each event cost a fresh 4 kB page in the
 * WAL at commit. A rowid table keeps up to ~4 kB inline and appends at its right edge. The
 * primary key (tenant_id, seq) becomes a separate index, as on PostgreSQL. `events_by_id`
 * duplicated the UNIQUE (id) index (every lookup by id also names its tenant, and ids are
 * unique across tenants): dropped on both stores, one B-tree less per event. On SQLite, whose
 * table is rebuilt anyway, `events_by_agent` leaves out events of no agent (an owner's transfer):
 * it only serves `agent_id = ?`, which a partial index on `agent_id IS NOT NULL` answers.
 */
const journalRowsSqlite = `
CREATE TABLE events_rowid (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  agent_id TEXT,
  body TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
) STRICT;
INSERT INTO events_rowid (tenant_id, seq, id, type, agent_id, body)
  SELECT tenant_id, seq, id, type, agent_id, body FROM events ORDER BY tenant_id, seq;
DROP TABLE events;
ALTER TABLE events_rowid RENAME TO events;
CREATE INDEX events_by_type ON events (tenant_id, type, seq);
CREATE INDEX events_by_agent ON events (tenant_id, agent_id, seq) WHERE agent_id IS NOT NULL;
`;

const journalRowsPostgres = `
DROP INDEX events_by_id;
`;

/**
 * Credentials under `tenants.config_version` too (issue 19, the fixed per-request cost): every
 * authenticated request read its credential's row (a DPoP binding, a personal access token and
 * its member, an API key). Those rows change rarely and only in a few ways (a binding or key
 * revoked, a member's role changed or removed, an agent disabled), so the triggers below bump
 * the tenant's version in the transaction that makes such a change, and each process keeps the
 * rows it read under the version it read them at (identity/credential-cache.ts). Inserts bump
 * nothing: a new row cannot be in anyone's cache. API keys' usage counters (flushed in batches)
 * are left out: they change all the time and authentication does not read them.
 *
 * Versioned 23, the number this part of issue 19 was given.
 */
/** SQLite: bump the tenant's config version when a row of `table` changes (`update`: the columns that matter, and when) or goes. */
function versionTriggersSqlite(table: string, update: { columns: string; when?: string } | null = null): string {
  const on = update ? `UPDATE OF ${update.columns} ON ${table}${update.when ? ` WHEN ${update.when}` : ""}` : `UPDATE ON ${table}`;
  return `CREATE TRIGGER ${table}_version_update AFTER ${on} BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER ${table}_version_delete AFTER DELETE ON ${table} BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
END;
`;
}

const credentialVersionSqlite = `
${versionTriggersSqlite("credential_bindings")}${versionTriggersSqlite("personal_access_tokens")}${versionTriggersSqlite("users")}${versionTriggersSqlite("agents", {
  columns: "tenant_id, id, status",
  when: "OLD.status IS NOT NEW.status OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.id IS NOT NEW.id",
})}${versionTriggersSqlite("api_keys", { columns: "tenant_id, id, agent_id, token_hash, scopes, rate_limit_per_minute, expires_at_ms, revoked_at_ms" })}`;

const credentialVersionPostgres = `
CREATE TRIGGER credential_bindings_version AFTER UPDATE OR DELETE ON credential_bindings FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER personal_access_tokens_version AFTER UPDATE OR DELETE ON personal_access_tokens FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER users_version AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER agents_version_update AFTER UPDATE ON agents FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER agents_version_delete AFTER DELETE ON agents FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER api_keys_version_update AFTER UPDATE ON api_keys FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id OR OLD.agent_id IS DISTINCT FROM NEW.agent_id
    OR OLD.token_hash IS DISTINCT FROM NEW.token_hash OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.rate_limit_per_minute IS DISTINCT FROM NEW.rate_limit_per_minute
    OR OLD.expires_at_ms IS DISTINCT FROM NEW.expires_at_ms OR OLD.revoked_at_ms IS DISTINCT FROM NEW.revoked_at_ms)
  EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER api_keys_version_delete AFTER DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
`;

/**
 * Agents and payees under `tenants.config_version` too (issue 19): a payment read its agent, the
 * agent's children (the subtree its windows count) and its payee on every decision, a statement
 * (on PostgreSQL a round trip) each, though these rows change rarely. Every change of an agent now
 * bumps the version: an insert (a spawned child joins its parent's subtree), any update (status,
 * team, name: a write that reads an agent to change it must not see an old copy) and a delete;
 * migration 23 bumped only for a changed status. Payee records join policies and budgets as
 * config records.
 *
 * Versioned 25, after 24.
 */
const configKindsNow = "('policy', 'budget', 'payee')";

const agentsPayeesVersionSqlite = `
DROP TRIGGER agents_version_update;
DROP TRIGGER agents_version_delete;
CREATE TRIGGER agents_version_insert AFTER INSERT ON agents BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
END;
${versionTriggersSqlite("agents")}
DROP TRIGGER config_records_version_insert;
DROP TRIGGER config_records_version_update;
DROP TRIGGER config_records_version_delete;
CREATE TRIGGER config_records_version_insert AFTER INSERT ON records WHEN NEW.kind IN ${configKindsNow} BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER config_records_version_update AFTER UPDATE ON records WHEN NEW.kind IN ${configKindsNow} OR OLD.kind IN ${configKindsNow} BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER config_records_version_delete AFTER DELETE ON records WHEN OLD.kind IN ${configKindsNow} BEGIN
  UPDATE tenants SET config_version = config_version + 1 WHERE id = OLD.tenant_id;
END;
`;

const agentsPayeesVersionPostgres = `
DROP TRIGGER agents_version_update ON agents;
DROP TRIGGER agents_version_delete ON agents;
CREATE TRIGGER agents_version AFTER INSERT OR UPDATE OR DELETE ON agents FOR EACH ROW EXECUTE FUNCTION tenant_config_changed();
DROP TRIGGER config_records_version_insert ON records;
DROP TRIGGER config_records_version_update ON records;
DROP TRIGGER config_records_version_delete ON records;
CREATE TRIGGER config_records_version_insert AFTER INSERT ON records FOR EACH ROW WHEN (NEW.kind IN ${configKindsNow})
  EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER config_records_version_update AFTER UPDATE ON records FOR EACH ROW WHEN (NEW.kind IN ${configKindsNow} OR OLD.kind IN ${configKindsNow})
  EXECUTE FUNCTION tenant_config_changed();
CREATE TRIGGER config_records_version_delete AFTER DELETE ON records FOR EACH ROW WHEN (OLD.kind IN ${configKindsNow})
  EXECUTE FUNCTION tenant_config_changed();
`;

/**
 * Every migration, oldest first, versions strictly increasing. A gap is allowed, and
 * `pendingMigrations` runs whatever known version a database lacks (2 and 3 were developed on
 * separate branches, so a database may have got 3 before 2).
 */
export const migrations: readonly Migration[] = [
  { version: 1, name: "initial schema", sqlite: initialSqlite, postgres: initialPostgres },
  { version: 2, name: "identity", sqlite: identitySqlite, postgres: identityPostgres },
  { version: 3, name: "webhooks", sqlite: webhooksSqlite, postgres: webhooksPostgres },
  { version: 4, name: "governance", sqlite: governanceSqlite, postgres: governancePostgres },
  { version: 5, name: "spend operations", sqlite: spendOperationsSqlite, postgres: spendOperationsPostgres },
  // Numbered after its issue (13, tasks): a webhook endpoint's task filter, null for none.
  { version: 13, name: "webhook task filter", sqlite: "ALTER TABLE webhook_endpoints ADD COLUMN task_ids TEXT;", postgres: "ALTER TABLE webhook_endpoints ADD COLUMN task_ids JSONB;" },
  { version: 15, name: "teams and spawned agents", sqlite: teamsSqlite, postgres: teamsPostgres },
  // Numbered after its issue (16, the owner console) so parallel branches do not collide.
  { version: 16, name: "console members", sqlite: "ALTER TABLE users ADD COLUMN removed_at_ms INTEGER;", postgres: "ALTER TABLE users ADD COLUMN removed_at_ms BIGINT;" },
  // Numbered 17 after its issue, leaving 6-16 to migrations developed alongside it.
  { version: 17, name: "idempotency claim owners", sqlite: claimOwnersSqlite, postgres: claimOwnersPostgres },
  { version: 19, name: "spend rollups and tenant config version", sqlite: spendRollupsSqlite, postgres: spendRollupsPostgres },
  { version: 22, name: "spend usage and triggers by id", sqlite: usageSqlite, postgres: usagePostgres },
  { version: 23, name: "credentials under the tenant config version", sqlite: credentialVersionSqlite, postgres: credentialVersionPostgres },
  { version: 24, name: "journal rows inline", sqlite: journalRowsSqlite, postgres: journalRowsPostgres },
  { version: 25, name: "agents and payees under the tenant config version", sqlite: agentsPayeesVersionSqlite, postgres: agentsPayeesVersionPostgres },
];

/**
 * The migrations still to run, oldest first. Throws when the database records a version this
 * build does not know, or a known version under another name: starting anyway could corrupt data.
 */
export function pendingMigrations(applied: readonly AppliedMigration[]): Migration[] {
  const appliedByVersion = new Map(applied.map((row) => [row.version, row.name]));
  for (const [version, name] of appliedByVersion) {
    const known = migrations.find((migration) => migration.version === version);
    if (!known) throw new Error(`database schema version ${version} is newer than this build of Bursar`);
    if (known.name !== name) {
      throw new Error(`database migration ${version} is "${name}" but this build expects "${known.name}"`);
    }
  }
  return migrations.filter((migration) => !appliedByVersion.has(migration.version));
}

/** Fails fast on a malformed list (versions out of order or duplicated). Runs once at import. */
function checkMigrationList(): void {
  migrations.forEach((migration, position) => {
    const previous = position === 0 ? 0 : migrations[position - 1]!.version;
    if (migration.version <= previous) {
      throw new Error(`migration at position ${position} has version ${migration.version}, not above ${previous}`);
    }
  });
}
checkMigrationList();
