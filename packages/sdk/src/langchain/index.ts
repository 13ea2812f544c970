/**
 * `@bursar/sdk/langchain`: Bursar for LangChain.js v1 (`langchain` 1.5 / `@langchain/core` 1.4,
 * Node >= 20). Optional peer dependencies `langchain`, `@langchain/core`, `@langchain/langgraph`
 * (loaded with dynamic imports when you build the tools) and `zod` (v4).
 *
 * - `tools`: the registry's tools (`@bursar/sdk/tools`) as LangChain tools; each answers the
 *   registry's JSON result (a hold for an owner is `status: "approval_required"`).
 * - `middleware(spend)`: a `createAgent` middleware whose `wrapToolCall` guards the paid tools you
 *   name: authorize before the tool runs (a denial answers a `ToolMessage` with `status: "error"`
 *   and the reasons, so the model can recover, and the tool never runs), pause with a LangGraph
 *   `interrupt()` while an owner decides (needs a checkpointer; resume with
 *   `new Command({ resume: true })` once the owner decided in Bursar: the call is authorized again
 *   idempotently and runs if approved), complete `consumed` with the actual cost after, and
 *   `released` when the tool throws (answered as an error `ToolMessage`).
 *
 * @example
 * const bursarLangChain = await createBursarLangChain(new Bursar());
 * const agent = createAgent({ model, tools: [...bursarLangChain.tools, search], checkpointer: new MemorySaver(),
 *   middleware: [bursarLangChain.middleware({ search: { operation: "search.query", amount: 20, currency: "GBP" } })] });
 */
import type { StructuredToolInterface } from "@langchain/core/tools";
import type { createMiddleware as CreateMiddleware } from "langchain";
import type { Bursar } from "../client.ts";
import { bursarTools, spendResult, toolIdempotencyKey } from "../tools/registry.ts";
import type { SpendAuthorization } from "../types.ts";

/** What `middleware()` returns: a `createMiddleware` result, for `createAgent({ middleware: [...] })`. */
export type BursarLangChainMiddleware = ReturnType<typeof CreateMiddleware>;

export interface LangChainSpendSpec {
  operation: string;
  amount: number | ((args: Record<string, unknown>) => number);
  currency: string;
  vendor?: string;
  /** What the call really cost (minor units), from the tool's answer (a `ToolMessage`); default: the authorized amount. */
  cost?: (result: { content: unknown }, args: Record<string, unknown>) => number;
}

export interface BursarLangChainOptions {
  /** Part of every idempotency key (default: random per instance); stable to resume in another process. */
  idempotencyScope?: string;
  approvalBaseUrl?: string;
}

export interface BursarLangChain {
  tools: StructuredToolInterface[];
  /** A `createAgent` middleware guarding the tools named in `spend` (by tool name). */
  middleware(spend: Record<string, LangChainSpendSpec>): BursarLangChainMiddleware;
}

interface ToolCallLike {
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

export async function createBursarLangChain(bursar: Bursar, options: BursarLangChainOptions = {}): Promise<BursarLangChain> {
  const [{ tool }, { ToolMessage }, { createMiddleware }, { interrupt }] = await Promise.all([
    import("@langchain/core/tools"),
    import("@langchain/core/messages"),
    import("langchain"),
    import("@langchain/langgraph"),
  ]);
  const scope = options.idempotencyScope ?? `langchain:${crypto.randomUUID()}`;
  const context = (idempotencyKey?: string) => ({ bursar, idempotencyKey, approvalBaseUrl: options.approvalBaseUrl });

  const tools = bursarTools.map((registered) =>
    tool(
      async (input: unknown, config?: { toolCall?: { id?: string } }) => {
        const callId = config?.toolCall?.id ?? crypto.randomUUID();
        const key = registered.writes ? await toolIdempotencyKey({ scope, requestId: callId, tool: registered.name, input }) : undefined;
        return JSON.stringify(await registered.run(input as never, context(key)));
      },
      { name: registered.name, description: registered.description, schema: registered.inputSchema },
    ) as unknown as StructuredToolInterface,
  );

  function middleware(spend: Record<string, LangChainSpendSpec>): BursarLangChainMiddleware {
    const authorize = async (call: ToolCallLike, spec: LangChainSpendSpec): Promise<SpendAuthorization> => {
      const callId = call.id ?? "";
      const params = { operation: spec.operation, amount: typeof spec.amount === "function" ? spec.amount(call.args) : spec.amount, currency: spec.currency, vendor: spec.vendor, tool_call_id: callId };
      const idempotencyKey = await toolIdempotencyKey({ scope, requestId: callId, tool: `guard:${spec.operation}`, input: params });
      const first = await bursar.spend.authorize(params, { idempotencyKey });
      return first.status === "denied" ? first : bursar.spend.get(first.id);
    };
    const errorMessage = (call: ToolCallLike, text: string) => new ToolMessage({ content: text, tool_call_id: call.id ?? "", name: call.name, status: "error" });
    return createMiddleware({
      name: "BursarSpendGuard",
      wrapToolCall: async (request, handler) => {
        const call = request.toolCall as ToolCallLike;
        const spec = spend[call.name];
        if (!spec) return handler(request);
        let authorization = await authorize(call, spec);
        if (authorization.status === "pending_approval") {
          // Pauses the graph (checkpointed) until resumed; on resume this node runs again from the
          // top, and the idempotent authorize above reads the owner's decision.
          interrupt({ bursar: "approval_required", approval_id: authorization.approval_id, spend_authorization_id: authorization.id, tool_call_id: call.id });
          authorization = await bursar.spend.get(authorization.id);
        }
        if (authorization.status !== "authorized") {
          const refused = await spendResult(authorization, context());
          return errorMessage(call, `Bursar refused this spend (${refused.status}): reason_codes=${refused.reason_codes.join(",")}; available_actions=${refused.available_actions.join(",")}. No money moved.`);
        }
        let result: Awaited<ReturnType<typeof handler>>;
        try {
          result = await handler(request);
        } catch (error) {
          await bursar.spend.complete(authorization.id, { outcome: "released" }).catch(() => undefined);
          return errorMessage(call, `The tool failed: ${error instanceof Error ? error.message : String(error)}. Its spend was released.`);
        }
        if ((result as { status?: string }).status === "error") {
          // The tool node caught the tool's throw and answered an error message: nothing was bought.
          await bursar.spend.complete(authorization.id, { outcome: "released" }).catch(() => undefined);
          return result;
        }
        const amount = spec.cost ? spec.cost(result as { content: unknown }, call.args) : authorization.amount;
        await bursar.spend.complete(authorization.id, { outcome: "consumed", amount });
        return result;
      },
    });
  }

  return { tools, middleware };
}
