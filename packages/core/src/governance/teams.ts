/**
 * Teams (SPEC 1 `team_`, issue 15): a group of agents with budget pools that managers allocate.
 *
 * - Members are agents; an agent belongs to at most one team (its `teamId`). A spawned agent
 *   joins its parent's team.
 * - Managers are members of the tenant (users) named on the team; with the `teams:manage` scope
 *   they manage that team only (members, pools, allocations, its budget requests). Owners with
 *   `agents:config` manage every team.
 * - A pool is an amount per period and currency. Every member's spend counts against it: the pool
 *   is one more window of the member's policy decision (`teamWindows`, decided in
 *   policy/policy.ts with the agent's own limits, in the same write as the hold), never a
 *   separate check that could race.
 * - An allocation carves an agent's budget out of a pool: the agent may spend at most its
 *   allocation in that window (it is one more budget of the agent, `allocationBudgets`), and the
 *   allocations of a pool never sum past it. The whole team is one record, so an allocation reads
 *   and writes the sum in the tenant's serialised write: concurrent allocations are exact.
 *   A member without an allocation draws on the pool alone.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { teamAllocationsMax, teamManagersMax, teamMembersMax, teamPoolsMax, teamsPerTenantMax } from "../limits.js";
import { formatMinor } from "../money.js";
import { windowStartMs, type Budget, type Period, type SharedWindow } from "../policy/policy.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { agentView } from "../identity/views.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

export interface TeamPool {
  period: Period;
  currency: string;
  amount: number;
}

export interface TeamAllocation {
  agent_id: string;
  period: Period;
  currency: string;
  amount: number;
}

export interface TeamBody {
  name: string;
  description: string | null;
  manager_ids: string[];
  pools: TeamPool[];
  allocations: TeamAllocation[];
}
export type TeamRecord = StoredRecord<TeamBody>;

/** What a pool has been used for, over its trailing window, now. */
export interface PoolUsage {
  allocated: number;
  /** Settled spends of the members (held ones are in `held`). */
  spent: number;
  held: number;
}

const poolKey = (pool: { period: Period; currency: string }) => `${pool.period}/${pool.currency}`;

/** The API form of a team; with `usage` (keyed `period/currency`), each pool says what is left. */
export function teamView(team: TeamRecord, usage?: ReadonlyMap<string, PoolUsage>) {
  const { name, description, manager_ids, pools, allocations } = team.body;
  return {
    object: "team" as const,
    ...recordStamp(team, toRfc3339),
    name,
    description,
    manager_ids,
    pools: pools.map((pool) => {
      const used = usage?.get(poolKey(pool));
      const allocated = allocatedOf(team, pool);
      const view = { period: pool.period, currency: pool.currency, amount: pool.amount, amount_display: formatMinor(pool.amount, pool.currency), allocated };
      if (!used) return view;
      const remaining = pool.amount - used.spent - used.held;
      return { ...view, spent: used.spent, held: used.held, remaining, remaining_display: formatMinor(remaining, pool.currency), unallocated: pool.amount - allocated };
    }),
    allocations: allocations.map((allocation) => ({ ...allocation, amount_display: formatMinor(allocation.amount, allocation.currency) })),
  };
}

function allocatedOf(team: TeamRecord, pool: { period: Period; currency: string }): number {
  return team.body.allocations.filter((a) => a.period === pool.period && a.currency === pool.currency).reduce((sum, a) => sum + a.amount, 0);
}

export async function loadTeam(reader: StoreReader, tenantId: string, teamId: string): Promise<TeamRecord | null> {
  return loadRecord<TeamBody>(reader, tenantId, "team", teamId);
}

function checkPools(pools: readonly TeamPool[]): Result<void> {
  if (pools.length > teamPoolsMax) return fail("limit_exceeded", `at most ${teamPoolsMax} pools per team`);
  const seen = new Set<string>();
  for (const [index, pool] of pools.entries()) {
    if (seen.has(poolKey(pool))) return fail("validation_failed", `pools.${index}: two pools for ${pool.period} in ${pool.currency}`);
    seen.add(poolKey(pool));
  }
  return ok(undefined);
}

async function checkManagers(context: WriteContext, managerIds: readonly string[]): Promise<Result<void>> {
  if (managerIds.length > teamManagersMax) return fail("limit_exceeded", `at most ${teamManagersMax} managers per team`);
  for (const [index, userId] of managerIds.entries()) {
    const user = await context.tx.getUser(context.tenantId, userId);
    if (!user || user.removedAtMs !== null) return fail("not_found", `manager_ids.${index}: member ${userId} not found`);
  }
  return ok(undefined);
}

export interface TeamInput {
  name: string;
  description?: string | null;
  manager_ids?: string[];
  pools?: TeamPool[];
}

