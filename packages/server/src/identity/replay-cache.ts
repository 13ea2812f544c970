/**
 * Single-use `jti`s (RFC 9449 §11.1 for DPoP proofs, RFC 7523 §3 item 7 for client assertions):
 * a value is claimed once, and a second claim before it expires fails. In memory for one process;
 * in Redis (`SET key 1 NX PX ttl`, atomic) when several processes must agree.
 */
import type { Redis } from "ioredis";
import { replayCacheEntriesMax } from "@bursar/core";
import { ProblemError } from "../http/problem.js";

export interface ReplayCache {
  /**
   * Claims `key` until `expiresAtMs`; false when it was claimed before and has not expired.
   * Throws (fails closed) when it cannot tell: a full cache, an unreachable Redis.
   */
  claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

/** One process's replay cache, bounded by `replayCacheEntriesMax`. */
export class MemoryReplayCache implements ReplayCache {
  /** key → expiry. Insertion order is roughly expiry order, so the front expires first. */
  private readonly entries = new Map<string, number>();

  constructor(private readonly entriesMax = replayCacheEntriesMax) {}

  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > nowMs) return false;
    this.sweep(nowMs, 2);
    if (this.entries.size >= this.entriesMax) this.sweep(nowMs, Infinity);
    // Full of live entries: refuse rather than evict one, which would make its proof replayable.
    if (this.entries.size >= this.entriesMax) {
      throw new ProblemError("rate_limited", "Too many proofs in flight; retry shortly.", { headers: { "retry-after": "1" } });
    }
    this.entries.delete(key);
    this.entries.set(key, expiresAtMs);
    return true;
  }

  /** Number of live and not-yet-swept entries (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the front (amortised O(1)); `Infinity` walks the whole map. */
  private sweep(nowMs: number, budget: number): void {
    let examined = 0;
    for (const [key, expiresAtMs] of this.entries) {
      if (examined++ >= budget) return;
      if (expiresAtMs <= nowMs) this.entries.delete(key);
      else if (budget !== Infinity) return;
    }
  }
}

/** A replay cache shared by every process that uses the same Redis and key prefix. */
export class RedisReplayCache implements ReplayCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - nowMs));
    try {
      const answer = await this.redis.set(`${this.prefix}jti:${key}`, "1", "PX", ttlMs, "NX");
      return answer === "OK";
    } catch {
      throw redisUnavailable();
    }
  }
}

/** Fail closed: without the shared cache a replay cannot be ruled out, so the request waits. */
export function redisUnavailable(): ProblemError {
  return new ProblemError("not_ready", "Replay and rate-limit state is unavailable; retry shortly.", { headers: { "retry-after": "1" } });
}
