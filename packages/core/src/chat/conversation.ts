/**
 * One turn of a conversation with the payment agent: a user message goes through a planner,
 * whose tool calls run against `ChatTools`, while events stream out as SPEC 3 names them.
 *
 * The runner owns everything the two planners (deterministic, LLM) share: validation of tool
 * calls, the tool-call limit, the history window, the messages recorded, the events emitted.
 * A planner only decides what to call next and what to say.
 */
import { chatHistoryMessagesMax, chatMessageLengthMax, chatToolCallsPerTurnMax, chatToolResultBytesMax } from "../limits.js";
import { parseJsonWellFormed, toWellFormedText } from "../unicode.js";
import { ChatToolError, utf8Bytes, validateToolCall, type ChatToolFailure, type ChatTools, type JsonValue } from "./tools.js";

// --- Messages (close to OpenAI's chat format, so a history can be sent to an LLM as it is) ---

/** A tool call as recorded in an assistant message: `arguments` is JSON text, as OpenAI sends it. */
export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** One message of a conversation, as stored and as sent to an LLM. */
export type ChatMessage =
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

// --- Events (SPEC 3 `POST /v1/chat/stream`; the route adds `conversation` and `done`) ---

/** One event of a turn, in the order `runTurn` emits them. */
export type ChatEvent =
  | { type: "text_delta"; text: string }
  | { type: "tool_started"; tool_call_id: string; tool_name: string; arguments: unknown }
  | { type: "tool_completed"; tool_call_id: string; tool_name: string; result: unknown }
  | { type: "tool_failed"; tool_call_id: string; tool_name: string; error: ChatToolFailure }
  | { type: "approval_required"; approval_id: string; payment_intent_id: string; amount: number; currency: string; reason_codes: string[] }
  | { type: "reply"; text: string }
  | { type: "error"; code: string; message: string };

// --- Planner ---

/** A tool call a planner asks for. `id` is the model's own id when it has one. */
export interface PlannedToolCall {
  id?: string;
  name: string;
  /** JSON text (from a model) or an object (from the deterministic planner). */
  arguments: string | Record<string, unknown>;
}

/** What a planner yields: streamed reply text, or tool calls to run before it continues. */
export type PlannerStep = { type: "text_delta"; text: string } | { type: "tool_calls"; tool_calls: PlannedToolCall[] };

/** How a planner ends the turn: a final reply, or an error (model unreachable, malformed stream). */
export type PlannerOutcome = { type: "reply"; text: string } | { type: "error"; code: string; message: string };

/** The outcome of one tool call, as handed back to the planner. */
export type ToolOutcome =
  | { tool_call_id: string; tool_name: string; ok: true; result: unknown }
  | { tool_call_id: string; tool_name: string; ok: false; error: ChatToolFailure };

/** What a planner is given for one turn. */
export interface PlannerContext {
  /**
   * The conversation so far, newest last: the kept history, the new user message and, as the
   * turn goes on, this turn's assistant and tool messages. The runner appends; planners read.
   */
  messages: readonly ChatMessage[];
  /** The new user message. */
  message: string;
  /** Tool calls this turn may still make. */
  toolCallsRemaining(): number;
  /** The time of the turn, for answers about a period ("today"). */
  nowMs: number;
  signal?: AbortSignal;
  /** Set when the turn resumes one that stopped on an approval an owner has since resolved (`continue_from`). */
  continueFrom?: TurnContinuation;
}

/**
 * What a resumed turn continues from (issue 15 item 6): an approval of a payment intent or a
 * service request this conversation made (the two approvals a chat tool can raise), and where it
 * stands now. The route checks it belongs to the conversation; the planner reports the subject's
 * outcome (`get_payment_intent` / `get_service_request`).
 */
export interface TurnContinuation {
  approvalId: string;
  approvalStatus: string;
  subjectType: "payment_intent" | "service_request";
  subjectId: string;
}

/**
 * A planner is an async generator: it yields steps and receives, after each `tool_calls` step,
 * the outcomes of those calls (in order); it returns how the turn ends.
 */
export interface Planner {
  plan(context: PlannerContext): AsyncGenerator<PlannerStep, PlannerOutcome, ToolOutcome[] | undefined>;
}

// --- The turn ---

/** The bounds of one turn (defaults from limits.ts; tests pass smaller ones). */
export interface ChatLimits {
  messageLengthMax: number;
  historyMessagesMax: number;
  toolCallsPerTurnMax: number;
}

/** The limits.ts bounds. */
export const defaultChatLimits: ChatLimits = {
  messageLengthMax: chatMessageLengthMax,
  historyMessagesMax: chatHistoryMessagesMax,
  toolCallsPerTurnMax: chatToolCallsPerTurnMax,
};

