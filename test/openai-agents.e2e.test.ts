/**
 * `@bursar/sdk/openai-agents` driven by the OpenAI Agents SDK's own runner (`run` with
 * `OpenAIChatCompletionsModel`, streaming) against the local OpenAI-compatible scripted model
 * (test/fake-llm.ts) and a real Bursar server; money checked in the ledger afterwards:
 * a denial is rejected by the tool input guardrail with the reasons (the tool never runs, nothing
 * is held); Bursar's hold for an owner interrupts the run, and after the owner approves in Bursar
 * the resumed run executes (registry payment) or consumes the actual cost (guarded tool); a
 * throwing guarded tool releases its hold.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, OpenAIChatCompletionsModel, run, setTracingDisabled } from "@openai/agents";
import OpenAI from "openai";
import { z } from "zod";
import type { RunningServer } from "@bursar/server";
import { createBursarAgents, type BursarAgents } from "@bursar/sdk/openai-agents";
import { checkLedger } from "./books.js";
import { startFakeLlm, textAnswer, toolCallAnswer, type FakeLlm, type FakeLlmAnswer, type FakeLlmRequest } from "./fake-llm.js";
import { toolTenant, walletOf, type ToolTenant } from "./mcp-support.js";
import { client, startTestServer } from "./support.js";

let server: RunningServer;
let tenant: ToolTenant;
let bursarAgents: BursarAgents;
let llm: FakeLlm | null = null;
let script: (request: FakeLlmRequest, index: number) => FakeLlmAnswer = () => textAnswer("idle");
let calls = 0;
let runs = 0;

beforeAll(async () => {
  setTracingDisabled(true);
  server = await startTestServer("sqlite");
  tenant = await toolTenant(server);
  bursarAgents = await createBursarAgents(tenant.agent, { approvalBaseUrl: server.url });
  llm = await startFakeLlm((request, index) => script(request, index));
});
afterAll(async () => {
  await llm?.close();
  await tenant?.agent.close();
  await tenant?.owner.close();
  await server?.close();
});

function scriptCall(name: string, args: object, text = "done") {
  const start = llm!.requests.length;
  const id = `call_${++calls}_${Date.now()}`;
  script = (_request, index) => (index === start ? toolCallAnswer([{ id, name, arguments: JSON.stringify(args) }]) : textAnswer(text));
}

const weather = () =>
  bursarAgents.guard(
    {
      name: "weather",
      description: "A paid weather API",
      parameters: z.object({ city: z.string(), fail: z.boolean().optional(), maxMinor: z.number().optional() }),
      execute: async ({ city, fail }) => {
        runs += 1;
        if (fail) throw new Error("weather API down");
        return { city, forecast: "rain", costMinor: 80 };
      },
    },
    { operation: "weather.forecast", amount: (input) => input.maxMinor ?? 200, currency: "GBP", cost: (output) => output.costMinor },
  );

function agent() {
  const model = new OpenAIChatCompletionsModel(new OpenAI({ baseURL: llm!.baseUrl, apiKey: "test" }) as never, "scripted");
  return new Agent({ name: "payer", instructions: "Pay what you are asked to.", model, tools: [...bursarAgents.tools, weather()] });
}

async function runStreamed(a: Agent, input: Parameters<typeof run>[1]) {
  const result = await run(a, input, { stream: true });
  await result.completed;
  return result;
}

const toolOutputsSeen = () => llm!.requests.at(-1)!.body.messages.filter((message) => message.role === "tool").map((message) => String(message.content));
const latestSpend = async () => (await tenant.ownerGet(`/v1/spend/authorizations?agent_id=${tenant.agentId}&limit=1`)).data[0];

describe("OpenAI Agents SDK runner", () => {
  it("registry payment below the threshold executes", async () => {
    const before = await walletOf(tenant);
    scriptCall("bursar_pay", { payee: "Bob", amount: 450, currency: "GBP" });
    const result = await runStreamed(agent(), "Pay Bob £4.50");
    expect(result.interruptions).toHaveLength(0);
    expect(toolOutputsSeen().join()).toContain('"status":"executed"');
    expect((await walletOf(tenant)).balance).toBe(before.balance - 450);
  });

  it("a registry payment Bursar holds interrupts the run; after the owner approves, the resumed run executes it once", async () => {
    const before = await walletOf(tenant);
    scriptCall("bursar_pay", { payee: "Bob", amount: 40_000, currency: "GBP", reference: "agents invoice" });
    const a = agent();
    const first = await runStreamed(a, "Pay Bob £400");
    expect(first.interruptions).toHaveLength(1);
    expect(await bursarAgents.resolveInterruptions(first)).toBe(0); // the owner has not decided
    const pending = (await tenant.ownerGet(`/v1/approvals?status=pending&agent_id=${tenant.agentId}`)).data;
    await tenant.owner.approvals.approve(pending[0].id, { note: "ok" });
    expect(await bursarAgents.resolveInterruptions(first, { timeoutMs: 5_000, pollIntervalMs: 50 })).toBe(1);
    await runStreamed(a, first.state);
    expect(toolOutputsSeen().join()).toContain('"status":"executed"');
    expect((await walletOf(tenant)).balance).toBe(before.balance - 40_000);
    const intents = (await tenant.ownerGet(`/v1/payment-intents?agent_id=${tenant.agentId}&limit=100`)).data.filter((intent: any) => intent.reference === "agents invoice");
    expect(intents).toHaveLength(1);
  });

  it("a guarded tool consumes the actual cost", async () => {
    const before = await walletOf(tenant);
    scriptCall("weather", { city: "York" });
    await runStreamed(agent(), "Weather?");
    expect(await latestSpend()).toMatchObject({ status: "consumed", amount: 200, consumed_amount: 80 });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 80);
  });

  it("a denial is rejected by the input guardrail with the reasons; the tool never runs; nothing held", async () => {
    const before = await walletOf(tenant);
    const runsBefore = runs;
    scriptCall("weather", { city: "York", maxMinor: 150_000 });
    await runStreamed(agent(), "Weather?");
    expect(toolOutputsSeen().join()).toContain("amount_exceeds_transaction_max");
    expect(runs).toBe(runsBefore);
    expect((await latestSpend()).status).toBe("denied");
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("a throwing guarded tool releases its hold", async () => {
    const before = await walletOf(tenant);
    scriptCall("weather", { city: "York", fail: true });
    await runStreamed(agent(), "Weather?");
    expect(toolOutputsSeen().join()).toContain("weather API down");
    expect((await latestSpend()).status).toBe("released");
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("a guarded spend over the threshold interrupts; after the owner approves, it runs and consumes", async () => {
    const before = await walletOf(tenant);
    const runsBefore = runs;
    scriptCall("weather", { city: "York", maxMinor: 30_000 });
    const a = agent();
    const first = await runStreamed(a, "Weather?");
    expect(first.interruptions).toHaveLength(1);
    expect(runs).toBe(runsBefore);
    const pending = await latestSpend();
    await tenant.owner.approvals.approve(pending.approval_id, { note: "ok" });
    expect(await bursarAgents.resolveInterruptions(first, { timeoutMs: 5_000, pollIntervalMs: 50 })).toBe(1);
    await runStreamed(a, first.state);
    expect(runs).toBe(runsBefore + 1);
    expect(await latestSpend()).toMatchObject({ id: pending.id, status: "consumed", consumed_amount: 80 });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 80);
  });

  it("the books balance", async () => {
    await checkLedger(client(server.url, tenant.ownerToken));
  });
});
