/**
 * What every API command shares: the common options (`--api-url`, `--json`, `--token`,
 * `--config-dir`), the clients (owner or agent), and error reporting. A new command is a
 * `apiCommand(...)` with an action that picks a client and prints.
 *
 * @example
 * apiCommand(program, "transactions", "List the agent's transactions").action(
 *   withClient("any", async (bursar, options) => print(options.json, ...)),
 * );
 */
import fs from "node:fs";
import path from "node:path";
import { APIError, Bursar, ConfigError, ConnectionError, FileCredentialStore, TimeoutError } from "@bursar/sdk";
import { Command, Option } from "commander";

export interface CommonOptions {
  apiUrl?: string;
  json?: boolean;
  token?: string;
  configDir?: string;
}

/** Adds a subcommand with the common options. */
export function apiCommand(parent: Command, name: string, description: string, settings: { isDefault?: boolean } = {}): Command {
  return parent
    .command(name, settings)
    .description(description)
    .addOption(new Option("--api-url <url>", "Bursar API URL (default: the stored credentials', else http://127.0.0.1:7420)").env("BURSAR_API_URL"))
    .addOption(new Option("--token <token>", "owner personal access token (bpat_…); default: the demo owner token of ./.bursar").env("BURSAR_TOKEN"))
    .addOption(new Option("--config-dir <dir>", "credential store directory (default ~/.bursar)").env("BURSAR_CONFIG_DIR"))
    .option("--json", "print JSON");
}

/**
 * The owner token: `--token`/`BURSAR_TOKEN`, else the demo owner token `bursar serve` saved in
 * its data directory (`BURSAR_DATA_DIR`, default ./.bursar), for local use.
 */
export function ownerToken(options: CommonOptions): string | null {
  if (options.token) return options.token;
  const file = path.join(path.resolve(process.env.BURSAR_DATA_DIR ?? ".bursar"), "demo-owner-token");
  try {
    return fs.readFileSync(file, "utf8").trim() || null;
  } catch {
    return null;
  }
}

export function ownerClient(options: CommonOptions): Bursar {
  const token = ownerToken(options);
  if (!token) {
    throw new UsageError(
      `this command needs an owner token: pass --token bpat_… (or set BURSAR_TOKEN). \`npm start\` saves the demo owner's in .bursar/demo-owner-token; \`${selfCommand()} init\` creates a tenant and prints one.`,
    );
  }
  return new Bursar({ token, baseUrl: options.apiUrl, configDir: configDirOf(options) });
}

/** The agent registered in the credential store. */
export function agentClient(options: CommonOptions): Bursar {
  return new Bursar({ configDir: configDirOf(options), baseUrl: options.apiUrl });
}

/** The owner when a token is given or found, else the stored agent. */
export function anyClient(options: CommonOptions): Bursar {
  return ownerToken(options) ? ownerClient(options) : agentClient(options);
}

export function configDirOf(options: CommonOptions): string | undefined {
  return options.configDir;
}

export function credentialStore(options: CommonOptions): FileCredentialStore {
  return new FileCredentialStore({ dir: configDirOf(options) });
}

/**
 * How to run this command again, for hints: `bursar` when installed on the PATH (a global or
 * linked install), else `npx bursar`, which works from the repository and from a project that
 * depends on @bursar/cli.
 */
export function selfCommand(): string {
  const script = process.argv[1] ?? "";
  let real = script;
  try {
    real = fs.realpathSync(script);
  } catch {
    // keep the path as given
  }
  const onPath = (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && !dir.includes("node_modules") && path.resolve(dir, "bursar") === path.resolve(script));
  return onPath || /[\\/]lib[\\/]node_modules[\\/]/.test(real) ? "bursar" : "npx bursar";
}

/**
 * Exit codes, documented in `bursar --help`:
 * 0 done; 1 the API refused or failed (the message has its code); 2 the command was called wrong
 * (a missing option or credential); 3 the server cannot be reached; 4 the server cannot start
 * (port in use, database missing, bad configuration); 5 the command answered, but not with a pass
 * (`spend authorize` did not authorize, `predicates test` failed), for `cmd && next` in scripts.
 */
export const exitCodes = { apiError: 1, usage: 2, unreachable: 3, startup: 4, notPassed: 5 } as const;

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** The server cannot start as configured (exit code 4): the message says what to do. */
export class StartupError extends Error {}

/** What a failed command prints and its exit code: one line a person can act on, no stack. */
export function describeFailure(error: unknown, options: CommonOptions): { code: string; message: string; exitCode: number } {
  if (error instanceof UsageError) return { code: "usage", message: error.message, exitCode: exitCodes.usage };
  if (error instanceof StartupError) return { code: "startup_failed", message: error.message, exitCode: exitCodes.startup };
  if (error instanceof ConfigError && error.message.startsWith("no credentials")) {
    return {
      code: "no_credentials",
      message:
        `no credentials for this command: pass an owner token with --token bpat_… (or BURSAR_TOKEN; \`npm start\` saves the demo owner's in .bursar/demo-owner-token, and owner commands that act for an agent take --agent agt_…), ` +
        `or register this host as an agent with \`${selfCommand()} auth agent --ticket bursar-reg_…\` (kept in --config-dir, default ~/.bursar).`,
      exitCode: exitCodes.usage,
    };
  }
  if (error instanceof ConnectionError && !(error instanceof TimeoutError)) {
    const url = options.apiUrl ?? process.env.BURSAR_API_URL ?? "http://127.0.0.1:7420";
    return {
      code: "unreachable",
      message: `cannot reach Bursar at ${url}: is the server running? Start it with \`npm start\` in the repository (or \`${selfCommand()} serve\`), or point --api-url (BURSAR_API_URL) at it.`,
      exitCode: exitCodes.unreachable,
    };
  }
  if (error instanceof APIError) {
    const next = error.availableActions?.length ? ` Next: ${error.availableActions.join(", ")}.` : "";
    return { code: error.code, message: `${error.detail || error.message} (${error.status} ${error.code}, request ${error.requestId ?? "-"}).${next}`, exitCode: exitCodes.apiError };
  }
  const reason = (error as { reason?: string; code?: unknown }).reason;
  const code = typeof (error as { code?: unknown }).code === "string" ? String((error as { code: string }).code) : (reason ?? "error");
  return { code, message: (error as Error).message ?? String(error), exitCode: exitCodes.apiError };
}

/** Runs an action; reports errors as one line (or JSON with --json) without a stack, and sets the exit code. */
export function action<O extends CommonOptions>(run: (options: O, command: Command) => Promise<void>): (options: O, command: Command) => Promise<void> {
  return async (options, command) => {
    try {
      await run(options, command);
    } catch (error) {
      const failure = describeFailure(error, options);
      if (options.json) process.stderr.write(JSON.stringify({ error: { code: failure.code, name: (error as Error).name, message: failure.message } }) + "\n");
      else process.stderr.write(`error: ${failure.message}\n`);
      process.exitCode = failure.exitCode;
    }
  };
}