/** Creates a team. Event: `team.created`. */
export async function createTeam(context: WriteContext, input: TeamInput): Promise<Result<TeamRecord>> {
  const { tx, tenantId, nowMs } = context;
  if ((await tx.countRecords(tenantId, { kind: "team" }, teamsPerTenantMax)) >= teamsPerTenantMax) return fail("limit_exceeded", `at most ${teamsPerTenantMax} teams per tenant`);
  const managerIds = [...new Set(input.manager_ids ?? [])];
  const managers = await checkManagers(context, managerIds);
  if (!managers.ok) return managers;
  const pools = input.pools ?? [];
  const poolsOk = checkPools(pools);
  if (!poolsOk.ok) return poolsOk;
  const team: TeamRecord = {
    tenantId, kind: "team", id: newId("team", nowMs), agentId: null, status: "active", refId: null, dueAtMs: null, createdAtMs: nowMs, updatedAtMs: nowMs,
    body: { name: input.name, description: input.description ?? null, manager_ids: managerIds, pools, allocations: [] },
  };
  await saveRecord(tx, team, true);
  await appendEvent(context, "team.created", { team: teamView(team) });
  return ok(team);
}

/**
 * Changes name, description, managers or pools (a list given replaces the old one). A pool may not
 * shrink below what is allocated from it, nor disappear while allocations draw on it
 * (`pool_below_allocations`). Event: `team.updated`.
 */
export async function updateTeam(context: WriteContext, teamId: string, changes: Partial<TeamInput>): Promise<Result<TeamRecord>> {
  const team = await loadTeam(context.tx, context.tenantId, teamId);
  if (!team) return fail("not_found", `team ${teamId} not found`);
  const body: TeamBody = { ...team.body };
  if (changes.name !== undefined) body.name = changes.name;
  if (changes.description !== undefined) body.description = changes.description;
  if (changes.manager_ids !== undefined) {
    body.manager_ids = [...new Set(changes.manager_ids)];
    const managers = await checkManagers(context, body.manager_ids);
    if (!managers.ok) return managers;
  }
  if (changes.pools !== undefined) {
    const poolsOk = checkPools(changes.pools);
    if (!poolsOk.ok) return poolsOk;
    const updated = { ...team, body: { ...body, pools: changes.pools } };
    for (const allocation of team.body.allocations) {
      const pool = changes.pools.find((p) => poolKey(p) === poolKey(allocation));
      const allocated = allocatedOf(updated, allocation);
      if (!pool || pool.amount < allocated) {
        return fail("pool_below_allocations", `the ${allocation.period} ${allocation.currency} pool would be ${pool ? formatMinor(pool.amount, pool.currency) : "gone"}, below the ${formatMinor(allocated, allocation.currency)} allocated from it`);
      }
    }
    body.pools = changes.pools;
  }
  const saved: TeamRecord = { ...team, updatedAtMs: context.nowMs, body };
  await saveRecord(context.tx, saved, false);
  await appendEvent(context, "team.updated", { team: teamView(saved) });
  return ok(saved);
}

/** Adds an agent to the team. Refused when it is in another team (`agent_in_another_team`). Event: `team.member_added`. */
export async function addTeamMember(context: WriteContext, teamId: string, agentId: string): Promise<Result<AgentRow>> {
  const { tx, tenantId, nowMs } = context;
  const team = await loadTeam(tx, tenantId, teamId);
  if (!team) return fail("not_found", `team ${teamId} not found`);
  const agent = await tx.getAgent(tenantId, agentId);
  if (!agent) return fail("not_found", `agent ${agentId} not found`);
  if (agent.teamId === teamId) return ok(agent);
  if (agent.teamId !== null) return fail("agent_in_another_team", `agent ${agentId} is a member of team ${agent.teamId}; remove it there first`);
  if ((await tx.listTeamAgents(tenantId, teamId, teamMembersMax)).length >= teamMembersMax) return fail("limit_exceeded", `at most ${teamMembersMax} agents per team`);
  const row: AgentRow = { ...agent, teamId, updatedAtMs: nowMs };
  await tx.updateAgent(row);
  await appendEvent(context, "team.member_added", { team_id: teamId, agent: agentView(row) }, agentId);
  return ok(row);
}

/** Removes an agent from the team, with its allocations. Event: `team.member_removed`. */
export async function removeTeamMember(context: WriteContext, teamId: string, agentId: string): Promise<Result<AgentRow>> {
  const { tx, tenantId, nowMs } = context;
  const team = await loadTeam(tx, tenantId, teamId);
  if (!team) return fail("not_found", `team ${teamId} not found`);
  const agent = await tx.getAgent(tenantId, agentId);
  if (!agent || agent.teamId !== teamId) return fail("not_found", `agent ${agentId} is not a member of team ${teamId}`);
  const row: AgentRow = { ...agent, teamId: null, updatedAtMs: nowMs };
  await tx.updateAgent(row);
  const allocations = team.body.allocations.filter((a) => a.agent_id !== agentId);
  if (allocations.length !== team.body.allocations.length) await saveRecord(tx, { ...team, updatedAtMs: nowMs, body: { ...team.body, allocations } }, false);
  await appendEvent(context, "team.member_removed", { team_id: teamId, agent: agentView(row) }, agentId);
  return ok(row);
}

