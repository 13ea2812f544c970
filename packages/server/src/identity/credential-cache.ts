/**
 * The credential rows authentication reads on every request (a DPoP binding, a personal access
 * token and its member, an API key), kept in memory per process (issue 19: the fixed per-request
 * cost). Each entry is kept under its tenant's `config_version` (store migrations 19 and 23):
 * triggers bump the version in the very transaction that revokes a binding or key, changes or
 * removes a member, or disables an agent, and every request compares the version it reads now
 * with the entry's. So a revocation made by any process takes effect on the next request that
 * any process answers, and while nothing changed the check costs no table read on SQLite (see
 * `SqliteCommittedReader`) and one point read on PostgreSQL.
 *
 * The version is read before the row it labels: a change that commits between the two leaves an
 * entry labelled with the older version, which the next request finds stale. A key whose tenant
 * is not known yet (a token hash seen for the first time) is read without caching; its tenant
 * is remembered, since a credential never moves between tenants, and the next request caches.
 */
import { credentialCacheEntriesMax, type Store } from "@bursar/core";

interface Entry {
  tenantId: string;
  version: number;
  value: unknown;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  /** The tenant of each key seen: fixed for the row's life (ids and hashes are never reused). */
  private readonly tenantOfKey = new Map<string, string>();

  constructor(private readonly store: Store) {}

  /**
   * The value `load` reads for `key`, from memory when it was read at the tenant's current config
   * version. `tenantId` is the caller's claim of the tenant (a verified access token's), or null
   * when only the row can tell (`tenantOf`). Values are shared by every request: never mutate one.
   *
   * @example
   * const binding = await cache.read(`binding:${id}`, claims.tenant_id, () => store.read.findCredentialBinding(id), (row) => row.tenantId);
   */
  async read<T extends object>(key: string, tenantId: string | null, load: () => Promise<T | null>, tenantOf: (value: T) => string): Promise<T | null> {
    const tenant = tenantId ?? this.tenantOfKey.get(key) ?? null;
    if (tenant === null) {
      const value = await load();
      if (value) this.remember(this.tenantOfKey, key, tenantOf(value));
      return value;
    }
    const version = await this.store.read.configVersion(tenant);
    if (version === null) return load();
    const entry = this.entries.get(key);
    if (entry && entry.tenantId === tenant && entry.version === version) return entry.value as T;
    const value = await load();
    // A row of another tenant than claimed is the caller's to refuse; it is not kept.
    if (value && tenantOf(value) === tenant) {
      this.remember(this.entries, key, { tenantId: tenant, version, value: Object.freeze(value) });
    } else {
      this.entries.delete(key);
    }
    return value;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    if (map.size >= credentialCacheEntriesMax) map.delete(map.keys().next().value!);
    map.set(key, value);
  }
}
