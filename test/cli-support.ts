/**
 * Runs the real `bursar` bin against a test server, as a user's shell would: the owner token or
 * the agent's credential store comes from `env` only (nothing from the developer's environment,
 * no demo token from a data directory).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { repoRoot, tempDir } from "./support.js";

const exec = promisify(execFile);
export const bin = path.join(repoRoot, "packages/cli/bin/bursar.js");

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bursar(args, env)` answers how the command ended; `json(args, env, code)` expects `code` and parses stdout of `--json`. */
export function cliRunner(baseUrl: () => string, label: string) {
  async function bursar(args: string[], env: Record<string, string> = {}): Promise<Ran> {
    const base: Record<string, string | undefined> = { ...process.env, BURSAR_API_URL: baseUrl(), BURSAR_DATA_DIR: tempDir(label) };
    delete base.BURSAR_TOKEN;
    delete base.BURSAR_CONFIG_DIR;
    delete base.BURSAR_TRIGGER_SECRET;
    try {
      const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...base, ...env } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }
  async function json(args: string[], env: Record<string, string> = {}, code = 0): Promise<any> {
    const ran = await bursar([...args, "--json"], env);
    expect(ran.code, ran.stderr).toBe(code);
    return JSON.parse(ran.stdout);
  }
  return { bursar, json };
}
