/**
 * Builds the SQL of `listEvents` for either dialect. The text depends only on which filters are
 * present (at most 2 × 2 × 2 × 4 × 2 = 64 shapes), so SQLite can cache one prepared statement
 * per text and PostgreSQL sees a small, stable set of query texts.
 */
import { type EventQuery, invariant } from "@bursar/core";
import { checkLimit, limitClause } from "./rows.js";

export interface EventQuerySql {
  text: string;
  params: unknown[];
}

/**
 * Returns the query for `query` over `table`, filtered by tenant first so it stays inside one
 * tenant's range of the (tenant_id, …, seq) indexes.
 *
 * @example eventQuerySql("sqlite", "events", "ten_1", { limit: 10, ascending: true, afterSeq: 5 })
 */
export function eventQuerySql(dialect: "sqlite" | "postgres", table: string, tenantId: string, query: EventQuery): EventQuerySql {
  const params: unknown[] = [];
  const placeholder = (value: unknown, postgresCast = ""): string => {
    params.push(value);
    return dialect === "sqlite" ? "?" : `$${params.length}${postgresCast}`;
  };
  const conditions = [`tenant_id = ${placeholder(tenantId)}`];
  if (query.afterSeq !== undefined) {
    invariant(Number.isSafeInteger(query.afterSeq), "afterSeq must be an integer");
    conditions.push(`seq > ${placeholder(query.afterSeq)}`);
  }
  if (!query.ascending && query.beforeSeq !== undefined) {
    invariant(Number.isSafeInteger(query.beforeSeq), "beforeSeq must be an integer");
    conditions.push(`seq < ${placeholder(query.beforeSeq)}`);
  }
  const types = query.types ?? [];
  if (types.includes("*")) {
    // matches everything: no condition
  } else if (types.some((type) => type.endsWith(".*"))) {
    // Patterns were validated against eventTypePattern ([a-z0-9_.], optional trailing `.*`), so
    // the only characters with a meaning to GLOB/LIKE are `*` (ours) and `_` (escaped for LIKE).
    conditions.push(
      dialect === "sqlite"
        ? `EXISTS (SELECT 1 FROM json_each(${placeholder(JSON.stringify(types))}) WHERE ${table}.type GLOB value)`
        : `type LIKE ANY(${placeholder(types.map((type) => type.replaceAll("_", "\\_").replace(/\*$/, "%")), "::text[]")})`,
    );
  } else if (types.length === 1) {
    conditions.push(`type = ${placeholder(types[0])}`);
  } else if (types.length > 1) {
    conditions.push(
      dialect === "sqlite"
        ? `type IN (SELECT value FROM json_each(${placeholder(JSON.stringify(types))}))`
        : `type = ANY(${placeholder(types, "::text[]")})`,
    );
  }
  if (query.agentId !== undefined) conditions.push(`agent_id = ${placeholder(query.agentId)}`);
  const order = query.ascending ? "ASC" : "DESC";
  const limit = placeholder(checkLimit(query.limit));
  return {
    text: `SELECT tenant_id, seq, body FROM ${table} WHERE ${conditions.join(" AND ")} ORDER BY seq ${order} ${limitClause(dialect, limit)}`,
    params,
  };
}
