/**
 * `bursar agents create|list|clone|health|activity|disable` (owner; `health` and `activity` also
 * for the stored agent about itself) and `agents spawn|spawn-estimate`: the stored agent (scope
 * `agents:spawn`) creates a child with budgets carved from its own; `spawn-estimate` exits 5 when
 * the spawn would be refused, naming each refused field.
 */
import fs from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import type { AgentScope, Period, PolicyRules, SpawnEstimate, SpawnParams } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { agentForRead } from "./agent-choice.js";
import { action, agentClient, anyClient, apiCommand, credentialStore, exitCodes, ownerClient, UsageError, type CommonOptions } from "./context.js";
import { wholeNumber } from "./spend.js";
import { periods } from "./teams.js";

/** `--budget daily=2000`, repeatable. */
function budget(value: string, previous: SpawnParams["budgets"] = []): SpawnParams["budgets"] {
  const [period, amount, ...rest] = value.split("=");
  if (rest.length > 0 || !periods.includes(period as Period) || !/^\d{1,15}$/.test(amount ?? "")) throw new InvalidArgumentError(`Expected period=amount, e.g. daily=2000 (period one of ${periods.join(", ")}).`);
  return [...previous, { period: period as Period, amount: Number(amount) }];
}

type SpawnOptions = CommonOptions & { name: string; description?: string; budget: SpawnParams["budgets"]; scopes?: string; funding?: number; ticketExpiresIn?: number; policyFile?: string; parent?: string };

function spawnCommand(parent: Command, name: string, description: string): Command {
  return apiCommand(parent, name, description)
    .requiredOption("--name <name>", "the child's name")
    .option("--description <text>", "what the child does")
    .requiredOption("--budget <period=amount>", "a budget carved from the parent's, in minor units (repeatable)", budget)
    .option("--scopes <list>", "the child's scopes, comma-separated (default: the parent's)")
    .option("--funding <minor>", "moved from the parent's wallet to the child's at once", wholeNumber)
    .option("--ticket-expires-in <seconds>", "how long the child's registration ticket lives (default 900)", wholeNumber)
    .option("--policy-file <path>", "the child's policy as JSON, no looser than the parent's (default: a copy)")
    .option("--parent <agent_id>", "the spawning agent (default: the stored agent)");
}

async function spawnInput(options: SpawnOptions): Promise<{ parentId: string; params: SpawnParams }> {
  const parentId = options.parent ?? (await credentialStore(options).load())?.agentId;
  if (!parentId) throw new UsageError("spawning needs the spawning agent's stored credential (register it with `bursar auth agent --ticket …`), or --parent");
  let policy: PolicyRules | undefined;
  if (options.policyFile) {
    try {
      policy = JSON.parse(fs.readFileSync(options.policyFile, "utf8")) as PolicyRules;
    } catch (error) {
      throw new UsageError(`cannot read the policy file ${options.policyFile}: ${(error as Error).message}`);
    }
  }
  const scopes = options.scopes?.split(/[ ,]+/).filter(Boolean) as AgentScope[] | undefined;
  return { parentId, params: { name: options.name, description: options.description, budgets: options.budget, scopes, funding: options.funding, ticket_expires_in: options.ticketExpiresIn, policy } };
}

const planFields = (plan: Pick<SpawnEstimate, "parent_agent_id" | "spawn_depth" | "scopes" | "budgets" | "parent_remaining">) => ({
  parent: plan.parent_agent_id,
  depth: plan.spawn_depth,
  scopes: plan.scopes,
  budgets: plan.budgets.map((b) => `${b.period}=${b.amount} ${b.currency}`),
  parent_remaining: Object.entries(plan.parent_remaining).map(([period, left]) => `${period}=${left ?? "unlimited"}`),
});

