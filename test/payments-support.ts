/**
 * Helpers for governed-spending tests: an agent's DPoP client with JSON bodies, and an owner
 * set-up (agent, funded wallet, payees, policy) in a few calls.
 */
import { expect } from "vitest";
import { dpopProof, getToken, onboard, type Api, type Onboarded } from "./agents-support.js";
import type { ApiResponse } from "./support.js";

/** A JSON client that authenticates as the agent: one DPoP-bound token, a fresh proof per request. */
export async function agentClient(baseUrl: string, agent: Onboarded) {
  const issued = await getToken(baseUrl, agent);
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  const token = issued.body.access_token as string;
  async function call<T = any>(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const url = baseUrl + pathname;
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `DPoP ${token}`,
        dpop: dpopProof(agent.key, { htm: method, htu: url.split("?")[0]!, accessToken: token }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
  }
  return {
    get: <T = any>(pathname: string) => call<T>("GET", pathname),
    post: <T = any>(pathname: string, body?: unknown, headers?: Record<string, string>) => call<T>("POST", pathname, body ?? {}, headers),
    call,
  };
}
export type AgentApi = Awaited<ReturnType<typeof agentClient>>;

/** Expects a status, showing the body when it differs. */
export function expectStatus(response: ApiResponse, status: number): any {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response.body;
}

/** An onboarded agent with a funded GBP wallet. */
export async function fundedAgent(baseUrl: string, owner: Api, amountMinor: number, scopes = ["agents:execute", "transactions:read", "payees:read", "budgets:read"]) {
  const agent = await onboard(baseUrl, owner, { scopes });
  if (amountMinor > 0) expectStatus(await owner.post(`/v1/accounts/${agent.walletAccountId}/deposits`, { amount: amountMinor }), 201);
  return agent;
}

export async function createPayee(owner: Api, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  return expectStatus(await owner.post("/v1/payees", { name, currency: "GBP", ...extra }), 201);
}

export async function putPolicy(owner: Api, agentId: string, policy: Record<string, unknown>): Promise<any> {
  const full = {
    currency: "GBP", per_transaction_max_minor: null, amount_max_minor: {}, count_max: {}, allowed_payee_ids: null, blocked_payee_ids: [],
    allowed_currencies: null, allowed_services: null, approval_threshold_minor: null, new_payee_requires_approval: false,
    approval_expiry_seconds: 3600, ...policy,
  };
  return expectStatus(await owner.call("PUT", `/v1/agents/${agentId}/policy`, full), 200);
}

export async function balanceOf(api: Api | AgentApi, agentId?: string): Promise<{ balance: number; available: number }> {
  return expectStatus(await api.get(`/v1/balance${agentId ? `?agent_id=${agentId}` : ""}`), 200);
}
