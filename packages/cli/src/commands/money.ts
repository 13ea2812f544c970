/**
 * `bursar balance`, `accounts list|deposit`, `payees list|create|show`,
 * `policy show|set|check`, `budgets [set]`: the money and the rules around it. Owners act for an
 * agent with `--agent` (or the tenant's only agent); a registered agent reads its own.
 */
import type { Command } from "commander";
import type { PolicyPatch } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { agentForRead, chooseAgent } from "./agent-choice.js";
import { action, anyClient, apiCommand, ownerClient, UsageError, type CommonOptions } from "./context.js";

type AgentOptions = CommonOptions & { agent?: string };

/** `12345` → 12345, `null` → null, `true`, `[...]`/`{...}` as JSON; anything else is the string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `amount_max_minor.daily 100000` → `{ amount_max_minor: { daily: 100000 } }`. */
export function policyPatchOf(field: string, value: string): PolicyPatch {
  const path = field.split(".");
  if (path.length > 2 || path.some((part) => !/^[a-z_]+$/.test(part))) throw new UsageError(`${field} is not a policy field (e.g. approval_threshold_minor, amount_max_minor.daily)`);
  const parsed = parseValue(value);
  return (path.length === 1 ? { [path[0]!]: parsed } : { [path[0]!]: { [path[1]!]: parsed } }) as PolicyPatch;
}

const intNumber = (text: string) => {
  const number = Number(text);
  if (!Number.isSafeInteger(number)) throw new UsageError(`${text} is not a whole number (amounts are minor units: 50000 = 500.00)`);
  return number;
};

