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
import { Bursar, BursarError, FileCredentialStore, type APIError } from "@bursar/sdk";
import { Command, Option } from "commander";

export interface CommonOptions {
  apiUrl?: string;
  json?: boolean;
  token?: string;
  configDir?: string;
}

/** Adds a subcommand with the common options. */
export function apiCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
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
  if (!token) throw new UsageError("this command needs an owner token: --token bpat_… or BURSAR_TOKEN (bursar init prints one)");
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

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** Runs an action; reports errors as text (or JSON with --json) and sets the exit code. */
export function action<O extends CommonOptions>(run: (options: O, command: Command) => Promise<void>): (options: O, command: Command) => Promise<void> {
  return async (options, command) => {
    try {
      await run(options, command);
    } catch (error) {
      const api = error as Partial<APIError> & Error;
      const code = error instanceof UsageError ? "usage" : typeof api.code === "string" ? api.code : (error as { reason?: string }).reason ?? "error";
      if (options.json) process.stderr.write(JSON.stringify({ error: { code, name: api.name, message: api.message } }) + "\n");
      else process.stderr.write(`error: ${api.message}\n`);
      process.exitCode = error instanceof UsageError ? 2 : error instanceof BursarError ? 1 : 1;
    }
  };
}
