/**
 * `bursar-mcp`: the MCP server over stdio, for hosts that start it as a subprocess (Claude
 * Desktop-style `mcpServers` configuration). It acts as the agent in the credential store, read as
 * the SDK reads it (`BURSAR_CONFIG_DIR`, else `~/.bursar`; or `BURSAR_API_KEY`), against
 * `BURSAR_API_URL` or the stored URL. stdout carries only JSON-RPC; diagnostics go to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { Bursar } from "@bursar/sdk";
import { createBursarMcpServer } from "./server.ts";

/** Serves until stdin closes. */
export async function runStdio(): Promise<void> {
  const bursar = new Bursar();
  // A new scope per process: a retried JSON-RPC request of this session maps to the same key,
  // a restarted host that numbers its requests from 0 again does not.
  const server = createBursarMcpServer({ bursar, idempotencyScope: `stdio:${crypto.randomUUID()}`, approvalBaseUrl: process.env.BURSAR_API_URL });
  const transport = new StdioServerTransport();
  transport.onclose = () => void bursar.close();
  await server.connect(transport);
}
