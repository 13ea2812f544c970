/**
 * Every bound of the SDK's transport, named in one place (STYLE habit 1).
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
