/**
 * The `bursar` command as a newcomer uses it: `serve` on an empty data directory creates the
 * demo tenant and prints a token that works; `init --json` creates another tenant whose token
 * works against the same server.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { client, killHard, repoRoot, spawnServer, tempDir, type ChildServer } from "./support.js";

const run = promisify(execFile);
const bin = path.join(repoRoot, "packages/cli/bin/bursar.js");

describe("bursar CLI", () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
  });

  it("serve creates a demo tenant on first start, and init adds a tenant with a working token", async () => {
    const dataDir = tempDir("cli");
    const server = await spawnServer({ BURSAR_DATA_DIR: dataDir }, { demo: true });
    children.push(server);

    const output = server.stdout();
    const token = /^\s+(bpat_\S+)$/m.exec(output)?.[1];
    expect(token, output).toBeTruthy();
    const tokenFile = path.join(dataDir, "demo-owner-token");
    expect(fs.readFileSync(tokenFile, "utf8").trim()).toBe(token);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(output).toContain(`${server.url}/v1/payment-intents`);

    // The printed payment request, as printed: it waits for the owner's approval, who approves it.
    const demo = client(server.url, token);
    const body = /-d '(\{.*\})'/.exec(output)?.[1];
    expect(body, output).toBeTruthy();
    const agentId = JSON.parse(body!).agent_id as string;
    expect((await demo.get(`/v1/balance?agent_id=${agentId}`)).body).toMatchObject({ currency: "GBP", balance: 100_000 });
    const intent = await demo.post("/v1/payment-intents", JSON.parse(body!));
    expect(intent.status, JSON.stringify(intent.body)).toBe(201);
    expect(intent.body).toMatchObject({ approval_status: "pending_approval", amount: 50_000 });
    const pending = await demo.get("/v1/approvals?status=pending");
    expect(pending.body.data.map((approval: { id: string }) => approval.id)).toEqual([intent.body.approval_id]);
    expect((await demo.post(`/v1/approvals/${intent.body.approval_id}/approve`)).status).toBe(200);
    expect((await demo.get(`/v1/payment-intents/${intent.body.id}`)).body.execution_status).toBe("completed");
    expect((await demo.get(`/v1/balance?agent_id=${agentId}`)).body).toMatchObject({ balance: 50_000 });

    // The printed spend authorization, as printed: within the demo's openai.* cap, held, then consumed in part.
    const spendBody = [...output.matchAll(/-d '(\{.*\})'/g)].map((match) => JSON.parse(match[1]!)).find((parsed) => parsed.operation);
    expect(spendBody, output).toMatchObject({ agent_id: agentId, operation: "openai.chat" });
    const authorization = await demo.post("/v1/spend/authorizations", spendBody);
    expect(authorization.body, JSON.stringify(authorization.body)).toMatchObject({ status: "authorized", amount: 300 });
    expect((await demo.post("/v1/spend/authorizations", { ...spendBody, amount: 501 })).body).toMatchObject({ status: "denied", reason_codes: ["amount_exceeds_operation_max"] });
    const consumed = await demo.post(`/v1/spend/authorizations/${authorization.body.id}/complete`, { outcome: "consumed", amount: 120 });
    expect(consumed.body).toMatchObject({ status: "consumed", consumed_amount: 120 });
    expect((await demo.get(`/v1/balance?agent_id=${agentId}`)).body).toMatchObject({ balance: 49_880 });

    const { stdout } = await run(process.execPath, [bin, "init", "--json", "--name", "Second"], { env: { ...process.env, BURSAR_DATA_DIR: dataDir } });
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ tenant_id: expect.stringMatching(/^ten_/), owner_id: expect.stringMatching(/^usr_/), owner_token: expect.stringMatching(/^bpat_/) });
    const second = client(server.url, created.owner_token);
    const principalView = await second.get("/v1/accounts");
    expect(principalView.status).toBe(200);
    expect(principalView.body.data).toEqual([]);

    // A restart does not create a second demo tenant, and prints the banner again: where the
    // token is (not the token), and the whole try-it sequence.
    await killHard(server.process);
    const again = await spawnServer({ BURSAR_DATA_DIR: dataDir }, { demo: true });
    children.push(again);
    expect(again.stdout()).not.toContain("bpat_");
    expect(again.stdout()).toContain(`The owner token is in ${tokenFile}`);
    expect(again.stdout()).toContain(`${again.url}/v1/approvals/$APPROVAL/approve`);
    expect(again.stdout()).toContain(`${again.url}/docs`);
    expect((await client(again.url, token).get("/v1/accounts")).status).toBe(200);
    // Nor a second demo team: the seeding is the first start's only.
    const teams = (await client(again.url, token).get("/v1/teams")).body.data;
    expect(teams).toHaveLength(1);
    const team = (await client(again.url, token).get(`/v1/teams/${teams[0].id}`)).body;
    expect(team.pools[0]).toMatchObject({ amount: 1_000_000, allocated: 250_000, spent: 50_120, remaining: 1_000_000 - 50_120 });
    expect((await client(again.url, token).get(`/v1/teams/${teams[0].id}/members`)).body.data.map((member: { id: string }) => member.id)).toEqual([agentId]);
  });

  it("the try-it lines serve prints run as printed in a shell: pay, list, approve, see it paid", async () => {
    const home = tempDir("cli-try");
    const server = await spawnServer({ BURSAR_DATA_DIR: path.join(home, ".bursar") }, { demo: true });
    children.push(server);
    const output = server.stdout();
    const start = output.indexOf("Try it");
    const lines = output.slice(start).split("\n").slice(1);
    const script = lines.slice(0, lines.findIndex((line) => line.trim() === "")).map((line) => line.replace(/^ {2}/, "")).join("\n");
    expect(script).toContain("TOKEN=$(cat ");
    expect(script).toContain("/approve");
    // Each command's output on its own line, so the answers can be read back.
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script.split("\n").map((line) => (/\\$/.test(line) || /^[A-Z]+=/.test(line) ? line : `${line}; echo`)).join("\n")], { cwd: repoRoot });
    const answers = stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(answers[0]).toMatchObject({ object: "balance", balance: 100_000 });
    expect(answers[1]).toMatchObject({ object: "payment_intent", approval_status: "pending_approval", amount: 50_000 });
    expect(answers[2].data.map((approval: { id: string }) => approval.id)).toEqual([answers[1].approval_id]);
    expect(answers[3]).toMatchObject({ object: "approval", id: answers[1].approval_id, status: "approved" });
    expect(answers[4].data).toMatchObject([{ amount: 50_000, currency: "GBP", creditor: { name: "Bob Smith" }, payment_intent_id: answers[1].id }]);
    expect(answers[5]).toMatchObject({ object: "spend_authorization", status: "authorized", operation: "openai.chat", amount: 300 });
    expect(answers[6]).toMatchObject({ tree_size: expect.any(Number) });
    // The demo team: the agent's £2,500 a month carved out of a £10,000 pool.
    expect(answers[7].data).toMatchObject([{ object: "team", name: "Demo team", pools: [{ period: "monthly", currency: "GBP", amount: 1_000_000, allocated: 250_000 }], allocations: [{ agent_id: answers[1].agent_id, amount: 250_000 }] }]);
  });
});
