/**
 * The `bursar` commands a newcomer reaches for after the first payment, each with `--json`
 * against a real server (its demo tenant), and the errors of the first hour: each one line that
 * says what to do, with its documented exit code and no stack trace.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, killHard, postgresUrl, repoRoot, spawnServer, tempDir, type ChildServer } from "./support.js";

const bin = path.join(repoRoot, "packages/cli/bin/bursar.js");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bursar …` and never throws: the exit code is part of what is checked. */
function bursar(args: string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** An error as a person sees it: one `error:` line, no stack frames. */
function expectPlainError(ran: Ran, exitCode: number, ...mentions: string[]): void {
  expect(ran.code, ran.stderr).toBe(exitCode);
  expect(ran.stderr).toMatch(/^error: /m);
  expect(ran.stderr).not.toMatch(/^\s+at /m);
  for (const mention of mentions) expect(ran.stderr).toContain(mention);
}

describe("bursar commands (--json)", () => {
  let server: ChildServer;
  let env: Record<string, string>;
  let agentId: string;
  let token: string;
  beforeAll(async () => {
    const dataDir = tempDir("cli-commands");
    server = await spawnServer({ BURSAR_DATA_DIR: dataDir, BURSAR_ALLOW_PRIVATE_WEBHOOK_TARGETS: "1" }, { demo: true });
    env = { BURSAR_DATA_DIR: dataDir, BURSAR_API_URL: server.url, BURSAR_CONFIG_DIR: tempDir("cli-no-agent"), BURSAR_TOKEN: "" };
    token = fs.readFileSync(path.join(dataDir, "demo-owner-token"), "utf8").trim();
    agentId = JSON.parse(fs.readFileSync(path.join(dataDir, "demo.json"), "utf8")).agent_id;
  });
  afterAll(async () => {
    await killHard(server.process);
  });
  const json = async (...args: string[]) => {
    const ran = await bursar([...args, "--json"], env);
    expect(ran.code, `${args.join(" ")}: ${ran.stderr}`).toBe(0);
    return JSON.parse(ran.stdout);
  };

  it("balance, accounts, payees", async () => {
    expect(await json("balance")).toMatchObject({ object: "balance", agent_id: agentId, balance: 100_000, currency: "GBP" });
    const accounts = await json("accounts", "list");
    const wallet = accounts.find((account: { kind: string }) => account.kind === "wallet");
    expect(wallet).toMatchObject({ currency: "GBP", balance: 100_000 });
    expect(await json("accounts", "deposit", wallet.id, "--amount", "2500", "--reference", "top-up")).toMatchObject({ object: "transfer", amount: 2500, status: "posted" });
    expect(await json("balance", "--agent", agentId)).toMatchObject({ balance: 102_500 });

    expect((await json("payees", "list")).map((payee: { name: string }) => payee.name)).toEqual(["Bob Smith"]);
    const alice = await json("payees", "create", "--name", "Alice Jones", "--currency", "GBP", "--alias", "Alice", "Al");
    expect(alice).toMatchObject({ object: "payee", name: "Alice Jones", aliases: ["Alice", "Al"] });
    expect(await json("payees", "show", alice.id)).toMatchObject({ id: alice.id, currency: "GBP" });
    expect((await json("payees", "list", "--query", "Al")).map((payee: { id: string }) => payee.id)).toEqual([alice.id]);
  });

  it("policy show, set (a partial update), check; budgets", async () => {
    const before = await json("policy", "show");
    expect(before).toMatchObject({ object: "policy", agent_id: agentId, approval_threshold_minor: 20_000 });
    const after = await json("policy", "set", "approval_threshold_minor", "30000");
    // One field changed; the rest of the policy is as it was.
    expect(after).toEqual({ ...before, approval_threshold_minor: 30_000, id: after.id, updated_at: after.updated_at, is_default: false });
    expect((await json("policy", "set", "amount_max_minor.daily", "150000")).amount_max_minor).toEqual({ ...before.amount_max_minor, daily: 150_000 });
    // null removes the daily limit; the other periods stay as they were.
    const { daily: _daily, ...otherPeriods } = before.amount_max_minor;
    expect((await json("policy", "set", "amount_max_minor.daily", "null")).amount_max_minor).toEqual(otherPeriods);
    const invalid = await bursar(["policy", "set", "approval_expiry_seconds", "null"], env);
    expectPlainError(invalid, 1, "validation_failed");

    expect(await json("policy", "check", "--amount", "25000", "--currency", "GBP", "--payee", "Bob")).toMatchObject({ decision: "allow", reason_codes: [] });
    expect(await json("policy", "check", "--amount", "40000", "--currency", "GBP", "--payee", "Bob")).toMatchObject({ decision: "approval_required", reason_codes: ["approval_threshold_reached"], available_actions: ["request_approval"] });

    expect(await json("budgets")).toMatchObject({ object: "list", agent_id: agentId, data: [] });
    expect((await json("budgets", "set", "monthly", "250000", "GBP")).data).toMatchObject([{ period: "monthly", amount: 250_000, currency: "GBP", status: "active" }]);
  });

  it("webhooks list, create, deliveries, retry", async () => {
    expect(await json("webhooks", "list")).toEqual([]);
    const endpoint = await json("webhooks", "create", "--url", "http://127.0.0.1:9/hook", "--events", "payee.*");
    expect(endpoint).toMatchObject({ object: "webhook_endpoint", event_types: ["payee.*"], secret: expect.stringMatching(/^whsec_/) });
    await json("payees", "create", "--name", "Carol", "--currency", "GBP");
    const deliveries = await json("webhooks", "deliveries", endpoint.id);
    expect(deliveries).toMatchObject([{ event_type: "payee.created" }]);
    expect(await json("webhooks", "retry", endpoint.id, deliveries[0].id)).toMatchObject({ id: deliveries[0].id, object: "webhook_delivery" });
  });

  it("api-keys create, rotate, usage, revoke", async () => {
    const key = await json("api-keys", "create", "--name", "bot", "--scopes", "agents:execute,transactions:read", "--agent", agentId);
    expect(key).toMatchObject({ object: "api_key", key: expect.stringMatching(/^bsk_/), agent_id: agentId });
    expect((await client(server.url, key.key).get("/v1/balance")).status).toBe(200);
    const rotated = await json("api-keys", "rotate", key.id);
    expect(rotated).toMatchObject({ key: expect.stringMatching(/^bsk_/), rotated_from_id: key.id });
    expect(await json("api-keys", "usage", rotated.id)).toMatchObject({ object: "api_key_usage", accepted: 0 });
    expect(await json("api-keys", "usage", key.id)).toMatchObject({ accepted: 1 });
    expect(await json("api-keys", "revoke", rotated.id)).toMatchObject({ id: rotated.id, status: "revoked" });
    expect((await client(server.url, rotated.key).get("/v1/balance")).status).toBe(401);
    expect((await json("api-keys", "list")).map((listed: { id: string }) => listed.id)).toEqual(expect.arrayContaining([key.id, rotated.id]));
  });

  it("services and service-requests", async () => {
    const services = await json("services");
    expect(services.find((service: { name: string }) => service.name === "sandbox").operations.map((operation: { name: string }) => operation.name)).toContain("echo");
    const request = await json("service-requests", "create", "sandbox.echo", "--payload", '{"hello":"world"}');
    expect(request).toMatchObject({ object: "service_request", status: "executed", result: { echo: { hello: "world" } } });
    expect(await json("service-requests", "show", request.id)).toMatchObject({ id: request.id, status: "executed" });
    expect((await json("service-requests", "list")).map((listed: { id: string }) => listed.id)).toContain(request.id);
  });

  it("--version, and a top-level help with the environment, examples and exit codes", async () => {
    const version = await bursar(["--version"]);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(repoRoot, "packages/cli/package.json"), "utf8")).version);
    const help = await bursar(["--help"]);
    for (const text of ["BURSAR_API_URL", "BURSAR_TOKEN", "BURSAR_CONFIG_DIR", "Examples", "npx bursar chat", "Exit codes", "balance", "payees", "policy", "budgets", "webhooks", "api-keys", "services", "service-requests"]) {
      expect(help.stdout).toContain(text);
    }
  });

  it("chat as an owner: the only agent, or a list to choose from", async () => {
    const only = await bursar(["chat", "What is my balance?"], env);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stderr).toContain(`acting for ${agentId}`);
    expect(only.stdout).toMatch(/balance/i);
    const second = await json("agents", "create", "--name", "Second bot");
    const ask = await bursar(["chat", "What is my balance?"], env);
    expectPlainError(ask, 2, "which agent?", "--agent", agentId, second.id);
    const chosen = await bursar(["chat", "--agent", second.id, "What is my balance?"], env);
    expect(chosen.code, chosen.stderr).toBe(0);
    void token;
  });
});

