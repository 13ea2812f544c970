/**
 * The issue-15 CLI commands end to end, spawning the bin against a real server: `teams` (pools,
 * members, allocations, refused past the pool with exit 1 and its code), `budget-requests` from
 * the denied agent's side to an owner's approval and a passing retry, `agents spawn-estimate`
 * (exit 5 with the refused field named) and `spawn`, `clone|health|activity|disable`, `triggers`
 * (created, fired signed with its secret — twice with one id, acting once — listed, deleted) and
 * `usage`.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { cliRunner } from "./cli-support.js";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { startTestServer, tempDir } from "./support.js";

let server: RunningServer;
let setup: SdkAgent;
let asAgent: Record<string, string>;
let asOwner: Record<string, string>;
const { bursar, json } = cliRunner(() => server.url, "cli-teams-no-demo");

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "transactions:read", "payees:read", "budgets:read", "agents:spawn"], fundMinor: 100_000 });
  await setup.owner.payees.create({ name: "Bob Smith", aliases: ["Bob"], currency: "GBP" });
  const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...rules } = await setup.owner.policy.get(setup.agentId);
  await setup.owner.policy.update(setup.agentId, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: null });
  asAgent = { BURSAR_CONFIG_DIR: setup.configDir };
  asOwner = { BURSAR_TOKEN: setup.ownerToken };
});
afterAll(async () => {
  await setup?.owner.close();
  await server?.close();
});

describe("bursar teams, budget-requests, agents, triggers and usage", () => {
  it("a team's pool, members and allocations; an allocation past the pool exits 1 with its code", async () => {
    const team = await json(["teams", "create", "--name", "Research", "--pool", "monthly:GBP:50000", "--pool", "daily:gbp:20000"], asOwner);
    expect(team.pools.map((pool: any) => [pool.period, pool.currency, pool.amount])).toEqual([["monthly", "GBP", 50_000], ["daily", "GBP", 20_000]]);
    expect(await json(["teams", "members", "add", team.id, setup.agentId], asOwner)).toMatchObject({ id: setup.agentId, team_id: team.id });
    const clone = await json(["agents", "clone", setup.agentId, "--name", "Teammate"], asOwner);
    expect(clone).toMatchObject({ name: "Teammate", team_id: team.id });
    expect((await json(["teams", "members", "list", team.id], asOwner)).map((agent: any) => agent.id).sort()).toEqual([setup.agentId, clone.id].sort());

    const allocated = await json(["teams", "allocate", team.id, "--agent", setup.agentId, "--period", "monthly", "--amount", "30000"], asOwner);
    expect(allocated.allocations).toEqual([expect.objectContaining({ agent_id: setup.agentId, period: "monthly", amount: 30_000 })]);
    const over = await bursar(["teams", "allocate", team.id, "--agent", clone.id, "--period", "monthly", "--amount", "20001", "--json"], asOwner);
    expect(over.code).toBe(1);
    expect(JSON.parse(over.stderr).error.code).toBe("allocation_exceeds_pool");
    const badPeriod = await bursar(["teams", "allocate", team.id, "--agent", clone.id, "--period", "hourly", "--amount", "1"], asOwner);
    expect(badPeriod.code).toBe(2);
    expect(badPeriod.stderr).toMatch(/Allowed choices are daily, weekly, monthly, all_time/);
    expect(await json(["teams", "allocations", team.id], asOwner)).toEqual([expect.objectContaining({ agent_id: setup.agentId, amount: 30_000 })]);

    expect((await setup.owner.paymentIntents.create({ payee: "Bob", amount: 1_000, currency: "GBP", agent_id: setup.agentId })).execution_status).toBe("completed");
    const shown = await bursar(["teams", "show", team.id], asAgent);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/monthly\s+500\.00 GBP\s+30000\s+1000\s+0\s+490\.00 GBP\s+20000/);
    expect((await json(["teams", "list"], asAgent)).map((listed: any) => listed.id)).toEqual([team.id]);
    expect(await json(["teams", "update", team.id, "--name", "R&D"], asOwner)).toMatchObject({ name: "R&D" });
    expect(await json(["teams", "members", "remove", team.id, clone.id], asOwner)).toMatchObject({ id: clone.id, team_id: null });
    // Managing a team takes an owner's token: the stored agent alone is told so (exit 2).
    const byAgent = await bursar(["teams", "update", team.id, "--name", "Mine"], asAgent);
    expect(byAgent.code).toBe(2);
    expect(byAgent.stderr).toMatch(/needs an owner token/);
  });

  it("the agent asks for more budget, an owner approves, the retry passes; the agent cannot approve", async () => {
    await setup.owner.budgets.set(setup.agentId, { budgets: [{ period: "weekly", amount: 5_000, currency: "GBP" }] });
    // At most 1,000 spent this week before (the first test): 3,000 passes, 2,500 more does not.
    expect((await setup.owner.paymentIntents.create({ payee: "Bob", amount: 3_000, currency: "GBP", agent_id: setup.agentId })).execution_status).toBe("completed");
    const denied = await setup.owner.paymentIntents.create({ payee: "Bob", amount: 2_500, currency: "GBP", agent_id: setup.agentId });
    expect(denied, JSON.stringify(denied)).toMatchObject({ reason_codes: ["budget_exceeded"] });
    const asked = await json(["budget-requests", "create", "--amount", "2000", "--period", "weekly", "--reason", "Quarter end", "--currency", "GBP", "--action-kind", "payment", "--action-amount", "2500", "--action-payee", "Bob"], asAgent);
    expect(asked).toMatchObject({ object: "budget_request", agent_id: setup.agentId, status: "pending", amount: 2_000, action: { kind: "payment", amount: 2_500, payee: "Bob" } });
    expect((await json(["budget-requests", "list", "--status", "pending"], asOwner)).map((request: any) => request.id)).toEqual([asked.id]);
    expect((await bursar(["budget-requests", "approve", asked.id], asAgent)).code).toBe(2);
    expect(await json(["budget-requests", "approve", asked.id, "--note", "fine"], asOwner)).toMatchObject({ status: "approved", approved_amount: 2_000, raised: "budget" });
    expect(await json(["budget-requests", "show", asked.id], asAgent)).toMatchObject({ status: "approved", note: "fine" });
    const again = await bursar(["budget-requests", "reject", asked.id, "--json"], asOwner);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.code).toBe("budget_request_not_pending");
    expect((await setup.owner.paymentIntents.create({ payee: "Bob", amount: 2_500, currency: "GBP", agent_id: setup.agentId })).execution_status).toBe("completed");
    await setup.owner.budgets.set(setup.agentId, { budgets: [] });
  });

  it("estimates (exit 5 naming the field) and spawns a child; health, activity, disable", async () => {
    const refused = await bursar(["agents", "spawn-estimate", "--name", "Wide", "--budget", "daily=100", "--scopes", "agents:execute,tasks:write", "--json"], asAgent);
    expect(refused.code).toBe(5);
    const estimate = JSON.parse(refused.stdout);
    expect(estimate).toMatchObject({ allowed: false, code: "spawn_scope_exceeds_parent" });
    expect(estimate.errors.map((error: any) => error.path)).toContain("scopes.1");
    expect(await json(["agents", "spawn-estimate", "--name", "Helper", "--budget", "daily=1000"], asAgent)).toMatchObject({ allowed: true, spawn_depth: 1 });

    const spawned = await json(["agents", "spawn", "--name", "Helper", "--budget", "daily=1000", "--funding", "500", "--scopes", "agents:execute,payees:read"], asAgent);
    expect(spawned).toMatchObject({ object: "spawned_agent", parent_agent_id: setup.agentId, agent: { name: "Helper" }, scopes: ["agents:execute", "payees:read"] });
    const childDir = tempDir("cli-child");
    fs.rmSync(childDir, { recursive: true });
    const registered = await bursar(["auth", "agent", "--ticket", spawned.registration_ticket.ticket, "--config-dir", childDir], {});
    expect(registered.code, registered.stderr).toBe(0);
    const child = new Bursar({ configDir: childDir });
    expect((await child.paymentIntents.create({ payee: "Bob", amount: 400, currency: "GBP" })).execution_status).toBe("completed");
    await child.close();
    // An owner token cannot spawn: spawning is an agent's own act.
    expect(JSON.parse((await bursar(["agents", "spawn", "--name", "X", "--budget", "daily=1", "--parent", setup.agentId, "--token", setup.ownerToken, "--json"], { BURSAR_CONFIG_DIR: tempDir("cli-empty") })).stderr).error.code).toBe("no_credentials");

    expect(await json(["agents", "health", spawned.agent.id], asOwner)).toMatchObject({ object: "agent_health", agent_id: spawned.agent.id, status: "healthy" });
    expect((await json(["agents", "activity", spawned.agent.id], asOwner)).map((event: any) => event.type)).toContain("agent.spawned");
    expect(await json(["agents", "disable", setup.agentId], asOwner)).toMatchObject({ id: setup.agentId, status: "disabled" });
    expect((await json(["agents", "health", spawned.agent.id], asOwner)).status).toBe("disabled");
  });

  it("triggers: created, fired signed twice with one id (acts once), listed, a bad secret refused; usage", async () => {
    const other = await setup.owner.agents.create({ name: "Invoice bot" });
    await setup.owner.accounts.deposit(other.wallet_account_id, { amount: 50_000 });
    const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...rules } = await setup.owner.policy.get(other.id);
    await setup.owner.policy.update(other.id, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: 20_000 });
    const template = JSON.stringify({ payee: "Bob", amount: "{{amount}}", currency: "GBP" });
    const trigger = await json(["triggers", "create", "--agent", other.id, "--name", "Invoices", "--operation", "payment_intents.create", "--template", template], asOwner);
    expect(trigger.secret).toMatch(/^whsec_/);
    const fire = ["triggers", "fire", trigger.id, "--event", JSON.stringify({ amount: 1_200 }), "--webhook-id", "msg_cli_1"];
    const first = await json(fire, { ...asOwner, BURSAR_TRIGGER_SECRET: trigger.secret });
    expect(first).toMatchObject({ object: "trigger_fire", outcome: "executed" });
    expect((await json(fire, { ...asOwner, BURSAR_TRIGGER_SECRET: trigger.secret })).id).toBe(first.id);
    const big = await bursar(["triggers", "fire", trigger.id, "--event", JSON.stringify({ amount: 30_000 }), "--secret", trigger.secret, "--json"], asOwner);
    expect(big.code).toBe(5);
    expect(JSON.parse(big.stdout).outcome).toBe("approval_required");
    const forged = await bursar(["triggers", "fire", trigger.id, "--event", "{}", "--secret", `whsec_${Buffer.from("b".repeat(32)).toString("base64")}`, "--json"], asOwner);
    expect(forged.code).toBe(1);
    expect((await bursar(["triggers", "fire", trigger.id, "--event", "[1]", "--secret", trigger.secret], asOwner)).code).toBe(2);
    expect((await json(["triggers", "fires", trigger.id], asOwner)).map((row: any) => row.webhook_id)).toContain("msg_cli_1");
    expect(await json(["triggers", "list", "--agent", other.id], asOwner)).toEqual([expect.objectContaining({ id: trigger.id })]);
    expect(await json(["triggers", "show", trigger.id], asOwner)).not.toHaveProperty("secret");
    expect(await json(["triggers", "update", trigger.id, "--status", "disabled"], asOwner)).toMatchObject({ status: "disabled" });
    expect(await json(["triggers", "delete", trigger.id], asOwner)).toMatchObject({ status: "deleted" });

    const usage = await json(["usage", "--agent", other.id, "--group-by", "payee"], asOwner);
    expect(usage).toMatchObject({ object: "usage", group_by: "payee", agent_id: other.id });
    // The executed fire is spent; the one waiting on approval holds its 300.00.
    expect(usage.totals).toEqual([expect.objectContaining({ currency: "GBP", spent: 1_200, spent_count: 1, held: 30_000, held_count: 1, count: 2 })]);
    const badGrouping = await bursar(["usage", "--group-by", "week"], asOwner);
    expect(badGrouping.code).toBe(2);
    expect(badGrouping.stderr).toMatch(/Allowed choices are day, agent, team, payee, operation/);
  });
});
