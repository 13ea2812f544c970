/**
 * Task test set-up on the existing harness: an owner, a delegating agent (the payer), an assignee
 * agent, and a CI system that is nothing but a plain HTTP client holding a service-account API
 * key with `ci:write` (no SDK, no agent credential).
 */
import { onboard, type Api, type Onboarded } from "./agents-support.js";
import { agentClient, expectStatus, putPolicy, type AgentApi } from "./payments-support.js";
import { client } from "./support.js";

export interface TaskWorld {
  owner: Api;
  creator: AgentApi;
  creatorAgent: Onboarded;
  assignee: AgentApi;
  assigneeAgent: Onboarded;
  /** A plain HTTP client with a `ci:write` service-account key. */
  ci: Api;
  ciKey: string;
}

/** Two agents (the creator funded with `fundMinor`, both with no limits), and a CI key. */
export async function taskWorld(baseUrl: string, ownerToken: string, fundMinor = 1_000_000): Promise<TaskWorld> {
  const owner = client(baseUrl, ownerToken);
  const creatorAgent = await onboard(baseUrl, owner, { scopes: ["agents:execute", "tasks:write", "transactions:read"] });
  const assigneeAgent = await onboard(baseUrl, owner, { scopes: ["agents:execute", "transactions:read"] });
  if (fundMinor > 0) expectStatus(await owner.post(`/v1/accounts/${creatorAgent.walletAccountId}/deposits`, { amount: fundMinor }), 201);
  await putPolicy(owner, creatorAgent.agentId, {});
  const key = expectStatus(await owner.post("/v1/api-keys", { name: "github-actions", scopes: ["ci:write"] }), 201);
  return {
    owner, creatorAgent, assigneeAgent, ciKey: key.key, ci: client(baseUrl, key.key),
    creator: await agentClient(baseUrl, creatorAgent), assignee: await agentClient(baseUrl, assigneeAgent),
  };
}

/** Distinct 40-hex-digit heads. */
let headCounter = 0;
export function newHead(): string {
  headCounter++;
  return (Date.now().toString(16) + headCounter.toString(16).padStart(8, "0")).padEnd(40, "a").slice(0, 40);
}

/** A wallet's posted balance. */
export async function walletBalance(owner: Api, accountId: string): Promise<number> {
  return expectStatus(await owner.get(`/v1/accounts/${accountId}`), 200).balance;
}

/** Drives a new task to review with a passing CI for `head` and (when needed) an owner's approval: ship is then available. */
export async function readyToShip(world: TaskWorld, task: { id: string }, head: string, options: { review?: boolean } = {}) {
  expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/start`), 200);
  expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/submit`, { summary: "done", head_sha: head, checks: ["unit"] }), 200);
  expectStatus(await world.ci.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: head, checks: [{ name: "unit", status: "passed" }] }), 201);
  if (options.review !== false) expectStatus(await world.owner.post(`/v1/tasks/${task.id}/reviews`, { outcome: "approved", summary: "ok" }), 200);
  const ready = expectStatus(await world.owner.get(`/v1/tasks/${task.id}`), 200);
  if (!ready.available_actions.includes("ship")) throw new Error(`ship not available: ${JSON.stringify(ready)}`);
  return ready;
}
