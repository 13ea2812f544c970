/**
 * `@bursar/sdk/langchain` driven by LangChain's own agent (`createAgent`, langchain v1, with a
 * `MemorySaver` checkpointer) and `ChatOpenAI` against the local OpenAI-compatible
 * scripted model (test/fake-llm.ts) and a real Bursar server; money checked in the ledger after:
 * the `wrapToolCall` middleware answers a denial with a `ToolMessage` of status `error` (the tool
 * never runs, nothing held); a spend Bursar holds for an owner interrupts the graph, and after the
 * owner approves, `Command({ resume })` runs the tool and consumes the actual cost; a throwing tool
 * releases its hold; the registry's tools pay through governance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, tool } from "langchain";
import { ChatOpenAI } from "@langchain/openai";
import { Command, MemorySaver } from "@langchain/langgraph";
import { z } from "zod";
import type { StructuredToolInterface } from "@langchain/core/tools";
import type { RunningServer } from "@bursar/server";
import { createBursarLangChain, type BursarLangChain } from "@bursar/sdk/langchain";
import { checkLedger } from "./books.js";
import { startFakeLlm, textAnswer, toolCallAnswer, type FakeLlm, type FakeLlmAnswer, type FakeLlmRequest } from "./fake-llm.js";
import { toolTenant, walletOf, type ToolTenant } from "./mcp-support.js";
import { client, startTestServer } from "./support.js";

let server: RunningServer;
let tenant: ToolTenant;
let bursarLangChain: BursarLangChain;
let llm: FakeLlm | null = null;
let script: (request: FakeLlmRequest, index: number) => FakeLlmAnswer = () => textAnswer("idle");
let calls = 0;
let runs = 0;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  tenant = await toolTenant(server);
  bursarLangChain = await createBursarLangChain(tenant.agent, { approvalBaseUrl: server.url });
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

const weather = tool(
  async ({ fail }: { city: string; fail?: boolean; maxMinor?: number }) => {
    runs += 1;
    if (fail) throw new Error("weather API down");
    return JSON.stringify({ forecast: "fog", costMinor: 60 });
  },
  { name: "weather", description: "A paid weather API", schema: z.object({ city: z.string(), fail: z.boolean().optional(), maxMinor: z.number().optional() }) },
);

function agent() {
  const model = new ChatOpenAI({ model: "scripted", apiKey: "test", configuration: { baseURL: llm!.baseUrl } });
  return createAgent({
    model,
    // One element type: a mixed array of tool types defeats createAgent's overloads when middleware is given.
    tools: [...bursarLangChain.tools, weather] as StructuredToolInterface[],
    checkpointer: new MemorySaver(),
    middleware: [
      bursarLangChain.middleware({
        weather: { operation: "weather.forecast", amount: (args) => Number(args.maxMinor ?? 200), currency: "GBP", cost: (result) => JSON.parse(String(result.content)).costMinor },
      }),
    ],
  });
}

const thread = () => ({ configurable: { thread_id: `t${++calls}` } });
const toolOutputsSeen = () => llm!.requests.at(-1)!.body.messages.filter((message) => message.role === "tool").map((message) => String(message.content));
const latestSpend = async () => (await tenant.ownerGet(`/v1/spend/authorizations?agent_id=${tenant.agentId}&limit=1`)).data[0];

describe("LangChain createAgent", () => {
  it("a registry payment below the threshold executes", async () => {
    const before = await walletOf(tenant);
    scriptCall("bursar_pay", { payee: "Bob", amount: 450, currency: "GBP" });
    await agent().invoke({ messages: [{ role: "user", content: "Pay Bob £4.50" }] }, thread());
    expect(toolOutputsSeen().join()).toContain('"status":"executed"');
    expect((await walletOf(tenant)).balance).toBe(before.balance - 450);
  });

  it("a guarded tool consumes the actual cost", async () => {
    const before = await walletOf(tenant);
    scriptCall("weather", { city: "Hull" });
    await agent().invoke({ messages: [{ role: "user", content: "Weather?" }] }, thread());
    expect(await latestSpend()).toMatchObject({ status: "consumed", amount: 200, consumed_amount: 60 });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 60);
  });

  it("a denial answers a ToolMessage with status error and the reasons; the tool never runs; nothing held", async () => {
    const before = await walletOf(tenant);
    const runsBefore = runs;
    scriptCall("weather", { city: "Hull", maxMinor: 150_000 });
    const result = await agent().invoke({ messages: [{ role: "user", content: "Weather?" }] }, thread());
    const toolMessage = result.messages.find((message: any) => message.type === "tool" || message._getType?.() === "tool") as any;
    expect(toolMessage.status).toBe("error");
    expect(String(toolMessage.content)).toContain("amount_exceeds_transaction_max");
    expect(toolOutputsSeen().join()).toContain("amount_exceeds_transaction_max");
    expect(runs).toBe(runsBefore);
    expect((await latestSpend()).status).toBe("denied");
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("a throwing tool releases its hold", async () => {
    const before = await walletOf(tenant);
    scriptCall("weather", { city: "Hull", fail: true });
    await agent().invoke({ messages: [{ role: "user", content: "Weather?" }] }, thread());
    expect((await latestSpend()).status).toBe("released");
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("a spend over the threshold interrupts the graph; after the owner approves, resume runs it and consumes", async () => {
    const before = await walletOf(tenant);
    const runsBefore = runs;
    scriptCall("weather", { city: "Hull", maxMinor: 30_000 });
    const a = agent();
    const config = thread();
    const first = await a.invoke({ messages: [{ role: "user", content: "Weather?" }] }, config);
    const interrupts = (first as any).__interrupt__;
    expect(interrupts).toHaveLength(1);
    expect(interrupts[0].value).toMatchObject({ bursar: "approval_required" });
    expect(runs).toBe(runsBefore);
    const pending = await latestSpend();
    expect(pending.status).toBe("pending_approval");
    await tenant.owner.approvals.approve(pending.approval_id, { note: "ok" });
    await a.invoke(new Command({ resume: true }), config);
    expect(runs).toBe(runsBefore + 1);
    expect(await latestSpend()).toMatchObject({ id: pending.id, status: "consumed", consumed_amount: 60 });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 60);
  });

  it("after the owner rejects, resume answers an error ToolMessage; the tool never runs; the hold is gone", async () => {
    const before = await walletOf(tenant);
    const runsBefore = runs;
    scriptCall("weather", { city: "Hull", maxMinor: 30_000 });
    const a = agent();
    const config = thread();
    await a.invoke({ messages: [{ role: "user", content: "Weather?" }] }, config);
    const pending = await latestSpend();
    expect(pending.status).toBe("pending_approval");
    await tenant.owner.approvals.reject(pending.approval_id, { note: "no" });
    const resumed = await a.invoke(new Command({ resume: true }), config);
    const toolMessage = resumed.messages.find((message: any) => message.type === "tool" || message._getType?.() === "tool") as any;
    expect(toolMessage.status).toBe("error");
    expect(String(toolMessage.content)).toContain("No money moved");
    expect(runs).toBe(runsBefore);
    expect((await latestSpend()).status).not.toBe("authorized");
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("the books balance", async () => {
    await checkLedger(client(server.url, tenant.ownerToken));
  });
});
