/**
 * `bursar tasks …` and the SDK's `tasks.*` end to end against a real server: an owner creates a
 * task with a £30 bounty paid by a named agent (SDK), the assignee works it from the CLI with its
 * stored credential, a CI service-account key reports through the CLI, the SDK's ConflictError
 * carries `currentStatus` and `availableActions`, an owner reviews from the CLI and the assignee
 * ships: the bounty lands in its wallet.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar, ConflictError } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { cliRunner } from "./cli-support.js";
import { startTestServer } from "./support.js";
import { newHead } from "./tasks-support.js";

let server: RunningServer;
const { bursar, json } = cliRunner(() => server.url, "cli-tasks-no-demo");
let setup: SdkAgent;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "events:read"] });
});
afterAll(async () => {
  await setup?.owner.close();
  await server?.close();
});

describe("bursar tasks and the SDK's tasks", () => {
  it("works a task with a bounty from create to ship", async () => {
    const { owner } = setup;
    const payer = await owner.agents.create({ name: "Payer" });
    await owner.accounts.deposit(payer.wallet_account_id, { amount: 10_000 });
    const ciKey = (await owner.apiKeys.create({ name: "ci", scopes: ["ci:write"] })).key!;
    const ci = new Bursar({ apiKey: ciKey, baseUrl: server.url });
    const asAgent = { BURSAR_CONFIG_DIR: setup.configDir };
    const asOwner = { BURSAR_TOKEN: setup.ownerToken };
    const asCi = { BURSAR_TOKEN: ciKey };

    const task = await owner.tasks.create({ title: "Write the Q2 report", assignee_agent_id: setup.agentId, bounty: { amount: 3000, currency: "GBP", payer_agent_id: payer.id } });
    expect(task).toMatchObject({ status: "todo", bounty: { status: "held", payer_agent_id: payer.id } });

    const mine = await json(["tasks", "mine"], asAgent);
    expect(mine.map((row: any) => row.id)).toContain(task.id);
    expect((await bursar(["tasks", "mine"], asAgent)).stdout).toContain("30.00 GBP (held)");
    expect(await json(["tasks", "start", task.id], asAgent)).toMatchObject({ status: "in_progress" });
    const head = newHead();
    expect(await json(["tasks", "submit", task.id, "--summary", "Draft ready", "--head", head, "--require", "unit", "--artifact", "doc=https://example.com/q2.pdf"], asAgent)).toMatchObject({ status: "in_review", head_sha: head });

    expect(await json(["tasks", "ci", task.id, "--head", head, "--check", "unit=failed"], asCi)).toMatchObject({ stale: false, ci_status: { overall_status: "failed" } });
    expect((await bursar(["tasks", "ci", task.id], asAgent)).code).toBe(5);
    const refused = await setup.owner.tasks.ship(task.id, { mode: "merge", target_environment: "production", expected_head_sha: head }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ code: "task_transition_not_allowed", currentStatus: "in_review", availableActions: expect.arrayContaining(["fix"]) });

    await ci.tasks.reportCi(task.id, { head_sha: head, checks: [{ name: "unit", status: "passed" }] });
    expect((await owner.tasks.ciStatus(task.id)).overall_status).toBe("passed");
    expect(await json(["tasks", "review", task.id, "--summary", "Good report"], asOwner)).toMatchObject({ review_status: "approved" });
    expect((await owner.tasks.reviewFeedback(task.id)).latest_decision).toMatchObject({ outcome: "approved" });

    const shipped = await json(["tasks", "ship", task.id, "--head", head], asAgent);
    expect(shipped).toMatchObject({ status: "done", bounty: { status: "released", paid_amount: 3000 } });
    // The CLI's key is the same on a retry: the first answer again.
    expect(await json(["tasks", "ship", task.id, "--head", head], asAgent)).toMatchObject({ status: "done" });
    expect((await owner.balance.get({ agent_id: setup.agentId })).balance).toBe(3000);
    expect(await json(["tasks", "show", task.id], asOwner)).toMatchObject({ status: "done", available_actions: [] });
    await ci.close();
  });
});