/**
 * Sets an agent's allocation from one pool to `amount` (0 removes it). The allocations of the pool
 * may not sum past it (`allocation_exceeds_pool`). Event: `team.allocation_set`.
 */
export async function setAllocation(context: WriteContext, teamId: string, input: TeamAllocation): Promise<Result<TeamRecord>> {
  const { tx, tenantId, nowMs } = context;
  const team = await loadTeam(tx, tenantId, teamId);
  if (!team) return fail("not_found", `team ${teamId} not found`);
  const agent = await tx.getAgent(tenantId, input.agent_id);
  if (!agent || agent.teamId !== teamId) return fail("not_found", `agent ${input.agent_id} is not a member of team ${teamId}`);
  const pool = team.body.pools.find((p) => poolKey(p) === poolKey(input));
  if (!pool) return fail("team_pool_not_found", `team ${teamId} has no ${input.period} pool in ${input.currency}`);
  const others = team.body.allocations.filter((a) => !(a.agent_id === input.agent_id && poolKey(a) === poolKey(input)));
  const allocated = others.filter((a) => poolKey(a) === poolKey(input)).reduce((sum, a) => sum + a.amount, 0);
  if (allocated + input.amount > pool.amount) {
    return fail("allocation_exceeds_pool", `${formatMinor(allocated, pool.currency)} of the ${formatMinor(pool.amount, pool.currency)} ${pool.period} pool is allocated to other agents; ${formatMinor(pool.amount - allocated, pool.currency)} is left`);
  }
  const allocations = input.amount === 0 ? others : [...others, { agent_id: input.agent_id, period: input.period, currency: input.currency, amount: input.amount }];
  if (allocations.length > teamAllocationsMax) return fail("limit_exceeded", `at most ${teamAllocationsMax} allocations per team`);
  const saved: TeamRecord = { ...team, updatedAtMs: nowMs, body: { ...team.body, allocations } };
  await saveRecord(tx, saved, false);
  await appendEvent(context, "team.allocation_set", { team_id: teamId, allocation: { agent_id: input.agent_id, period: input.period, currency: input.currency, amount: input.amount, amount_display: formatMinor(input.amount, input.currency) } }, input.agent_id);
  return ok(saved);
}

/** The agent's allocations in `currency`, as budgets of the policy engine. */
export function allocationBudgets(team: TeamRecord | null, agentId: string, currency: string): Budget[] {
  if (!team) return [];
  return team.body.allocations.filter((a) => a.agent_id === agentId && a.currency === currency).map((a) => ({ period: a.period, amountMinor: a.amount }));
}

/** The ids of the team's members (every agent whose spend its pools count). */
export async function teamMemberIds(reader: StoreReader, tenantId: string, teamId: string): Promise<string[]> {
  return (await reader.listTeamAgents(tenantId, teamId, teamMembersMax)).map((agent) => agent.id);
}

/** The team's pools in `currency` as shared windows of a member's decision, with what the members spent in each. */
export async function teamWindows(reader: StoreReader, team: TeamRecord, currency: string, nowMs: number): Promise<SharedWindow[]> {
  const pools = team.body.pools.filter((pool) => pool.currency === currency);
  if (pools.length === 0) return [];
  const members = await teamMemberIds(reader, team.tenantId, team.id);
  const windows: SharedWindow[] = [];
  for (const pool of pools) {
    const spent = await reader.sumSpendsOf(team.tenantId, members, pool.currency, windowStartMs(pool.period, nowMs));
    windows.push({ reason: "team_pool_exceeded", key: `team_pool_${pool.period}`, period: pool.period, currency: pool.currency, limitMinor: pool.amount, spentMinor: spent.amountMinor });
  }
  return windows;
}

/** What each pool has been used for now (the team view), keyed `period/currency`. */
export async function teamUsage(reader: StoreReader, team: TeamRecord, nowMs: number): Promise<Map<string, PoolUsage>> {
  const members = await teamMemberIds(reader, team.tenantId, team.id);
  const usage = new Map<string, PoolUsage>();
  for (const pool of team.body.pools) {
    const sinceMs = windowStartMs(pool.period, nowMs);
    const total = await reader.sumSpendsOf(team.tenantId, members, pool.currency, sinceMs);
    const held = await reader.sumHeldSpendsOf(team.tenantId, members, pool.currency, sinceMs);
    usage.set(poolKey(pool), { allocated: allocatedOf(team, pool), spent: total.amountMinor - held, held });
  }
  return usage;
}

/** Whether `userId` is named a manager of the team. */
export function isTeamManager(team: TeamRecord, userId: string): boolean {
  return team.body.manager_ids.includes(userId);
}
