/**
 * Which agent an owner command acts for: `--agent`, else the tenant's only agent (said on
 * stderr), else a usage error that lists the agents to choose from. A stored agent credential
 * acts for itself.
 */
import type { Bursar } from "@bursar/sdk";
import { credentialStore, ownerToken, selfCommand, UsageError, type CommonOptions } from "./context.js";

/** Listed when asking which agent: enough to choose from, bounded. */
const agentChoicesMax = 20;

export async function chooseAgent(options: CommonOptions & { agent?: string }, owner: Bursar): Promise<string> {
  if (options.agent) return options.agent;
  const page = await owner.agents.list({ limit: agentChoicesMax });
  const active = page.data.filter((agent) => agent.status !== "disabled");
  if (active.length === 1) {
    process.stderr.write(`(acting for ${active[0]!.id} "${active[0]!.name}", the tenant's only agent; --agent chooses another)\n`);
    return active[0]!.id;
  }
  if (active.length === 0) throw new UsageError(`the tenant has no agent yet: create one with \`${selfCommand()} agents create --name …\`.`);
  const list = active.map((agent) => `  ${agent.id}  ${agent.name}`).join("\n");
  throw new UsageError(`which agent? Give --agent with one of:\n${list}${page.hasMore ? "\n  …" : ""}`);
}

/**
 * The agent a read is about: `--agent` or the only agent for an owner, the stored agent itself
 * otherwise. Returns null when the stored agent is the caller (the API then answers for itself).
 */
export async function agentForRead(options: CommonOptions & { agent?: string }, client: Bursar): Promise<string | null> {
  if (ownerToken(options)) return chooseAgent(options, client);
  if (options.agent) return options.agent;
  const stored = await credentialStore(options).load();
  return stored?.agentId ?? null;
}
