/**
 * `@bursar/sdk/ai`: Bursar for the Vercel AI SDK v6 (`ai@6`; v7 needs Node 22). Optional peer
 * dependencies `ai` (types only: nothing of it is imported at run time) and `zod` (v4).
 *
 * - `tools`: the registry's tools (`@bursar/sdk/tools`) as an AI SDK `ToolSet`.
 * - `guard(tool, spend)`: wraps any paid tool of yours in a spend authorization.
 * - `needsApproval` is Bursar's decision: a write that Bursar holds for an owner pauses the agent
 *   loop with a `tool-approval-request`. The approver is the tenant's owner, in Bursar, never the
 *   app's user: `approvalResponses()` waits for the owner's decision and answers the request with
 *   it; the next `generateText`/`streamText` call resumes and runs the tool (`executed`), or tells
 *   the model it was denied.
 * - A refusal (`blocked`, `failed`) is thrown from `execute`, so the model gets a tool error with
 *   the reason codes and can recover; no money moved.
 *
 * Each tool call's writes carry an idempotency key derived from its tool call id (and this
 * instance's `idempotencyScope`), so the check in `needsApproval`, the run after approval and any
 * retry are one payment. Pass a stable `idempotencyScope` (the conversation's id) when a resumed
 * loop may run in another process.
 *
 * @example
 * import { generateText, stepCountIs } from "ai";
 * import { createBursarAi } from "@bursar/sdk/ai";
 * const bursarAi = createBursarAi(new Bursar());
 * const result = await generateText({ model, tools: bursarAi.tools, stopWhen: stepCountIs(5), prompt: "Pay Bob £500 for the April invoice" });
 * const approvals = await bursarAi.approvalResponses(result.content, { timeoutMs: 10 * 60_000 }); // the owner decides in Bursar
 * if (approvals) await generateText({ model, tools: bursarAi.tools, messages: [...history, ...result.response.messages, approvals] });
 */
import type { Tool, ToolSet, ToolModelMessage } from "ai";
import type { Bursar } from "../client.ts";
import { BursarError } from "../errors.ts";
import { bursarTools, spendResult, toolIdempotencyKey, type BursarTool, type ToolResult } from "../tools/registry.ts";
import type { SpendAuthorization } from "../types.ts";

export interface BursarAiOptions {
  /** Part of every idempotency key (default: random per instance). */
  idempotencyScope?: string;
  /** The server's URL, named in approval results as where an owner approves. */
  approvalBaseUrl?: string;
}

/** What a guarded tool may spend, from its input. */
export interface AiSpendSpec<Input, Output> {
  /** Dotted operation name, e.g. `openai.chat`, `weather.forecast`. */
  operation: string;
  /** The most the call may cost (minor units). */
  amount: number | ((input: Input) => number);
  currency: string;
  vendor?: string;
  /** What the call really cost (minor units), from its output; default: the authorized amount. */
  cost?: (output: Output, input: Input) => number;
  /** The vendor's reference for the charge, from the output. */
  externalReference?: (output: Output) => string | null | undefined;
}

/** A refusal or failure, thrown from `execute` so the model sees a tool error it can act on. */
export class BursarToolError extends BursarError {
  constructor(readonly result: ToolResult) {
    super(`${result.status}: ${result.message} reason_codes=${result.reason_codes.join(",") || "none"} available_actions=${result.available_actions.join(",") || "none"}`);
    this.name = "BursarToolError";
  }
}

/** The tool-approval-request parts of a step's content (or any list of parts). */
interface ApprovalRequestPart {
  type: "tool-approval-request";
  approvalId: string;
  toolCall: { toolCallId: string };
}

type OwnerDecision = "pending" | "approved" | "denied";

export interface BursarAi {
  /** Every registry tool (`bursar_pay`, `bursar_get_balance`, …). */
  tools: ToolSet;
  /** Wraps `tool` (with an `execute`) in a spend authorization: authorize, run, consume the real cost; release on a throw. */
  guard<Input, Output>(tool: Tool<Input, Output>, spend: AiSpendSpec<Input, Output>): Tool<Input, Output>;
  /**
   * Answers the `tool-approval-request`s in `parts` with the owner's decision in Bursar, waiting up
   * to `timeoutMs` for it. Null when nothing was decided (or nothing was asked).
   */
  approvalResponses(parts: readonly unknown[], options?: { timeoutMs?: number; pollIntervalMs?: number }): Promise<ToolModelMessage | null>;
}

const randomScope = () => `ai:${crypto.randomUUID()}`;