/** The arguments of `runTurn`. */
export interface TurnInput {
  planner: Planner;
  tools: ChatTools;
  /** The conversation's earlier messages, oldest first (the runner keeps the newest whole turns). */
  history: readonly ChatMessage[];
  message: string;
  limits?: Partial<ChatLimits>;
  /** Receives every event in order; awaited, so a slow stream applies back-pressure. */
  emit?: (event: ChatEvent) => void | Promise<void>;
  signal?: AbortSignal;
  /** The time of the turn ("spent in the last 24 hours"); default: now. */
  nowMs?: number;
  /** Resumes a turn that stopped on an approval (see `TurnContinuation`); `message` then says so in words. */
  continueFrom?: TurnContinuation;
}

/** What a turn produced: the body of `POST /v1/chat` (with the conversation id added by the route). */
export interface TurnResult {
  reply: string;
  /** Messages to append to the conversation: the user's, then this turn's assistant and tool ones. */
  new_messages: ChatMessage[];
  /** Payment intents created in this turn, as `create_payment_intent` returned them. */
  payment_intents: unknown[];
  /** Set when the turn ended in an error (the `error` event); `reply` then explains it. */
  error?: { code: string; message: string };
}

/**
 * Runs one user message through `planner`. Tool failures (unknown tool, bad arguments, a tool
 * throwing) become `tool_failed` events and outcomes the planner sees; they never escape.
 * Events end with `reply` or, when the planner fails, `error`.
 *
 * A message over `messageLengthMax` is refused before the planner runs (no messages recorded).
 *
 * @example
 * const { reply } = await runTurn({ planner: deterministicPlanner, tools, history: [], message: "What is my balance?" });
 */
export async function runTurn(input: TurnInput): Promise<TurnResult> {
  const limits = { ...defaultChatLimits, ...input.limits };
  const emit = async (event: ChatEvent) => {
    await input.emit?.(event);
  };

  if (input.message.length > limits.messageLengthMax) {
    const error = { code: "message_too_long", message: `Messages are limited to ${limits.messageLengthMax} characters.` };
    await emit({ type: "error", ...error });
    return { reply: error.message, new_messages: [], payment_intents: [], error };
  }

  const userMessage: ChatMessage = { role: "user", content: input.message };
  const newMessages: ChatMessage[] = [userMessage];
  const messages: ChatMessage[] = [...keepRecent(input.history, limits.historyMessagesMax - 1), userMessage];
  const paymentIntents: unknown[] = [];
  const turnNumber = input.history.filter((message) => message.role === "user").length + 1;
  let toolCallsMade = 0;
  let textSinceLastTools = "";

  const record = (message: ChatMessage) => {
    newMessages.push(message);
    messages.push(message);
  };
  const finish = async (text: string): Promise<TurnResult> => {
    if (textSinceLastTools === "" && text !== "") await emit({ type: "text_delta", text });
    await emit({ type: "reply", text });
    record({ role: "assistant", content: text });
    return { reply: text, new_messages: newMessages, payment_intents: paymentIntents };
  };

  const generator = input.planner.plan({
    messages,
    message: input.message,
    toolCallsRemaining: () => limits.toolCallsPerTurnMax - toolCallsMade,
    nowMs: input.nowMs ?? Date.now(),
    signal: input.signal,
    ...(input.continueFrom ? { continueFrom: input.continueFrom } : {}),
  });
  let resumeWith: ToolOutcome[] | undefined;
  try {
    while (true) {
      const step = await generator.next(resumeWith);
      resumeWith = undefined;
      if (step.done) {
        const outcome = step.value;
        if (outcome.type === "reply") return await finish(outcome.text);
        const error = { code: outcome.code, message: outcome.message };
        await emit({ type: "error", ...error });
        const reply = `Sorry, I could not answer: ${outcome.message}`;
        record({ role: "assistant", content: reply });
        return { reply, new_messages: newMessages, payment_intents: paymentIntents, error };
      }
      if (step.value.type === "text_delta") {
        if (step.value.text === "") continue;
        textSinceLastTools += step.value.text;
        await emit({ type: "text_delta", text: step.value.text });
        continue;
      }

      if (step.value.tool_calls.length === 0) {
        resumeWith = [];
        continue;
      }
      const taken = new Set(messages.flatMap((message) => (message.role === "assistant" ? (message.tool_calls ?? []).map((call) => call.id) : [])));
      const calls = step.value.tool_calls.map((call, index) => {
        const id = call.id !== undefined && /^[\w.:-]{1,64}$/.test(call.id) && !taken.has(call.id) ? call.id : `call_${turnNumber}_${toolCallsMade + index + 1}`;
        taken.add(id);
        return { ...call, id };
      });
      record({
        role: "assistant",
        content: textSinceLastTools === "" ? null : textSinceLastTools,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments) },
        })),
      });
      textSinceLastTools = "";

      const outcomes: ToolOutcome[] = [];
      let limitReached = false;
      for (const call of calls) {
        const shownArguments = typeof call.arguments === "string" ? parseOrKeep(call.arguments) : call.arguments;
        await emit({ type: "tool_started", tool_call_id: call.id, tool_name: call.name, arguments: shownArguments });
        let outcome: ToolOutcome;
        if (toolCallsMade >= limits.toolCallsPerTurnMax) {
          limitReached = true;
          const error = { code: "tool_calls_limit_reached", message: `Not run: a turn may make at most ${limits.toolCallsPerTurnMax} tool calls.` };
          outcome = { tool_call_id: call.id, tool_name: call.name, ok: false, error };
        } else {
          toolCallsMade += 1;
          outcome = await runTool(input.tools, call.id, call.name, call.arguments);
        }
        outcomes.push(outcome);
        if (outcome.ok) {
          await emit({ type: "tool_completed", tool_call_id: call.id, tool_name: call.name, result: outcome.result });
          if (call.name === "create_payment_intent") {
            paymentIntents.push(outcome.result);
            const approval = approvalOf(outcome.result);
            if (approval) await emit(approval);
          }
        } else {
          await emit({ type: "tool_failed", tool_call_id: call.id, tool_name: call.name, error: outcome.error });
        }
        record({ role: "tool", tool_call_id: call.id, content: toolMessageContent(outcome) });
      }
      if (limitReached) {
        return await finish(
          `I stopped: this request needed more than ${limits.toolCallsPerTurnMax} tool calls, the limit for one message. ` +
            "Anything already done above stands; please ask again in smaller steps.",
        );
      }
      resumeWith = outcomes;
    }
  } finally {
    await generator.return({ type: "reply", text: "" });
  }
}

