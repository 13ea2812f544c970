/**
 * `bursar teams create|list|show|update|members|allocate|allocations` (docs/teams.md): teams of
 * agents with budget pools (owners; a team's managers change its pools and allocations with a
 * `teams:manage` token), and `bursar budget-requests create|list|show|approve|reject`: the stored
 * agent asks for more budget (an owner asks for one with `--agent`), a manager or owner decides.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import type { BudgetRequest, BudgetRequestAction, BudgetRequestStatus, Period, Team, TeamPoolParams } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { action, agentClient, anyClient, apiCommand, ownerClient, UsageError, type CommonOptions } from "./context.js";
import { wholeNumber } from "./spend.js";

export const periods: readonly Period[] = ["daily", "weekly", "monthly", "all_time"];
const requestStatuses: readonly BudgetRequestStatus[] = ["pending", "approved", "rejected"];
const actionKinds: ReadonlyArray<BudgetRequestAction["kind"]> = ["payment", "service_request", "spend_authorization"];

/** `--pool monthly:GBP:500000`, repeatable. */
function pool(value: string, previous: TeamPoolParams[] = []): TeamPoolParams[] {
  const [period, currency, amount, ...rest] = value.split(":");
  if (rest.length > 0 || !periods.includes(period as Period) || !currency || !/^\d{1,15}$/.test(amount ?? "")) {
    throw new InvalidArgumentError(`Expected period:currency:amount, e.g. monthly:GBP:500000 (period one of ${periods.join(", ")}).`);
  }
  return [...previous, { period: period as Period, currency: currency.toUpperCase(), amount: Number(amount) }];
}
const collect = (value: string, previous: string[] = []) => [...previous, value];

const money = (amount: number | undefined, display: string | undefined, currency: string) => (amount === undefined ? null : `${display ?? amount} ${currency}`);
const poolRows = (team: Team) =>
  team.pools.map((p) => ({
    period: p.period,
    pool: `${p.amount_display} ${p.currency}`,
    allocated: p.allocated,
    spent: p.spent ?? null,
    held: p.held ?? null,
    remaining: money(p.remaining, p.remaining_display, p.currency),
    unallocated: p.unallocated ?? null,
  }));
const teamRow = (team: Team) => ({
  id: team.id,
  name: team.name,
  pools: team.pools.map((p) => `${p.period}:${p.amount_display} ${p.currency}`),
  members_allocated: team.allocations.length,
  managers: team.manager_ids,
  created_at: team.created_at,
});
const allocationRows = (team: Team) => team.allocations.map((a) => ({ agent: a.agent_id, period: a.period, amount: `${a.amount_display} ${a.currency}` }));
const teamView = (team: Team) =>
  fields({ id: team.id, name: team.name, description: team.description, managers: team.manager_ids }) +
  `\nPools:\n${table(poolRows(team))}` +
  `\nAllocations:\n${table(allocationRows(team))}`;

const requestRow = (request: BudgetRequest) => ({
  id: request.id,
  agent: request.agent_id,
  amount: `${request.amount_display} ${request.currency}`,
  period: request.period,
  status: request.status,
  approved: request.approved_amount,
  reason: request.reason,
  created_at: request.created_at,
});
const requestFields = (request: BudgetRequest) =>
  fields({ ...requestRow(request), team: request.team_id, action: request.action, raised: request.raised, decided_by: request.decided_by ? `${request.decided_by.type} ${request.decided_by.id}` : null, note: request.note });

type PoolOptions = CommonOptions & { name?: string; description?: string; manager?: string[]; pool?: TeamPoolParams[] };

