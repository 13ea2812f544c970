/**
 * Every bound of the SDK, named in one place (STYLE habit 1). Units last in names.
 */

/** Attempts per call, the first included: enough to ride out a restart, few enough to fail fast. */
export const attemptsMax = 4;

/** Backoff: full jitter between 0 and min(retryDelayMaxMs, retryDelayBaseMs × 2^attempt). */
export const retryDelayBaseMs = 250;
export const retryDelayMaxMs = 8_000;

/** The most a server's Retry-After can make the client wait before one attempt. */
export const retryAfterWaitMaxMs = 60_000;

/** Per-attempt timeout unless the caller sets one. */
export const requestTimeoutDefaultMs = 60_000;

/**
 * Retries of one call after a 401 its credentials can fix: one to pick up a DPoP-Nonce
 * (RFC 9449 §8) and one forced token refresh. Never more: a credential that is really dead
 * must fail fast, not loop.
 */
export const unauthorizedRetriesMax = 2;

/**
 * An access token is renewed (refresh token first, then a fresh client_credentials grant) when
 * less than this is left of it, so that no request leaves with a token about to expire in flight.
 */
export const accessTokenRefreshMarginMs = 60_000;

/** Lifetime (`exp - iat`) of the client assertions the SDK signs: the server allows at most 5 min. */
export const clientAssertionLifetimeSeconds = 60;

/** Longest `expires_in` the SDK believes; a larger one is clamped (a token is never cached for a day). */
export const accessTokenLifetimeSecondsMax = 24 * 60 * 60;

/** Bytes of one Server-Sent Events message (its `data:` lines together): events are small. */
export const eventStreamMessageBytesMax = 1024 * 1024;

/** No byte at all for this long (the server sends a heartbeat every 15 s) and the stream reconnects. */
export const eventStreamIdleTimeoutMs = 45_000;

/** The longest reconnection delay a server's `retry:` field can ask of the SDK. */
export const eventStreamRetryDelayMaxMs = 30_000;

/**
 * Consecutive reconnections of one event stream that deliver nothing before the iterator gives
 * up with the last error; a reconnection that delivers an event resets the count.
 */
export const eventStreamReconnectsMax = 10;

/** Webhook timestamps older or newer than this are refused (Standard Webhooks: replay window). */
export const webhookToleranceSecondsDefault = 5 * 60;

/** Signatures read from one `webhook-signature` header (rotation sends two `v1`, plus a `v1a`). */
export const webhookSignaturesMax = 8;

/** Largest webhook payload `verifyWebhook` accepts (the server never sends more than a request body). */
export const webhookBodyBytesMax = 256 * 1024;

/** Journal entries asked for per page when the SDK recomputes a whole journal. */
export const journalEntriesPageLimit = 1000;

/** Size of the credential file and the key file read from a credential store (they are tiny). */
export const credentialFileBytesMax = 64 * 1024;

/**
 * The longest `spend.authorizeAndWait()` (and `spend.guard({ waitForApproval })`) waits for an
 * owner's decision. An approval cannot outlive the server's longest approval expiry (7 days), so
 * a longer wait could only ever end in `expired`; a larger `timeoutMs` is clamped to this.
 */
export const spendApprovalWaitMaxMs = 7 * 24 * 60 * 60 * 1000;

/** First delay between two polls of a pending authorization, unless the caller sets one. */
export const spendApprovalPollIntervalDefaultMs = 1_000;

/** The shortest poll interval a caller may ask for: a human decides in seconds, not milliseconds. */
export const spendApprovalPollIntervalMinMs = 100;

/**
 * Each poll waits 1.5× longer than the one before, up to this: a wait of hours costs one GET
 * every few seconds, and an approval is still noticed within this long of being given.
 */
export const spendApprovalPollIntervalMaxMs = 5_000;
