import { describe, expect, it } from "vitest";
import { ProblemError } from "../http/problem.js";
import { MemoryReplayCache } from "./replay-cache.js";
import { MemoryRateLimiter, rateLimitHeaders } from "./rate-limit.js";

describe("in-memory replay cache", () => {
  it("claims a key once until it expires", async () => {
    const cache = new MemoryReplayCache(10);
    expect(await cache.claim("a", 2000, 1000)).toBe(true);
    expect(await cache.claim("a", 2000, 1999)).toBe(false);
    expect(await cache.claim("a", 3000, 2000)).toBe(true);
  });

  it("stays within its bound, dropping expired entries, and fails closed when full of live ones", async () => {
    const cache = new MemoryReplayCache(3);
    for (const key of ["a", "b", "c"]) await cache.claim(key, 2000, 1000);
    await expect(cache.claim("d", 2000, 1500)).rejects.toBeInstanceOf(ProblemError);
    expect(await cache.claim("d", 5000, 2000)).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(3);
    // Still refuses the replay of a live entry after the sweep.
    expect(await cache.claim("d", 5000, 2500)).toBe(false);
  });
});

describe("in-memory rate limiter", () => {
  it("allows the limit per one-minute window, then refuses until the window resets", async () => {
    const limiter = new MemoryRateLimiter();
    const start = 60_000 * 1000 + 15_000;
    expect(await limiter.hit("key_1", 2, start)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 45 });
    expect(await limiter.hit("key_1", 2, start + 1)).toMatchObject({ allowed: true, remaining: 0 });
    const refused = await limiter.hit("key_1", 2, start + 2);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(rateLimitHeaders(refused)).toEqual({ "ratelimit-policy": '"credential";q=2;w=60', ratelimit: '"credential";r=0;t=45' });
    expect(await limiter.hit("key_2", 2, start + 3)).toMatchObject({ allowed: true });
    expect(await limiter.hit("key_1", 2, start + 45_000)).toMatchObject({ allowed: true, remaining: 1 });
  });
});
