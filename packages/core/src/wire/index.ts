/** Wire schemas: `import { wire } from "@bursar/core"`, then `wire.transfer`, `wire.page(...)`. */
export * from "./common.js";
export * from "./ledger.js";
export * from "./journal.js";
export * from "./webhooks.js";
export * from "./identity.js";
export * from "./policy.js";
export * from "./governance.js";
export * from "./rails.js";
export * from "./chat.js";
export * from "./services.js";
export * from "./spend.js";
export * from "./escrow.js";
export * from "./console.js";
export * from "./teams.js";
