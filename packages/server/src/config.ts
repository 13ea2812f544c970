/**
 * Server configuration, from flags and environment (SPEC 4 CLI and 5 "Running it").
 * Loosening security is explicit: nothing here turns a check off by default.
 */
import path from "node:path";
import { readLlmConfig, type LlmConfig } from "./chat/llm-planner.js";
import { logFormats, type LogFormat } from "./log-format.js";
import {
  credentialRateLimitPerMinuteDefault,
  sourceRateLimitPerMinuteDefault,
  sandboxSlowDelayMsDefault,
  serviceCallTimeoutMsDefault,
  serviceRequestWaitMsDefault,
  webhookAttemptTimeoutMs,
  webhookPollIntervalMs,
  webhookRetryBaseMs,
} from "@bursar/core";

export interface ServerConfig {
  host: string;
  port: number;
  /** SQLite data directory (embedded default). Ignored when `databaseUrl` is set. */
  dataDir: string;
  /** `postgres://…`: use PostgreSQL instead of SQLite. */
  databaseUrl: string | null;
  /** PostgreSQL schema (tests give each run its own). */
  databaseSchema: string | null;
  /** The URL clients use to reach this server, when it sits behind a proxy. */
  publicBaseUrl: string | null;
  logLevel: string;
  /** `json` lines, or `pretty` lines for a terminal. Env `BURSAR_LOG_FORMAT`. */
  logFormat: LogFormat;
  /** How often the hold-expiry and idempotency sweeps run. */
  sweepIntervalMs: number;
  /**
   * `redis://…`: keep DPoP / client-assertion replay state and rate-limit windows in Redis, so
   * that several server processes share them. In memory (one process) when null.
   */
  redisUrl: string | null;
  /** Prefix of every Redis key (several deployments, or test runs, may share one Redis). */
  redisKeyPrefix: string;
  /** Require DPoP-Nonce (RFC 9449 §8) on proofs. Off by default. */
  dpopNonceRequired: boolean;
  /** Per-credential requests per minute for personal access tokens and agent access tokens. */
  rateLimitPerMinute: number;
  /** Unauthenticated write requests per minute per source address. Env `BURSAR_SOURCE_RATE_LIMIT_PER_MINUTE`. */
  sourceRateLimitPerMinute: number;
  /**
   * Lets webhook URLs resolve to loopback, private, link-local or metadata addresses. Off by
   * default: a tenant could otherwise make the server reach internal services (SSRF). For local
   * development and tests only. Env `BURSAR_ALLOW_PRIVATE_WEBHOOK_TARGETS=1`.
   */
  allowPrivateWebhookTargets: boolean;
  /** First webhook retry delay (doubles per attempt). Env `BURSAR_WEBHOOK_RETRY_BASE_MS`. */
  webhookRetryBaseMs: number;
  /** Time one webhook attempt may take. Env `BURSAR_WEBHOOK_ATTEMPT_TIMEOUT_MS`. */
  webhookAttemptTimeoutMs: number;
  /** How often the delivery worker polls for due deliveries. */
  webhookPollIntervalMs: number;
  /**
   * The chat agent's LLM planner (`BURSAR_LLM_BASE_URL`, `BURSAR_LLM_MODEL`, `BURSAR_LLM_API_KEY`);
   * null means the deterministic, offline planner.
   */
  llm: LlmConfig | null;
  /**
   * Time one call of a tenant's HTTP service operation may take. Tenant service URLs are guarded
   * like webhook targets (`allowPrivateWebhookTargets` opens both). Env `BURSAR_SERVICE_CALL_TIMEOUT_MS`.
   */
  serviceCallTimeoutMs: number;
  /** How long `POST /v1/service-requests` waits for an HTTP operation before answering 202 `running`. */
  serviceRequestWaitMs: number;
  /** How long the built-in `sandbox.slow` operation takes. */
  sandboxSlowDelayMs: number;
}

export const defaultPort = 7420;