export function teamCommands(program: Command): void {
  const teams = program.command("teams").description("Teams of agents with budget pools and allocations (owners and managers)");
  apiCommand(teams, "create", "Create a team with its managers and budget pools")
    .requiredOption("--name <name>", "the team's name")
    .option("--description <text>", "what the team does")
    .option("--manager <usr_id>", "a member of the tenant who manages it (repeatable)", collect)
    .option("--pool <period:currency:amount>", "a budget pool in minor units, e.g. monthly:GBP:500000 (repeatable)", pool)
    .action(
      action(async (options: PoolOptions & { name: string }) => {
        const team = await ownerClient(options).teams.create({ name: options.name, description: options.description, manager_ids: options.manager, pools: options.pool });
        print(options.json, team, () => teamView(team));
      }),
    );
  apiCommand(teams, "list", "List teams (an agent sees its own)")
    .option("--limit <n>", "how many", wholeNumber)
    .action(
      action(async (options: CommonOptions & { limit?: number }) => {
        const page = await anyClient(options).teams.list({ limit: options.limit });
        print(options.json, page.data, () => table(page.data.map(teamRow)));
      }),
    );
  apiCommand(teams, "show", "A team's pools (amount, allocated, spent, held, remaining) and allocations")
    .argument("<team_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const team = await anyClient(options).teams.get(id);
        print(options.json, team, () => teamView(team));
      })(options, command),
    );
  apiCommand(teams, "update", "Change a team's name, description, managers or pools (a list given replaces the old one)")
    .argument("<team_id>")
    .option("--name <name>", "the new name")
    .option("--description <text>", "the new description")
    .option("--manager <usr_id>", "the managers (repeatable; replaces them)", collect)
    .option("--pool <period:currency:amount>", "the pools (repeatable; replaces them)", pool)
    .action((id: string, options: PoolOptions, command: Command) =>
      action(async () => {
        const team = await ownerClient(options).teams.update(id, { name: options.name, description: options.description, manager_ids: options.manager, pools: options.pool });
        print(options.json, team, () => teamView(team));
      })(options, command),
    );

  const members = teams.command("members").description("The agents of a team");
  apiCommand(members, "list", "The team's agents, oldest first", { isDefault: true })
    .argument("<team_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const list = await anyClient(options).teams.members.list(id);
        print(options.json, list.data, () => table(list.data.map((agent) => ({ id: agent.id, name: agent.name, status: agent.status }))));
      })(options, command),
    );
  apiCommand(members, "add", "Add an agent to the team: its spending counts against the pools")
    .argument("<team_id>")
    .argument("<agent_id>")
    .action((teamId: string, agentId: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const agent = await ownerClient(options).teams.members.add(teamId, agentId);
        print(options.json, agent, () => fields({ id: agent.id, name: agent.name, team: agent.team_id }));
      })(options, command),
    );
  apiCommand(members, "remove", "Remove an agent from the team, with its allocations")
    .argument("<team_id>")
    .argument("<agent_id>")
    .action((teamId: string, agentId: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const agent = await ownerClient(options).teams.members.delete(teamId, agentId);
        print(options.json, agent, () => fields({ id: agent.id, name: agent.name, team: agent.team_id }));
      })(options, command),
    );

  apiCommand(teams, "allocate", "Carve a member's budget out of a pool (0 removes it); never past the pool")
    .argument("<team_id>")
    .requiredOption("--agent <id>", "the member (agt_…)")
    .addOption(new Option("--period <period>", "the pool's period").choices(periods).makeOptionMandatory())
    .requiredOption("--amount <minor>", "the member's share over the period, in minor units", wholeNumber)
    .option("--currency <code>", "the pool's currency (when the team has several for the period)")
    .action((id: string, options: CommonOptions & { agent: string; period: Period; amount: number; currency?: string }, command: Command) =>
      action(async () => {
        const team = await ownerClient(options).teams.allocations.create(id, { agent_id: options.agent, period: options.period, amount: options.amount, currency: options.currency });
        print(options.json, team, () => teamView(team));
      })(options, command),
    );
  apiCommand(teams, "allocations", "The team's allocations")
    .argument("<team_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const team = await anyClient(options).teams.get(id);
        print(options.json, team.allocations, () => table(allocationRows(team)));
      })(options, command),
    );

  const requests = program.command("budget-requests").description("Budget requests: an agent asks for more, a manager or owner decides");
  apiCommand(requests, "create", "Ask for more budget (the stored agent; owners for an agent with --agent)")
    .requiredOption("--amount <minor>", "how much more, in minor units", wholeNumber)
    .addOption(new Option("--period <period>", "the budget's period").choices(periods).makeOptionMandatory())
    .requiredOption("--reason <text>", "why, for whoever decides")
    .option("--currency <code>", "default: the agent's policy currency")
    .addOption(new Option("--action-kind <kind>", "the blocked action to retry once raised").choices(actionKinds))
    .option("--action-amount <minor>", "the blocked action's amount", wholeNumber)
    .option("--action-payee <payee>", "the blocked payment's payee")
    .option("--action-request-id <id>", "the request_id of the denied call")
    .option("--agent <id>", "owners: ask for this agent")
    .action(
      action(
        async (
          options: CommonOptions & { amount: number; period: Period; reason: string; currency?: string; actionKind?: BudgetRequestAction["kind"]; actionAmount?: number; actionPayee?: string; actionRequestId?: string; agent?: string },
        ) => {
          const bursar = options.agent ? ownerClient(options) : agentClient(options);
          if (options.actionKind && !options.currency) throw new UsageError("--action-kind needs --currency (the blocked action's currency)");
          const blocked: BudgetRequestAction | undefined = options.actionKind
            ? { kind: options.actionKind, amount: options.actionAmount ?? options.amount, currency: options.currency!, payee: options.actionPayee, request_id: options.actionRequestId }
            : undefined;
          const created = await bursar.budgetRequests.create({ agent_id: options.agent, amount: options.amount, period: options.period, reason: options.reason, currency: options.currency, action: blocked });
          print(options.json, created, () => requestFields(created));
        },
      ),
    );
  apiCommand(requests, "list", "Budget requests, newest first (an agent sees its own)")
    .addOption(new Option("--status <status>", "only this status").choices(requestStatuses))
    .option("--agent <id>", "owners: one agent's")
    .option("--limit <n>", "how many", wholeNumber)
    .action(
      action(async (options: CommonOptions & { status?: BudgetRequestStatus; agent?: string; limit?: number }) => {
        const page = await anyClient(options).budgetRequests.list({ status: options.status, agent_id: options.agent, limit: options.limit });
        print(options.json, page.data, () => table(page.data.map(requestRow)));
      }),
    );
  apiCommand(requests, "show", "One budget request and its decision")
    .argument("<request_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const found = await anyClient(options).budgetRequests.get(id);
        print(options.json, found, () => requestFields(found));
      })(options, command),
    );
  apiCommand(requests, "approve", "Approve (all, or --amount less): raises the agent's allocation or budget")
    .argument("<request_id>")
    .option("--amount <minor>", "approve less than asked", wholeNumber)
    .option("--note <text>", "said to the agent")
    .action((id: string, options: CommonOptions & { amount?: number; note?: string }, command: Command) =>
      action(async () => {
        const decided = await ownerClient(options).budgetRequests.approve(id, { amount: options.amount, note: options.note });
        print(options.json, decided, () => requestFields(decided));
      })(options, command),
    );
  apiCommand(requests, "reject", "Reject a budget request")
    .argument("<request_id>")
    .option("--note <text>", "said to the agent")
    .action((id: string, options: CommonOptions & { note?: string }, command: Command) =>
      action(async () => {
        const decided = await ownerClient(options).budgetRequests.reject(id, { note: options.note });
        print(options.json, decided, () => requestFields(decided));
      })(options, command),
    );
}
