/**
 * An agent's lineage (issue 15): the agents that spawned it (up to `spawnDepthMax` parents) and
 * the agents it spawned. A parent's limits bound its whole subtree: every window of the parent
 * (its policy's amount limits, its budgets and team allocations) counts the spends of the parent
 * and all its descendants, and a descendant's decision meets each parent's windows as shared
 * windows (`parentWindows`), decided with its own limits in the same write. Spawning therefore
 * never multiplies what a parent may spend.
 */
import { agentDescendantsMax, spawnDepthMax } from "../limits.js";
import { periods, windowStartMs, type Period, type SharedWindow } from "../policy/policy.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { invariant } from "../result.js";
import type { SpendSum } from "./records.js";
import { engineBudgets, enginePolicy, loadBudgets, loadPolicy, type AgentPolicy } from "./policies.js";
import { allocationBudgets, loadTeam } from "./teams.js";

/** The agent and every agent below it, breadth first (at most `agentDescendantsMax` below it). */
export async function subtreeIds(reader: StoreReader, tenantId: string, agentId: string): Promise<string[]> {
  const ids = [agentId];
  for (let next = 0; next < ids.length && ids.length <= agentDescendantsMax; next++) {
    const children = await reader.listChildAgents(tenantId, ids[next]!, agentDescendantsMax);
    for (const child of children) ids.push(child.id);
  }
  return ids.slice(0, agentDescendantsMax + 1);
}

/** The agents that spawned `agent`, nearest first. */
export async function ancestorsOf(reader: StoreReader, agent: AgentRow): Promise<AgentRow[]> {
  const ancestors: AgentRow[] = [];
  for (let parentId = agent.parentAgentId; parentId !== null; ) {
    invariant(ancestors.length < spawnDepthMax, `agent ${agent.id} is deeper than ${spawnDepthMax}`);
    const parent = await reader.getAgent(agent.tenantId, parentId);
    invariant(parent, `agent ${agent.id}'s parent ${parentId} exists`);
    ancestors.push(parent);
    parentId = parent.parentAgentId;
  }
  return ancestors;
}

/** Spends of a set of agents after `sinceMs` (one agent: the plain per-agent sum). */
export async function sumSpendsOfSet(reader: StoreReader, tenantId: string, agentIds: readonly string[], currency: string, sinceMs: number): Promise<SpendSum> {
  return agentIds.length === 1 ? reader.sumSpends(tenantId, agentIds[0]!, currency, sinceMs) : reader.sumSpendsOf(tenantId, agentIds, currency, sinceMs);
}

/** An agent's own spending limits: its policy, its budgets and its team allocations, in the policy's currency. */
export async function agentLimits(reader: StoreReader, agent: AgentRow): Promise<{ policy: AgentPolicy; budgets: Array<{ period: Period; amountMinor: number }> }> {
  const wallet = await reader.getAccount(agent.tenantId, agent.walletAccountId);
  invariant(wallet, `agent ${agent.id} has its wallet`);
  const policy = await loadPolicy(reader, agent.tenantId, agent.id, wallet.currency);
  const team = agent.teamId === null ? null : await loadTeam(reader, agent.tenantId, agent.teamId);
  const currency = policy.policy.currency;
  return { policy, budgets: [...engineBudgets(await loadBudgets(reader, agent.tenantId, agent.id), currency), ...allocationBudgets(team, agent.id, currency)] };
}

/** The least of an agent's amount limits per period (policy amount limit, budgets, allocations); absent when unlimited. */
export function amountCeilings(limits: Awaited<ReturnType<typeof agentLimits>>): Partial<Record<Period, number>> {
  const policy = enginePolicy(limits.policy.policy);
  const ceilings: Partial<Record<Period, number>> = {};
  for (const period of periods) {
    const values = [policy.amountMaxMinor[period], ...limits.budgets.filter((b) => b.period === period).map((b) => b.amountMinor)].filter((v): v is number => v !== undefined);
    if (values.length > 0) ceilings[period] = Math.min(...values);
  }
  return ceilings;
}

/** Each parent's amount ceilings as shared windows of `agent`'s decision, with what the parent's subtree spent. */
export async function parentWindows(reader: StoreReader, agent: AgentRow, nowMs: number): Promise<SharedWindow[]> {
  const windows: SharedWindow[] = [];
  for (const parent of await ancestorsOf(reader, agent)) {
    const limits = await agentLimits(reader, parent);
    const currency = limits.policy.policy.currency;
    const ceilings = amountCeilings(limits);
    const subtree = await subtreeIds(reader, agent.tenantId, parent.id);
    for (const period of periods) {
      const limitMinor = ceilings[period];
      if (limitMinor === undefined) continue;
      const spent = await sumSpendsOfSet(reader, agent.tenantId, subtree, currency, windowStartMs(period, nowMs));
      windows.push({ reason: "parent_budget_exceeded", key: `parent_${period}`, period, currency, limitMinor, spentMinor: spent.amountMinor });
    }
  }
  return windows;
}
