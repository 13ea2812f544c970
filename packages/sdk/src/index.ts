/** @bursar/sdk — the TypeScript client. */
export * from "./errors.ts";
export { Transport, backoffDelay } from "./transport.ts";
export type { AuthHook, FetchLike, RequestOptions, TransportOptions } from "./transport.ts";
export { Page } from "./pagination.ts";
export * as limits from "./limits.ts";