export function agentCommands(program: Command): void {
  const agents = program.command("agents").description("Manage agents (owner); spawn children (agent)");
  apiCommand(agents, "create", "Create an agent with a wallet")
    .requiredOption("--name <name>", "the agent's name")
    .option("--currency <code>", "wallet currency (default GBP)")
    .action(
      action(async (options: CommonOptions & { name: string; currency?: string }) => {
        const agent = await ownerClient(options).agents.create({ name: options.name, currency: options.currency });
        print(options.json, agent, () => fields({ id: agent.id, name: agent.name, wallet: agent.wallet_account_id, status: agent.status }));
      }),
    );
  apiCommand(agents, "list", "List agents")
    .option("--limit <n>", "page size", Number)
    .action(
      action(async (options: CommonOptions & { limit?: number }) => {
        const page = await ownerClient(options).agents.list({ limit: options.limit });
        print(options.json, page.data, () => table(page.data.map((a) => ({ id: a.id, name: a.name, status: a.status, wallet: a.wallet_account_id, created_at: a.created_at }))));
      }),
    );
  apiCommand(agents, "clone", "A new agent with this one's policy, budgets and team (no credentials, empty wallet)")
    .argument("<agent_id>")
    .option("--name <name>", "the clone's name")
    .option("--description <text>", "what it does")
    .action((id: string, options: CommonOptions & { name?: string; description?: string }, command: Command) =>
      action(async () => {
        const agent = await ownerClient(options).agents.clone(id, { name: options.name, description: options.description });
        print(options.json, agent, () => fields({ id: agent.id, name: agent.name, wallet: agent.wallet_account_id, team: agent.team_id, status: agent.status }));
      })(options, command),
    );
  apiCommand(agents, "health", "What could stop the agent now: credential, wallet, limits near exhaustion, approvals")
    .argument("[agent_id]", "default: the stored agent, or an owner's only agent")
    .action((id: string | undefined, options: CommonOptions, command: Command) =>
      action(async () => {
        const client = anyClient(options);
        const agentId = id ?? (await agentForRead({ ...options }, client));
        if (!agentId) throw new UsageError("which agent? Give its id");
        const health = await client.agents.health(agentId);
        print(options.json, health, () =>
          fields({ agent: health.agent_id, status: health.status, issues: health.issues, wallet: `${health.wallet.available_display} ${health.wallet.currency} available`, approvals_pending: health.approvals.pending }) +
          (health.limits.length ? `\n${table(health.limits.map((l) => ({ limit: l.limit, max: l.max, remaining: l.remaining, near_exhaustion: l.near_exhaustion })))}` : ""),
        );
      })(options, command),
    );
  apiCommand(agents, "activity", "A page of the agent's events, newest first")
    .argument("[agent_id]", "default: the stored agent, or an owner's only agent")
    .option("--limit <n>", "how many", wholeNumber)
    .action((id: string | undefined, options: CommonOptions & { limit?: number }, command: Command) =>
      action(async () => {
        const client = anyClient(options);
        const agentId = id ?? (await agentForRead({ ...options }, client));
        if (!agentId) throw new UsageError("which agent? Give its id");
        const page = await client.agents.activity(agentId, { limit: options.limit });
        print(options.json, page.data, () => table(page.data.map((event) => ({ seq: event.seq, type: event.type, created_at: event.created_at }))));
      })(options, command),
    );
  apiCommand(agents, "disable", "Disable an agent and revoke its credentials (its children too)")
    .argument("<agent_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const agent = await ownerClient(options).agents.disable(id);
        print(options.json, agent, () => fields({ id: agent.id, name: agent.name, status: agent.status }));
      })(options, command),
    );

  spawnCommand(agents, "spawn", "The stored agent creates a child agent; prints its one-time registration ticket").action(
    action(async (options: SpawnOptions) => {
      const { parentId, params } = await spawnInput(options);
      const spawned = await agentClient(options).agents.spawn(parentId, params);
      print(options.json, spawned, () =>
        fields({ id: spawned.agent.id, name: spawned.agent.name, wallet: spawned.agent.wallet_account_id, ...planFields(spawned), ticket_expires_at: spawned.registration_ticket.expires_at }) +
        `\nRegistration ticket (shown once; give it to the child):\n  ${spawned.registration_ticket.ticket ?? "(not shown again)"}\n` +
        `\nThe child registers its own key with:\n  bursar auth agent --ticket <ticket>\n`,
      );
    }),
  );
  spawnCommand(agents, "spawn-estimate", "Would this spawn pass? Names each refused field (exit 5 if refused); changes nothing").action(
    action(async (options: SpawnOptions) => {
      const { parentId, params } = await spawnInput(options);
      const estimate = await agentClient(options).agents.spawnEstimate(parentId, params);
      print(options.json, estimate, () =>
        fields({ allowed: estimate.allowed, code: estimate.code, ...planFields(estimate) }) + (estimate.errors.length ? `\n${table(estimate.errors.map((e) => ({ field: e.path, code: e.code, detail: e.detail })))}` : ""),
      );
      if (!estimate.allowed) process.exitCode = exitCodes.notPassed;
    }),
  );
}
