/**
 * `GET /v1/usage` (issue 15 item 4) over HTTP on both stores: payments that settle, wait for an
 * approval, are rejected; a service request; spends on several days (the server's clock moved);
 * buckets by day, agent, payee and operation; an agent sees only its own. And the rollup that
 * answers it (migration 22) against a brute-force sum over every spend, after inserts, partial
 * captures and releases made straight in the store.
 */
import type { RunningServer } from "@bursar/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Api } from "./agents-support.js";
import { agentClient, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, startTestServer, storeKinds, TestClock } from "./support.js";

const day = 24 * 3600 * 1000;

describe.each(storeKinds)("usage over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let owner: Api;
  let agent: AgentApi;
  let agentId: string;
  let otherId: string;
  let tenantId: string;
  let bob: any;
  let alice: any;
  // Noon on 2026-11-10 UTC: three days of spends, then "today" is 2026-11-12.
  const clock = new TestClock(Date.UTC(2026, 10, 10, 12));

  const pay = async (forAgent: string, payee: string, amount: number) =>
    expectStatus(await owner.post("/v1/payment-intents", { agent_id: forAgent, payee, amount, currency: "GBP" }), 201);

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    const tenant = await createTestTenant(server.store);
    tenantId = tenant.tenantId;
    owner = client(server.url, tenant.token);
    clock.ms = Date.now();
    const onboarded = await fundedAgent(server.url, owner, 1_000_000);
    agentId = onboarded.agentId;
    agent = await agentClient(server.url, onboarded);
    otherId = (await fundedAgent(server.url, owner, 1_000_000)).agentId;
    bob = await createPayee(owner, "Bob");
    alice = await createPayee(owner, "Alice");
    await putPolicy(owner, agentId, { approval_threshold_minor: 50_000, approval_expiry_seconds: 7 * 24 * 3600 });
    await putPolicy(owner, otherId, {});

    clock.ms = Date.UTC(2026, 10, 10, 12);
    await pay(agentId, bob.id, 1_000); // settled, day 10
    await pay(agentId, alice.id, 2_000); // settled, day 10
    const waiting = await pay(agentId, bob.id, 60_000); // held for approval, day 10
    expect(waiting.approval_status).toBe("pending_approval");
    clock.ms = Date.UTC(2026, 10, 11, 9);
    await pay(otherId, bob.id, 4_000); // settled, day 11, the other agent
    const rejected = await pay(agentId, alice.id, 70_000); // held then released, day 11
    expectStatus(await owner.post(`/v1/approvals/${rejected.approval_id}/reject`), 200);
    expectStatus(await owner.post("/v1/service-requests", { agent_id: agentId, service: "sandbox", operation: "echo", payload: {} }), 200); // 100, day 11
    clock.ms = Date.UTC(2026, 10, 12, 23, 59);
    await pay(agentId, bob.id, 500); // settled, day 12
  });
  afterAll(async () => server?.close());

  it("buckets by day: spent, held and counts, released holds nowhere, in the range asked", async () => {
    const usage = expectStatus(await owner.get(`/v1/usage?agent_id=${agentId}&from=2026-11-10&to=2026-11-12`), 200);
    expect(usage).toMatchObject({ object: "usage", from: "2026-11-10T00:00:00.000Z", to: "2026-11-13T00:00:00.000Z", group_by: "day", agent_id: agentId, team_id: null, truncated: false });
    expect(usage.data.map((bucket: any) => [bucket.key, bucket.spent, bucket.held, bucket.count])).toEqual([
      ["2026-11-10", 3_000, 60_000, 3],
      ["2026-11-11", 100, 0, 1],
      ["2026-11-12", 500, 0, 1],
    ]);
    expect(usage.data[0]).toMatchObject({ currency: "GBP", spent_display: "30.00", held_display: "600.00", spent_count: 2, held_count: 1 });
    expect(usage.totals).toEqual([expect.objectContaining({ key: null, currency: "GBP", spent: 3_600, held: 60_000, count: 5 })]);

    // Approving moves the held amount to spent, in the day it was made.
    const pending = expectStatus(await owner.get(`/v1/approvals?agent_id=${agentId}&status=pending`), 200).data[0];
    expectStatus(await owner.post(`/v1/approvals/${pending.id}/approve`), 200);
    const after = expectStatus(await owner.get(`/v1/usage?agent_id=${agentId}&from=2026-11-10&to=2026-11-10`), 200);
    expect(after.to).toBe("2026-11-11T00:00:00.000Z");
    expect(after.data.map((bucket: any) => [bucket.key, bucket.spent, bucket.held])).toEqual([["2026-11-10", 63_000, 0]]);
    // A time `to` at midnight ends there; a later time includes its day.
    const midnight = expectStatus(await owner.get(`/v1/usage?agent_id=${agentId}&from=2026-11-10T13:00:00Z&to=2026-11-12T00:00:00Z`), 200);
    expect(midnight.data.map((bucket: any) => bucket.key)).toEqual(["2026-11-10", "2026-11-11"]);
    // Without from/to: the last 30 days up to the end of today (the server's clock: 2026-11-12).
    const recent = expectStatus(await owner.get(`/v1/usage?agent_id=${agentId}`), 200);
    expect(recent).toMatchObject({ from: "2026-10-14T00:00:00.000Z", to: "2026-11-13T00:00:00.000Z" });
  });

  it("buckets by agent, payee and operation across the tenant", async () => {
    const range = "from=2026-11-01&to=2026-11-30";
    const byAgent = expectStatus(await owner.get(`/v1/usage?group_by=agent&${range}`), 200);
    expect(Object.fromEntries(byAgent.data.map((bucket: any) => [bucket.key, bucket.spent]))).toEqual({ [agentId]: 63_600, [otherId]: 4_000 });
    const byPayee = expectStatus(await owner.get(`/v1/usage?group_by=payee&${range}`), 200);
    expect(Object.fromEntries(byPayee.data.map((bucket: any) => [String(bucket.key), bucket.spent]))).toEqual({ [bob.id]: 65_500, [alice.id]: 2_000, null: 100 });
    const byOperation = expectStatus(await owner.get(`/v1/usage?group_by=operation&${range}`), 200);
    expect(Object.fromEntries(byOperation.data.map((bucket: any) => [bucket.key, [bucket.spent, bucket.count]]))).toEqual({ payment: [67_500, 5], service_request: [100, 1] });
  });

  it("by team and for one team: each agent's spends under its team now, agents in no team under null", async () => {
    const team = expectStatus(await owner.post("/v1/teams", { name: "Invoices" }), 201);
    expectStatus(await owner.post(`/v1/teams/${team.id}/members`, { agent_id: otherId }), 200);
    const range = "from=2026-11-01&to=2026-11-30";
    const byTeam = expectStatus(await owner.get(`/v1/usage?group_by=team&${range}`), 200);
    expect(Object.fromEntries(byTeam.data.map((bucket: any) => [String(bucket.key), bucket.spent]))).toEqual({ [team.id]: 4_000, null: 63_600 });
    const oneTeam = expectStatus(await owner.get(`/v1/usage?team_id=${team.id}&group_by=agent&${range}`), 200);
    expect(oneTeam.team_id).toBe(team.id);
    expect(oneTeam.data.map((bucket: any) => [bucket.key, bucket.spent])).toEqual([[otherId, 4_000]]);
    const none = await owner.get(`/v1/usage?team_id=team_01JD5Y4Q7X8ZK3M2N1P0R9S8T7&${range}`);
    expect(none.status).toBe(404);
    // An agent names only its own team; this agent is in none.
    clock.ms = Date.now();
    expect((await agent.get(`/v1/usage?team_id=${team.id}&${range}`)).status).toBe(404);
  });

  it("an agent sees only its own usage; bad ranges and groupings are 400, an unknown agent 404", async () => {
    clock.ms = Date.now(); // the agent's DPoP proofs carry real time
    const own = expectStatus(await agent.get("/v1/usage?group_by=agent&from=2026-11-01&to=2026-11-30"), 200);
    expect(own.agent_id).toBe(agentId);
    expect(own.data.map((bucket: any) => bucket.key)).toEqual([agentId]);
    expect((await agent.get(`/v1/usage?agent_id=${otherId}&from=2026-11-01`)).status).toBe(404);
    expect((await owner.get("/v1/usage?agent_id=agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7")).status).toBe(404);
    for (const query of ["from=yesterday", "from=2026-11-30&to=2026-11-01", "from=2024-01-01&to=2026-01-01", "group_by=week", "group_by=teams", "to=2026-13-45"]) {
      const answer = await owner.get(`/v1/usage?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.code, query).toBe("validation_failed");
    }
  });

  it("the rollup equals a brute-force sum over every spend, after settling, partial captures and releases", async () => {
    interface Spend { id: string; agentId: string; amountMinor: number; currency: string; payeeId: string | null; operation: string | null; atMs: number; state: "held" | "settled" | "released" }
    const spends: Spend[] = [];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const base = Date.UTC(2025, 11, 1);
    await server.store.write(tenantId, async (tx) => {
      for (let i = 0; i < 400; i++) {
        const spend: Spend = {
          id: `tr_usage${String(i).padStart(6, "0")}`, agentId: [agentId, otherId][random(2)]!, amountMinor: 1 + random(10_000), currency: ["GBP", "EUR"][random(2)]!,
          payeeId: [bob.id, alice.id, null][random(3)]!, operation: random(4) === 0 ? "openai.chat" : null, atMs: base + random(40) * day + random(day), state: random(2) === 0 ? "held" : "settled",
        };
        spends.push(spend);
        await tx.insertSpend({ tenantId, ...spend });
      }
      for (const spend of spends.slice(0, 150)) {
        const move = random(3);
        if (move === 0 && spend.state === "held") {
          spend.state = "settled";
          spend.amountMinor = Math.max(1, Math.floor(spend.amountMinor / 2));
          await tx.setSpendState(tenantId, spend.id, "settled", spend.amountMinor);
        } else if (move === 1) {
          spend.state = "released";
          await tx.setSpendState(tenantId, spend.id, "released");
        }
      }
    });
    const fromMs = base;
    const toMs = base + 40 * day;
    for (const groupBy of ["day", "agent", "payee", "operation"] as const) {
      const expected = new Map<string, { settled: number; held: number; count: number }>();
      for (const spend of spends) {
        if (spend.state === "released") continue;
        const key = groupBy === "day" ? String(Math.floor(spend.atMs / day) * day) : groupBy === "agent" ? spend.agentId : groupBy === "payee" ? (spend.payeeId ?? "") : (spend.operation ?? (spend.payeeId === null ? "service_request" : "payment"));
        const id = `${key} ${spend.currency}`;
        const sum = expected.get(id) ?? { settled: 0, held: 0, count: 0 };
        if (spend.state === "settled") sum.settled += spend.amountMinor;
        else sum.held += spend.amountMinor;
        sum.count += 1;
        expected.set(id, sum);
      }
      // The spends of the HTTP scenarios above are in November 2026, outside this range.
      const rows = await server.store.read.usage(tenantId, { fromMs, toMs, groupBy, limit: 1000 });
      const actual = new Map(rows.filter((row) => row.settledCount + row.heldCount > 0).map((row) => [`${row.key} ${row.currency}`, { settled: row.settledMinor, held: row.heldMinor, count: row.settledCount + row.heldCount }]));
      expect(actual, groupBy).toEqual(expected);
    }
  });
});
