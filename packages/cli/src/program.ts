/**
 * `bursar` commands. `serve` and `init` talk to the store directly; every other command is a thin
 * layer over @bursar/sdk sharing its credential store (commands/*.ts, one file per area; see
 * commands/context.ts for how to add one: `chat`, `transactions`, `payment-intents` and
 * `approvals` are a few lines each once the API has them).
 */
import { Command, Option } from "commander";
import { agentCommands } from "./commands/agents.js";
import { authCommands } from "./commands/auth.js";
import { eventCommands } from "./commands/events.js";
import { journalCommands } from "./commands/journal.js";
import { ticketCommands } from "./commands/tickets.js";
import { paymentCommands } from "./commands/payments.js";
import { chatCommands } from "./commands/chat.js";
import { serveCommand } from "./commands/serve.js";
import { moneyCommands } from "./commands/money.js";
import { adminCommands } from "./commands/admin.js";
import { spendCommands } from "./commands/spend.js";
import { escrowCommands } from "./commands/escrow.js";
import { taskCommands } from "./commands/tasks.js";
import { teamCommands } from "./commands/teams.js";
import { triggerCommands } from "./commands/triggers.js";
import { exitCodes } from "./commands/context.js";
import packageJson from "../package.json" with { type: "json" };

export const program = new Command()
  .name("bursar")
  .description("Bursar: let AI agents spend money safely")
  .version(packageJson.version, "-V, --version", "print the version")
  .showHelpAfterError()
  // A command called wrong (unknown option, a value outside the choices, a missing argument) exits
  // 2 as documented, not commander's 1, which means the API refused. Inherited by every subcommand.
  .exitOverride((error) => process.exit(error.exitCode === 1 ? exitCodes.usage : error.exitCode));

serveCommand(program);

program
  .command("init")
  .description("Create a tenant, its first owner and an owner token")
  .addOption(new Option("--data-dir <dir>", "SQLite data directory").env("BURSAR_DATA_DIR"))
  .addOption(new Option("--database-url <url>", "PostgreSQL URL").env("BURSAR_DATABASE_URL"))
  .option("--name <name>", "tenant name", "My tenant")
  .option("--owner-name <name>", "first owner's name", "Owner")
  .option("--owner-email <email>", "first owner's email")
  .option("--json", "print JSON")
  .action(async (options: { dataDir?: string; databaseUrl?: string; name: string; ownerName: string; ownerEmail?: string; json?: boolean }) => {
    const { createTenant } = await import("@bursar/core");
    const { loadConfig, openStore } = await import("@bursar/server");
    const config = loadConfig({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
    const store = await openStore(config);
    try {
      const created = await store.write(null, (tx) =>
        createTenant(tx, { name: options.name, ownerName: options.ownerName, ownerEmail: options.ownerEmail, nowMs: Date.now() }),
      );
      const result = { tenant_id: created.tenant.id, owner_id: created.owner.id, owner_token: created.ownerToken, scopes: created.tokenRow.scopes };
      if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      else {
        process.stdout.write(
          `Created tenant ${result.tenant_id} with owner ${result.owner_id}.\nOwner token (shown once, keep it secret):\n  ${result.owner_token}\n`,
        );
      }
    } finally {
      await store.close();
    }
  });

agentCommands(program);
ticketCommands(program);
authCommands(program);
eventCommands(program);
journalCommands(program);
paymentCommands(program);
chatCommands(program);
moneyCommands(program);
adminCommands(program);
spendCommands(program);
escrowCommands(program);
taskCommands(program);
teamCommands(program);
triggerCommands(program);

program.addHelpText(
  "after",
  `
Environment:
  BURSAR_API_URL           the server (default http://127.0.0.1:7420, or the stored agent's)
  BURSAR_TOKEN             an owner's personal access token (bpat_…); default: .bursar/demo-owner-token
  BURSAR_CONFIG_DIR        the agent credential store (default ~/.bursar), shared with the SDK
  BURSAR_REGISTRATION_TICKET  the ticket for \`auth agent\`
  BURSAR_PORT, BURSAR_HOST, BURSAR_DATA_DIR, BURSAR_DATABASE_URL, BURSAR_LOG_FORMAT, BURSAR_LOG_LEVEL
                           for \`serve\` (see \`bursar serve --help\` and the README)
  BURSAR_LLM_BASE_URL, BURSAR_LLM_MODEL, BURSAR_LLM_API_KEY  the chat agent's model (optional)

Examples (from the repository, after \`npm start\`):
  npx bursar balance                                  the demo agent's balance
  npx bursar payees list
  npx bursar chat "Pay £500 to Bob for the April invoice"
  npx bursar approvals list --status pending
  npx bursar approvals approve apr_…
  npx bursar policy set approval_threshold_minor 30000
  npx bursar transactions --json
  npx bursar journal verify

Every command takes --json. Exit codes: 0 done; 1 the API refused or failed; 2 the command was
called wrong or lacks credentials; 3 the server cannot be reached; 4 the server cannot start;
5 the answer was not a pass (\`spend authorize\` not authorized, \`predicates test\` failed,
\`agents spawn-estimate\` refused, \`triggers fire\` not executed).`,
);
