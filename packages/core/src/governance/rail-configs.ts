/**
 * A tenant's configuration of the webhook rail (SPEC 3 "Rails"): the executor URL that receives
 * signed `payment.execute` messages, and the `whsec_` secret that signs them and authenticates
 * the executor's callbacks. One record per tenant (kind `rail_config`, id `webhook`).
 *
 * The secret is kept as is, like a webhook endpoint's: an HMAC key must be usable to sign. It is
 * shown once (when made), never journaled and never in a view. Checking that the URL is a safe
 * target needs DNS, which is I/O: the server does it before calling these.
 */
import { appendEvent, type WriteContext } from "../journal/events.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { newWebhookSecret } from "../webhooks/endpoints.js";
import type { StoreReader } from "../ports.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

/** Rails a tenant configures (the sandbox needs nothing). */
export type ConfigurableRail = "webhook";

export interface RailConfigBody {
  rail: ConfigurableRail;
  url: string;
  secret: string;
  /** The secret before the last rotation, still valid until `previous_secret_expires_at_ms`. */
  previous_secret: string | null;
  previous_secret_expires_at_ms: number | null;
}
export type RailConfigRecord = StoredRecord<RailConfigBody>;

/** The public view: never a secret. */
export function railConfigView(config: RailConfigRecord) {
  const expiresAtMs = config.body.previous_secret_expires_at_ms;
  return {
    object: "rail_config" as const,
    ...recordStamp(config, toRfc3339),
    rail: config.body.rail,
    url: config.body.url,
    previous_secret_expires_at: expiresAtMs === null ? null : toRfc3339(expiresAtMs),
  };
}

/** The tenant's configuration of `rail`, or null when it has none. */
export async function loadRailConfig(reader: StoreReader, tenantId: string, rail: ConfigurableRail): Promise<RailConfigRecord | null> {
  return loadRecord<RailConfigBody>(reader, tenantId, "rail_config", rail);
}

/**
 * The secrets valid at `nowMs`: the current one, then the previous one while its overlap lasts.
 * Messages are signed with each (several `v1,` signatures); a callback may be signed with either.
 */
export function railSecrets(config: RailConfigRecord, nowMs: number): string[] {
  const { secret, previous_secret: previous, previous_secret_expires_at_ms: expiresAtMs } = config.body;
  return previous !== null && expiresAtMs !== null && expiresAtMs > nowMs ? [secret, previous] : [secret];
}

/** A configuration and, when this call made its secret, the secret (shown once). */
export interface ConfiguredRail {
  config: RailConfigRecord;
  secret: string | null;
}

/**
 * Sets the executor URL of the webhook rail. The first call makes the signing secret and returns
 * it; later calls change the URL and keep the secret (rotate it with `rotateRailSecret`).
 * Event: `rail.configured` (the view: URL, no secret).
 */
export async function configureWebhookRail(context: WriteContext, url: string): Promise<Result<ConfiguredRail>> {
  const existing = await loadRailConfig(context.tx, context.tenantId, "webhook");
  const secret = existing ? null : newWebhookSecret();
  const config: RailConfigRecord = existing
    ? { ...existing, updatedAtMs: context.nowMs, body: { ...existing.body, url } }
    : {
        tenantId: context.tenantId, kind: "rail_config", id: "webhook", agentId: null, status: "active", refId: null, dueAtMs: null,
        createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
        body: { rail: "webhook", url, secret: secret!, previous_secret: null, previous_secret_expires_at_ms: null },
      };
  await saveRecord(context.tx, config, existing === null);
  await appendEvent(context, "rail.configured", { rail_config: railConfigView(config) });
  return ok({ config, secret });
}

/**
 * Replaces the signing secret. For `overlapSeconds` the old one stays valid too: messages carry
 * both signatures and callbacks signed with either verify, so the executor can switch without
 * losing a payment. Event: `rail.secret_rotated` (no secret).
 */
export async function rotateRailSecret(context: WriteContext, rail: ConfigurableRail, overlapSeconds: number): Promise<Result<ConfiguredRail>> {
  const existing = await loadRailConfig(context.tx, context.tenantId, rail);
  if (!existing) return fail("rail_not_configured", `the ${rail} rail is not configured; PUT /v1/rails/${rail} first`);
  const secret = newWebhookSecret();
  const config: RailConfigRecord = {
    ...existing,
    updatedAtMs: context.nowMs,
    body: {
      ...existing.body,
      secret,
      previous_secret: overlapSeconds > 0 ? existing.body.secret : null,
      previous_secret_expires_at_ms: overlapSeconds > 0 ? context.nowMs + overlapSeconds * 1000 : null,
    },
  };
  await saveRecord(context.tx, config, false);
  await appendEvent(context, "rail.secret_rotated", { rail_config: railConfigView(config) });
  return ok({ config, secret });
}
