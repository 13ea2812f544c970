/**
 * Helpers for the teams suites (issue 15): a team with pools, members onboarded as agents with
 * funded wallets, a manager who joined through an invite, and a payee to pay.
 */
import type { Store } from "@bursar/core";
import { cookiePair, loginCode, sessionClient, signIn } from "./console-support.js";
import { agentClient, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, type TestTenant } from "./support.js";

type Api = ReturnType<typeof client>;

export interface Member {
  agentId: string;
  api: AgentApi;
  onboarded: Awaited<ReturnType<typeof fundedAgent>>;
}

/** An agent with a funded wallet, an unlimited policy (`policy` adds limits), in a DPoP client. */
export async function member(baseUrl: string, owner: Api, policy: Record<string, unknown> = {}, fundMinor = 10_000_000, scopes?: string[]): Promise<Member> {
  const onboarded = await fundedAgent(baseUrl, owner, fundMinor, scopes);
  await putPolicy(owner, onboarded.agentId, policy);
  return { agentId: onboarded.agentId, api: await agentClient(baseUrl, onboarded), onboarded };
}

export async function createTeam(owner: Api, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await owner.post("/v1/teams", { name: "Team", ...body }), 201);
}

export async function join(owner: Api, teamId: string, agentId: string): Promise<void> {
  expectStatus(await owner.post(`/v1/teams/${teamId}/members`, { agent_id: agentId }), 200);
}

/** A new member of the tenant with `role`, signed in to the console (its session holds the role's scopes). */
export async function newMember(baseUrl: string, store: Store, tenant: TestTenant, role: string, name: string) {
  const asOwner = await signIn(baseUrl, { login_code: await loginCode(store, tenant.tenantId, tenant.ownerId) });
  const invite = expectStatus(await asOwner.api.post("/v1/members/invites", { role }), 201);
  const accepted = await client(baseUrl).post("/v1/console/invites/accept", { code: invite.code, name });
  expectStatus(accepted, 201);
  return { userId: accepted.body.member.id as string, api: sessionClient(baseUrl, cookiePair(accepted.headers.get("set-cookie")), accepted.body.csrf_token) };
}

/** Pays `amount` GBP to `payeeId`; the intent as answered. */
export async function pay(agent: AgentApi, payeeId: string, amount: number, reference = "team test"): Promise<any> {
  return expectStatus(await agent.post("/v1/payment-intents", { payee_id: payeeId, amount, currency: "GBP", reference }), 201);
}
