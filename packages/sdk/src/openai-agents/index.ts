/**
 * `@bursar/sdk/openai-agents`: Bursar for the OpenAI Agents SDK (`@openai/agents` 0.14, the newest
 * line that runs on Node 20; 0.15+ needs `openai@7`, Node 22). Optional peer dependencies
 * `@openai/agents` (loaded with a dynamic import when you build the tools) and `zod` (v4).
 *
 * - `tools`: the registry's tools (`@bursar/sdk/tools`) as Agents SDK function tools.
 * - `guard(options, spend)`: builds your paid tool (the options you would give `tool()`) with a
 *   **tool input guardrail** that authorizes the spend before it runs (`rejectContent` with the
 *   reasons on a denial: the model reads them and no money moves), `needsApproval` when Bursar
 *   holds it for an owner (the run is interrupted), and completion: `consumed` with the actual cost
 *   after, `released` when it throws.
 * - `resolveInterruptions(result)`: the approver is the tenant's owner, in Bursar: this waits for
 *   the owner's decision on each interruption that is ours and approves or rejects it in the run
 *   state; resume with `run(agent, result.state)`.
 *
 * Writes are keyed by the tool call id (and `idempotencyScope`), so the check before an
 * interruption and the run after it are one payment.
 *
 * @example
 * import { Agent, run } from "@openai/agents";
 * const bursarAgents = await createBursarAgents(new Bursar());
 * const agent = new Agent({ name: "payer", tools: [...bursarAgents.tools, await bursarAgents.guard({ name: "search", ... }, { operation: "search.query", amount: 20, currency: "GBP" })] });
 * let result = await run(agent, "Pay Bob £500 for the April invoice");
 * while (result.interruptions.length > 0 && (await bursarAgents.resolveInterruptions(result, { timeoutMs: 600_000 })) > 0) result = await run(agent, result.state);
 */
import type { FunctionTool, RunToolApprovalItem } from "@openai/agents";
import { z } from "zod";
import type { Bursar } from "../client.ts";
import { BursarError } from "../errors.ts";
import { bursarTools, spendResult, toolIdempotencyKey, type BursarTool, type ToolResult } from "../tools/registry.ts";
import type { SpendAuthorization } from "../types.ts";

export interface BursarAgentsOptions {
  /** Part of every idempotency key (default: random per instance); stable to resume in another process. */
  idempotencyScope?: string;
  approvalBaseUrl?: string;
}

export interface AgentsSpendSpec<Input, Output> {
  operation: string;
  amount: number | ((input: Input) => number);
  currency: string;
  vendor?: string;
  /** What the call really cost (minor units), from its output; default: the authorized amount. */
  cost?: (output: Output, input: Input) => number;
  externalReference?: (output: Output) => string | null | undefined;
}

/** What `guard` needs of your tool: the options you would give `tool()` from `@openai/agents`. */
export interface AgentsToolOptions<Schema extends z.ZodObject, Output> {
  name: string;
  description: string;
  parameters: Schema;
  execute: (input: z.infer<Schema>) => Promise<Output> | Output;
}

type OwnerDecision = "pending" | "approved" | "denied";

/** What `resolveInterruptions` needs of a run result (`RunResult`, `StreamedRunResult`). */
export interface InterruptedRun {
  interruptions: RunToolApprovalItem[];
  state: { approve(item: RunToolApprovalItem): void; reject(item: RunToolApprovalItem, options?: { message?: string }): void };
}

export interface BursarAgents {
  tools: FunctionTool[];
  guard<Schema extends z.ZodObject, Output>(tool: AgentsToolOptions<Schema, Output>, spend: AgentsSpendSpec<z.infer<Schema>, Output>): FunctionTool;
  /** Approves or rejects each of the run's interruptions that wait on Bursar, once the owner decided; answers how many. */
  resolveInterruptions(result: InterruptedRun, options?: { timeoutMs?: number; pollIntervalMs?: number }): Promise<number>;
}

/** A zod object as the JSON Schema object the Agents SDK takes for non-strict tools. */
function jsonSchemaOf(schema: z.ZodObject): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  return { ...json, required: json.required ?? [], additionalProperties: false };
}

const callIdOf = (item: RunToolApprovalItem): string | undefined => (item.rawItem as { callId?: string }).callId;

