/** `bursar tickets create --agent <id>` (owner): a one-time registration ticket for an agent host. */
import type { Scope } from "@bursar/sdk";
import type { Command } from "commander";
import { fields, print } from "../output.js";
import { action, apiCommand, ownerClient, selfCommand, type CommonOptions } from "./context.js";

const defaultScopes = "agents:execute,transactions:read,events:read";

export function ticketCommands(program: Command): void {
  const tickets = program.command("tickets").description("Registration tickets (owner)");
  apiCommand(tickets, "create", "Mint a one-time registration ticket for an agent")
    .requiredOption("--agent <id>", "the agent (agt_…)")
    .option("--scopes <list>", "scope ceiling, comma-separated", defaultScopes)
    .option("--expires-in <seconds>", "lifetime (default 900)", Number)
    .action(
      action(async (options: CommonOptions & { agent: string; scopes: string; expiresIn?: number }) => {
        const scopes = options.scopes.split(/[ ,]+/).filter(Boolean) as Scope[];
        const ticket = await ownerClient(options).registrationTickets.create({ agent_id: options.agent, scopes, expires_in: options.expiresIn });
        print(options.json, ticket, () =>
          fields({ ticket: ticket.ticket, agent_id: ticket.agent_id, scopes: ticket.scopes, expires_at: ticket.expires_at }) +
          `\nOn the agent's host (once, before it expires):\n  ${selfCommand()} auth agent --ticket ${ticket.ticket}\n`,
        );
      }),
    );
}
