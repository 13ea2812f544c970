/**
 * A real HTTP server on loopback that speaks OpenAI's chat-completions protocol
 * (`POST /chat/completions`; `stream: true`: SSE `data:` chunks, then `data: [DONE]`; otherwise
 * one `chat.completion` JSON object assembled from the same chunks) and answers from a script. It records every request so tests can check what the planner sent (system
 * prompt, tools, the tool results of the previous step).
 *
 * An LLM is outside the system, so a scripted model is the right double (STYLE "Tests"); the
 * protocol is real, byte for byte, so the planner's streaming code is what is tested.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted answer to one completion request. */
export type FakeLlmAnswer =
  /** Chunks sent as `data: <JSON>` events (a string is sent as it is), then `data: [DONE]` unless `done: false`. */
  | { chunks: (object | string)[]; done?: boolean }
  /** A plain HTTP error. */
  | { status: number; body?: string }
  /** Bytes written as they are, then the response ends. */
  | { raw: string }
  /** Headers and a first chunk (with `text`, if given) sent, then nothing until the server closes. */
  | { hang: true; text?: string };

export interface FakeLlmRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: {
    model: string;
    stream: boolean;
    messages: { role: string; content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
    tools: { type: string; function: { name: string; description: string; parameters: Record<string, unknown> } }[];
    tool_choice?: string;
  };
}

export interface FakeLlm {
  /** The base URL to configure (`…/v1`); requests go to `…/v1/chat/completions`. */
  baseUrl: string;
  requests: FakeLlmRequest[];
  close(): Promise<void>;
}

/**
 * Starts the fake model. `script` is a list of answers (one per request, in order; requests
 * past its end get HTTP 500) or a function of the request and its index.
 */
export async function startFakeLlm(script: FakeLlmAnswer[] | ((request: FakeLlmRequest, index: number) => FakeLlmAnswer)): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  const server = http.createServer(async (incoming, outgoing) => {
    const parts: Buffer[] = [];
    for await (const part of incoming) parts.push(part as Buffer);
    let body: FakeLlmRequest["body"];
    try {
      body = JSON.parse(Buffer.concat(parts).toString("utf8"));
    } catch {
      outgoing.writeHead(400).end("bad json");
      return;
    }
    const request: FakeLlmRequest = { path: incoming.url ?? "", headers: incoming.headers, body };
    requests.push(request);
    const index = requests.length - 1;
    const answer: FakeLlmAnswer = typeof script === "function" ? script(request, index) : (script[index] ?? { status: 500, body: "script exhausted" });
    if (incoming.url !== "/v1/chat/completions" || incoming.method !== "POST") {
      outgoing.writeHead(404).end();
      return;
    }
    if ("status" in answer) {
      outgoing.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body ?? JSON.stringify({ error: { message: "scripted failure" } }));
      return;
    }
    if ("chunks" in answer && body.stream !== true) {
      // A client that asked for no stream (LangChain's `ChatOpenAI` by default) gets the same
      // scripted answer as one `chat.completion` object, assembled from the chunks.
      outgoing.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(completionOf(answer.chunks)));
      return;
    }
    outgoing.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if ("raw" in answer) {
      outgoing.end(answer.raw);
      return;
    }
    if ("hang" in answer) {
      outgoing.write(`data: ${JSON.stringify(chunk({ content: answer.text ?? "" }))}\n\n`);
      return;
    }
    for (const item of answer.chunks) outgoing.write(`data: ${typeof item === "string" ? item : JSON.stringify(item)}\n\n`);
    if (answer.done !== false) outgoing.write("data: [DONE]\n\n");
    outgoing.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let chunkCount = 0;

interface ChunkChoice {
  delta?: { role?: string; content?: string | null; tool_calls?: { index: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }[] };
  finish_reason?: string | null;
}

/** The non-streaming `chat.completion` that the streamed `chunks` add up to (content, tool calls, finish reason). */
function completionOf(chunks: (object | string)[]): object {
  let content: string | null = null;
  let finishReason: string | null = null;
  const toolCalls: { id: string; type: "function"; function: { name: string; arguments: string } }[] = [];
  for (const item of chunks) {
    if (typeof item === "string") continue;
    const choice = (item as { choices?: ChunkChoice[] }).choices?.[0];
    if (!choice) continue;
    if (typeof choice.delta?.content === "string") content = (content ?? "") + choice.delta.content;
    for (const call of choice.delta?.tool_calls ?? []) {
      const slot = (toolCalls[call.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
      if (call.id) slot.id = call.id;
      if (call.function?.name) slot.function.name += call.function.name;
      if (call.function?.arguments) slot.function.arguments += call.function.arguments;
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  const message = { role: "assistant", content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
  return { id: `chatcmpl-${++chunkCount}`, object: "chat.completion", created: 1_777_000_000, model: "fake", choices: [{ index: 0, message, finish_reason: finishReason ?? "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
}


/** One `chat.completion.chunk` with `delta` (and a finish reason when given). */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): object {
  chunkCount += 1;
  return { id: `chatcmpl-${chunkCount}`, object: "chat.completion.chunk", created: 1_777_000_000, model: "fake", choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** Splits `text` into `count` pieces of nearly equal length (some may be empty for short text). */
function pieces(text: string, count: number): string[] {
  const size = Math.ceil(text.length / count) || 1;
  const result: string[] = [];
  for (let start = 0; start < text.length; start += size) result.push(text.slice(start, start + size));
  return result.length === 0 ? [""] : result;
}

/** A model streaming `text` in `count` chunks and stopping. */
export function textAnswer(text: string, count = 3): FakeLlmAnswer {
  return { chunks: [chunk({ role: "assistant", content: "" }), ...pieces(text, count).map((piece) => chunk({ content: piece })), chunk({}, "stop")] };
}

export interface ScriptedToolCall {
  id?: string;
  name: string;
  /** The arguments as JSON text, exactly as the model "writes" them. */
  arguments: string;
}

/**
 * A model calling `calls` (in parallel, one index each), each call's arguments split over
 * `fragments` chunks as OpenAI streams them: the first fragment has the id, type and name.
 */
export function toolCallAnswer(calls: ScriptedToolCall[], fragments = 3, text = ""): FakeLlmAnswer {
  const chunks: object[] = [chunk({ role: "assistant", content: text === "" ? null : text })];
  calls.forEach((call, index) => {
    chunks.push(chunk({ tool_calls: [{ index, ...(call.id ? { id: call.id } : {}), type: "function", function: { name: call.name, arguments: "" } }] }));
    for (const piece of pieces(call.arguments, fragments)) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  chunks.push(chunk({}, "tool_calls"));
  return { chunks };
}
