/** Transport limits, named so they are tuned in one place. */
export const MAX_ATTEMPTS = 4;
export const BASE_RETRY_DELAY_MS = 250;
export const MAX_RETRY_DELAY_MS = 8_000;
/** The most a server's Retry-After can make the client wait before one attempt. */
export const RETRY_AFTER_CAP_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 60_000;
