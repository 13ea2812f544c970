/**
 * The SQL of governance records and spends (core/governance/records.ts) for both dialects, in
 * one place: the two adapters only run these texts. List texts depend only on which filters are
 * present (8 shapes), so SQLite caches one prepared statement per text.
 */
import { invariant, recordKinds, spendWindowsPerReadMax, type RecordQuery, type SpendRow, type StoredRecord, type UsageQuery, type UsageRow } from "@bursar/core";
import { checkLimit, integerFrom, limitClause, nullableIntegerFrom, nullableTextFrom, textFrom, type Row } from "./rows.js";

export type Dialect = "sqlite" | "postgres";

export const recordColumns = "tenant_id, id, kind, agent_id, status, ref_id, due_at_ms, created_at_ms, updated_at_ms, body";

export interface Statement {
  text: string;
  params: unknown[];
}

/** Statement texts for one dialect; `table(name)` qualifies a table (PostgreSQL schema). */
export class RecordsSql {
  readonly getRecord: string;
  readonly findRecordIdsByName: string;
  readonly listDueRecords: string;
  readonly sumSpends: string;
  readonly sumAllSpends: string;
  /** `sumSpends` and `sumAllSpends` with `?` placeholders, to combine into one statement. */
  readonly sumSpendsTemplate: string;
  readonly sumAllSpendsTemplate: string;
  readonly sumSpendsOf: string;
  readonly sumAllSpendsOf: string;
  readonly sumHeldSpendsOf: string;
  readonly hasSettledSpend: string;
  readonly insertRecord: string;
  readonly updateRecord: string;
  readonly deleteRecordNames: string;
  readonly insertRecordName: string;
  readonly insertSpend: string;
  readonly setSpendState: string;
  readonly findTriggerTenant: string;
  private readonly records: string;
  private readonly usageTable: string;
  private readonly agentsTable: string;
  private readonly spends: string;

