import { describe, expect, it } from "vitest";
import { keepRecent, runTurn, type ChatEvent, type ChatMessage, type Planner, type PlannerContext, type PlannerOutcome, type PlannerStep, type ToolOutcome } from "./conversation.js";
import { fakeTools } from "./test-support.js";
import { chatToolArgumentsBytesMax } from "../limits.js";

/** A planner that yields `steps` in order, then returns `outcome`; it records what it was given. */
function scripted(steps: PlannerStep[], outcome: PlannerOutcome = { type: "reply", text: "done" }) {
  const seen = { outcomes: [] as ToolOutcome[][], contexts: [] as PlannerContext[], closed: false };
  const planner: Planner = {
    async *plan(context) {
      seen.contexts.push(context);
      try {
        for (const step of steps) {
          const outcomes = yield step;
          if (outcomes) seen.outcomes.push(outcomes);
        }
        return outcome;
      } finally {
        seen.closed = true;
      }
    },
  };
  return { planner, seen };
}

/** A planner that asks for `get_balance` forever, like a model stuck in a loop. */
const looping: Planner = {
  async *plan() {
    while (true) yield { type: "tool_calls", tool_calls: [{ name: "get_balance", arguments: "{}" }] };
  },
};

async function turn(planner: Planner, message = "hello", options: Partial<Parameters<typeof runTurn>[0]> = {}) {
  const events: ChatEvent[] = [];
  const tools = fakeTools();
  const result = await runTurn({ planner, tools, history: [], message, emit: (event) => void events.push(event), ...options });
  return { events, result, tools };
}

