/**
 * Bursar's MCP server driven by the official MCP client (`Client` from @modelcontextprotocol/sdk)
 * against a real Bursar server, over stdio (`bursar-mcp` as a subprocess, with the agent's
 * credential store) and over Streamable HTTP (`/v1/mcp`, an agent API key):
 * `tools/list` has every tool with schemas and annotations and none that approves or edits a
 * policy; a payment below the threshold executes; above it answers `approval_required` (an
 * approval id, its expiry, where an owner approves) and, after the owner approves, the status
 * tool shows it executed; a denied payment answers its reasons and moves nothing; a resent call
 * pays once; an unauthenticated, wrong-tenant, foreign-Host or cross-Origin HTTP request is
 * refused. Money is checked in the ledger afterwards, as the owner sees it over plain HTTP.
 */
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { RunningServer } from "@bursar/server";
import { bursarToolNames, forbiddenToolWords } from "@bursar/sdk/tools";
import { DpopAuth, FileCredentialStore, importPrivateKeyPem } from "@bursar/sdk";
import { checkLedger } from "./books.js";
import { onboardWithSdk } from "./sdk-support.js";
import { paymentIntentsOf, toolTenant, walletOf, type ToolTenant } from "./mcp-support.js";
import { client, repoRoot, startTestServer } from "./support.js";

let server: RunningServer;
let tenant: ToolTenant;
let agentApiKey: string;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  tenant = await toolTenant(server);
  const key = await tenant.owner.apiKeys.create({ name: "mcp", agent_id: tenant.agentId, scopes: ["agents:execute", "transactions:read", "payees:read"] });
  agentApiKey = key.key!;
});
afterAll(async () => {
  await tenant?.agent.close();
  await tenant?.owner.close();
  await server?.close();
});

async function stdioClient(): Promise<Client> {
  const mcp = new Client({ name: "test-host", version: "1.0.0" });
  await mcp.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [path.join(repoRoot, "packages/mcp/bin/bursar-mcp.js")],
      env: { ...(process.env as Record<string, string>), BURSAR_CONFIG_DIR: tenant.configDir, BURSAR_API_URL: server.url },
      stderr: "pipe",
    }),
  );
  return mcp;
}