/** Reads configuration from `overrides`, then environment variables, then defaults. */
export function loadConfig(overrides: Partial<ServerConfig> = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = overrides.port ?? (env.BURSAR_PORT ? Number(env.BURSAR_PORT) : defaultPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${env.BURSAR_PORT}`);
  return {
    host: overrides.host ?? env.BURSAR_HOST ?? "127.0.0.1",
    port,
    dataDir: path.resolve(overrides.dataDir ?? env.BURSAR_DATA_DIR ?? ".bursar"),
    databaseUrl: overrides.databaseUrl ?? env.BURSAR_DATABASE_URL ?? null,
    databaseSchema: overrides.databaseSchema ?? env.BURSAR_DATABASE_SCHEMA ?? null,
    publicBaseUrl: overrides.publicBaseUrl ?? env.BURSAR_PUBLIC_BASE_URL ?? null,
    logLevel: overrides.logLevel ?? env.BURSAR_LOG_LEVEL ?? "info",
    logFormat: overrides.logFormat ?? logFormatFromEnv(env.BURSAR_LOG_FORMAT),
    sweepIntervalMs: overrides.sweepIntervalMs ?? 1000,
    redisUrl: overrides.redisUrl ?? env.BURSAR_REDIS_URL ?? null,
    redisKeyPrefix: overrides.redisKeyPrefix ?? env.BURSAR_REDIS_KEY_PREFIX ?? "bursar:",
    dpopNonceRequired: overrides.dpopNonceRequired ?? env.BURSAR_DPOP_NONCE === "required",
    rateLimitPerMinute:
      overrides.rateLimitPerMinute ?? positiveFromEnv(env.BURSAR_RATE_LIMIT_PER_MINUTE, credentialRateLimitPerMinuteDefault, "BURSAR_RATE_LIMIT_PER_MINUTE"),
    sourceRateLimitPerMinute:
      overrides.sourceRateLimitPerMinute ??
      positiveFromEnv(env.BURSAR_SOURCE_RATE_LIMIT_PER_MINUTE, sourceRateLimitPerMinuteDefault, "BURSAR_SOURCE_RATE_LIMIT_PER_MINUTE"),
    allowPrivateWebhookTargets: overrides.allowPrivateWebhookTargets ?? env.BURSAR_ALLOW_PRIVATE_WEBHOOK_TARGETS === "1",
    webhookRetryBaseMs: overrides.webhookRetryBaseMs ?? positiveFromEnv(env.BURSAR_WEBHOOK_RETRY_BASE_MS, webhookRetryBaseMs, "BURSAR_WEBHOOK_RETRY_BASE_MS"),
    webhookAttemptTimeoutMs:
      overrides.webhookAttemptTimeoutMs ?? positiveFromEnv(env.BURSAR_WEBHOOK_ATTEMPT_TIMEOUT_MS, webhookAttemptTimeoutMs, "BURSAR_WEBHOOK_ATTEMPT_TIMEOUT_MS"),
    webhookPollIntervalMs: overrides.webhookPollIntervalMs ?? webhookPollIntervalMs,
    llm: overrides.llm !== undefined ? overrides.llm : readLlmConfig(env),
    serviceCallTimeoutMs:
      overrides.serviceCallTimeoutMs ?? positiveFromEnv(env.BURSAR_SERVICE_CALL_TIMEOUT_MS, serviceCallTimeoutMsDefault, "BURSAR_SERVICE_CALL_TIMEOUT_MS"),
    serviceRequestWaitMs: overrides.serviceRequestWaitMs ?? serviceRequestWaitMsDefault,
    sandboxSlowDelayMs: overrides.sandboxSlowDelayMs ?? sandboxSlowDelayMsDefault,
  };
}

/** A positive whole number from the environment, or the default. */
function positiveFromEnv(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new Error(`invalid ${name}: ${value}`);
  return number;
}

function logFormatFromEnv(value: string | undefined): LogFormat {
  if (value === undefined || value === "") return "json";
  if (!(logFormats as readonly string[]).includes(value)) throw new Error(`invalid BURSAR_LOG_FORMAT: ${value} (json or pretty)`);
  return value as LogFormat;
}
