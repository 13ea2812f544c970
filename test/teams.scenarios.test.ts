/**
 * The combined decision as a table of scenarios (issue 15): a child agent's payment meets its own
 * limits (its budget, its team allocation), its team's pool and its parent's limit over the
 * parent's whole subtree — all windows of one decision. Each row builds a parent (daily limit
 * 100.00, optionally a budget), a child spawned with a daily budget, optionally a team pool the
 * two share with another member, runs the history, then the payment, over HTTP. SQLite and
 * PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createPayee, expectStatus } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";
import { createTeam, join, member, pay, spawnChild, spawnerScopes, type Member } from "./teams-support.js";

type Api = ReturnType<typeof client>;
type Who = "parent" | "child" | "other";

interface Scenario {
  name: string;
  /** The parent's budget (major units, daily), on top of its policy's daily 100. */
  parentBudget?: number;
  childBudget: number;
  /** A daily pool shared by the parent, the child and `other`. */
  pool?: number;
  /** The child's allocation from the pool. */
  childAllocation?: number;
  history: Array<[Who, number]>;
  action: [Who, number];
  reasons: string[];
}

const parentDailyLimit = 100;

const scenarios: Scenario[] = [
  { name: "everything within its limits", childBudget: 50, pool: 200, history: [], action: ["child", 30], reasons: [] },
  { name: "over the child's own budget only", childBudget: 50, pool: 200, history: [["child", 20]], action: ["child", 31], reasons: ["budget_exceeded"] },
  { name: "the parent's window is full of the parent's own spending", childBudget: 50, history: [["parent", 80]], action: ["child", 30], reasons: ["parent_budget_exceeded"] },
  { name: "exactly at the parent's limit passes", childBudget: 50, history: [["parent", 70]], action: ["child", 30], reasons: [] },
  { name: "over the child's budget and the parent's limit", childBudget: 50, history: [["parent", 80]], action: ["child", 60], reasons: ["budget_exceeded", "parent_budget_exceeded"] },
  { name: "the pool is full of another member's spending", childBudget: 50, pool: 200, history: [["other", 180]], action: ["child", 30], reasons: ["team_pool_exceeded"] },
  { name: "all three at once, in reason order", childBudget: 50, pool: 190, history: [["parent", 80], ["other", 110]], action: ["child", 60], reasons: ["budget_exceeded", "team_pool_exceeded", "parent_budget_exceeded"] },
  { name: "the parent's own window counts its child's spending", childBudget: 50, history: [["child", 50]], action: ["parent", 60], reasons: ["daily_amount_limit_exceeded"] },
  { name: "a parent budget below its policy limit is the parent's ceiling", parentBudget: 70, childBudget: 50, history: [["child", 40], ["parent", 25]], action: ["child", 10], reasons: ["parent_budget_exceeded"] },
  { name: "the child's team allocation is one of its budgets", childBudget: 50, pool: 200, childAllocation: 20, history: [], action: ["child", 25], reasons: ["budget_exceeded"] },
  { name: "the pool counts the parent, the child and the other member together", childBudget: 50, pool: 120, history: [["parent", 40], ["child", 40], ["other", 30]], action: ["other", 11], reasons: ["team_pool_exceeded"] },
];

describe.each(storeKinds)("the combined decision: agent limits + team pool + parent budget (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let payeeId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    owner = client(server.url, (await createTestTenant(server.store)).token);
    payeeId = (await createPayee(owner, "Scenario supplier")).id;
  });
  afterAll(async () => server?.close());

  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const minor = (major: number) => major * 100;
      const parent = await member(server.url, owner, { amount_max_minor: { daily: minor(parentDailyLimit) } }, minor(10_000), spawnerScopes);
      if (scenario.parentBudget !== undefined) {
        expectStatus(await owner.call("PUT", `/v1/agents/${parent.agentId}/budgets`, { budgets: [{ period: "daily", amount: minor(scenario.parentBudget), currency: "GBP" }] }), 200);
      }
      let team: any = null;
      const other = await member(server.url, owner);
      if (scenario.pool !== undefined) {
        team = await createTeam(owner, { pools: [{ period: "daily", currency: "GBP", amount: minor(scenario.pool) }] });
        await join(owner, team.id, parent.agentId);
        await join(owner, team.id, other.agentId);
      }
      const child = await spawnChild(server.url, parent, { budgets: [{ period: "daily", amount: minor(scenario.childBudget) }], funding: minor(1_000) });
      if (team) expect(child.spawned.agent.team_id).toBe(team.id);
      if (scenario.childAllocation !== undefined) expectStatus(await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: child.agentId, period: "daily", amount: minor(scenario.childAllocation) }), 200);
      const agents: Record<Who, Member> = { parent, child, other };
      for (const [who, major] of scenario.history) expect((await pay(agents[who].api, payeeId, minor(major))).execution_status, `history ${who} ${major}`).toBe("completed");
      const [who, major] = scenario.action;
      const intent = await pay(agents[who].api, payeeId, minor(major));
      expect(intent.reason_codes).toEqual(scenario.reasons);
      expect(intent.execution_status).toBe(scenario.reasons.length === 0 ? "completed" : "failed");
    });
  }
});