async function httpClient(headers: Record<string, string> = { authorization: `Bearer ${agentApiKey}` }): Promise<Client> {
  const mcp = new Client({ name: "test-host", version: "1.0.0" });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/v1/mcp`), { requestInit: { headers } }));
  return mcp;
}

/** A POST with exactly these headers (node:http: Host included). */
function rawPost(body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(`${server.url}/v1/mcp`);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers } }, (response) => {
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

async function call(mcp: Client, name: string, args: Record<string, unknown>): Promise<{ isError: boolean; result: any }> {
  const answer = await mcp.callTool({ name, arguments: args });
  expect(answer.structuredContent).toBeDefined();
  // Hosts that read only `content` see the same result.
  expect(JSON.parse((answer.content as { text: string }[])[0]!.text)).toEqual(answer.structuredContent);
  return { isError: answer.isError === true, result: answer.structuredContent };
}

const transports = [
  ["stdio", stdioClient],
  ["Streamable HTTP", () => httpClient()],
] as const;

describe.each(transports)("over %s", (_label, connect) => {
  let mcp: Client;
  beforeAll(async () => {
    mcp = await connect();
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it("lists every tool with input and output schemas and annotations, and none that approves, edits a policy or reads a secret", async () => {
    const { tools } = await mcp.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(bursarToolNames);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.outputSchema?.type).toBe("object");
      expect(Object.keys(tool.outputSchema!.properties!)).toEqual(expect.arrayContaining(["status", "ids", "reason_codes", "available_actions", "approval"]));
      expect(Object.keys(tool.annotations!).sort()).toEqual(["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint", "title"]);
      for (const word of forbiddenToolWords) expect(tool.name).not.toContain(word);
    }
    const pay = tools.find((tool) => tool.name === "bursar_pay")!;
    expect(pay.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    expect(pay.inputSchema.required).toEqual(expect.arrayContaining(["payee", "amount", "currency"]));
    expect(tools.find((tool) => tool.name === "bursar_get_balance")!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  });

  it("pays below the threshold: executed, a transaction, the wallet debited", async () => {
    const before = await walletOf(tenant);
    const { isError, result } = await call(mcp, "bursar_pay", { payee: "Bob", amount: 450, currency: "GBP", reference: "Coffee" });
    expect(isError).toBe(false);
    expect(result).toMatchObject({ status: "executed", reason_codes: [], approval: null });
    expect(result.ids.payment_intent_id).toMatch(/^pi_/);
    expect(result.ids.transaction_ids).toHaveLength(1);
    const transaction = await tenant.ownerGet(`/v1/transactions/${result.ids.transaction_ids[0]}`);
    expect(transaction).toMatchObject({ amount: 450, status: "completed", creditor: { payee_id: tenant.bobId } });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 450);
  });

  it("above the threshold answers approval_required (not an elicitation); after the owner approves, the status tool shows it executed", async () => {
    const before = await walletOf(tenant);
    const { isError, result } = await call(mcp, "bursar_pay", { payee: "Bob", amount: 50_000, currency: "GBP", reference: "April invoice" });
    expect(isError).toBe(false);
    expect(result.status).toBe("approval_required");
    expect(result.reason_codes).toContain("approval_threshold_reached");
    expect(result.available_actions.length).toBeGreaterThan(0);
    const approvalId = result.ids.approval_id;
    expect(approvalId).toMatch(/^apr_/);
    expect(result.approval).toMatchObject({ approval_id: approvalId, status: "pending" });
    expect(Date.parse(result.approval.expires_at)).toBeGreaterThan(Date.now());
    expect(result.approval.approve_with).toContain(approvalId);
    // Held, not paid.
    expect(await walletOf(tenant)).toEqual({ balance: before.balance, available: before.available - 50_000 });

    const pending = await call(mcp, "bursar_get_payment_status", { payment_intent_id: result.ids.payment_intent_id });
    expect(pending.result.status).toBe("approval_required");

    await tenant.owner.approvals.approve(approvalId, { note: "invoice checked" });
    const after = await call(mcp, "bursar_get_payment_status", { payment_intent_id: result.ids.payment_intent_id });
    expect(after.result.status).toBe("executed");
    expect(after.result.ids.transaction_ids).toHaveLength(1);
    expect((await walletOf(tenant)).balance).toBe(before.balance - 50_000);
  });

  it("a denied payment answers its reasons and what to do next; nothing moves", async () => {
    const before = await walletOf(tenant);
    const { isError, result } = await call(mcp, "bursar_pay", { payee: "Bob", amount: 150_000, currency: "GBP" });
    expect(isError).toBe(true);
    expect(result.status).toBe("blocked");
    expect(result.reason_codes).toContain("amount_exceeds_transaction_max");
    expect(result.available_actions.length).toBeGreaterThan(0);
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("an unknown payee or an invented tool is a failed result, not a crash", async () => {
    expect((await call(mcp, "bursar_pay", { payee: "Mallory", amount: 100, currency: "GBP" })).result).toMatchObject({ status: "failed", reason_codes: ["payee_not_found"] });
    const invented = await mcp.callTool({ name: "bursar_approve", arguments: { approval_id: "apr_x" } });
    expect(invented.isError).toBe(true);
  });

  it("a retry with the same idempotency_key pays once, even from a new request", async () => {
    const before = await walletOf(tenant);
    const args = { payee: "Bob", amount: 700, currency: "GBP", idempotency_key: `retry-${_label.replace(/\W/g, "")}-${Date.now()}` };
    const first = await call(mcp, "bursar_pay", args);
    const second = await call(mcp, "bursar_pay", args);
    expect(second.result.ids.payment_intent_id).toBe(first.result.ids.payment_intent_id);
    expect((await walletOf(tenant)).balance).toBe(before.balance - 700);
  });
});

describe("Streamable HTTP only", () => {
  const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(`${server.url}/v1/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(body) });

  it("a host that resends the same tools/call request (same JSON-RPC id) pays once", async () => {
    const before = await walletOf(tenant);
    const count = (await paymentIntentsOf(tenant)).length;
    const message = { jsonrpc: "2.0", id: 4242, method: "tools/call", params: { name: "bursar_pay", arguments: { payee: "Bob", amount: 333, currency: "GBP" } } };
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await post(message, { authorization: `Bearer ${agentApiKey}`, "mcp-protocol-version": "2025-06-18" });
      expect(response.status).toBe(200);
      answers.push(CallToolResultSchema.parse(((await response.json()) as { result: unknown }).result).structuredContent as any);
    }
    expect(new Set(answers.map((answer) => answer.ids.payment_intent_id)).size).toBe(1);
    expect(answers[0].status).toBe("executed");
    expect((await paymentIntentsOf(tenant)).length).toBe(count + 1);
    expect((await walletOf(tenant)).balance).toBe(before.balance - 333);
    // A new request (another id) is a new payment.
    const other = await post({ ...message, id: 4243 }, { authorization: `Bearer ${agentApiKey}`, "mcp-protocol-version": "2025-06-18" });
    expect(((await other.json()) as any).result.structuredContent.ids.payment_intent_id).not.toBe(answers[0].ids.payment_intent_id);
  });

  it("an agent's DPoP token with a fresh proof per request works as on every other route; a replayed proof is refused", async () => {
    const stored = (await new FileCredentialStore({ dir: tenant.configDir }).load())!;
    const auth = new DpopAuth({ clientId: stored.clientId, key: await importPrivateKeyPem(stored.privateKeyPem), baseUrl: server.url });
    const proofs: Record<string, string>[] = [];
    const dpopFetch = async (url: string | URL, init: RequestInit = {}) => {
      const headers = await auth.headers({ method: init.method ?? "GET", url: String(url) });
      proofs.push(headers);
      return fetch(url, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers).entries()), ...headers } });
    };
    const mcp = new Client({ name: "dpop-host", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/v1/mcp`), { fetch: dpopFetch as typeof fetch }));
    try {
      expect(proofs[0]!.authorization).toMatch(/^DPoP /);
      expect((await call(mcp, "bursar_get_balance", {})).result).toMatchObject({ status: "executed", data: { agent_id: tenant.agentId } });
    } finally {
      await mcp.close();
    }
    // The same proof again (a replay) is refused.
    const replay = await post(initialize, proofs.at(-1)!);
    expect(replay.status).toBe(401);
  });

  it("refuses an unauthenticated request (401 with a challenge) and a dead key", async () => {
    const anonymous = await post(initialize, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("DPoP");
    expect(((await anonymous.json()) as any).code).toBe("unauthorized");
    expect((await post(initialize, { authorization: "Bearer bsk_nope" })).status).toBe(401);
    // The in-process delegation prefix is not a way in either.
    expect((await post(initialize, { authorization: "Bearer bdlg_guessed" })).status).toBe(401);
    await expect(httpClient({})).rejects.toThrow();
  });

  it("refuses a foreign Host (DNS rebinding) and a cross-origin browser request", async () => {
    // fetch may not set Host (a forbidden header name); node:http may, as a rebinding browser would.
    const host = await rawPost(JSON.stringify(initialize), { authorization: `Bearer ${agentApiKey}`, host: "evil.example:7420" });
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body).code).toBe("host_not_allowed");
    const origin = await post(initialize, { authorization: `Bearer ${agentApiKey}`, origin: "https://evil.example" });
    expect(origin.status).toBe(403);
    expect(((await origin.json()) as any).code).toBe("origin_not_allowed");
    expect((await post(initialize, { authorization: `Bearer ${agentApiKey}`, origin: server.url })).status).toBe(200);
  });

  it("another tenant's agent sees none of this tenant's payments and pays from its own wallet only", async () => {
    const other = await onboardWithSdk(server, { scopes: ["agents:execute", "transactions:read", "payees:read"], fundMinor: 1_000 });
    const key = await other.owner.apiKeys.create({ name: "other", agent_id: other.agentId, scopes: ["agents:execute", "transactions:read", "payees:read"] });
    const mcp = await httpClient({ authorization: `Bearer ${key.key}` });
    try {
      const mine = (await paymentIntentsOf(tenant))[0];
      const status = await call(mcp, "bursar_get_payment_status", { payment_intent_id: mine.id });
      expect(status.result).toMatchObject({ status: "failed", reason_codes: ["not_found"] });
      expect((await call(mcp, "bursar_find_payees", { query: "Bob" })).result.data.payees).toEqual([]);
      expect((await call(mcp, "bursar_pay", { payee: tenant.bobId, amount: 100, currency: "GBP" })).result.status).toBe("failed");
      expect((await call(mcp, "bursar_get_balance", {})).result.data.agent_id).toBe(other.agentId);
    } finally {
      await mcp.close();
      await other.owner.close();
    }
  });

  it("a credential without a tool's scope gets that tool's insufficient_scope as a failed result", async () => {
    const key = await tenant.owner.apiKeys.create({ name: "narrow", agent_id: tenant.agentId, scopes: ["agents:execute"] });
    const mcp = await httpClient({ authorization: `Bearer ${key.key}` });
    try {
      expect((await call(mcp, "bursar_list_transactions", {})).result).toMatchObject({ status: "failed", reason_codes: ["insufficient_scope"] });
    } finally {
      await mcp.close();
    }
  });
});

it("the books balance after every transport's payments", async () => {
  await checkLedger(client(server.url, tenant.ownerToken));
});
