/**
 * Webhook endpoint lifecycle: create, update, rotate the secret, delete, retry a delivery.
 * Each change is journaled (without any secret). Checking that a URL is a safe target needs DNS,
 * which is I/O: the server does it before calling these.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { webhookEndpointsPerTenantMax } from "../limits.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "./types.js";

/** Prefix of signing secrets (Standard Webhooks 1.0: `whsec_` + base64 of the key). */
export const webhookSecretPrefix = "whsec_";
/** Prefix of Ed25519 public keys (Standard Webhooks 1.0: `whpk_` + base64 of the raw key). */
export const webhookPublicKeyPrefix = "whpk_";

/** A fresh `whsec_` secret: 32 random bytes (the HMAC-SHA256 block is 64, the digest 32). */
export function newWebhookSecret(): string {
  return webhookSecretPrefix + randomBytes(32).toString("base64");
}

/** The public view of an endpoint: never the secret or the private key. */
export function webhookEndpointView(row: WebhookEndpointRow) {
  return {
    id: row.id,
    object: "webhook_endpoint" as const,
    url: row.url,
    description: row.description,
    event_types: row.eventTypes,
    task_ids: row.taskIds,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    signature_schemes: row.ed25519PublicKey ? (["v1", "v1a"] as const).slice() : (["v1"] as const).slice(),
    public_key: row.ed25519PublicKey ? webhookPublicKeyPrefix + Buffer.from(row.ed25519PublicKey).toString("base64") : null,
    previous_secret_expires_at: row.previousSecretExpiresAtMs === null ? null : toRfc3339(row.previousSecretExpiresAtMs),
    created_at: toRfc3339(row.createdAtMs),
    updated_at: toRfc3339(row.updatedAtMs),
  };
}

/** The public view of a delivery with its attempts. */
export function webhookDeliveryView(row: WebhookDeliveryRow) {
  return {
    id: row.id,
    object: "webhook_delivery" as const,
    endpoint_id: row.endpointId,
    event_id: row.eventId,
    event_seq: row.eventSeq,
    event_type: row.eventType,
    status: row.status,
    attempt_count: row.attemptCount,
    next_attempt_at: row.status === "pending" ? toRfc3339(row.nextAttemptAtMs) : null,
    last_attempt_at: row.lastAttemptAtMs === null ? null : toRfc3339(row.lastAttemptAtMs),
    attempts: row.attempts.map((attempt) => ({
      attempted_at: toRfc3339(attempt.attemptedAtMs),
      duration_ms: attempt.durationMs,
      status_code: attempt.statusCode,
      error: attempt.error,
      response_body: attempt.responseBody,
    })),
    created_at: toRfc3339(row.createdAtMs),
  };
}

export interface WebhookEndpointInput {
  url: string;
  description?: string | null;
  eventTypes: string[];
  /** Only events about these tasks (null: no task filter). */
  taskIds?: string[] | null;
  /** Also sign with Ed25519 (`v1a`). */
  ed25519?: boolean;
  enabled?: boolean;
}

function ed25519KeyPair(): { privateKeyPkcs8: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return {
    privateKeyPkcs8: new Uint8Array(privateKey.export({ format: "der", type: "pkcs8" })),
    publicKey: new Uint8Array(Buffer.from(jwk.x!, "base64url")),
  };
}

/** Journal data of an endpoint: the view, which holds no secret. */
function journaled(row: WebhookEndpointRow) {
  return { webhook_endpoint: webhookEndpointView(row) };
}

/**
 * Creates an endpoint with a fresh secret (and Ed25519 key pair when asked). The creation event
 * is journaled before the endpoint exists, so an endpoint never receives its own creation.
 */
