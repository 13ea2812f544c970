/**
 * What every journal append reads, kept in memory per store process: a tenant's enabled webhook
 * endpoints. An event for a tenant with no matching endpoint then costs no query.
 *
 * Entries are keyed by the tenant's `config_version` (migration 19), which triggers bump in the
 * transaction that changes an endpoint. A write reads the version with the tenant's row (the lock
 * on PostgreSQL, a point read on SQLite) and uses an entry only when it matches: a change made by
 * another process is seen by the next write. A transaction that changed endpoints itself reads
 * them from the database and caches nothing (its version is not committed yet).
 */
import { tenantConfigCacheEntriesMax, type WebhookEndpointRow } from "@bursar/core";

interface Entry {
  version: number;
  limit: number;
  endpoints: readonly WebhookEndpointRow[];
}

export class TenantConfigCache {
  private readonly entries = new Map<string, Entry>();

  /** The cached endpoints of `tenantId` at `version` (read with `limit`), or null. */
  endpoints(tenantId: string, version: number, limit: number): WebhookEndpointRow[] | null {
    const entry = this.entries.get(tenantId);
    if (!entry || entry.version !== version || entry.limit !== limit) return null;
    return entry.endpoints.map((row) => ({ ...row }));
  }

  remember(tenantId: string, version: number, limit: number, endpoints: readonly WebhookEndpointRow[]): void {
    this.entries.delete(tenantId);
    if (this.entries.size >= tenantConfigCacheEntriesMax) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(tenantId, { version, limit, endpoints: endpoints.map((row) => ({ ...row })) });
  }

  /** Forgets everything (a batch that rolled back after its operations had read). */
  clear(): void {
    this.entries.clear();
  }
}