  constructor(
    readonly dialect: Dialect,
    table: (name: string) => string = (name) => name,
  ) {
    // Written with `?`; PostgreSQL gets `$1`, `$2`, … in the same order.
    const sql = (text: string): string => (dialect === "sqlite" ? text : numbered(text));
    this.records = table("records");
    const names = table("record_names");
    const spends = table("spends");
    this.getRecord = sql(`SELECT ${recordColumns} FROM ${this.records} WHERE tenant_id = ? AND kind = ? AND id = ?`);
    this.findRecordIdsByName = sql(`SELECT id FROM ${names} WHERE tenant_id = ? AND kind = ? AND name_key = ? ORDER BY id ${limitClause(dialect, "?")}`);
    // Same literal condition as the partial index records_due.
    this.listDueRecords = sql(
      `SELECT tenant_id, id FROM ${this.records} WHERE due_at_ms IS NOT NULL AND kind = ? AND due_at_ms <= ? ORDER BY due_at_ms, tenant_id, id ${limitClause(dialect, "?")}`,
    );
    const rollups = table("spend_rollups");
    // A trailing window (at_ms > since): the spends of the partial hour it starts in, read
    // exactly, plus the whole-hour buckets after it (migration 19). At most one hour of rows
    // and one row per later hour, whatever the agent's history.
    this.sumSpendsTemplate =
      "SELECT coalesce(sum(amount_minor), 0) AS amount_minor, coalesce(sum(spend_count), 0) AS count FROM (" +
        `SELECT CASE WHEN currency = ? THEN amount_minor ELSE 0 END AS amount_minor, 1 AS spend_count FROM ${spends} ` +
        "WHERE tenant_id = ? AND agent_id = ? AND at_ms > ? AND at_ms < ? AND state <> 'released' " +
        `UNION ALL SELECT CASE WHEN currency = ? THEN amount_minor ELSE 0 END, spend_count FROM ${rollups} ` +
        "WHERE tenant_id = ? AND agent_id = ? AND bucket_start_ms >= ?) AS window_spends";
    this.sumSpends = sql(this.sumSpendsTemplate);
    // All time (no window start): the all-time row of each currency.
    this.sumAllSpendsTemplate =
      "SELECT coalesce(sum(CASE WHEN currency = ? THEN amount_minor ELSE 0 END), 0) AS amount_minor, coalesce(sum(spend_count), 0) AS count " +
      `FROM ${rollups} WHERE tenant_id = ? AND agent_id = ? AND bucket_start_ms = -1`;
    this.sumAllSpends = sql(this.sumAllSpendsTemplate);
    // The same two sums over a set of agents (a team's members, an agent and its descendants),
    // passed as one parameter: a JSON array on SQLite (json_each), a text[] on PostgreSQL. Both
    // walk the same indexes per agent of the set.
    const inSet = dialect === "sqlite" ? "agent_id IN (SELECT value FROM json_each(?))" : "agent_id = ANY(?::text[])";
    this.sumSpendsOf = sql(
      "SELECT coalesce(sum(amount_minor), 0) AS amount_minor, coalesce(sum(spend_count), 0) AS count FROM (" +
        `SELECT CASE WHEN currency = ? THEN amount_minor ELSE 0 END AS amount_minor, 1 AS spend_count FROM ${spends} ` +
        `WHERE tenant_id = ? AND ${inSet} AND at_ms > ? AND at_ms < ? AND state <> 'released' ` +
        `UNION ALL SELECT CASE WHEN currency = ? THEN amount_minor ELSE 0 END, spend_count FROM ${rollups} ` +
        `WHERE tenant_id = ? AND ${inSet} AND bucket_start_ms >= ?) AS window_spends`,
    );
    this.sumAllSpendsOf = sql(
      "SELECT coalesce(sum(CASE WHEN currency = ? THEN amount_minor ELSE 0 END), 0) AS amount_minor, coalesce(sum(spend_count), 0) AS count " +
        `FROM ${rollups} WHERE tenant_id = ? AND ${inSet} AND bucket_start_ms = -1`,
    );
    // Holds are short-lived (a payment waiting for its rail or approval): few rows per window.
    this.sumHeldSpendsOf = sql(
      `SELECT coalesce(sum(amount_minor), 0) AS amount_minor, count(*) AS count FROM ${spends} WHERE tenant_id = ? AND ${inSet} AND at_ms > ? AND state = 'held' AND currency = ?`,
    );
    this.hasSettledSpend = sql(`SELECT 1 AS found FROM ${spends} WHERE tenant_id = ? AND agent_id = ? AND payee_id = ? AND state = 'settled' LIMIT 1`);
    this.insertRecord = sql(`INSERT INTO ${this.records} (${recordColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.updateRecord = sql(
      `UPDATE ${this.records} SET agent_id = ?, status = ?, ref_id = ?, due_at_ms = ?, updated_at_ms = ?, body = ? WHERE tenant_id = ? AND kind = ? AND id = ?`,
    );
    this.deleteRecordNames = sql(`DELETE FROM ${names} WHERE tenant_id = ? AND kind = ? AND id = ?`);
    this.insertRecordName = sql(`INSERT INTO ${names} (tenant_id, kind, name_key, id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.insertSpend = sql(
      `INSERT INTO ${spends} (tenant_id, id, agent_id, amount_minor, currency, payee_id, operation, at_ms, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.setSpendState = sql(`UPDATE ${spends} SET state = ?, amount_minor = coalesce(?, amount_minor) WHERE tenant_id = ? AND id = ?`);
    this.spends = spends;
    this.usageTable = table("spend_usage");
    this.agentsTable = table("agents");
    // Same literal condition as the partial index records_triggers_by_id (migration 22).
    this.findTriggerTenant = sql(`SELECT tenant_id FROM ${this.records} WHERE kind = 'trigger' AND id = ?`);
  }

  /**
   * Usage buckets from the daily rollup (migration 22): an index range of one tenant's days (or
   * one agent's), grouped by the asked key and currency. The rows read are bounded by days ×
   * agents × payees × operations, not by the number of spends.
   */
  usage(tenantId: string, query: UsageQuery): Statement {
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return this.dialect === "sqlite" ? "?" : `$${params.length}`;
    };
    // By team: the agent's team now, from its row (agents' primary key), '' for agents in none.
    const byTeam = query.groupBy === "team";
    const key = { day: "u.day_start_ms", agent: "u.agent_id", team: "coalesce(a.team_id, '')", payee: "u.payee_key", operation: "u.operation_key" }[query.groupBy];
    const conditions = [`u.tenant_id = ${p(tenantId)}`];
    if (query.agentId !== undefined) conditions.push(`u.agent_id = ${p(query.agentId)}`);
    if (query.teamId !== undefined) conditions.push(`u.agent_id IN (SELECT id FROM ${this.agentsTable} WHERE tenant_id = ${p(tenantId)} AND team_id = ${p(query.teamId)})`);
    conditions.push(`u.day_start_ms >= ${p(query.fromMs)}`, `u.day_start_ms < ${p(query.toMs)}`);
    const keyText = this.dialect === "sqlite" ? `CAST(${key} AS TEXT)` : `(${key})::text`;
    const join = byTeam ? ` JOIN ${this.agentsTable} a ON a.tenant_id = u.tenant_id AND a.id = u.agent_id` : "";
    const text =
      `SELECT ${keyText} AS bucket_key, u.currency AS currency, sum(u.settled_minor) AS settled_minor, sum(u.settled_count) AS settled_count, sum(u.held_minor) AS held_minor, sum(u.held_count) AS held_count ` +
      `FROM ${this.usageTable} u${join} WHERE ${conditions.join(" AND ")} GROUP BY ${key}, u.currency ORDER BY ${key}, u.currency ${limitClause(this.dialect, p(checkLimit(query.limit)))}`;
    return { text, params };
  }

  /** The parameter of a set of agent ids in this dialect's statements. */
  agentSet(agentIds: readonly string[]): unknown {
    return this.dialect === "sqlite" ? JSON.stringify(agentIds) : [...agentIds];
  }

  /**
   * The sum of `sumSpends` over the spends whose operation matches `pattern`. A prefix pattern
   * (`openai.*`) is a range on the operation column (`openai.` ≤ operation < `openai/`, the
   * character after `.`), so no LIKE escaping is needed and the index serves it.
   */
  sumOperationSpends(currency: string, tenantId: string, agentId: string, sinceMs: number, pattern: string): Statement {
    const params: unknown[] = [currency, tenantId, agentId, sinceMs];
    let condition = "operation IS NOT NULL";
    if (pattern.endsWith(".*")) {
      const prefix = pattern.slice(0, -1);
      condition = "operation >= ? AND operation < ?";
      params.push(prefix, `${prefix.slice(0, -1)}/`);
    } else if (pattern !== "*") {
      condition = "operation = ?";
      params.push(pattern);
    }
    const text =
      "SELECT coalesce(sum(CASE WHEN currency = ? THEN amount_minor ELSE 0 END), 0) AS amount_minor, count(*) AS count " +
      `FROM ${this.spends} WHERE tenant_id = ? AND agent_id = ? AND at_ms > ? AND state <> 'released' AND ${condition}`;
    return { text: this.dialect === "sqlite" ? text : numbered(text), params };
  }

  /** Counts records of one kind with the query's equality filters, up to `limit` rows read. */
  countRecords(tenantId: string, query: Pick<RecordQuery, "kind" | "agentId" | "status">, limit: number): Statement {
    const { text, params } = this.listRecords(tenantId, { ...query, limit });
    return { text: `SELECT count(*) AS count FROM (${text.replace(`SELECT ${recordColumns} FROM`, "SELECT 1 AS one FROM")}) AS counted`, params };
  }

  /** A keyset page of one kind, newest first, with the query's equality filters. */
  listRecords(tenantId: string, query: RecordQuery): Statement {
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return this.dialect === "sqlite" ? "?" : `$${params.length}`;
    };
    const conditions = [`tenant_id = ${p(tenantId)}`, `kind = ${p(query.kind)}`];
    if (query.agentId !== undefined) conditions.push(`agent_id = ${p(query.agentId)}`);
    if (query.status !== undefined) conditions.push(`status = ${p(query.status)}`);
    if (query.refId !== undefined) conditions.push(`ref_id = ${p(query.refId)}`);
    if (query.beforeId !== undefined) conditions.push(`id < ${p(query.beforeId)}`);
    const limit = p(checkLimit(query.limit));
    // SQLite, without statistics, walks the primary key (tenant_id, id) for its order and filters
    // every record of the tenant; name the index that matches the filters instead.
    const index =
      this.dialect === "postgres" ? "" : ` INDEXED BY ${query.agentId !== undefined ? "records_by_agent" : query.refId !== undefined ? "records_by_ref" : query.status !== undefined ? "records_by_status" : "records_by_kind"}`;
    return { text: `SELECT ${recordColumns} FROM ${this.records}${index} WHERE ${conditions.join(" AND ")} ORDER BY id DESC ${limitClause(this.dialect, limit)}`, params };
  }
}

/** `?` placeholders as PostgreSQL's `$1`, `$2`, … (the texts here hold no `?` elsewhere). */
function numbered(text: string): string {
  let position = 0;
  return text.replace(/\?/g, () => `$${++position}`);
}

/** Parameters of `insertRecord`, in column order. */
export function recordParams(row: StoredRecord): unknown[] {
  return [row.tenantId, row.id, row.kind, row.agentId, row.status, row.refId, row.dueAtMs, row.createdAtMs, row.updatedAtMs, JSON.stringify(row.body)];
}

/** Parameters of `updateRecord`. */
export function recordUpdateParams(row: StoredRecord): unknown[] {
  return [row.agentId, row.status, row.refId, row.dueAtMs, row.updatedAtMs, JSON.stringify(row.body), row.tenantId, row.kind, row.id];
}

export function spendParams(row: SpendRow): unknown[] {
  return [row.tenantId, row.id, row.agentId, row.amountMinor, row.currency, row.payeeId, row.operation, row.atMs, row.state];
}

export function recordFrom(row: Row): StoredRecord {
  const kind = textFrom(row.kind, "records.kind");
  invariant((recordKinds as readonly string[]).includes(kind), `unknown record kind ${kind}`);
  // SQLite hands back TEXT, PostgreSQL parsed JSONB.
  const body = typeof row.body === "string" ? (JSON.parse(row.body) as Record<string, unknown>) : (row.body as Record<string, unknown>);
  return {
    tenantId: textFrom(row.tenant_id, "records.tenant_id"),
    id: textFrom(row.id, "records.id"),
    kind: kind as StoredRecord["kind"],
    agentId: nullableTextFrom(row.agent_id, "records.agent_id"),
    status: nullableTextFrom(row.status, "records.status"),
    refId: nullableTextFrom(row.ref_id, "records.ref_id"),
    dueAtMs: nullableIntegerFrom(row.due_at_ms, "records.due_at_ms"),
    createdAtMs: integerFrom(row.created_at_ms, "records.created_at_ms"),
    updatedAtMs: integerFrom(row.updated_at_ms, "records.updated_at_ms"),
    body,
  };
}

/** Width of a spend rollup bucket (migration 19 hard-codes it in its triggers). */
export const spendRollupBucketMs = 3_600_000;

/**
 * The statement and parameters of `sumSpends`: the all-time rows when the window has no start
 * (every stored spend is after it), else the partial first hour plus later buckets.
 */
export function sumSpendsStatement(sql: RecordsSql, tenantId: string, agentId: string, currency: string, sinceMs: number): Statement {
  if (sinceMs < 0) return { text: sql.sumAllSpends, params: [currency, tenantId, agentId] };
  const firstWholeBucketMs = Math.floor(sinceMs / spendRollupBucketMs) * spendRollupBucketMs + spendRollupBucketMs;
  return { text: sql.sumSpends, params: [currency, tenantId, agentId, sinceMs, firstWholeBucketMs, currency, tenantId, agentId, firstWholeBucketMs] };
}

/**
 * One statement for `sumSpends` over several window starts: each window's own statement (the
 * same text, so the same plan and index use), joined by UNION ALL and tagged with its position.
 * The text depends only on which windows have a start, so few distinct texts exist.
 */
export function sumSpendWindowsStatement(sql: RecordsSql, tenantId: string, agentId: string, currency: string, sinces: readonly number[]): Statement {
  invariant(sinces.length > 0 && sinces.length <= spendWindowsPerReadMax, `${sinces.length} spend windows in one read`);
  const params: unknown[] = [];
  const parts = sinces.map((sinceMs, position) => {
    const one = sumSpendsStatement(sql, tenantId, agentId, currency, sinceMs);
    params.push(...one.params);
    return `SELECT ${position} AS position, amount_minor, count FROM (${sinceMs < 0 ? sql.sumAllSpendsTemplate : sql.sumSpendsTemplate}) AS window_${position}`;
  });
  const text = parts.join(" UNION ALL ");
  return { text: sql.dialect === "sqlite" ? text : numbered(text), params };
}

/** `sumSpendsStatement` over a set of agents. */
export function sumSpendsOfStatement(sql: RecordsSql, tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Statement {
  const agents = sql.agentSet(agentIds);
  if (sinceMs < 0) return { text: sql.sumAllSpendsOf, params: [currency, tenantId, agents] };
  const firstWholeBucketMs = Math.floor(sinceMs / spendRollupBucketMs) * spendRollupBucketMs + spendRollupBucketMs;
  return { text: sql.sumSpendsOf, params: [currency, tenantId, agents, sinceMs, firstWholeBucketMs, currency, tenantId, agents, firstWholeBucketMs] };
}

export function spendSumFrom(row: Row | undefined | null): { amountMinor: number; count: number } {
  return { amountMinor: integerFrom(row?.amount_minor ?? 0, "spends.amount_minor"), count: integerFrom(row?.count ?? 0, "spends.count") };
}

export function usageRowFrom(row: Row): UsageRow {
  return {
    key: textFrom(row.bucket_key, "spend_usage.key"),
    currency: textFrom(row.currency, "spend_usage.currency"),
    settledMinor: integerFrom(row.settled_minor, "spend_usage.settled_minor"),
    settledCount: integerFrom(row.settled_count, "spend_usage.settled_count"),
    heldMinor: integerFrom(row.held_minor, "spend_usage.held_minor"),
    heldCount: integerFrom(row.held_count, "spend_usage.held_count"),
  };
}
