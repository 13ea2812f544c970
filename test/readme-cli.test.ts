/**
 * The README's CLI walk-through, line by line as written, against a freshly started demo server:
 * each line of the ```sh block under "The `bursar` command" runs in bash from a directory whose
 * `.bursar` is the server's data directory (as after `npm start` in the repository), with `npx
 * bursar` meaning this repository's `bursar` and `apr_…` the approval the chat line raised. Every
 * line must exit 0; the payment it asks for ends executed.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { client, killHard, repoRoot, spawnServer, tempDir, type ChildServer } from "./support.js";

const run = promisify(execFile);
const bin = path.join(repoRoot, "packages/cli/bin/bursar.js");

/** The commands of the README's CLI walk-through, without their comments. */
function walkThrough(): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const section = readme.split("## The `bursar` command")[1];
  const block = /```sh\n([\s\S]*?)```/.exec(section ?? "")?.[1];
  if (!block) throw new Error("README: no sh block under 'The `bursar` command'");
  return block.split("\n").map((line) => line.replace(/\s+#.*$/, "").trim()).filter((line) => line.startsWith("npx bursar "));
}

describe("the README's CLI walk-through", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
  });

  it("runs as written, and the payment it asks for is approved and executed", async () => {
    const home = tempDir("readme-cli");
    const dataDir = path.join(home, ".bursar");
    const server = await spawnServer({ BURSAR_DATA_DIR: dataDir }, { demo: true });
    children.push(server);
    const env = { ...process.env, BURSAR_API_URL: server.url, BURSAR_CONFIG_DIR: path.join(home, "agent-credentials"), BURSAR_TOKEN: "" };
    const owner = client(server.url, fs.readFileSync(path.join(dataDir, "demo-owner-token"), "utf8").trim());

    const lines = walkThrough();
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.some((line) => line.includes("approvals approve apr_…"))).toBe(true);
    for (const line of lines) {
      let command = line.replace(/^npx bursar /, `"${process.execPath}" "${bin}" `);
      if (command.includes("apr_…")) {
        const pending = (await owner.get("/v1/approvals?status=pending")).body.data as Array<{ id: string }>;
        expect(pending, "the chat line raised one approval").toHaveLength(1);
        command = command.replace("apr_…", pending[0]!.id);
      }
      const result = await run("bash", ["-c", command], { cwd: home, env }).catch((error: { code: number; stdout: string; stderr: string }) => error);
      expect("code" in result ? result.code : 0, `${line}\n${"stderr" in result ? result.stderr : ""}`).toBe(0);
      expect(result.stderr ?? "", line).not.toMatch(/\n\s+at /);
    }
    const intents = (await owner.get("/v1/payment-intents")).body.data as Array<{ amount: number; execution_status: string }>;
    expect(intents.find((intent) => intent.amount === 50_000)?.execution_status).toBe("completed");
    const [agent] = (await owner.get("/v1/agents")).body.data as Array<{ id: string }>;
    expect((await owner.get(`/v1/agents/${agent!.id}/policy`)).body.approval_threshold_minor).toBe(30_000);
  }, 120_000);
});
