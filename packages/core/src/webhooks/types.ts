/** Webhook endpoints and deliveries as the store keeps them (SPEC 3 "Events, webhooks, journal"). */

/**
 * A subscription of a tenant to its events.
 *
 * The signing secret is stored usable, not hashed: Standard Webhooks signs every delivery with
 * HMAC-SHA256 keyed by it, so the server must hold the key itself (a hash would not sign). It is
 * protected like the tenant's journal signing key: the database file is 0600 (SQLite) or behind
 * PostgreSQL's access control, the secret is returned once at creation or rotation, never listed,
 * never journaled and never kept in an idempotency replay record.
 */
export interface WebhookEndpointRow {
  id: string;
  tenantId: string;
  url: string;
  description: string | null;
  /** Event-type patterns: exact types, `prefix.*`, or `*` (see event-types.ts). */
  eventTypes: string[];
  /** Only events about these tasks (`data.task.id`), or null for no task filter (docs/tasks.md). */
  taskIds: string[] | null;
  enabled: boolean;
  /** Why the server disabled it (e.g. the receiver answered 410), or null. */
  disabledReason: string | null;
  /** `whsec_<base64 key>`. */
  secret: string;
  /** The secret before the last rotation, still signing until `previousSecretExpiresAtMs`. */
  previousSecret: string | null;
  previousSecretExpiresAtMs: number | null;
  /** Ed25519 key pair for `v1a` signatures, when the endpoint chose them. PKCS#8 DER / raw 32 bytes. */
  ed25519PrivateKeyPkcs8: Uint8Array | null;
  ed25519PublicKey: Uint8Array | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export const deliveryStatuses = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One attempt to deliver, as recorded. */
export interface DeliveryAttempt {
  attemptedAtMs: number;
  durationMs: number;
  /** The receiver's HTTP status, or null when no response came (timeout, network error, refused target). */
  statusCode: number | null;
  /** What went wrong, in our words; null on success. */
  error: string | null;
  /** The start of the response body (webhookResponseBodyBytesMax). */
  responseBody: string | null;
}

/** One event queued for one endpoint; queued in the same transaction as the event itself. */
export interface WebhookDeliveryRow {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  eventSeq: number;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** When the next attempt is due; while an attempt runs, the end of the worker's lease. */
  nextAttemptAtMs: number;
  lastAttemptAtMs: number | null;
  attempts: DeliveryAttempt[];
  createdAtMs: number;
  updatedAtMs: number;
}
