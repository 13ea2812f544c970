/** `bursar events tail`: follow the tenant's events (owner) or the agent's own (agent credentials). */
import type { Command } from "commander";
import { action, anyClient, apiCommand, type CommonOptions } from "./context.js";

export function eventCommands(program: Command): void {
  const events = program.command("events").description("The tenant's events");
  apiCommand(events, "tail", "Print events as they happen (resumes by itself after a dropped connection)")
    .option("--type <patterns>", "event types, comma-separated: exact, prefix.* or *")
    .option("--agent <id>", "only events about this agent")
    .option("--after-seq <seq>", "replay from after this seq first", Number)
    .option("--max <n>", "stop after n events", Number)
    .action(
      action(async (options: CommonOptions & { type?: string; agent?: string; afterSeq?: number; max?: number }) => {
        const bursar = anyClient(options);
        const controller = new AbortController();
        process.once("SIGINT", () => controller.abort());
        let count = 0;
        for await (const event of bursar.events.stream({ type: options.type, agent_id: options.agent, after_seq: options.afterSeq, signal: controller.signal })) {
          process.stdout.write(options.json ? JSON.stringify(event) + "\n" : `${String(event.seq).padStart(6)}  ${event.created_at}  ${event.type.padEnd(32)}  ${event.agent_id ?? "-"}  ${event.id}\n`);
          if (options.max !== undefined && ++count >= options.max) break;
        }
        await bursar.close();
      }),
    );
}
