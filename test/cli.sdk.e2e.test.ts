/**
 * The `bursar` CLI end to end, by spawning the bin against a real server: init → agents create →
 * tickets create → auth agent --ticket → auth status → journal verify (twice: the second run
 * proves the journal extends the first) → events tail; and a tampered trust record is refused.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { cliRunner } from "./cli-support.js";
import { client, startTestServer, tempDir } from "./support.js";

let server: RunningServer;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDir("cli-sdk-data");
  server = await startTestServer("sqlite", { config: { dataDir } });
});
afterAll(async () => {
  await server.close();
});

const { bursar, json } = cliRunner(() => server.url, "cli-no-demo");

describe("bursar CLI over the SDK", () => {
  it("onboards an agent from a ticket and verifies the journal", async () => {
    const init = await json(["init", "--data-dir", dataDir, "--name", "CLI tenant"]);
    const owner = { BURSAR_TOKEN: init.owner_token };
    const agent = await json(["agents", "create", "--name", "CLI agent"], owner);
    expect(agent.id).toMatch(/^agt_/);

    // Readable output here; JSON for the rest.
    const minted = await bursar(["tickets", "create", "--agent", agent.id], owner);
    expect(minted.code, minted.stderr).toBe(0);
    expect(minted.stdout).toMatch(/^scopes\s+agents:execute transactions:read events:read$/m);
    const ticket = { ticket: /^ticket\s+(\S+)$/m.exec(minted.stdout)![1]! };
    expect(ticket.ticket).toMatch(/^bursar-reg_/);
    expect(minted.stdout).toContain(`bursar auth agent --ticket ${ticket.ticket}`);

    const configDir = path.join(tempDir("cli-sdk-config"), "store");
    const store = { BURSAR_CONFIG_DIR: configDir };
    const registered = await json(["auth", "agent", "--ticket", ticket.ticket], store);
    expect(registered).toMatchObject({ agentId: agent.id, clientId: expect.stringMatching(/^cb_/), config_dir: configDir });
    expect(fs.statSync(path.join(configDir, "credentials.json")).mode & 0o777).toBe(0o600);
    // The ticket is spent: a second registration fails with the server's code.
    const again = await bursar(["auth", "agent", "--ticket", ticket.ticket, "--json"], { BURSAR_CONFIG_DIR: tempDir("cli-again") });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.code).toBe("ticket_already_consumed");

    const status = await json(["auth", "status"], { ...store, ...owner });
    expect(status.agent).toMatchObject({ client_id: registered.clientId, agent_id: agent.id, error: null, principal: { principal_type: "agent", agent_id: agent.id } });
    expect(status.owner).toMatchObject({ error: null, principal: { principal_type: "user" } });

    // Pay as the agent; the owner approves from the CLI; the transaction shows up.
    const http = client(server.url, init.owner_token);
    expect((await http.post(`/v1/accounts/${agent.wallet_account_id}/deposits`, { amount: 100_000 })).status).toBe(201);
    expect((await http.post("/v1/payees", { name: "Bob Smith", aliases: ["Bob"], currency: "GBP" })).status).toBe(201);
    const policy = (await http.get(`/v1/agents/${agent.id}/policy`)).body;
    const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...rules } = policy;
    expect((await http.call("PUT", `/v1/agents/${agent.id}/policy`, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: 20_000 })).status).toBe(200);
    const chat = await bursar(["chat", "Pay", "£500", "to", "Bob", "for", "the", "April", "invoice"], store);
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stderr).toMatch(/approval apr_\w+ needed/);
    const chatted = (await http.get("/v1/payment-intents")).body.data[0];
    expect(chatted).toMatchObject({ approval_status: "pending_approval", amount: 50_000, reference: "April invoice" });
    expect((await http.post(`/v1/approvals/${chatted.approval_id}/reject`)).status).toBe(200);
    const intent = await json(["payment-intents", "create", "--payee", "Bob", "--amount", "50000", "--currency", "GBP", "--reference", "April invoice"], store);
    expect(intent).toMatchObject({ approval_status: "pending_approval", amount: 50_000 });
    const pending = await json(["approvals", "list", "--status", "pending"], owner);
    expect(pending.map((approval: { id: string }) => approval.id)).toEqual([intent.approval_id]);
    const agentCannot = await bursar(["approvals", "approve", intent.approval_id, "--json"], { ...store, BURSAR_DATA_DIR: tempDir("cli-no-owner") });
    expect(agentCannot.code).toBe(2);
    const approved = await json(["approvals", "approve", intent.approval_id, "--note", "checked"], owner);
    expect(approved).toMatchObject({ status: "approved", note: "checked" });
    const transactions = await json(["transactions"], store);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toMatchObject({ status: "completed", amount: 50_000, reference: "April invoice", payment_intent_id: intent.id });
    const listed = await bursar(["payment-intents", "list"], store);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${intent.id}\\s+500\\.00 GBP\\s+approved_by_user\\s+completed`));

    // As the agent (no owner token): the first run pins the checkpoint, the second proves growth.
    const first = await json(["journal", "verify"], store);
    expect(first).toMatchObject({ verified: true, origin: `bursar/${init.tenant_id}`, extends_previous: null });
    expect(first.inclusion.seq).toBeGreaterThan(0);
    const second = await bursar(["journal", "verify", "--all"], { ...store, ...owner });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`extends the checkpoint verified before (${first.tree_size} entries)`);
    expect(second.stdout).toMatch(/entries\s+all \d+ re-hashed to the signed root/);

    const tail = await bursar(["events", "tail", "--after-seq", "0", "--max", "2", "--json"], owner);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout.trim().split("\n").map((line) => JSON.parse(line).seq)).toEqual([1, 2]);

    // A trust record that does not match what the server signs is refused, with its own exit code.
    const trustFile = path.join(configDir, "journal-trust.json");
    const trust = JSON.parse(fs.readFileSync(trustFile, "utf8"));
    const record = trust[first.origin];
    record.checkpoint.root_hash = Buffer.alloc(32, 1).toString("base64");
    fs.writeFileSync(trustFile, JSON.stringify(trust));
    const refused = await bursar(["journal", "verify"], store);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain("JOURNAL VERIFICATION FAILED");
  }, 180_000);

  it("says what is missing", async () => {
    const noOwner = await bursar(["tickets", "create", "--agent", "agt_x"]);
    expect(noOwner.code).toBe(2);
    expect(noOwner.stderr).toContain("owner token");
    const noAgent = await bursar(["journal", "verify"], { BURSAR_CONFIG_DIR: tempDir("cli-empty") });
    // Exit code 2: called without credentials (documented in bursar --help).
    expect(noAgent.code).toBe(2);
    expect(noAgent.stderr).toContain("no credentials");
  });
});
