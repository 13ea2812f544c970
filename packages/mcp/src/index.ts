/** `@bursar/mcp`: Bursar's MCP server (stdio binary `bursar-mcp`; Streamable HTTP at `/v1/mcp`). */
export { createBursarMcpServer, mcpResult, mcpServerName, mcpServerVersion } from "./server.ts";
export type { BursarMcpServerOptions } from "./server.ts";
export { runStdio } from "./stdio.ts";
