/**
 * Teams over HTTP (issue 15): managers, pools, allocations and the team view, and the pool as a
 * window of every member's policy decision. Runs on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createPayee, expectStatus } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds, type TestTenant } from "./support.js";
import { createTeam, join, member, newMember, pay } from "./teams-support.js";

type Api = ReturnType<typeof client>;

describe.each(storeKinds)("teams (%s)", (kind) => {
  let server: RunningServer;
  let tenant: TestTenant;
  let owner: Api;
  let payeeId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
    payeeId = (await createPayee(owner, "Team supplier")).id;
  });
  afterAll(async () => server?.close());

  it("creates a team with pools; members join one team only; the view shows pool, allocated, spent, held and remaining", async () => {
    const team = await createTeam(owner, { name: "Research", pools: [{ period: "daily", currency: "GBP", amount: 10_000 }] });
    expect(team.id).toMatch(/^team_/);
    expect(team.pools).toEqual([expect.objectContaining({ period: "daily", currency: "GBP", amount: 10_000, allocated: 0 })]);
    const a = await member(server.url, owner);
    const b = await member(server.url, owner);
    await join(owner, team.id, a.agentId);
    await join(owner, team.id, b.agentId);
    const other = await createTeam(owner, { name: "Other" });
    const twice = await owner.post(`/v1/teams/${other.id}/members`, { agent_id: a.agentId });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("agent_in_another_team");

    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: a.agentId, period: "daily", amount: 4_000 }), 200);
    await pay(a.api, payeeId, 1_500);
    const view = expectStatus(await owner.get(`/v1/teams/${team.id}`), 200);
    expect(view.pools[0]).toMatchObject({ amount: 10_000, allocated: 4_000, spent: 1_500, held: 0, remaining: 8_500, unallocated: 6_000 });
    const members = expectStatus(await owner.get(`/v1/teams/${team.id}/members`), 200);
    expect(members.data.map((agent: any) => agent.id).sort()).toEqual([a.agentId, b.agentId].sort());
    expect(members.data[0].team_id).toBe(team.id);

    // An agent sees its own team, never another.
    expect(expectStatus(await a.api.get(`/v1/teams/${team.id}`), 200).id).toBe(team.id);
    expect((await a.api.get(`/v1/teams/${other.id}`)).status).toBe(404);
    expect(expectStatus(await a.api.get("/v1/teams"), 200).data.map((t: any) => t.id)).toEqual([team.id]);
  });

  it("allocations never sum past the pool; the pool may not shrink below them", async () => {
    const team = await createTeam(owner, { pools: [{ period: "monthly", currency: "GBP", amount: 10_000 }] });
    const a = await member(server.url, owner);
    const b = await member(server.url, owner);
    await join(owner, team.id, a.agentId);
    await join(owner, team.id, b.agentId);
    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: a.agentId, period: "monthly", amount: 6_000 }), 200);
    const over = await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: b.agentId, period: "monthly", amount: 4_001 });
    expect(over.status).toBe(409);
    expect(over.body.code).toBe("allocation_exceeds_pool");
    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: b.agentId, period: "monthly", amount: 4_000 }), 200);
    const shrink = await owner.call("PATCH", `/v1/teams/${team.id}`, { pools: [{ period: "monthly", currency: "GBP", amount: 9_999 }] });
    expect(shrink.status).toBe(409);
    expect(shrink.body.code).toBe("pool_below_allocations");
    const noPool = await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: b.agentId, period: "weekly", currency: "GBP", amount: 1 });
    expect(noPool.body.code).toBe("team_pool_not_found");
    const stranger = await member(server.url, owner);
    expect((await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: stranger.agentId, period: "monthly", amount: 1 })).status).toBe(404);
  });

  it("a manager with teams:manage manages only the teams naming them; an agent never manages", async () => {
    const manager = await newMember(server.url, server.store, tenant, "approver", "Mia Manager");
    const theirs = await createTeam(owner, { manager_ids: [manager.userId], pools: [{ period: "daily", currency: "GBP", amount: 5_000 }] });
    const notTheirs = await createTeam(owner, { pools: [{ period: "daily", currency: "GBP", amount: 5_000 }] });
    const a = await member(server.url, owner);
    await join(owner, theirs.id, a.agentId);
    expectStatus(await manager.api.post(`/v1/teams/${theirs.id}/allocations`, { agent_id: a.agentId, period: "daily", amount: 1_000 }), 200);
    const elsewhere = await manager.api.post(`/v1/teams/${notTheirs.id}/members`, { agent_id: a.agentId });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.code).toBe("insufficient_scope");
    // A manager may change pools, not who manages.
    expect((await manager.api.call("PATCH", `/v1/teams/${theirs.id}`, { manager_ids: [] })).status).toBe(403);
    expectStatus(await manager.api.call("PATCH", `/v1/teams/${theirs.id}`, { pools: [{ period: "daily", currency: "GBP", amount: 6_000 }] }), 200);
    const byAgent = await a.api.post(`/v1/teams/${theirs.id}/allocations`, { agent_id: a.agentId, period: "daily", amount: 5_000 });
    // An agent credential never manages: the team is "not found" to it as something to manage.
    expect(byAgent.status).toBe(404);
    const unknown = await owner.post("/v1/teams", { name: "Ghosts", manager_ids: ["usr_01JD5Y4Q7X8ZK3M2N1P0R9S8T7"] });
    expect(unknown.status).toBe(404);
  });

  it("the pool is a window of each member's decision: a member without an allocation draws on it, one with an allocation also stops there", async () => {
    const team = await createTeam(owner, { pools: [{ period: "daily", currency: "GBP", amount: 5_000 }] });
    const a = await member(server.url, owner);
    const b = await member(server.url, owner);
    await join(owner, team.id, a.agentId);
    await join(owner, team.id, b.agentId);
    expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: a.agentId, period: "daily", amount: 2_000 }), 200);
    expect((await pay(a.api, payeeId, 2_000)).execution_status).toBe("completed");
    const overAllocation = await pay(a.api, payeeId, 1);
    expect(overAllocation.reason_codes).toEqual(["budget_exceeded"]);
    expect(overAllocation.legs[0].available_actions).toContain("request_budget");
    expect((await pay(b.api, payeeId, 3_000)).execution_status).toBe("completed");
    const overPool = await pay(b.api, payeeId, 1);
    expect(overPool.reason_codes).toEqual(["team_pool_exceeded"]);
    expect(overPool.legs[0].remaining.team_pool_daily).toBe(-1);
    expect(overPool.legs[0].available_actions).toEqual(expect.arrayContaining(["lower_amount", "retry_after_window", "request_budget"]));
    // Leaving the team takes the agent out of the pool's decisions.
    expectStatus(await owner.call("DELETE", `/v1/teams/${team.id}/members/${b.agentId}`), 200);
    expect((await pay(b.api, payeeId, 1)).execution_status).toBe("completed");
  });
});
