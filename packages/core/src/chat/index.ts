/** The payment agent: tools, the turn runner and the deterministic planner (docs/chat.md). */
export * from "./tools.js";
export * from "./conversation.js";
export * from "./understand.js";
export * from "./planner.js";