export function createBursarAi(bursar: Bursar, options: BursarAiOptions = {}): BursarAi {
  const scope = options.idempotencyScope ?? randomScope();
  /** Tool call id → how to read the owner's decision on what that call is waiting for. */
  const waiting = new Map<string, () => Promise<OwnerDecision>>();
  const context = (idempotencyKey?: string, signal?: AbortSignal) => ({ bursar, idempotencyKey, approvalBaseUrl: options.approvalBaseUrl, signal });

  function registryTool(tool: BursarTool): Tool {
    const keyOf = (toolCallId: string, input: unknown) => toolIdempotencyKey({ scope, requestId: toolCallId, tool: tool.name, input });
    const runOnce = async (input: unknown, toolCallId: string, signal?: AbortSignal): Promise<ToolResult> => {
      const first = await tool.run(input as never, context(tool.writes ? await keyOf(toolCallId, input) : undefined, signal));
      // A replay answers the write as it stood when first made: read where it is now.
      return tool.refresh && first.status === "approval_required" ? tool.refresh(first, context(undefined, signal)) : first;
    };
    return {
      description: tool.description,
      inputSchema: tool.inputSchema,
      ...(tool.writes
        ? {
            // Bursar decides, not the app's user: the write is made here (idempotently) and the
            // loop pauses only if Bursar holds it for an owner.
            needsApproval: async (input: unknown, { toolCallId }: { toolCallId: string }) => {
              const result = await runOnce(input, toolCallId).catch(() => null);
              if (result === null || typeof result.ids.approval_id !== "string") return false;
              if (result.status === "approval_required") {
                waiting.set(toolCallId, async () => {
                  const now = await tool.refresh!(result, context());
                  return now.status === "approval_required" ? "pending" : now.status === "blocked" ? "denied" : "approved";
                });
              }
              // The AI SDK asks again when the loop resumes and denies the call if the answer is
              // now "no": a call Bursar held for an owner keeps needing that (owner's) approval.
              return true;
            },
          }
        : {}),
      execute: async (input: unknown, { toolCallId, abortSignal }: { toolCallId: string; abortSignal?: AbortSignal }) => {
        const result = await runOnce(input, toolCallId, abortSignal);
        if (result.status === "blocked" || result.status === "failed") throw new BursarToolError(result);
        return result;
      },
    } as Tool;
  }

  function guard<Input, Output>(tool: Tool<Input, Output>, spend: AiSpendSpec<Input, Output>): Tool<Input, Output> {
    const execute = tool.execute;
    if (!execute) throw new BursarError("guard() needs a tool with an execute function");
    const authorize = async (input: Input, toolCallId: string, signal?: AbortSignal): Promise<SpendAuthorization> => {
      const params = {
        operation: spend.operation,
        amount: typeof spend.amount === "function" ? spend.amount(input) : spend.amount,
        currency: spend.currency,
        vendor: spend.vendor,
        tool_call_id: toolCallId,
      };
      const idempotencyKey = await toolIdempotencyKey({ scope, requestId: toolCallId, tool: `guard:${spend.operation}`, input: params });
      const first = await bursar.spend.authorize(params, { idempotencyKey, signal });
      // A replay (the run after an approval, a retry) answers the first state: read the current one.
      return first.status === "denied" ? first : bursar.spend.get(first.id, { signal });
    };
    return {
      ...tool,
      needsApproval: async (input: Input, { toolCallId }: { toolCallId: string }) => {
        const authorization = await authorize(input, toolCallId);
        if (authorization.approval_id === null) return false;
        if (authorization.status === "pending_approval") {
          waiting.set(toolCallId, async () => {
            const now = await bursar.spend.get(authorization.id);
            return now.status === "pending_approval" ? "pending" : now.status === "authorized" ? "approved" : "denied";
          });
        }
        return true; // see the registry tools' needsApproval
      },
      execute: async (input: Input, callOptions: { toolCallId: string; abortSignal?: AbortSignal }) => {
        const authorization = await authorize(input, callOptions.toolCallId, callOptions.abortSignal);
        if (authorization.status !== "authorized") throw new BursarToolError(await spendResult(authorization, context()));
        let output: Output;
        try {
          output = await (execute as (input: Input, options: unknown) => Promise<Output>)(input, callOptions);
        } catch (error) {
          // Best effort: if the release is lost too, the hold is released at its expiry.
          await bursar.spend.complete(authorization.id, { outcome: "released" }).catch(() => undefined);
          throw error;
        }
        const amount = spend.cost ? spend.cost(output, input) : authorization.amount;
        await bursar.spend.complete(authorization.id, { outcome: "consumed", amount, external_reference: spend.externalReference?.(output) ?? undefined });
        return output;
      },
    } as Tool<Input, Output>;
  }

  async function approvalResponses(parts: readonly unknown[], waitOptions: { timeoutMs?: number; pollIntervalMs?: number } = {}): Promise<ToolModelMessage | null> {
    const requests = parts.filter((part): part is ApprovalRequestPart => (part as { type?: string } | null)?.type === "tool-approval-request");
    const deadlineMs = Date.now() + (waitOptions.timeoutMs ?? 0);
    const decided = new Map<string, OwnerDecision>();
    while (true) {
      for (const request of requests) {
        if (decided.has(request.approvalId)) continue;
        const read = waiting.get(request.toolCall.toolCallId);
        if (!read) continue; // not ours
        const decision = await read();
        if (decision !== "pending") decided.set(request.approvalId, decision);
      }
      const open = requests.filter((request) => waiting.has(request.toolCall.toolCallId) && !decided.has(request.approvalId));
      if (open.length === 0 || Date.now() >= deadlineMs) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitOptions.pollIntervalMs ?? 500, Math.max(0, deadlineMs - Date.now()))));
    }
    if (decided.size === 0) return null;
    const content = [...decided].map(([approvalId, decision]) => ({
      type: "tool-approval-response" as const,
      approvalId,
      approved: decision === "approved",
      reason: decision === "approved" ? "approved by the owner in Bursar" : "rejected by the owner in Bursar (approval_rejected)",
    }));
    for (const request of requests) if (decided.has(request.approvalId)) waiting.delete(request.toolCall.toolCallId);
    return { role: "tool", content };
  }

  const tools: ToolSet = Object.fromEntries(bursarTools.map((tool) => [tool.name, registryTool(tool)]));
  return { tools, guard, approvalResponses };
}

export type { ToolResult } from "../tools/registry.ts";