export async function createWebhookEndpoint(context: WriteContext, input: WebhookEndpointInput): Promise<Result<WebhookEndpointRow>> {
  const count = await context.tx.countWebhookEndpoints(context.tenantId);
  if (count >= webhookEndpointsPerTenantMax) {
    return fail("webhook_endpoints_limit_reached", `a tenant has at most ${webhookEndpointsPerTenantMax} webhook endpoints`);
  }
  const keys = input.ed25519 ? ed25519KeyPair() : null;
  const row: WebhookEndpointRow = {
    id: newId("whe", context.nowMs),
    tenantId: context.tenantId,
    url: input.url,
    description: input.description ?? null,
    eventTypes: input.eventTypes,
    taskIds: input.taskIds ?? null,
    enabled: input.enabled ?? true,
    disabledReason: null,
    secret: newWebhookSecret(),
    previousSecret: null,
    previousSecretExpiresAtMs: null,
    ed25519PrivateKeyPkcs8: keys?.privateKeyPkcs8 ?? null,
    ed25519PublicKey: keys?.publicKey ?? null,
    createdAtMs: context.nowMs,
    updatedAtMs: context.nowMs,
  };
  await appendEvent(context, "webhook_endpoint.created", journaled(row));
  await context.tx.insertWebhookEndpoint(row);
  return ok(row);
}

export interface WebhookEndpointChanges {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  taskIds?: string[] | null;
  enabled?: boolean;
}

/** Changes an endpoint. Enabling it again clears the reason the server disabled it for. */
export async function updateWebhookEndpoint(context: WriteContext, endpointId: string, changes: WebhookEndpointChanges): Promise<Result<WebhookEndpointRow>> {
  const existing = await context.tx.getWebhookEndpoint(context.tenantId, endpointId);
  if (!existing) return fail("not_found", `webhook endpoint ${endpointId} not found`);
  const row: WebhookEndpointRow = {
    ...existing,
    url: changes.url ?? existing.url,
    description: changes.description === undefined ? existing.description : changes.description,
    eventTypes: changes.eventTypes ?? existing.eventTypes,
    taskIds: changes.taskIds === undefined ? existing.taskIds : changes.taskIds,
    enabled: changes.enabled ?? existing.enabled,
    disabledReason: changes.enabled === true ? null : existing.disabledReason,
    updatedAtMs: context.nowMs,
  };
  await context.tx.updateWebhookEndpoint(row);
  await appendEvent(context, "webhook_endpoint.updated", journaled(row));
  return ok(row);
}

/**
 * Replaces the signing secret. For `overlapSeconds` the old secret keeps signing too (both `v1`
 * signatures go out), so receivers can switch without losing a delivery.
 */
export async function rotateWebhookSecret(context: WriteContext, endpointId: string, overlapSeconds: number): Promise<Result<WebhookEndpointRow>> {
  const existing = await context.tx.getWebhookEndpoint(context.tenantId, endpointId);
  if (!existing) return fail("not_found", `webhook endpoint ${endpointId} not found`);
  const row: WebhookEndpointRow = {
    ...existing,
    secret: newWebhookSecret(),
    previousSecret: overlapSeconds > 0 ? existing.secret : null,
    previousSecretExpiresAtMs: overlapSeconds > 0 ? context.nowMs + overlapSeconds * 1000 : null,
    updatedAtMs: context.nowMs,
  };
  await context.tx.updateWebhookEndpoint(row);
  await appendEvent(context, "webhook_endpoint.secret_rotated", journaled(row));
  return ok(row);
}

/** Deletes an endpoint and its queued deliveries. */
export async function deleteWebhookEndpoint(context: WriteContext, endpointId: string): Promise<Result<WebhookEndpointRow>> {
  const existing = await context.tx.getWebhookEndpoint(context.tenantId, endpointId);
  if (!existing) return fail("not_found", `webhook endpoint ${endpointId} not found`);
  await context.tx.deleteWebhookEndpoint(context.tenantId, endpointId);
  await appendEvent(context, "webhook_endpoint.deleted", journaled(existing));
  return ok(existing);
}

/**
 * Schedules a delivery for an attempt now, whatever its status (a manual retry). A delivery that
 * used up its attempts gets one more; its past attempts stay on record.
 */
export async function retryWebhookDelivery(context: WriteContext, endpointId: string, deliveryId: string): Promise<Result<WebhookDeliveryRow>> {
  const existing = await context.tx.getWebhookDelivery(context.tenantId, deliveryId);
  if (!existing || existing.endpointId !== endpointId) return fail("not_found", `delivery ${deliveryId} not found`);
  const row: WebhookDeliveryRow = { ...existing, status: "pending", nextAttemptAtMs: context.nowMs, updatedAtMs: context.nowMs };
  await context.tx.updateWebhookDelivery(row);
  return ok(row);
}
