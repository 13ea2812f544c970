/** @bursar/server — the HTTP server, store adapters and background workers. */
export { loadConfig, defaultPort, type ServerConfig } from "./config.js";
export { startServer, openStore, type RunningServer } from "./server.js";
export { demoLoginLink, ensureDemoTenant, type DemoTenant } from "./demo.js";
export { createLlmPlanner, readLlmConfig, openAiTools, systemPrompt, type LlmConfig } from "./chat/llm-planner.js";
export { logFormats, prettyLogStream, type LogFormat } from "./log-format.js";
