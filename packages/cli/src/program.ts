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
import { spendCommands } from "./commands/spend.js";
import { escrowCommands } from "./commands/escrow.js";

export const program = new Command()
  .name("bursar")
  .description("Bursar: let AI agents spend money safely")
  .showHelpAfterError();

program
  .command("serve")
  .description("Start the Bursar server (SQLite under ./.bursar unless BURSAR_DATABASE_URL is set)")
  .addOption(new Option("--port <port>", "port to listen on").env("BURSAR_PORT").argParser(Number))
  .addOption(new Option("--host <host>", "address to listen on").env("BURSAR_HOST"))
  .addOption(new Option("--data-dir <dir>", "SQLite data directory").env("BURSAR_DATA_DIR"))
  .addOption(new Option("--database-url <url>", "PostgreSQL URL").env("BURSAR_DATABASE_URL"))
  .option("--no-demo", "do not create the demo tenant on first start")
  .option("--quiet", "log warnings and errors only")
  .option("--allow-private-webhook-targets", "let webhook URLs reach loopback and private addresses (local development only)")
  .action(async (options: { port?: number; host?: string; dataDir?: string; databaseUrl?: string; demo: boolean; quiet?: boolean; allowPrivateWebhookTargets?: boolean }) => {
    // Loaded here, not at the top: the API commands should not pay for starting a server's modules.
    const { systemClock } = await import("@bursar/core");
    const { ensureDemoTenant, loadConfig, startServer } = await import("@bursar/server");
    const config = loadConfig({
      port: options.port,
      host: options.host,
      dataDir: options.dataDir,
      databaseUrl: options.databaseUrl,
      logLevel: options.quiet ? "warn" : undefined,
      allowPrivateWebhookTargets: options.allowPrivateWebhookTargets ? true : undefined,
    });
    const server = await startServer(config);
    const demo = options.demo && !config.databaseUrl ? await ensureDemoTenant(server.store, config.dataDir, systemClock) : null;
    const lines = [`Bursar is listening on ${server.url} (store: ${server.store.kind}${config.databaseUrl ? "" : `, ${config.dataDir}`})`];
    if (demo) {
      lines.push(
        "",
        `Created the demo tenant ${demo.tenantId}: agent ${demo.agentId} with £1,000, a payee "Bob",`,
        "and a policy that holds payments of £200 or more for your approval and caps openai.* calls",
        "at £5 each and £50 a day (spend authorizations: docs/spend.md).",
        `Owner token (also saved in ${demo.tokenFile}):`,
        `  ${demo.ownerToken}`,
        "",
        "Try it:",
        `  TOKEN=$(cat ${demo.tokenFile})`,
        `  curl -s -H "Authorization: Bearer $TOKEN" "${server.url}/v1/balance?agent_id=${demo.agentId}"`,
        `  curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' ${server.url}/v1/payment-intents \\`,
        `    -d '{"agent_id":"${demo.agentId}","payee":"Bob","amount":50000,"currency":"GBP","reference":"April invoice"}'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" "${server.url}/v1/approvals?status=pending"`,
        `  curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' ${server.url}/v1/spend/authorizations \\`,
        `    -d '{"agent_id":"${demo.agentId}","operation":"openai.chat","amount":300,"currency":"GBP"}'`,
        `  curl -s -H "Authorization: Bearer $TOKEN" ${server.url}/v1/journal/checkpoint`,
        `API reference: ${server.url}/docs`,
      );
    }
    process.stdout.write(lines.join("\n") + "\n");
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

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
spendCommands(program);
escrowCommands(program);
