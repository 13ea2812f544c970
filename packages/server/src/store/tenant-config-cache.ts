/**
 * What writes read again and again, kept in memory per store process: a tenant's enabled webhook
 * endpoints (every journal append), its agents' policies and budgets, its payees and its agents'
 * rows, children and team members (every spend decision). An event for a tenant with no matching
 * endpoint then costs no query, nor does a policy, payee or agent lookup.
 *
 * Entries are keyed by the tenant's `config_version` (migrations 19 and 25), which triggers bump
 * in the transaction that changes an endpoint, a policy, a budget, a payee or an agent. A write reads the version with the
 * tenant's row (the lock on PostgreSQL, a point read on SQLite) and uses entries only of that
 * version: a change made by another process is seen by the next write, and a changed policy
 * decides the very next spend. A transaction that changed config itself reads it from the
 * database and caches nothing (its version is not committed yet).
 */
import { tenantConfigCacheEntriesMax, type RecordKind, type RecordQuery } from "@bursar/core";

/** Record kinds whose rows are tenant config (migration 25's triggers name the same kinds). */
export const configRecordKinds: ReadonlySet<RecordKind> = new Set<RecordKind>(["policy", "budget", "payee"]);

/** Cache keys of the other reads a write serves from the config cache, one place for both stores. */
export const configKeys = {
  endpoints: (limit: number) => `endpoints:${limit}`,
  record: (kind: RecordKind, id: string) => `record:${kind}:${id}`,
  agent: (agentId: string) => `agent:${agentId}`,
  childAgents: (parentAgentId: string, limit: number) => `children:${parentAgentId}:${limit}`,
  teamAgents: (teamId: string, limit: number) => `team:${teamId}:${limit}`,
};

/** Cache key of a records query of a config kind. */
export function recordQueryKey(query: RecordQuery): string {
  return `records:${query.kind}:${query.agentId ?? ""}:${query.status ?? ""}:${query.refId ?? ""}:${query.beforeId ?? ""}:${query.limit}`;
}

interface Entry {
  version: number;
  values: Map<string, unknown>;
}

/** Freezes `value` and everything it holds (byte arrays cannot be frozen: they are left as they are). */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Per-tenant values keyed by query, all of one config version. A value is copied once when
 * remembered and handed out frozen (deeply), not copied on every lookup: a spend decision reads
 * its policy and budgets from here, and a structured clone per read cost more than the decision.
 * A caller that changes a value it read throws (modules are strict), which the tests would show.
 */
export class TenantConfigCache {
  private readonly tenants = new Map<string, Entry>();

  /** The (frozen) value cached for `key` at `version`, or undefined. */
  lookup<T>(tenantId: string, version: number, key: string): T | undefined {
    const entry = this.tenants.get(tenantId);
    if (!entry || entry.version !== version) return undefined;
    return entry.values.get(key) as T | undefined;
  }

  remember(tenantId: string, version: number, key: string, value: unknown): void {
    let entry = this.tenants.get(tenantId);
    if (!entry || entry.version !== version) {
      this.tenants.delete(tenantId);
      if (this.tenants.size >= tenantConfigCacheEntriesMax) this.tenants.delete(this.tenants.keys().next().value!);
      entry = { version, values: new Map() };
      this.tenants.set(tenantId, entry);
    }
    // Keys are bounded by query shapes per tenant (kinds × agents × limits), and agents by tenants' own bounds.
    entry.values.set(key, deepFreeze(structuredClone(value)));
  }

  /** Forgets everything (a batch that rolled back after its operations had read). */
  clear(): void {
    this.tenants.clear();
  }
}

/**
 * The cached reads of one write transaction. `versionOf` reads the tenant's config version as
 * this transaction sees it before changing anything (null: do not cache for this tenant).
 */
export class ConfigReads {
  private readonly versions = new Map<string, number | null>();

  /** `changed` may be shared by the transactions of one group commit (PostgreSQL). */
  constructor(
    private readonly cache: TenantConfigCache,
    private readonly versionOf: (tenantId: string) => Promise<number | null>,
    private readonly changed: Set<string> = new Set(),
  ) {}

  /** Marks the tenant's config changed by this transaction: reads bypass the cache from now on. */
  changedBy(tenantId: string): void {
    this.changed.add(tenantId);
  }

  async read<T>(tenantId: string, key: string, load: () => Promise<T>): Promise<T> {
    if (this.changed.has(tenantId)) return load();
    let version = this.versions.get(tenantId);
    if (version === undefined) {
      version = await this.versionOf(tenantId);
      this.versions.set(tenantId, version);
    }
    if (version === null) return load();
    const cached = this.cache.lookup<T>(tenantId, version, key);
    if (cached !== undefined) return cached;
    const value = await load();
    // Re-checked: the load itself cannot change config, but a concurrent call of this
    // transaction could have (operations await between statements).
    if (!this.changed.has(tenantId)) this.cache.remember(tenantId, version, key, value);
    return value;
  }
}
