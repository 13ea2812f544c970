/**
 * `bursar serve`: starts the server and prints, on every start, the start-up banner: where it
 * listens, where the demo owner token is, the console link when there is one, and the complete
 * try-it sequence (pay Bob, list what waits, approve it, see the transaction, the journal).
 * Start-up failures a person can fix (port in use, a database that does not exist, bad
 * configuration) are one line with what to do, and exit code 4.
 */
import path from "node:path";
import { Command, Option } from "commander";
import { exitCodes, selfCommand } from "./context.js";

export interface BannerInput {
  url: string;
  store: string;
  dataDir: string | null;
  demo: { tenantId: string; agentId: string; tokenFile: string; ownerToken: string; created: boolean } | null;
  /** The web console's sign-in link, when a console is served (issue 16). */
  consoleUrl?: string | null;
  /** Start-up warnings (`RunningServer.warnings`): a configuration that works but surprises. */
  warnings?: string[];
}

/** A path as short as it can be said from here (`.bursar/demo-owner-token` in the repository). */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

/** The start-up banner, framed so it stands out from the log lines that follow. */
export function startupBanner(input: BannerInput): string {
  const rule = "─".repeat(72);
  const lines = [rule, `Bursar is listening on ${input.url} (store: ${input.store}${input.dataDir ? `, ${input.dataDir}` : ""})`];
  // The console first: it is what a newcomer should open (a fresh one-time link on every start).
  if (input.consoleUrl) lines.push(`Open the owner console: ${input.consoleUrl}`);
  lines.push(`API reference: ${input.url}/docs   OpenAPI: ${input.url}/openapi.json   Health: ${input.url}/healthz, ${input.url}/readyz`);
  for (const warning of input.warnings ?? []) lines.push(`Warning: ${warning}`);
  const demo = input.demo;
  if (demo) {
    const tokenFile = shortPath(demo.tokenFile);
    const auth = `-H "Authorization: Bearer $TOKEN"`;
    lines.push("");
    if (demo.created) {
      lines.push(
        `Created the demo tenant ${demo.tenantId}: agent ${demo.agentId} with £1,000, a payee "Bob",`,
        "and a policy that holds payments of £200 or more for your approval and caps openai.* calls",
        "at £5 each and £50 a day (spend authorizations: docs/spend.md), in a team with a £10,000",
        "monthly pool of which it has £2,500 (teams and pools: docs/teams.md).",
        `Owner token (shown once; saved in ${tokenFile}):`,
        `  ${demo.ownerToken}`,
      );
    } else lines.push(`Demo tenant ${demo.tenantId}, agent ${demo.agentId}. The owner token is in ${tokenFile}.`);
    lines.push(
      "",
      "Try it (pay Bob £500, which waits for your approval; approve it; see it paid):",
      `  TOKEN=$(cat ${tokenFile})`,
      `  curl -s ${auth} "${input.url}/v1/balance?agent_id=${demo.agentId}"`,
      `  curl -s ${auth} -H 'content-type: application/json' ${input.url}/v1/payment-intents \\`,
      `    -d '{"agent_id":"${demo.agentId}","payee":"Bob","amount":50000,"currency":"GBP","reference":"April invoice"}'`,
      `  curl -s ${auth} "${input.url}/v1/approvals?status=pending"`,
      `  APPROVAL=$(curl -s ${auth} "${input.url}/v1/approvals?status=pending" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).data[0].id')`,
      `  curl -s ${auth} -H 'content-type: application/json' ${input.url}/v1/approvals/$APPROVAL/approve -d '{"note":"Invoice checked"}'`,
      `  curl -s ${auth} "${input.url}/v1/transactions?agent_id=${demo.agentId}"`,
      `  curl -s ${auth} -H 'content-type: application/json' ${input.url}/v1/spend/authorizations \\`,
      `    -d '{"agent_id":"${demo.agentId}","operation":"openai.chat","amount":300,"currency":"GBP"}'`,
      `  curl -s ${auth} ${input.url}/v1/journal/checkpoint`,
      `  curl -s ${auth} ${input.url}/v1/teams`,
      "",
      `Or with the CLI: ${selfCommand()} approvals list --status pending; ${selfCommand()} approvals approve apr_…; ${selfCommand()} --help`,
    );
  }
  lines.push(rule);
  return lines.join("\n") + "\n";
}

