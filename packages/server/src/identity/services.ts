/**
 * The identity machinery one app instance owns: token signing and verification, the replay
 * cache, the rate limiter, API-key usage counters, the proof-key and credential caches and
 * (optionally) DPoP nonces. Redis-backed when a Redis URL is configured, in memory otherwise.
 */
import { Redis } from "ioredis";
import { credentialRateLimitPerMinuteDefault, sourceRateLimitPerMinuteDefault, type Clock, type Store } from "@bursar/core";
import { ApiKeyUsageRecorder } from "./api-key-usage.js";
import { CredentialCache } from "./credential-cache.js";
import { DpopNonces } from "./dpop-nonce.js";
import { ProofKeyCache } from "./dpop.js";
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from "./rate-limit.js";
import { MemoryReplayCache, RedisReplayCache, type ReplayCache } from "./replay-cache.js";
import { TokenService } from "./token-service.js";

export interface IdentityOptions {
  redisUrl?: string | null;
  redisKeyPrefix?: string;
  dpopNonceRequired?: boolean;
  rateLimitPerMinute?: number;
  /** Unauthenticated write requests per minute per source address (http/source-limit.ts). */
  sourceRateLimitPerMinute?: number;
}

export class IdentityServices {
  readonly tokens: TokenService;
  readonly replay: ReplayCache;
  readonly rateLimiter: RateLimiter;
  readonly usage: ApiKeyUsageRecorder;
  readonly proofKeys = new ProofKeyCache();
  /** Bindings, tokens, members and keys under their tenant's config version (credential-cache.ts). */
  readonly credentials: CredentialCache;
  /** Requests per minute of PAT and agent-token credentials. */
  readonly rateLimitPerMinute: number;
  readonly sourceRateLimitPerMinute: number;
  readonly dpopNonceRequired: boolean;
  private readonly redis: Redis | null;
  private nonceSource: DpopNonces | null = null;

  constructor(
    store: Store,
    private readonly clock: Clock,
    options: IdentityOptions,
    onError: (error: unknown) => void,
  ) {
    this.tokens = new TokenService(store, clock);
    this.credentials = new CredentialCache(store);
    this.usage = new ApiKeyUsageRecorder(store, onError);
    this.rateLimitPerMinute = options.rateLimitPerMinute ?? credentialRateLimitPerMinuteDefault;
    this.sourceRateLimitPerMinute = options.sourceRateLimitPerMinute ?? sourceRateLimitPerMinuteDefault;
    this.dpopNonceRequired = options.dpopNonceRequired ?? false;
    const prefix = options.redisKeyPrefix ?? "bursar:";
    // Commands fail fast rather than queue while Redis is away: a replay check we cannot make is
    // a request we refuse (fail closed), not one we hold.
    this.redis = options.redisUrl ? new Redis(options.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true }) : null;
    this.redis?.on("error", onError);
    this.replay = this.redis ? new RedisReplayCache(this.redis, prefix) : new MemoryReplayCache();
    this.rateLimiter = this.redis ? new RedisRateLimiter(this.redis, prefix) : new MemoryRateLimiter();
    this.usage.start();
  }

  /** DPoP nonces when required, else null. */
  async nonces(): Promise<DpopNonces | null> {
    if (!this.dpopNonceRequired) return null;
    if (!this.nonceSource) {
      const key = await this.tokens.signingKey();
      this.nonceSource = DpopNonces.fromSigningKey(key.privateKey.export({ format: "der", type: "pkcs8" }), this.clock);
    }
    return this.nonceSource;
  }

  /** Flushes usage and disconnects from Redis. */
  async close(): Promise<void> {
    await this.usage.stop();
    if (this.redis) await this.redis.quit().catch(() => undefined);
  }
}