export async function createBursarAgents(bursar: Bursar, options: BursarAgentsOptions = {}): Promise<BursarAgents> {
  const agents = await import("@openai/agents");
  const scope = options.idempotencyScope ?? `openai-agents:${crypto.randomUUID()}`;
  const waiting = new Map<string, () => Promise<OwnerDecision>>();
  const context = (idempotencyKey?: string) => ({ bursar, idempotencyKey, approvalBaseUrl: options.approvalBaseUrl });

  function registryTool(tool: BursarTool): FunctionTool {
    const runOnce = async (input: unknown, callId: string): Promise<ToolResult> => {
      const key = tool.writes ? await toolIdempotencyKey({ scope, requestId: callId, tool: tool.name, input }) : undefined;
      const first = await tool.run(tool.inputSchema.parse(input) as never, context(key));
      return tool.refresh && first.status === "approval_required" ? tool.refresh(first, context()) : first;
    };
    // The registry's schemas are zod objects; `tool()`'s generics cannot see that through BursarTool.
    return agents.tool(<never>{
      name: tool.name,
      description: tool.description,
      // As JSON Schema, non-strict: the SDK's strict mode (required for zod) would make the model
      // send every optional field. The input is validated with the zod schema in `run`.
      parameters: jsonSchemaOf(tool.inputSchema),
      strict: false,
      needsApproval: tool.writes
        ? async (_context: unknown, input: unknown, callId?: string) => {
            if (!callId) return false;
            const result = await runOnce(input, callId).catch(() => null);
            if (result?.status !== "approval_required") return false;
            waiting.set(callId, async () => {
              const now = await tool.refresh!(result, context());
              return now.status === "approval_required" ? "pending" : now.status === "blocked" ? "denied" : "approved";
            });
            return true;
          }
        : false,
      execute: async (input: unknown, _context: unknown, details?: { toolCall?: { callId?: string } }) => {
        const result = await runOnce(input, details?.toolCall?.callId ?? crypto.randomUUID());
        return JSON.stringify(result);
      },
    }) as unknown as FunctionTool;
  }

  function guard<Schema extends z.ZodObject, Output>(options: AgentsToolOptions<Schema, Output>, spend: AgentsSpendSpec<z.infer<Schema>, Output>): FunctionTool {
    type Input = z.infer<Schema>;
    const authorize = async (input: Input, callId: string): Promise<SpendAuthorization> => {
      const params = { operation: spend.operation, amount: typeof spend.amount === "function" ? spend.amount(input) : spend.amount, currency: spend.currency, vendor: spend.vendor, tool_call_id: callId };
      const idempotencyKey = await toolIdempotencyKey({ scope, requestId: callId, tool: `guard:${spend.operation}`, input: params });
      const first = await bursar.spend.authorize(params, { idempotencyKey });
      // A replay answers the first state: read the current one.
      return first.status === "denied" ? first : bursar.spend.get(first.id);
    };
    const parse = (text: string): Input => options.parameters.parse(JSON.parse(text || "{}")) as Input;
    const guardrail = agents.defineToolInputGuardrail({
      name: `bursar_spend_${options.name}`,
      run: async ({ toolCall }) => {
        const authorization = await authorize(parse(toolCall.arguments), toolCall.callId);
        if (authorization.status === "authorized") return agents.ToolGuardrailFunctionOutputFactory.allow({ spend_authorization_id: authorization.id });
        const refused = await spendResult(authorization, context());
        return agents.ToolGuardrailFunctionOutputFactory.rejectContent(
          `Bursar refused this spend (${refused.status}): reason_codes=${refused.reason_codes.join(",")}; available_actions=${refused.available_actions.join(",")}. No money moved.`,
          { spend_authorization_id: authorization.id },
        );
      },
    });
    return agents.tool(<never>{
      name: options.name,
      description: options.description,
      parameters: jsonSchemaOf(options.parameters),
      strict: false,
      inputGuardrails: [guardrail],
      needsApproval: async (_context: unknown, input: unknown, callId?: string) => {
        if (!callId) return false;
        const authorization = await authorize(options.parameters.parse(input) as Input, callId);
        if (authorization.status !== "pending_approval") return false;
        waiting.set(callId, async () => {
          const now = await bursar.spend.get(authorization.id);
          return now.status === "pending_approval" ? "pending" : now.status === "authorized" ? "approved" : "denied";
        });
        return true;
      },
      // Errors reach the model as text, after the hold is released.
      errorFunction: (_context: unknown, error: unknown) => `The tool failed: ${error instanceof Error ? error.message : String(error)}. Its spend was released.`,
      execute: async (input: unknown, _context: unknown, details?: { toolCall?: { callId?: string } }) => {
        const callId = details?.toolCall?.callId;
        if (!callId) throw new BursarError("guarded tools need the tool call id");
        input = options.parameters.parse(input);
        const authorization = await authorize(input as Input, callId);
        // The guardrail allowed it; anything else here is a race (expired meanwhile): do not run.
        if (authorization.status !== "authorized") throw new BursarError(`spend ${authorization.id} is ${authorization.status}`);
        let output: Output;
        try {
          output = await options.execute(input as Input);
        } catch (error) {
          await bursar.spend.complete(authorization.id, { outcome: "released" }).catch(() => undefined);
          throw error;
        }
        const amount = spend.cost ? spend.cost(output, input as Input) : authorization.amount;
        await bursar.spend.complete(authorization.id, { outcome: "consumed", amount, external_reference: spend.externalReference?.(output) ?? undefined });
        return typeof output === "string" ? output : JSON.stringify(output);
      },
    }) as unknown as FunctionTool;
  }

  async function resolveInterruptions(
    result: InterruptedRun,
    waitOptions: { timeoutMs?: number; pollIntervalMs?: number } = {},
  ): Promise<number> {
    const ours = result.interruptions.filter((item) => waiting.has(callIdOf(item) ?? ""));
    const deadlineMs = Date.now() + (waitOptions.timeoutMs ?? 0);
    let decided = 0;
    const open = new Set(ours);
    while (open.size > 0) {
      for (const item of [...open]) {
        const callId = callIdOf(item)!;
        const decision = await waiting.get(callId)!();
        if (decision === "pending") continue;
        if (decision === "approved") result.state.approve(item);
        else result.state.reject(item, { message: "Rejected by the owner in Bursar (approval_rejected). No money moved." });
        waiting.delete(callId);
        open.delete(item);
        decided += 1;
      }
      if (open.size === 0 || Date.now() >= deadlineMs) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitOptions.pollIntervalMs ?? 500, Math.max(0, deadlineMs - Date.now()))));
    }
    return decided;
  }

  return { tools: bursarTools.map(registryTool), guard, resolveInterruptions };
}