/** A start-up failure as the one line a person can act on, or null when it is not one we know. */
export function startupFailure(error: unknown, options: { port?: number; databaseUrl?: string | null }): string | null {
  const failure = error as { code?: string; message?: string; address?: string; port?: number };
  if (failure.code === "EADDRINUSE") {
    const port = failure.port ?? options.port;
    return `port ${port} is already in use (another Bursar, or another program). Start on another port: \`npm start -- --port ${Number(port) + 1}\` (or BURSAR_PORT=${Number(port) + 1}), or stop what holds it.`;
  }
  if (failure.code === "EACCES" && failure.port !== undefined) return `no permission to listen on port ${failure.port}: choose a port above 1023 with --port.`;
  if (options.databaseUrl) {
    let where = "the database";
    let name = "bursar";
    try {
      const url = new URL(options.databaseUrl);
      name = decodeURIComponent(url.pathname.slice(1)) || "postgres";
      where = `PostgreSQL at ${url.hostname}:${url.port || 5432}`;
    } catch {
      // an unparsable URL: pg's own message follows
    }
    // PostgreSQL error codes (Appendix A): 3D000 invalid_catalog_name, 28P01/28000 authentication.
    if (failure.code === "3D000") return `the database "${name}" does not exist on ${where}. Create it: \`createdb ${name}\` (or \`psql -c 'CREATE DATABASE "${name}"'\`), then start again.`;
    if (failure.code === "28P01" || failure.code === "28000") return `${where} refused the user or password in BURSAR_DATABASE_URL: ${failure.message}`;
    if (failure.code === "ECONNREFUSED" || failure.code === "ENOTFOUND" || failure.code === "EAI_AGAIN") {
      return `cannot connect to ${where} (${failure.code}): is PostgreSQL running, and is BURSAR_DATABASE_URL right?`;
    }
  }
  return null;
}

type ServeOptions = {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  demo: boolean;
  quiet?: boolean;
  logFormat?: string;
  allowPrivateWebhookTargets?: boolean;
};

export function serveCommand(program: Command): void {
  program
    .command("serve")
    .description("Start the Bursar server (SQLite under ./.bursar unless BURSAR_DATABASE_URL is set)")
    .addOption(new Option("--port <port>", "port to listen on (default 7420)").env("BURSAR_PORT").argParser(Number))
    .addOption(new Option("--host <host>", "address to listen on (default 127.0.0.1)").env("BURSAR_HOST"))
    .addOption(new Option("--data-dir <dir>", "SQLite data directory (default ./.bursar)").env("BURSAR_DATA_DIR"))
    .addOption(new Option("--database-url <url>", "PostgreSQL URL").env("BURSAR_DATABASE_URL"))
    .addOption(new Option("--log-format <format>", "log lines: pretty (default on a terminal) or json (default otherwise)").choices(["pretty", "json"]).env("BURSAR_LOG_FORMAT"))
    .option("--no-demo", "do not create the demo tenant on first start")
    .option("--quiet", "log warnings and errors only")
    .option("--allow-private-webhook-targets", "let webhook URLs reach loopback and private addresses (local development only)")
    .action(async (options: ServeOptions) => {
      // Loaded here, not at the top: the API commands should not pay for starting a server's modules.
      const { systemClock } = await import("@bursar/core");
      const { demoLoginLink, ensureDemoTenant, loadConfig, startServer } = await import("@bursar/server");
      const fail = (message: string) => {
        process.stderr.write(`error: ${message}\n`);
        process.exit(exitCodes.startup);
      };
      let config;
      try {
        config = loadConfig({
          port: options.port,
          host: options.host,
          dataDir: options.dataDir,
          databaseUrl: options.databaseUrl,
          logLevel: options.quiet ? "warn" : undefined,
          logFormat: (options.logFormat as "pretty" | "json" | undefined) ?? (process.stdout.isTTY ? "pretty" : undefined),
          allowPrivateWebhookTargets: options.allowPrivateWebhookTargets ? true : undefined,
        });
      } catch (error) {
        return fail(`${(error as Error).message}.`.replace(/\.\.$/, "."));
      }
      let server;
      try {
        server = await startServer(config);
      } catch (error) {
        const known = startupFailure(error, { port: config.port, databaseUrl: config.databaseUrl });
        if (known) return fail(known);
        throw error;
      }
      const demo = options.demo && !config.databaseUrl ? await ensureDemoTenant(server.store, config.dataDir, systemClock) : null;
      // The demo owner's one-time login link (valid 15 minutes); else the sign-in page (a PAT signs in).
      const login = demo ? await demoLoginLink(server.store, config.dataDir, server.url, systemClock) : null;
      const consoleUrl = login ? `${login.url}  (one-time link, valid 15 minutes)` : `${server.url}/console`;
      process.stdout.write(startupBanner({ url: server.url, store: server.store.kind, dataDir: config.databaseUrl ? null : config.dataDir, demo, consoleUrl, warnings: server.warnings }));
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}


