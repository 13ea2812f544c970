/**
 * The SDK's teams, budget requests and spawn against a real server (issue 15): denied on its
 * budget → `budgetRequests.createFromDenial` → an owner approves → the retried payment passes;
 * a team's pool carved into allocations that never exceed it, with the team view's figures;
 * a spawn estimate that names the refused field, then a spawn whose child registers and pays.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APIError, Bursar, ConflictError, PermissionDeniedError, register } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { startTestServer, tempDir } from "./support.js";

let server: RunningServer;
let setup: SdkAgent;
let agent: Bursar;
const closers: Bursar[] = [];

async function refusal(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "transactions:read", "payees:read", "budgets:read", "agents:spawn"], fundMinor: 100_000 });
  agent = new Bursar({ configDir: setup.configDir });
  closers.push(agent, setup.owner);
  await setup.owner.payees.create({ name: "Bob Smith", aliases: ["Bob"], currency: "GBP" });
  const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...rules } = await setup.owner.policy.get(setup.agentId);
  await setup.owner.policy.update(setup.agentId, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: null });
  await setup.owner.budgets.set(setup.agentId, { budgets: [{ period: "daily", amount: 10_000, currency: "GBP" }] });
});
afterAll(async () => {
  for (const closer of closers) await closer.close();
  await server?.close();
});

describe("teams, budget requests and spawn through the SDK", () => {
  it("denied on its budget → asks with createFromDenial → an owner approves → the retry passes", async () => {
    expect((await agent.paymentIntents.create({ payee: "Bob", amount: 8_000, currency: "GBP" })).execution_status).toBe("completed");
    const denied = await agent.paymentIntents.create({ payee: "Bob", amount: 5_000, currency: "GBP" });
    expect(denied.reason_codes).toEqual(["budget_exceeded"]);
    expect(denied.available_actions).toContain("request_budget");

    const asked = await agent.budgetRequests.createFromDenial(denied, { amount: 5_000, period: "daily", reason: "The April invoice is larger" });
    expect(asked).toMatchObject({ object: "budget_request", agent_id: setup.agentId, status: "pending", amount: 5_000, currency: "GBP" });
    expect(asked.action).toMatchObject({ kind: "payment", amount: 5_000, currency: "GBP", payee: denied.legs[0]!.payee_id });
    // A payment that went through offers no request_budget: the helper refuses it.
    const passed = await agent.paymentIntents.create({ payee: "Bob", amount: 1, currency: "GBP" });
    await expect(agent.budgetRequests.createFromDenial(passed, { amount: 1, period: "daily", reason: "x" })).rejects.toThrow(/does not offer request_budget/);

    const byAgent = await refusal(agent.budgetRequests.approve(asked.id));
    expect(byAgent).toBeInstanceOf(PermissionDeniedError);
    expect(byAgent.code).toBe("approver_not_allowed");

    const pending = await setup.owner.budgetRequests.list({ status: "pending" });
    expect(pending.data.map((request) => request.id)).toEqual([asked.id]);
    expect((await agent.budgetRequests.get(asked.id)).status).toBe("pending");
    const approved = await setup.owner.budgetRequests.approve(asked.id, { note: "ok" });
    expect(approved).toMatchObject({ status: "approved", approved_amount: 5_000, raised: "budget", note: "ok" });
    expect((await refusal(setup.owner.budgetRequests.reject(asked.id))).code).toBe("budget_request_not_pending");
    expect((await setup.owner.budgets.list(setup.agentId)).data.find((budget) => budget.period === "daily")?.amount).toBe(15_000);

    const retried = await agent.paymentIntents.create({ payee: "Bob", amount: 5_000, currency: "GBP" });
    expect(retried.execution_status).toBe("completed");

    const other = await agent.budgetRequests.create({ amount: 100, period: "daily", reason: "spare" });
    expect((await setup.owner.budgetRequests.reject(other.id, { note: "no" })).status).toBe("rejected");
  });

  it("a team's pool, members and allocations; allocations never exceed the pool", async () => {
    const team = await setup.owner.teams.create({ name: "Research", pools: [{ period: "monthly", currency: "GBP", amount: 50_000 }] });
    expect(team).toMatchObject({ object: "team", name: "Research", manager_ids: [], allocations: [] });
    expect((await setup.owner.teams.members.add(team.id, setup.agentId)).team_id).toBe(team.id);
    const clone = await setup.owner.agents.clone(setup.agentId, { name: "Teammate" });
    expect((await setup.owner.teams.members.list(team.id)).data.map((member) => member.id).sort()).toEqual([setup.agentId, clone.id].sort());

    const carved = await setup.owner.teams.allocations.create(team.id, { agent_id: setup.agentId, period: "monthly", amount: 30_000 });
    expect(carved.allocations).toEqual([expect.objectContaining({ agent_id: setup.agentId, period: "monthly", currency: "GBP", amount: 30_000 })]);
    const over = await refusal(setup.owner.teams.allocations.create(team.id, { agent_id: clone.id, period: "monthly", amount: 20_001 }));
    expect(over).toBeInstanceOf(ConflictError);
    expect(over.code).toBe("allocation_exceeds_pool");
    await setup.owner.teams.allocations.create(team.id, { agent_id: clone.id, period: "monthly", amount: 20_000 });
    expect((await setup.owner.teams.allocations.list(team.id)).map((allocation) => allocation.amount).sort()).toEqual([20_000, 30_000]);

    // The view counts what the members spent over the window (the first test's 8,000 + 1 + 5,000).
    const view = await setup.owner.teams.get(team.id);
    expect(view.pools[0]).toMatchObject({ amount: 50_000, allocated: 50_000, spent: 13_001, held: 0, remaining: 50_000 - 13_001, unallocated: 0 });
    expect((await refusal(setup.owner.teams.update(team.id, { pools: [{ period: "monthly", currency: "GBP", amount: 40_000 }] }))).code).toBe("pool_below_allocations");
    expect((await setup.owner.teams.update(team.id, { name: "Research & Dev" })).name).toBe("Research & Dev");
    expect((await agent.teams.list()).data.map((listed) => listed.id)).toEqual([team.id]);

    expect((await setup.owner.teams.members.delete(team.id, clone.id)).team_id).toBeNull();
  });

  it("estimates a spawn (naming the refused field), spawns, and the child registers and pays", async () => {
    // The parent's daily budget is 15,000 and it spent 13,001 today: 1,999 is left.
    const tooBig = await agent.agents.spawnEstimate(setup.agentId, { name: "Greedy", budgets: [{ period: "daily", amount: 5_000 }] });
    expect(tooBig).toMatchObject({ object: "spawn_estimate", allowed: false, code: "spawn_budget_exceeds_parent", parent_agent_id: setup.agentId });
    expect(tooBig.errors.map((error) => error.code)).toContain("spawn_budget_exceeds_parent");
    expect(tooBig.parent_remaining.daily).toBe(1_999);
    const wideScopes = await agent.agents.spawnEstimate(setup.agentId, { name: "Wide", budgets: [{ period: "daily", amount: 100 }], scopes: ["agents:execute", "tasks:write"] });
    expect(wideScopes).toMatchObject({ allowed: false, code: "spawn_scope_exceeds_parent" });
    expect((await refusal(agent.agents.spawn(setup.agentId, { name: "Greedy", budgets: [{ period: "daily", amount: 5_000 }] }))).code).toBe("spawn_budget_exceeds_parent");
    expect((await refusal(setup.owner.agents.spawn(setup.agentId, { name: "By owner", budgets: [{ period: "daily", amount: 100 }] }))).code).toBe("insufficient_scope");

    const fits = await agent.agents.spawnEstimate(setup.agentId, { name: "Helper", budgets: [{ period: "daily", amount: 1_000 }], funding: 1_000 });
    expect(fits).toMatchObject({ allowed: true, code: null, errors: [], spawn_depth: 1, budgets: [{ period: "daily", amount: 1_000, currency: "GBP" }] });
    const spawned = await agent.agents.spawn(setup.agentId, { name: "Helper", budgets: [{ period: "daily", amount: 1_000 }], funding: 1_000, scopes: ["agents:execute", "payees:read"] });
    expect(spawned).toMatchObject({ object: "spawned_agent", parent_agent_id: setup.agentId, spawn_depth: 1, scopes: ["agents:execute", "payees:read"] });
    expect(spawned.registration_ticket.ticket).toMatch(/^bursar-reg_/);

    const childDir = tempDir("sdk-child");
    fs.rmSync(childDir, { recursive: true });
    await register({ ticket: spawned.registration_ticket.ticket!, baseUrl: server.url, configDir: childDir });
    const child = new Bursar({ configDir: childDir });
    closers.push(child);
    expect((await child.paymentIntents.create({ payee: "Bob", amount: 800, currency: "GBP" })).execution_status).toBe("completed");
    expect((await child.paymentIntents.create({ payee: "Bob", amount: 300, currency: "GBP" })).reason_codes).toContain("budget_exceeded");
  });
});
