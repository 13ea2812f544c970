/**
 * `bursar spend authorize|complete|list` (the stored agent; an owner with `--agent` or a token)
 * and `bursar capabilities create|list|revoke` (owner). `spend authorize` exits 4 when the spend
 * is not authorized (denied, waiting for approval, or released after `--wait` ran out), so a
 * script can write `bursar spend authorize … && pay`.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import type { Capability, SpendAuthorization, SpendAuthorizationStatus } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { action, agentClient, anyClient, apiCommand, exitCodes, ownerClient, UsageError, type CommonOptions } from "./context.js";

/** Exit code of `spend authorize` when the answer is anything but `authorized`. */
export const notAuthorizedExitCode = exitCodes.notPassed;

/** A non-negative whole number (minor units, seconds, counts): `5.5`, `1e3` or `12abc` are refused, never rounded. */
export function wholeNumber(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError("Expected a whole number.");
  return Number(value);
}

const authorizationRow = (authorization: SpendAuthorization) => ({
  id: authorization.id,
  operation: authorization.operation,
  vendor: authorization.vendor,
  amount: `${authorization.amount_display} ${authorization.currency}`,
  status: authorization.status,
  consumed: authorization.consumed_amount_display === null ? null : `${authorization.consumed_amount_display} ${authorization.currency}`,
  reasons: authorization.reason_codes,
  created_at: authorization.created_at,
});
const authorizationFields = (authorization: SpendAuthorization) =>
  fields({
    ...authorizationRow(authorization),
    approval_id: authorization.approval_id,
    capability_id: authorization.capability_id,
    expires_at: authorization.expires_at,
    next: authorization.available_actions,
  });

const capabilityRow = (capability: Capability) => ({
  id: capability.id,
  agent: capability.agent_id,
  operations: capability.allowed_operations,
  max: `${capability.max_amount_display} ${capability.currency}`,
  remaining: capability.remaining_amount,
  uses: capability.max_uses === null ? String(capability.uses) : `${capability.uses}/${capability.max_uses}`,
  status: capability.status,
  expires_at: capability.expires_at,
});

type AuthorizeOptions = CommonOptions & {
  operation: string; amount: number; currency: string; vendor?: string; payee?: string; capability?: string;
  expiresIn?: number; toolCallId?: string; wait?: number; agent?: string;
};
type CreateCapabilityOptions = CommonOptions & {
  agent: string; operations: string; maxAmount: number; currency: string; expiresIn?: number; expiresAt?: string; maxUses?: number; description?: string;
};
type ListOptions = CommonOptions & { limit?: number; agent?: string; status?: SpendAuthorizationStatus };
const spendStatuses: SpendAuthorizationStatus[] = ["authorized", "pending_approval", "denied", "consumed", "released", "rejected", "expired"];