describe("errors of the first hour", () => {
  it("no credentials: names the CLI's flags, not the SDK's options", async () => {
    const empty = tempDir("cli-empty");
    const ran = await bursar(["transactions"], { BURSAR_DATA_DIR: path.join(empty, ".bursar"), BURSAR_CONFIG_DIR: path.join(empty, "agent"), BURSAR_TOKEN: "" }, empty);
    expectPlainError(ran, 2, "--token", "--agent", "--config-dir", "npx bursar auth agent");
    expect(ran.stderr).not.toMatch(/apiKey|clientId|privateKey/);
    const owner = await bursar(["accounts", "list"], { BURSAR_DATA_DIR: path.join(empty, ".bursar"), BURSAR_TOKEN: "" }, empty);
    expectPlainError(owner, 2, "--token", "npm start");
  });

  it("the server not running: suggests npm start", async () => {
    const ran = await bursar(["balance", "--token", "bpat_x", "--agent", "agt_x"], { BURSAR_API_URL: "http://127.0.0.1:9" });
    expectPlainError(ran, 3, "cannot reach Bursar at http://127.0.0.1:9", "npm start");
  });

  it("a port in use: suggests --port", async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const ran = await bursar(["serve", "--port", String(port), "--no-demo", "--data-dir", tempDir("cli-port")]);
      expectPlainError(ran, 4, `port ${port} is already in use`, "--port");
    } finally {
      holder.close();
    }
  });

  it("an LLM base URL without a model: says which variable to set", async () => {
    const ran = await bursar(["serve", "--port", "0", "--no-demo", "--data-dir", tempDir("cli-llm")], { BURSAR_LLM_BASE_URL: "https://llm.example/v1", BURSAR_LLM_MODEL: "" });
    expectPlainError(ran, 4, "BURSAR_LLM_MODEL is required", "unset BURSAR_LLM_BASE_URL");
  });

  it.skipIf(!postgresUrl)("a PostgreSQL database that does not exist: says how to create it", async () => {
    const url = new URL(postgresUrl!);
    url.pathname = "/bursar_missing_db_for_test";
    const ran = await bursar(["serve", "--port", "0", "--no-demo", "--database-url", url.toString()]);
    expectPlainError(ran, 4, 'the database "bursar_missing_db_for_test" does not exist', "createdb bursar_missing_db_for_test");
  });
});

describe("start-up", () => {
  it("prints readable log lines with --log-format pretty, after the banner", async () => {
    const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--log-format", "pretty", "--data-dir", tempDir("cli-pretty")], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      await expect.poll(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], { timeout: 20_000 }).toBeTruthy();
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
      await fetch(`${url}/healthz`);
      await expect.poll(() => out, { timeout: 5_000 }).toMatch(/^\d\d:\d\d:\d\d {2}200 GET \/healthz \d+ ms$/m);
      expect(out).not.toMatch(/^\{"level"/m);
      expect(out.indexOf("Try it")).toBeLessThan(out.indexOf("GET /healthz"));
    } finally {
      await killHard(child);
    }
  });
});
