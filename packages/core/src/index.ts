/** @bursar/core — the domain: money, ledger, journal, limits, ids, result codes and ports. */
export * from "./limits.js";
export * from "./ids.js";
export * from "./money.js";
export * from "./canonical.js";
export * from "./hash.js";
export * from "./time.js";
export * from "./result.js";
export * from "./ports.js";
export * from "./ledger/types.js";
export * from "./ledger/views.js";
export * from "./ledger/ledger.js";
export * from "./journal/types.js";
export * from "./journal/events.js";
export * from "./tenants.js";
export * from "./scopes.js";
export * as wire from "./wire/index.js";