export function moneyCommands(program: Command): void {
  apiCommand(program, "balance", "An agent's wallet balance (owners: --agent, or the only agent)")
    .option("--agent <id>", "owners: the agent")
    .action(
      action(async (options: AgentOptions) => {
        const client = anyClient(options);
        const agentId = await agentForRead(options, client);
        const balance = await client.balance.get(agentId ? { agent_id: agentId } : {});
        print(options.json, balance, () => fields({ agent: balance.agent_id, balance: `${balance.balance_display} ${balance.currency}`, available: `${balance.available_display} ${balance.currency}`, account: balance.account.id }));
      }),
    );

  const accounts = program.command("accounts").description("Ledger accounts (owner)");
  apiCommand(accounts, "list", "List ledger accounts with their balances")
    .option("--limit <n>", "page size", intNumber)
    .action(
      action(async (options: CommonOptions & { limit?: number }) => {
        const page = await ownerClient(options).accounts.list({ limit: options.limit });
        print(options.json, page.data, () => table(page.data.map((a) => ({ id: a.id, kind: a.kind, name: a.name, balance: `${a.balance_display} ${a.currency}`, available: a.available_display, created_at: a.created_at }))));
      }),
    );
  apiCommand(accounts, "deposit", "Fund an account from the tenant's funding account (sandbox rail)")
    .argument("<account_id>", "e.g. an agent's wallet (bursar agents list shows it)")
    .requiredOption("--amount <minor>", "amount in minor units (50000 = 500.00)", intNumber)
    .option("--reference <text>", "what it is for")
    .action((id: string, options: CommonOptions & { amount: number; reference?: string }, command: Command) =>
      action(async () => {
        const transfer = await ownerClient(options).accounts.deposit(id, { amount: options.amount, reference: options.reference });
        print(options.json, transfer, () => fields({ transfer: transfer.id, amount: `${transfer.amount_display} ${transfer.currency}`, to: transfer.credit_account_id, status: transfer.status }));
      })(options, command),
    );

  const payees = program.command("payees").description("Beneficiaries agents may pay");
  apiCommand(payees, "list", "List payees, or find them by name or alias (--query Bob)")
    .option("--query <text>", "a name or alias")
    .option("--limit <n>", "page size", intNumber)
    .action(
      action(async (options: CommonOptions & { query?: string; limit?: number }) => {
        const page = await anyClient(options).payees.list({ q: options.query, limit: options.limit });
        print(options.json, page.data, () => table(page.data.map((p) => ({ id: p.id, name: p.name, aliases: p.aliases, currency: p.currency, rail: p.rail, status: p.status }))));
      }),
    );
  apiCommand(payees, "create", "Create a payee (owner)")
    .requiredOption("--name <name>", "the payee's name")
    .requiredOption("--currency <code>", "ISO 4217 code")
    .option("--alias <alias...>", "names an agent may use (repeatable)")
    .action(
      action(async (options: CommonOptions & { name: string; currency: string; alias?: string[] }) => {
        const payee = await ownerClient(options).payees.create({ name: options.name, currency: options.currency, aliases: options.alias });
        print(options.json, payee, () => fields({ id: payee.id, name: payee.name, aliases: payee.aliases, currency: payee.currency, rail: payee.rail }));
      }),
    );
  apiCommand(payees, "show", "Show a payee")
    .argument("<payee_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const payee = await anyClient(options).payees.get(id);
        print(options.json, payee, () => fields({ id: payee.id, name: payee.name, aliases: payee.aliases, currency: payee.currency, rail: payee.rail, account: payee.account_id, status: payee.status, created_at: payee.created_at }));
      })(options, command),
    );

  const policy = program.command("policy").description("An agent's spending rules");
  apiCommand(policy, "show", "Show the policy in force (owners: --agent, or the only agent)")
    .option("--agent <id>", "owners: the agent")
    .action(
      action(async (options: AgentOptions) => {
        const client = anyClient(options);
        const agentId = await agentForRead(options, client);
        if (!agentId) throw new UsageError("which agent? Give --agent agt_….");
        const shown = await client.policy.get(agentId);
        print(options.json, shown, () => fields({ ...shown, is_default: shown.is_default ? "yes (no owner has set one)" : "no" }));
      }),
    );
  apiCommand(policy, "set", "Change one field of the policy (owner): bursar policy set approval_threshold_minor 30000")
    .argument("<field>", "a policy field, or period of a per-period field: amount_max_minor.daily")
    .argument("<value>", "a number, null (no limit), true/false, or JSON ([\"GBP\"])")
    .option("--agent <id>", "the agent (default: the tenant's only agent)")
    .action((field: string, value: string, options: AgentOptions, command: Command) =>
      action(async () => {
        const owner = ownerClient(options);
        const agentId = await chooseAgent(options, owner);
        const changed = await owner.policy.patch(agentId, policyPatchOf(field, value));
        print(options.json, changed, () => fields({ ...changed }));
      })(options, command),
    );
  apiCommand(policy, "check", "Dry run: what would happen to a payment now, and why")
    .requiredOption("--amount <minor>", "amount in minor units", intNumber)
    .requiredOption("--currency <code>", "ISO 4217 code")
    .option("--payee <name>", "a payee's id, name or alias")
    .option("--service <name>", "for a service request: the service")
    .option("--operation <name>", "for a service request: the operation")
    .option("--agent <id>", "owners: the agent")
    .action(
      action(async (options: AgentOptions & { amount: number; currency: string; payee?: string; service?: string; operation?: string }) => {
        const client = anyClient(options);
        const agentId = await agentForRead(options, client);
        const kind = options.service ? "service_request" : "payment";
        const decision = await client.policy.check({ agent_id: agentId ?? undefined, kind, amount: options.amount, currency: options.currency, payee: options.payee, service: options.service, operation: options.operation });
        print(options.json, decision, () => fields({ decision: decision.decision, reasons: decision.reason_codes, next: decision.available_actions, remaining: decision.remaining }));
      }),
    );

  const budgets = program.command("budgets").description("An agent's budgets: list (the default), set");
  apiCommand(budgets, "list", "An agent's budgets (owners: --agent, or the only agent)", { isDefault: true })
    .option("--agent <id>", "owners: the agent")
    .action(
      action(async (options: AgentOptions) => {
        const client = anyClient(options);
        const agentId = await agentForRead(options, client);
        if (!agentId) throw new UsageError("which agent? Give --agent agt_….");
        const list = await client.budgets.list(agentId);
        print(options.json, list, () => table(list.data.map((b) => ({ id: b.id, period: b.period, amount: `${b.amount_display} ${b.currency}`, status: b.status }))));
      }),
    );
  apiCommand(budgets, "set", "Replace the agent's budgets (owner): bursar budgets set monthly 250000 GBP")
    .argument("<period>", "daily, weekly, monthly or all_time")
    .argument("<amount>", "minor units", intNumber)
    .argument("<currency>", "ISO 4217 code")
    .option("--agent <id>", "the agent (default: the tenant's only agent)")
    .action((period: string, amount: number, currency: string, options: AgentOptions, command: Command) =>
      action(async () => {
        const owner = ownerClient(options);
        const agentId = await chooseAgent(options, owner);
        const list = await owner.budgets.set(agentId, { budgets: [{ period: period as "daily", amount, currency }] });
        print(options.json, list, () => table(list.data.map((b) => ({ id: b.id, period: b.period, amount: `${b.amount_display} ${b.currency}`, status: b.status }))));
      })(options, command),
    );
}
