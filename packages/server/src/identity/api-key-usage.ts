/**
 * API-key usage counters (accepted, denied by reason, last used), batched in memory so that a
 * request never waits for a write of its own, and flushed every `apiKeyUsageFlushIntervalMs`,
 * when `apiKeyUsagePendingKeysMax` keys are pending, on close, and before the usage endpoint
 * answers. With several processes, another process's counts arrive within one flush interval.
 */
import { apiKeyUsageFlushIntervalMs, apiKeyUsagePendingKeysMax, type Store } from "@bursar/core";

interface PendingUsage {
  tenantId: string;
  accepted: number;
  denied: Record<string, number>;
  lastUsedAtMs: number | null;
}

export class ApiKeyUsageRecorder {
  private pending = new Map<string, PendingUsage>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the periodic flush (the timer does not keep the process alive). */
  start(): void {
    this.timer ??= setInterval(() => void this.flush(), apiKeyUsageFlushIntervalMs).unref();
  }

  /** Counts one request: `accepted`, or denied with a reason code (`rate_limited`, …). */
  record(tenantId: string, keyId: string, outcome: "accepted" | { denied: string }, nowMs: number): void {
    let usage = this.pending.get(keyId);
    if (!usage) {
      usage = { tenantId, accepted: 0, denied: {}, lastUsedAtMs: null };
      this.pending.set(keyId, usage);
    }
    if (outcome === "accepted") usage.accepted++;
    else usage.denied[outcome.denied] = (usage.denied[outcome.denied] ?? 0) + 1;
    usage.lastUsedAtMs = Math.max(usage.lastUsedAtMs ?? 0, nowMs);
    if (this.pending.size >= apiKeyUsagePendingKeysMax) void this.flush();
  }

  /** Writes everything pending; resolves when it (and any flush already running) is durable. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      if (batch.size === 0) return;
      this.pending = new Map();
      for (const [keyId, usage] of batch) {
        try {
          await this.store.write(usage.tenantId, (tx) => tx.addApiKeyUsage(usage.tenantId, keyId, usage));
        } catch (error) {
          this.onError(error);
        }
      }
    });
    return this.flushing;
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