export function spendCommands(program: Command): void {
  const spend = program.command("spend").description("Spend authorizations: authorize before paying outside Bursar, then complete");
  apiCommand(spend, "authorize", "Ask to spend up to an amount on an operation; held unless denied (exit 4 unless authorized)")
    .requiredOption("--operation <name>", "dotted name of what is paid for (openai.chat)")
    .requiredOption("--amount <minor>", "the most it may cost, in minor units (500 = 5.00)", wholeNumber)
    .requiredOption("--currency <code>", "ISO 4217 code")
    .option("--vendor <name>", "who is paid (default: the operation's first word)")
    .option("--payee <name>", "a Bursar payee's id, name or alias instead")
    .option("--capability <token>", "an owner's capability token: skips the approval threshold while it covers the spend")
    .option("--tool-call-id <id>", "the framework's tool call this pays for")
    .option("--expires-in <seconds>", "release the hold if not completed by then (default 900)", wholeNumber)
    .option("--wait <seconds>", "wait this long for an owner's decision; released if nobody decides", wholeNumber)
    .option("--agent <id>", "owners: act for this agent")
    .action(
      action(async (options: AuthorizeOptions) => {
        const bursar = options.agent ? ownerClient(options) : agentClient(options);
        const params = {
          operation: options.operation, amount: options.amount, currency: options.currency, vendor: options.vendor, payee: options.payee,
          capability_token: options.capability, tool_call_id: options.toolCallId, expires_in: options.expiresIn, agent_id: options.agent,
        };
        let authorization: SpendAuthorization;
        if (options.wait === undefined) authorization = await bursar.spend.authorize(params);
        else {
          const waited = await bursar.spend.authorizeAndWait(params, { timeoutMs: options.wait * 1000 });
          authorization = waited.authorization;
          if (waited.status === "timed_out" && !options.json) process.stderr.write(`no decision within ${options.wait} s: released\n`);
        }
        print(options.json, authorization, () => authorizationFields(authorization));
        if (authorization.status !== "authorized") process.exitCode = notAuthorizedExitCode;
      }),
    );

  apiCommand(spend, "complete", "Consume what the spend cost (the rest is released), or release it all")
    .argument("<authorization_id>")
    .addOption(new Option("--outcome <outcome>", "consumed or released").choices(["consumed", "released"]).makeOptionMandatory())
    .option("--amount <minor>", "consumed: what it cost (default: the authorized amount)", wholeNumber)
    .option("--reference <id>", "the vendor's id for the charge")
    .action((id: string, options: CommonOptions & { outcome: "consumed" | "released"; amount?: number; reference?: string }, command: Command) =>
      action(async () => {
        const authorization = await anyClient(options).spend.complete(id, { outcome: options.outcome, amount: options.amount, external_reference: options.reference });
        print(options.json, authorization, () => authorizationFields(authorization));
      })(options, command),
    );

  apiCommand(spend, "list", "List spend authorizations, newest first")
    .option("--limit <n>", "how many", wholeNumber)
    .option("--agent <id>", "owners: one agent's")
    .addOption(new Option("--status <status>", "only this status").choices(spendStatuses))
    .action(
      action(async (options: ListOptions) => {
        const page = await anyClient(options).spend.list({ limit: options.limit, agent_id: options.agent, status: options.status });
        print(options.json, page.data, () => table(page.data.map(authorizationRow)));
      }),
    );

  const capabilities = program.command("capabilities").description("Capabilities: an owner's pre-approved allowances for an agent");
  apiCommand(capabilities, "create", "Mint a capability token for an agent (shown once)")
    .requiredOption("--agent <id>", "the agent (agt_…)")
    .requiredOption("--operations <list>", "operations it covers, comma-separated: exact, prefix.* or *")
    .requiredOption("--max-amount <minor>", "the most all spends under it may take together, in minor units", wholeNumber)
    .requiredOption("--currency <code>", "ISO 4217 code")
    .option("--expires-in <seconds>", "valid for this long (at most 90 days)", wholeNumber)
    .option("--expires-at <time>", "or until this RFC 3339 time")
    .option("--max-uses <n>", "how many spends it may cover", wholeNumber)
    .option("--description <text>", "what it is for")
    .action(
      action(async (options: CreateCapabilityOptions) => {
        if ((options.expiresIn === undefined) === (options.expiresAt === undefined)) throw new UsageError("give one of --expires-in <seconds> or --expires-at <time>");
        const expiresAt = options.expiresAt ?? new Date(Date.now() + options.expiresIn! * 1000).toISOString();
        const capability = await ownerClient(options).capabilities.create({
          agent_id: options.agent, allowed_operations: options.operations.split(/[ ,]+/).filter(Boolean), max_amount: options.maxAmount, currency: options.currency,
          expires_at: expiresAt, max_uses: options.maxUses, description: options.description,
        });
        print(options.json, capability, () =>
          fields(capabilityRow(capability)) +
          `\nToken (shown once; give it to the agent):\n  ${capability.token}\n` +
          `\nThe agent presents it with:\n  bursar spend authorize --operation … --amount … --currency ${capability.currency} --capability <token>\n`,
        );
      }),
    );

  apiCommand(capabilities, "list", "List capabilities: terms and what is left (never the token)")
    .option("--limit <n>", "how many", wholeNumber)
    .option("--agent <id>", "one agent's")
    .addOption(new Option("--status <status>", "only this status").choices(["active", "revoked"]))
    .action(
      action(async (options: CommonOptions & { limit?: number; agent?: string; status?: "active" | "revoked" }) => {
        const page = await ownerClient(options).capabilities.list({ limit: options.limit, agent_id: options.agent, status: options.status });
        print(options.json, page.data, () => table(page.data.map(capabilityRow)));
      }),
    );

  apiCommand(capabilities, "revoke", "Revoke a capability: spends can no longer present it")
    .argument("<capability_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const capability = await ownerClient(options).capabilities.revoke(id);
        print(options.json, capability, () => fields(capabilityRow(capability)));
      })(options, command),
    );
}
