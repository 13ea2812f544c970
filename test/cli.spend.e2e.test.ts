/**
 * `bursar spend` and `bursar capabilities` end to end, by spawning the bin against a real server
 * (the agent registered through the SDK, so only the commands under test start processes): an
 * authorization consumed in part, one covered by a capability, one that waits and is released,
 * the lists, and a revoked capability refused with its code.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { cliRunner } from "./cli-support.js";
import { startTestServer } from "./support.js";

let server: RunningServer;
const { bursar, json } = cliRunner(() => server.url, "cli-spend-no-demo");
let setup: SdkAgent;
let asAgent: Record<string, string>;
let asOwner: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute"], fundMinor: 100_000 });
  const { object, id, agent_id, is_default, updated_at, ...rules } = await setup.owner.policy.get(setup.agentId);
  // The default policy is spend-limited (docs/concepts.md); this agent's owner lifts the limits.
  await setup.owner.policy.update(setup.agentId, { ...rules, per_transaction_max_minor: null, amount_max_minor: {}, approval_threshold_minor: 20_000 });
  asAgent = { BURSAR_CONFIG_DIR: setup.configDir };
  asOwner = { BURSAR_TOKEN: setup.ownerToken };
});
afterAll(async () => {
  await setup?.owner.close();
  await server?.close();
});

describe("bursar spend and capabilities", () => {
  it("authorizes, completes, waits, lists; a capability covers a spend until revoked", async () => {
    const authorized = await json(["spend", "authorize", "--operation", "openai.chat", "--amount", "1000", "--currency", "GBP", "--tool-call-id", "call_1"], asAgent);
    expect(authorized).toMatchObject({ object: "spend_authorization", status: "authorized", vendor: "openai", amount: 1_000, tool_call_id: "call_1" });
    const consumed = await json(["spend", "complete", authorized.id, "--outcome", "consumed", "--amount", "700", "--reference", "chatcmpl-1"], asAgent);
    expect(consumed).toMatchObject({ id: authorized.id, status: "consumed", consumed_amount: 700, external_reference: "chatcmpl-1" });

    // Readable output for the mint: the token is shown once, with how to present it.
    const minted = await bursar(["capabilities", "create", "--agent", setup.agentId, "--operations", "vendor.*,tools.search", "--max-amount", "50000", "--currency", "GBP", "--expires-in", "3600", "--max-uses", "3"], asOwner);
    expect(minted.code, minted.stderr).toBe(0);
    expect(minted.stdout).toMatch(/^operations\s+vendor\.\* tools\.search$/m);
    const token = /Token \(shown once; give it to the agent\):\n {2}(\S+)/.exec(minted.stdout)![1]!;
    expect(token).toMatch(/^eyJ/);

    // Above the approval threshold: the capability covers it; without one, --wait runs out and releases (exit 5).
    const [covered, waited, capabilities] = await Promise.all([
      json(["spend", "authorize", "--operation", "vendor.invoice", "--amount", "25000", "--currency", "GBP", "--capability", token], asAgent),
      bursar(["spend", "authorize", "--operation", "vendor.invoice", "--amount", "25000", "--currency", "GBP", "--wait", "1", "--json"], asAgent),
      json(["capabilities", "list", "--agent", setup.agentId, "--status", "active"], asOwner),
    ]);
    expect(covered).toMatchObject({ status: "authorized", decision: "allow", capability_id: expect.stringMatching(/^cap_/) });
    expect(waited.code, waited.stderr).toBe(5);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: "released", approval_status: "cancelled", amount: 25_000 });
    expect(capabilities).toHaveLength(1);
    expect(capabilities[0]).toMatchObject({ id: covered.capability_id, allowed_operations: ["vendor.*", "tools.search"], max_amount: 50_000, max_uses: 3 });
    expect(capabilities[0].token).toBeUndefined();

    const listed = await json(["spend", "list"], asAgent);
    expect(listed).toHaveLength(3);
    expect(listed[2]).toMatchObject({ id: authorized.id, status: "consumed" });
    expect(listed.map((row: { status: string }) => row.status).sort()).toEqual(["authorized", "consumed", "released"]);
    const owned = await bursar(["spend", "list", "--agent", setup.agentId, "--status", "authorized"], asOwner);
    expect(owned.code, owned.stderr).toBe(0);
    expect(owned.stdout).toMatch(new RegExp(`^${covered.id}\\s+vendor\\.invoice\\s+vendor\\s+250\\.00 GBP\\s+authorized`, "m"));

    const revoked = await json(["capabilities", "revoke", covered.capability_id], asOwner);
    expect(revoked).toMatchObject({ status: "revoked", uses: 1 });
    const refused = await bursar(["spend", "authorize", "--operation", "vendor.invoice", "--amount", "100", "--currency", "GBP", "--capability", token, "--json"], asAgent);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error).toMatchObject({ code: "capability_revoked", name: "PermissionDeniedError" });

    // What the commands did, seen through the SDK: 700 spent, the covered 25,000 still held.
    const agent = new Bursar({ configDir: setup.configDir });
    try {
      expect(await agent.balance.get()).toMatchObject({ balance: 99_300, available: 74_300 });
    } finally {
      await agent.close();
    }
  }, 60_000);

  it("refuses what it cannot send", async () => {
    const [fraction, noExpiry] = await Promise.all([
      bursar(["spend", "authorize", "--operation", "openai.chat", "--amount", "5.5", "--currency", "GBP"], asAgent),
      bursar(["capabilities", "create", "--agent", setup.agentId, "--operations", "a.*", "--max-amount", "1", "--currency", "GBP", "--json"], asOwner),
    ]);
    expect(fraction.code).toBe(2); // called wrong (README exit codes), not an API refusal
    expect(fraction.stderr).toContain("Expected a whole number");
    expect(noExpiry.code).toBe(2);
    expect(JSON.parse(noExpiry.stderr).error.code).toBe("usage");
  });
});
