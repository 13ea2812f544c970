/** `bursar agents create|list` (owner). */
import type { Command } from "commander";
import { fields, print, table } from "../output.js";
import { action, apiCommand, ownerClient, type CommonOptions } from "./context.js";

export function agentCommands(program: Command): void {
  const agents = program.command("agents").description("Manage agents (owner)");
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
}
