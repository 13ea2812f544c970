/**
 * `bursar chat [message]`: one turn with the payment agent as the stored agent (or, with an owner
 * token and `--agent`, for that agent), streamed: tool calls as they run, then the reply.
 * `--json` prints every stream event as one JSON line. Without a message, reads it from stdin.
 */
import type { Command } from "commander";
import { chooseAgent } from "./agent-choice.js";
import { action, agentClient, apiCommand, credentialStore, ownerClient, ownerToken, selfCommand, UsageError, type CommonOptions } from "./context.js";

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text.trim();
}

export function chatCommands(program: Command): void {
  apiCommand(program, "chat", "Ask the payment agent (\"Pay £500 to Bob for the April invoice\")")
    .argument("[message...]", "what to ask; read from stdin when absent")
    .option("--conversation <id>", "continue this conversation")
    .option("--agent <id>", "owners: the agent to act for")
    .action((words: string[], options: CommonOptions & { conversation?: string; agent?: string }, command: Command) =>
      action(async () => {
        const message = words.length > 0 ? words.join(" ") : await readStdin();
        if (!message) throw new UsageError(`say something: ${selfCommand()} chat "What is my balance?"`);
        // An owner (a token given or found) acts for --agent, or the tenant's only agent, or is
        // asked which; without an owner token, the stored agent chats for itself.
        const asOwner = options.agent !== undefined || (ownerToken(options) !== null && !(await credentialStore(options).load()));
        const client = asOwner ? ownerClient(options) : agentClient(options);
        const agentId = asOwner ? await chooseAgent(options, client) : undefined;
        for await (const event of client.chat.stream({ message, conversation_id: options.conversation, agent_id: agentId })) {
          if (options.json) {
            process.stdout.write(JSON.stringify(event) + "\n");
            continue;
          }
          if (event.type === "tool_started") process.stderr.write(`… ${event.tool_name}\n`);
          else if (event.type === "tool_failed") process.stderr.write(`✗ ${event.tool_name}: ${event.error.message}\n`);
          else if (event.type === "approval_required") process.stderr.write(`⏸ approval ${event.approval_id} needed (${selfCommand()} approvals approve ${event.approval_id})\n`);
          else if (event.type === "reply") process.stdout.write(`${event.text}\n`);
          else if (event.type === "error") throw new Error(`${event.code}: ${event.message}`);
          else if (event.type === "done") process.stderr.write(`(conversation ${event.conversation_id})\n`);
        }
      })(options, command),
    );
}
