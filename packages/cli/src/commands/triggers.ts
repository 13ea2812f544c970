/**
 * `bursar triggers create|list|show|update|delete|fires|fire` (owner): an external event bound to
 * a governed action of an agent. `fire` signs the event with the trigger's secret (Standard
 * Webhooks, `--secret` or BURSAR_TRIGGER_SECRET) as the external system would, and exits 5 when
 * the governed outcome is not `executed`. And `bursar usage`: spent, held and counts per bucket.
 */
import fs from "node:fs";
import { Option, type Command } from "commander";
import type { Trigger, TriggerFire, TriggerOperation, TriggerStatus, UsageBucket, UsageGroupBy } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { action, anyClient, apiCommand, exitCodes, ownerClient, UsageError, type CommonOptions } from "./context.js";
import { wholeNumber } from "./spend.js";

const operations: readonly TriggerOperation[] = ["payment_intents.create", "service_requests.create"];
const groupings: readonly UsageGroupBy[] = ["day", "agent", "team", "payee", "operation"];

/** A JSON object given inline or as `@file`. */
function jsonObject(value: string, what: string): Record<string, unknown> {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = fs.readFileSync(value.slice(1), "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${what} from ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

const triggerRow = (trigger: Trigger) => ({ id: trigger.id, name: trigger.name, agent: trigger.agent_id, operation: trigger.operation, status: trigger.status, last_fired_at: trigger.last_fired_at });
const triggerFields = (trigger: Trigger) => fields({ ...triggerRow(trigger), description: trigger.description, template: trigger.payload_template, created_at: trigger.created_at });
const fireRow = (fire: TriggerFire) => ({
  id: fire.id,
  webhook_id: fire.webhook_id,
  outcome: fire.outcome,
  made: fire.payment_intent_id ?? fire.service_request_id,
  approval: fire.approval_id,
  reasons: fire.reason_codes,
  error: fire.error ? `${fire.error.code}: ${fire.error.detail}` : null,
  created_at: fire.created_at,
});

export function triggerCommands(program: Command): void {
  const triggers = program.command("triggers").description("Triggers: external signed events bound to an agent's governed action (owner)");
  apiCommand(triggers, "create", "Bind an event to an operation of an agent; prints the signing secret once")
    .requiredOption("--agent <id>", "the agent that acts (agt_…)")
    .requiredOption("--name <name>", "the trigger's name")
    .addOption(new Option("--operation <operation>", "what the event makes").choices(operations).makeOptionMandatory())
    .requiredOption("--template <json|@file>", "the operation's body; strings may hold {{field}} placeholders filled from the event")
    .option("--description <text>", "what it is for")
    .action(
      action(async (options: CommonOptions & { agent: string; name: string; operation: TriggerOperation; template: string; description?: string }) => {
        const trigger = await ownerClient(options).triggers.create({ agent_id: options.agent, name: options.name, operation: options.operation, payload_template: jsonObject(options.template, "--template"), description: options.description });
        print(options.json, trigger, () => triggerFields(trigger) + `\nSecret (shown once; the sender signs with it):\n  ${trigger.secret}\n`);
      }),
    );
  apiCommand(triggers, "list", "List triggers")
    .option("--agent <id>", "one agent's")
    .addOption(new Option("--status <status>", "only this status").choices(["active", "disabled", "deleted"]))
    .option("--limit <n>", "how many", wholeNumber)
    .action(
      action(async (options: CommonOptions & { agent?: string; status?: TriggerStatus; limit?: number }) => {
        const page = await ownerClient(options).triggers.list({ agent_id: options.agent, status: options.status, limit: options.limit });
        print(options.json, page.data, () => table(page.data.map(triggerRow)));
      }),
    );
  apiCommand(triggers, "show", "One trigger (never its secret)")
    .argument("<trigger_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const trigger = await ownerClient(options).triggers.get(id);
        print(options.json, trigger, () => triggerFields(trigger));
      })(options, command),
    );
  apiCommand(triggers, "update", "Change a trigger's name, description, template or status")
    .argument("<trigger_id>")
    .option("--name <name>", "the new name")
    .option("--description <text>", "the new description")
    .option("--template <json|@file>", "the new payload template")
    .addOption(new Option("--status <status>", "disable or re-enable").choices(["active", "disabled"]))
    .action((id: string, options: CommonOptions & { name?: string; description?: string; template?: string; status?: "active" | "disabled" }, command: Command) =>
      action(async () => {
        const trigger = await ownerClient(options).triggers.update(id, {
          name: options.name, description: options.description, status: options.status, payload_template: options.template === undefined ? undefined : jsonObject(options.template, "--template"),
        });
        print(options.json, trigger, () => triggerFields(trigger));
      })(options, command),
    );
  apiCommand(triggers, "delete", "Delete a trigger: its fires are refused from now on")
    .argument("<trigger_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const trigger = await ownerClient(options).triggers.delete(id);
        print(options.json, trigger, () => triggerFields(trigger));
      })(options, command),
    );
  apiCommand(triggers, "fires", "The fires a trigger accepted, newest first")
    .argument("<trigger_id>")
    .option("--limit <n>", "how many", wholeNumber)
    .action((id: string, options: CommonOptions & { limit?: number }, command: Command) =>
      action(async () => {
        const page = await ownerClient(options).triggers.fires(id, { limit: options.limit });
        print(options.json, page.data, () => table(page.data.map(fireRow)));
      })(options, command),
    );
  apiCommand(triggers, "fire", "Send an event signed with the trigger's secret; exit 5 unless executed")
    .argument("<trigger_id>")
    .requiredOption("--event <json|@file>", "the event (a JSON object)")
    .addOption(new Option("--secret <whsec>", "the trigger's secret").env("BURSAR_TRIGGER_SECRET").makeOptionMandatory())
    .option("--webhook-id <id>", "the message id; a repeat with the same id acts once (default: a new one)")
    .action((id: string, options: CommonOptions & { event: string; secret: string; webhookId?: string }, command: Command) =>
      action(async () => {
        const fire = await anyClient(options).triggers.fire(id, jsonObject(options.event, "--event"), { secret: options.secret, webhookId: options.webhookId });
        print(options.json, fire, () => fields(fireRow(fire)));
        if (fire.outcome !== "executed") process.exitCode = exitCodes.notPassed;
      })(options, command),
    );

  const bucketRow = (bucket: UsageBucket) => ({ key: bucket.key, currency: bucket.currency, spent: bucket.spent_display, held: bucket.held_display, count: bucket.count });
  apiCommand(program, "usage", "Spent, held and counts per day, agent, team, payee or operation")
    .option("--agent <id>", "one agent's")
    .option("--team <id>", "one team's")
    .option("--from <date>", "RFC 3339 date or time (default: 30 days ago)")
    .option("--to <date>", "RFC 3339 date (included) or time")
    .addOption(new Option("--group-by <bucket>", "the buckets").choices(groupings))
    .action(
      action(async (options: CommonOptions & { agent?: string; team?: string; from?: string; to?: string; groupBy?: UsageGroupBy }) => {
        const usage = await anyClient(options).usage.get({ agent_id: options.agent, team_id: options.team, from: options.from, to: options.to, group_by: options.groupBy });
        print(options.json, usage, () => table(usage.data.map(bucketRow)) + `\nTotals (${usage.from} … ${usage.to}):\n${table(usage.totals.map(bucketRow))}${usage.truncated ? "(truncated)\n" : ""}`);
      }),
    );
}