/** Runs one tool call; every failure becomes an outcome, never an exception. */
async function runTool(tools: ChatTools, id: string, name: string, rawArguments: string | Record<string, unknown>): Promise<ToolOutcome> {
  const validated = validateToolCall(name, rawArguments);
  if (!validated.ok) return { tool_call_id: id, tool_name: name, ok: false, error: validated.error };
  try {
    const tool = tools[validated.name] as (args: Record<string, unknown>) => Promise<unknown>;
    const result = await tool(validated.arguments);
    return { tool_call_id: id, tool_name: name, ok: true, result };
  } catch (error) {
    if (error instanceof ChatToolError) {
      return { tool_call_id: id, tool_name: name, ok: false, error: { ...error.details, code: error.code, message: error.message } };
    }
    // An unexpected error's message may hold internals (SQL, paths): the planner and the user
    // get a generic sentence; the server logs the error itself.
    return { tool_call_id: id, tool_name: name, ok: false, error: { code: "tool_error", message: `${name} failed unexpectedly.` } };
  }
}

/** The approval a created payment intent waits on, if it waits on one. */
function approvalOf(result: unknown): Extract<ChatEvent, { type: "approval_required" }> | null {
  if (typeof result !== "object" || result === null) return null;
  const intent = result as Record<string, unknown>;
  if (intent.approval_status !== "pending_approval" || typeof intent.approval_id !== "string") return null;
  return {
    type: "approval_required",
    approval_id: intent.approval_id,
    payment_intent_id: String(intent.id),
    amount: Number(intent.amount),
    currency: String(intent.currency),
    reason_codes: Array.isArray(intent.reason_codes) ? intent.reason_codes.map(String) : [],
  };
}

/** The content of a tool message: the result or the error as JSON, bounded in size. */
function toolMessageContent(outcome: ToolOutcome): string {
  const content = JSON.stringify(outcome.ok ? (outcome.result ?? null) : { error: outcome.error });
  if (utf8Bytes(content) <= chatToolResultBytesMax) return content;
  const error: JsonValue = { code: "result_too_large", message: `The result was larger than ${chatToolResultBytesMax} bytes; ask for fewer items.` };
  return JSON.stringify({ error });
}

function parseOrKeep(text: string): unknown {
  try {
    return parseJsonWellFormed(text);
  } catch {
    return toWellFormedText(text);
  }
}

/**
 * The newest messages of `history`, at most `count`, starting at a user message so no tool
 * message loses the assistant message that called it (an LLM API would refuse such a history).
 */
export function keepRecent(history: readonly ChatMessage[], count: number): ChatMessage[] {
  if (count <= 0) return [];
  let start = Math.max(0, history.length - count);
  while (start < history.length && history[start]!.role !== "user") start += 1;
  return history.slice(start);
}
