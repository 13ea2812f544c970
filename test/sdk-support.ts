/**
 * Helpers for the SDK suites: an owner client, an agent onboarded through the SDK itself, and
 * fetch wrappers that watch or tamper with what the real server answers (a man in the middle,
 * not a mock: the server is always real).
 */
import fs from "node:fs";
import { Bursar, register, type AgentScope, type FetchLike } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { createTestTenant, tempDir } from "./support.js";

export interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  status: number;
}

/** A fetch that records every exchange and lets a test rewrite responses. */
export function watchingFetch(rewrite?: (request: Seen, response: Response) => Promise<Response> | Response): FetchLike & { seen: Seen[] } {
  const seen: Seen[] = [];
  const wrapped = (async (input: string, init: RequestInit) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const record: Seen = { method: init.method ?? "GET", url: input, headers, body: typeof init.body === "string" ? init.body : null, status: 0 };
    seen.push(record);
    const response = await fetch(input, init);
    record.status = response.status;
    return rewrite ? rewrite(record, response) : response;
  }) as FetchLike & { seen: Seen[] };
  wrapped.seen = seen;
  return wrapped;
}

/** A JSON response rebuilt from `body`, keeping status and headers. */
export function jsonResponse(response: Response, body: unknown, headers?: Headers): Response {
  const h = new Headers(headers ?? response.headers);
  h.delete("content-length");
  return new Response(JSON.stringify(body), { status: response.status, headers: h });
}

export const tokenRequests = (seen: Seen[]) => seen.filter((s) => s.url.endsWith("/oauth/token"));
export const grantType = (s: Seen) => new URLSearchParams(s.body ?? "").get("grant_type");

export interface SdkAgent {
  owner: Bursar;
  agentId: string;
  walletAccountId: string;
  configDir: string;
  clientId: string;
  tenantId: string;
  /** The owner's personal access token. */
  ownerToken: string;
}

/** A tenant, an owner client, and an agent registered with `register()` into a fresh config dir. */
export async function onboardWithSdk(server: RunningServer, options: { scopes?: AgentScope[]; fundMinor?: number; algorithm?: "ES256" | "EdDSA" } = {}): Promise<SdkAgent> {
  const tenant = await createTestTenant(server.store);
  const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
  const agent = await owner.agents.create({ name: "SDK agent" });
  if (options.fundMinor) await owner.accounts.deposit(agent.wallet_account_id, { amount: options.fundMinor });
  const minted = await owner.registrationTickets.create({ agent_id: agent.id, scopes: options.scopes ?? ["agents:execute", "events:read"] });
  const configDir = tempDir("sdk-config");
  fs.rmSync(configDir, { recursive: true });
  const registered = await register({ ticket: minted.ticket!, baseUrl: server.url, configDir, algorithm: options.algorithm });
  return { owner, agentId: agent.id, walletAccountId: agent.wallet_account_id, configDir, clientId: registered.clientId, tenantId: tenant.tenantId, ownerToken: tenant.token };
}