describe("runTurn", () => {
  it("streams text, runs tools, and ends with reply, in order", async () => {
    const { planner } = scripted(
      [
        { type: "text_delta", text: "Let me " },
        { type: "text_delta", text: "check." },
        { type: "tool_calls", tool_calls: [{ id: "call_a", name: "get_balance", arguments: "{}" }] },
        { type: "text_delta", text: "You have " },
        { type: "text_delta", text: "10000.00 GBP." },
      ],
      { type: "reply", text: "You have 10000.00 GBP." },
    );
    const { events, result } = await turn(planner, "balance?");
    expect(events.map((event) => event.type)).toEqual(["text_delta", "text_delta", "tool_started", "tool_completed", "text_delta", "text_delta", "reply"]);
    expect(events[2]).toEqual({ type: "tool_started", tool_call_id: "call_a", tool_name: "get_balance", arguments: {} });
    expect(events.at(-1)).toEqual({ type: "reply", text: "You have 10000.00 GBP." });
    expect(result.new_messages).toEqual([
      { role: "user", content: "balance?" },
      { role: "assistant", content: "Let me check.", tool_calls: [{ id: "call_a", type: "function", function: { name: "get_balance", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_a", content: expect.stringContaining('"currency":"GBP"') },
      { role: "assistant", content: "You have 10000.00 GBP." },
    ]);
  });

  it("emits the whole reply as one text_delta when the planner streamed none", async () => {
    const { events } = await turn(scripted([], { type: "reply", text: "Hi." }).planner);
    expect(events).toEqual([{ type: "text_delta", text: "Hi." }, { type: "reply", text: "Hi." }]);
  });

  it("an unknown tool is tool_failed and the planner sees why", async () => {
    const { planner, seen } = scripted([{ type: "tool_calls", tool_calls: [{ name: "approve_payment", arguments: '{"approval_id":"apr_1"}' }] }]);
    const { events } = await turn(planner);
    expect(events[0]).toEqual({ type: "tool_started", tool_call_id: "call_1_1", tool_name: "approve_payment", arguments: { approval_id: "apr_1" } });
    expect(events[1]).toMatchObject({ type: "tool_failed", tool_name: "approve_payment", error: { code: "unknown_tool" } });
    expect(seen.outcomes[0]![0]).toMatchObject({ ok: false, error: { code: "unknown_tool", message: expect.stringContaining("get_balance, list_transactions") } });
  });

  const badArguments: [string, string | Record<string, unknown>, string][] = [
    ["not JSON", "{payee: bob", "not valid JSON"],
    ["a float amount", { payee: "Bob", amount: 12.5, currency: "GBP" }, "amount"],
    ["an amount with a symbol", { payee: "Bob", amount: "£12", currency: "GBP" }, "amount"],
    ["too many decimals for the currency", { payee: "Bob", amount: "12.345", currency: "GBP" }, "not an exact GBP amount"],
    ["decimals in JPY", { payee: "Bob", amount: "12.5", currency: "JPY" }, "at most 0 decimals"],
    ["a zero amount", { payee: "Bob", amount: "0.00", currency: "GBP" }, "greater than zero"],
    ["a negative amount", { payee: "Bob", amount: "-5", currency: "GBP" }, "amount"],
    ["above 10^15 minor units", { payee: "Bob", amount: "10000000000001", currency: "GBP" }, "10^15"],
    ["an unknown currency", { payee: "Bob", amount: "5", currency: "XYZ" }, "unknown ISO 4217 currency"],
    ["a missing payee", { amount: "5", currency: "GBP" }, "payee"],
    ["an extra field", { payee: "Bob", amount: "5", currency: "GBP", approved: true }, "approved"],
    ["oversized arguments", { payee: "Bob", amount: "5", currency: "GBP", reference: "x".repeat(chatToolArgumentsBytesMax) }, "larger than"],
  ];
  it.each(badArguments)("bad arguments (%s) are tool_failed invalid_arguments, the tool never runs", async (_name, args, message) => {
    const { planner, seen } = scripted([{ type: "tool_calls", tool_calls: [{ name: "create_payment_intent", arguments: args }] }]);
    const { events, tools, result } = await turn(planner);
    expect(tools.calls).toEqual([]);
    expect(events[1]).toMatchObject({ type: "tool_failed", error: { code: "invalid_arguments", message: expect.stringContaining(message) } });
    expect(seen.outcomes[0]![0]!.ok).toBe(false);
    expect(result.new_messages[2]).toMatchObject({ role: "tool", content: expect.stringContaining("invalid_arguments") });
  });

  it("stops a planner that loops past the tool-call limit", async () => {
    const { events, result, tools } = await turn(looping, "hello", { limits: { toolCallsPerTurnMax: 3 } });
    expect(tools.calls).toHaveLength(3);
    const failedEvents = events.filter((event) => event.type === "tool_failed");
    expect(failedEvents).toEqual([
      { type: "tool_failed", tool_call_id: "call_1_4", tool_name: "get_balance", error: { code: "tool_calls_limit_reached", message: "Not run: a turn may make at most 3 tool calls." } },
    ]);
    expect(result.reply).toContain("more than 3 tool calls");
    expect(events.at(-1)).toEqual({ type: "reply", text: result.reply });
    // Every tool call recorded has its tool message, so the history stays valid for an LLM API.
    const calls = result.new_messages.flatMap((message) => (message.role === "assistant" ? (message.tool_calls ?? []).map((call) => call.id) : []));
    const answered = result.new_messages.flatMap((message) => (message.role === "tool" ? [message.tool_call_id] : []));
    expect(answered).toEqual(calls);
  });

  it("runs the calls of one step up to the limit and refuses the rest", async () => {
    const call = { name: "get_balance", arguments: "{}" };
    const { planner, seen } = scripted([{ type: "tool_calls", tool_calls: [call, call, call] }]);
    const { tools, result } = await turn(planner, "hi", { limits: { toolCallsPerTurnMax: 2 } });
    expect(tools.calls).toHaveLength(2);
    expect(result.reply).toContain("more than 2 tool calls");
    expect(seen.closed).toBe(true);
  });

  it("refuses a message over the length limit without running the planner", async () => {
    const { planner, seen } = scripted([]);
    const { events, result } = await turn(planner, "x".repeat(11), { limits: { messageLengthMax: 10 } });
    expect(seen.contexts).toHaveLength(0);
    expect(events).toEqual([{ type: "error", code: "message_too_long", message: "Messages are limited to 10 characters." }]);
    expect(result).toEqual({ reply: "Messages are limited to 10 characters.", new_messages: [], payment_intents: [], error: { code: "message_too_long", message: "Messages are limited to 10 characters." } });
  });

  it("accepts a message exactly at the length limit", async () => {
    const { result } = await turn(scripted([]).planner, "x".repeat(10), { limits: { messageLengthMax: 10 } });
    expect(result.error).toBeUndefined();
  });

  it("a planner error becomes an error event and an explaining reply", async () => {
    const { events, result } = await turn(scripted([{ type: "text_delta", text: "Hm" }], { type: "error", code: "llm_unavailable", message: "The language model did not answer." }).planner);
    expect(events.map((event) => event.type)).toEqual(["text_delta", "error"]);
    expect(result.error).toEqual({ code: "llm_unavailable", message: "The language model did not answer." });
    expect(result.reply).toBe("Sorry, I could not answer: The language model did not answer.");
  });

  it("gives the planner the kept history, the new message, and the calls left", async () => {
    const history: ChatMessage[] = [];
    for (let turnIndex = 0; turnIndex < 5; turnIndex++) history.push({ role: "user", content: `q${turnIndex}` }, { role: "assistant", content: `a${turnIndex}` });
    let remaining = -1;
    const planner: Planner = {
      async *plan(context) {
        yield { type: "tool_calls", tool_calls: [{ name: "get_balance", arguments: {} }] };
        remaining = context.toolCallsRemaining();
        return { type: "reply", text: context.messages.map((message) => message.content ?? "").join(",").slice(0, 40) };
      },
    };
    const { result } = await turn(planner, "q5", { history, limits: { historyMessagesMax: 5, toolCallsPerTurnMax: 4 } });
    expect(result.reply.startsWith("q3,a3,q4,a4,q5,")).toBe(true);
    expect(remaining).toBe(3);
    expect(result.new_messages[1]).toMatchObject({ tool_calls: [{ id: "call_6_1" }] });
  });

  it("replaces a model's tool-call id that is already used or unusable", async () => {
    const { planner } = scripted([
      { type: "tool_calls", tool_calls: [{ id: "same", name: "get_balance", arguments: "{}" }, { id: "same", name: "get_balance", arguments: "{}" }] },
      { type: "tool_calls", tool_calls: [{ id: "bad id with spaces", name: "get_balance", arguments: "{}" }] },
    ]);
    const { events } = await turn(planner);
    const ids = events.flatMap((event) => (event.type === "tool_started" ? [event.tool_call_id] : []));
    expect(ids).toEqual(["same", "call_1_2", "call_1_3"]);
  });

  it("bounds what a tool result puts in the conversation", async () => {
    const tools = { ...fakeTools(), list_services: async () => ({ data: ["x".repeat(300 * 1024)], has_more: false }) };
    const { planner } = scripted([{ type: "tool_calls", tool_calls: [{ name: "list_services", arguments: {} }] }]);
    const result = await runTurn({ planner, tools, history: [], message: "services" });
    expect(result.new_messages[2]).toMatchObject({ role: "tool", content: expect.stringContaining("result_too_large") });
  });
});

describe("keepRecent", () => {
  const toolTurn: ChatMessage[] = [
    { role: "user", content: "u1" },
    { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_balance", arguments: "{}" } }] },
    { role: "tool", tool_call_id: "c1", content: "{}" },
    { role: "assistant", content: "a1" },
    { role: "user", content: "u2" },
    { role: "assistant", content: "a2" },
  ];
  it.each([
    [6, 0],
    [5, 4],
    [3, 4],
    [2, 4],
    [1, 6],
    [0, 6],
  ])("keeping %i messages starts at index %i (a user message)", (count, start) => {
    expect(keepRecent(toolTurn, count)).toEqual(toolTurn.slice(start));
  });
});

describe("runTurn, edge steps", () => {
  it("an empty tool_calls step records nothing and resumes the planner", async () => {
    const { planner, seen } = scripted([{ type: "tool_calls", tool_calls: [] }]);
    const { result } = await turn(planner);
    expect(seen.outcomes).toEqual([[]]);
    expect(result.new_messages.map((message) => message.role)).toEqual(["user", "assistant"]);
  });
});
