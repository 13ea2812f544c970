/**
 * Per-credential rate limits (SPEC 3 "Rate limits"): a fixed one-minute window per credential id,
 * counted in memory or in Redis (`INCR` + `PEXPIRE`, shared by every process). Answers carry the
 * IETF draft headers (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "credential";q=N;w=60`
 * and `RateLimit: "credential";r=remaining;t=seconds-to-reset`.
 */
import type { Redis } from "ioredis";
import { rateLimitCredentialsMax } from "@bursar/core";
import { redisUnavailable } from "./replay-cache.js";

/** The window, in milliseconds. */
export const rateLimitWindowMs = 60_000;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export interface RateLimiter {
  /** Counts one request of `credentialId` against `limitPerMinute`. */
  hit(credentialId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision>;
}

function decide(count: number, limit: number, windowStartMs: number, nowMs: number): RateLimitDecision {
  return {
    allowed: count <= limit,
    limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil((windowStartMs + rateLimitWindowMs - nowMs) / 1000)),
  };
}

/** In-process windows, at most `rateLimitCredentialsMax` credentials (oldest dropped first). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { startMs: number; count: number }>();

  async hit(credentialId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const startMs = nowMs - (nowMs % rateLimitWindowMs);
    let window = this.windows.get(credentialId);
    if (!window || window.startMs !== startMs) {
      this.windows.delete(credentialId);
      // Dropping the oldest window forgets at most one minute of one credential's count.
      if (this.windows.size >= rateLimitCredentialsMax) this.windows.delete(this.windows.keys().next().value!);
      window = { startMs, count: 0 };
      this.windows.set(credentialId, window);
    }
    window.count++;
    return decide(window.count, limitPerMinute, startMs, nowMs);
  }
}

/** Windows in Redis, shared across processes. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async hit(credentialId: string, limitPerMinute: number, nowMs: number): Promise<RateLimitDecision> {
    const startMs = nowMs - (nowMs % rateLimitWindowMs);
    const key = `${this.prefix}rl:${credentialId}:${startMs}`;
    let count: number;
    try {
      const results = await this.redis.multi().incr(key).pexpire(key, rateLimitWindowMs * 2).exec();
      count = Number(results?.[0]?.[1] ?? Number.MAX_SAFE_INTEGER);
    } catch {
      throw redisUnavailable();
    }
    return decide(count, limitPerMinute, startMs, nowMs);
  }
}

/** The response headers of a decision. */
export function rateLimitHeaders(decision: RateLimitDecision, policy: "credential" | "source" = "credential"): Record<string, string> {
  return {
    "ratelimit-policy": `"${policy}";q=${decision.limit};w=${rateLimitWindowMs / 1000}`,
    ratelimit: `"${policy}";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}
