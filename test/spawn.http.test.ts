/**
 * Agents that spawn agents, attacked over HTTP (issue 15): the depth limit, scopes and policy no
 * wider than the parent's (each looser field named), budgets carved from what the parent has left,
 * the child's spend counting against the parent, and a disabled parent's child refused on its
 * next call. Runs on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createPayee, expectStatus } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";
import { member, pay, spawnChild, spawnerScopes, createTeam, join } from "./teams-support.js";

type Api = ReturnType<typeof client>;

const limited = { per_transaction_max_minor: 5_000, amount_max_minor: { daily: 20_000 }, allowed_payee_ids: null as string[] | null };

describe.each(storeKinds)("spawn (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let payeeId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    owner = client(server.url, (await createTestTenant(server.store)).token);
    payeeId = (await createPayee(owner, "Spawn supplier")).id;
  });
  afterAll(async () => server?.close());

  it("spawns a child with a ticket, its own key, the parent's team, and budgets carved from the parent's; the estimate is the dry run", async () => {
    const team = await createTeam(owner, { pools: [{ period: "daily", currency: "GBP", amount: 1_000_000 }] });
    const parent = await member(server.url, owner, limited, 100_000, spawnerScopes);
    await join(owner, team.id, parent.agentId);
    const body = { name: "Child", budgets: [{ period: "daily", amount: 8_000 }], scopes: ["agents:execute", "transactions:read"], funding: 10_000 };
    const estimate = expectStatus(await parent.api.post(`/v1/agents/${parent.agentId}/spawn/estimate`, body), 200);
    expect(estimate).toMatchObject({ allowed: true, code: null, errors: [], spawn_depth: 1, parent_remaining: { daily: 20_000, weekly: null } });
    expect((await owner.get(`/v1/agents?limit=100`)).body.data.filter((a: any) => a.parent_agent_id === parent.agentId)).toEqual([]);

    const child = await spawnChild(server.url, parent, body);
    expect(child.spawned.agent).toMatchObject({ parent_agent_id: parent.agentId, spawn_depth: 1, team_id: team.id });
    expect(child.spawned.registration_ticket.ticket).toMatch(/^bursar-reg_/);
    expect(child.onboarded.scopes).toEqual(["agents:execute", "transactions:read"]);
    expect(expectStatus(await owner.get(`/v1/agents/${child.agentId}/policy`), 200)).toMatchObject({ per_transaction_max_minor: 5_000, amount_max_minor: { daily: 20_000 } });
    expect(expectStatus(await owner.get(`/v1/agents/${child.agentId}/budgets`), 200).data).toEqual([expect.objectContaining({ period: "daily", amount: 8_000, currency: "GBP" })]);
    expect(expectStatus(await child.api.get("/v1/balance"), 200).available).toBe(10_000);
    // The ticket works once; the child's own key is the only credential.
    const replayTicket = await client(server.url).post("/v1/registrations", { ticket: child.spawned.registration_ticket.ticket, public_key_jwk: child.onboarded.key.publicJwk });
    expect(replayTicket.status).toBe(409);
    const events = expectStatus(await owner.get(`/v1/events?type=agent.spawned&agent_id=${child.agentId}`), 200).data;
    expect(events.map((e: any) => e.data.parent_agent_id)).toEqual([parent.agentId]);
  });

  it("a child's spend counts against the parent's limits: together they never pass the parent's budget", async () => {
    const parent = await member(server.url, owner, limited, 100_000, spawnerScopes);
    const child = await spawnChild(server.url, parent, { budgets: [{ period: "daily", amount: 15_000 }], funding: 50_000 });
    for (let i = 0; i < 3; i++) expect((await pay(child.api, payeeId, 5_000)).execution_status).toBe("completed");
    // The parent's daily 20 000 now has 5 000 left, whatever the parent's own history.
    const parentOver = await pay(parent.api, payeeId, 5_001);
    expect(parentOver.reason_codes).toEqual(["amount_exceeds_transaction_max", "daily_amount_limit_exceeded"]);
    expect((await pay(parent.api, payeeId, 5_000)).execution_status).toBe("completed");
    // Child: its own budget (15 000) is spent, and the parent's window is full.
    const childOver = await pay(child.api, payeeId, 1);
    expect(childOver.reason_codes).toEqual(["budget_exceeded", "parent_budget_exceeded"]);
    expect(childOver.legs[0].remaining.parent_daily).toBe(-1);
    // The parent's remaining is now nothing: no budget left to carve.
    const estimate = expectStatus(await parent.api.post(`/v1/agents/${parent.agentId}/spawn/estimate`, { name: "Late", budgets: [{ period: "daily", amount: 1 }] }), 200);
    expect(estimate).toMatchObject({ allowed: false, code: "spawn_budget_exceeds_parent", parent_remaining: { daily: 0 } });
    expect(estimate.errors).toEqual([expect.objectContaining({ path: "budgets.0.amount", code: "spawn_budget_exceeds_parent" })]);
  });

  it("refuses a budget above what the parent has left, scopes the parent lacks, and owner tokens", async () => {
    const parent = await member(server.url, owner, limited, 100_000, ["agents:execute", "agents:spawn", "transactions:read"]);
    const tooMuch = await parent.api.post(`/v1/agents/${parent.agentId}/spawn`, { name: "Greedy", budgets: [{ period: "daily", amount: 20_001 }] });
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.code).toBe("spawn_budget_exceeds_parent");
    expect(tooMuch.body.errors[0].path).toBe("budgets.0.amount");
    const wider = await parent.api.post(`/v1/agents/${parent.agentId}/spawn`, { name: "Nosy", budgets: [{ period: "daily", amount: 1 }], scopes: ["agents:execute", "events:read"] });
    expect(wider.status).toBe(403);
    expect(wider.body.code).toBe("spawn_scope_exceeds_parent");
    expect(wider.body.errors).toEqual([expect.objectContaining({ path: "scopes.1" })]);
    // Owner-only scopes are not even agent scopes: the schema refuses them.
    const ownerScope = await parent.api.post(`/v1/agents/${parent.agentId}/spawn`, { name: "Boss", budgets: [{ period: "daily", amount: 1 }], scopes: ["agents:config"] });
    expect(ownerScope.status).toBe(400);
    const notParent = await member(server.url, owner, limited, 0, ["agents:execute"]);
    const noScope = await notParent.api.post(`/v1/agents/${notParent.agentId}/spawn`, { name: "X", budgets: [{ period: "daily", amount: 1 }] });
    expect(noScope.status).toBe(403);
    expect(noScope.body.code).toBe("insufficient_scope");
    // Another agent's id: not found. An owner's token: refused (an owner creates agents directly).
    expect((await parent.api.post(`/v1/agents/${notParent.agentId}/spawn`, { name: "X", budgets: [{ period: "daily", amount: 1 }] })).status).toBe(404);
    const byOwner = await owner.post(`/v1/agents/${parent.agentId}/spawn`, { name: "X", budgets: [{ period: "daily", amount: 1 }] });
    expect(byOwner.status).toBe(403);
    const fundTooMuch = await parent.api.post(`/v1/agents/${parent.agentId}/spawn`, { name: "Rich", budgets: [{ period: "daily", amount: 1 }], funding: 100_001 });
    expect(fundTooMuch.body.code).toBe("insufficient_funds");
    // Nothing was written by any refusal.
    expect((await owner.get(`/v1/agents?limit=100`)).body.data.filter((a: any) => a.parent_agent_id === parent.agentId)).toEqual([]);
  });

  it("refuses a policy looser than the parent's, naming each looser field", async () => {
    const parentPolicy = { ...limited, count_max: { daily: 10 }, allowed_payee_ids: [payeeId], approval_threshold_minor: 3_000, new_payee_requires_approval: true, blocked_operations: ["stripe.*"] };
    const parent = await member(server.url, owner, parentPolicy, 100_000, spawnerScopes);
    const current = expectStatus(await owner.get(`/v1/agents/${parent.agentId}/policy`), 200);
    const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...policy } = current;
    const looser = { ...policy, per_transaction_max_minor: 5_001, amount_max_minor: {}, count_max: { daily: 10 }, allowed_payee_ids: null, approval_threshold_minor: null, new_payee_requires_approval: false, blocked_operations: [] };
    const refused = await parent.api.post(`/v1/agents/${parent.agentId}/spawn`, { name: "Loose", policy: looser, budgets: [{ period: "daily", amount: 1 }] });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("spawn_policy_looser_than_parent");
    expect(refused.body.errors.map((e: any) => e.path)).toEqual([
      "policy.per_transaction_max_minor", "policy.amount_max_minor.daily", "policy.allowed_payee_ids", "policy.approval_threshold_minor",
      "policy.new_payee_requires_approval", "policy.blocked_operations",
    ]);
    const tighter = { ...policy, per_transaction_max_minor: 1_000, blocked_operations: ["stripe.*", "openai.*"] };
    const child = await spawnChild(server.url, parent, { policy: tighter, budgets: [{ period: "daily", amount: 1_000 }] });
    expect(child.spawned.policy.per_transaction_max_minor).toBe(1_000);
  });

  it("stops at depth 3: a great-grandchild cannot spawn", async () => {
    const root = await member(server.url, owner, limited, 100_000, spawnerScopes);
    let parent = root;
    for (const depth of [1, 2, 3]) {
      const child = await spawnChild(server.url, parent, { budgets: [{ period: "daily", amount: 1_000 }], funding: 10_000 * (4 - depth) });
      expect(child.spawned.spawn_depth).toBe(depth);
      parent = child;
    }
    const deeper = await parent.api.post(`/v1/agents/${parent.agentId}/spawn`, { name: "Too deep", budgets: [{ period: "daily", amount: 1 }] });
    expect(deeper.status).toBe(403);
    expect(deeper.body.code).toBe("spawn_depth_exceeded");
    expect(expectStatus(await parent.api.post(`/v1/agents/${parent.agentId}/spawn/estimate`, { name: "Too deep", budgets: [{ period: "daily", amount: 1 }] }), 200).code).toBe("spawn_depth_exceeded");
  });

  it("disabling a parent disables its descendants: the grandchild is refused on its next call", async () => {
    const root = await member(server.url, owner, limited, 100_000, spawnerScopes);
    const child = await spawnChild(server.url, root, { budgets: [{ period: "daily", amount: 5_000 }], funding: 20_000 });
    const grandchild = await spawnChild(server.url, child, { budgets: [{ period: "daily", amount: 2_000 }], funding: 5_000 });
    expect((await pay(grandchild.api, payeeId, 100)).execution_status).toBe("completed");
    expectStatus(await owner.call("DELETE", `/v1/agents/${root.agentId}`), 200);
    for (const descendant of [child, grandchild]) {
      const next = await descendant.api.post("/v1/payment-intents", { payee_id: payeeId, amount: 100, currency: "GBP", reference: "after" });
      expect(next.status).toBe(401);
      expect(expectStatus(await owner.get(`/v1/agents/${descendant.agentId}`), 200).status).toBe("disabled");
    }
  });
});
