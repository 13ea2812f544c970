export * from "./roles.js";
export * from "./sessions.js";
export * from "./members.js";
