/**
 * `@bursar/sdk/tools`: Bursar's tool registry (names, zod schemas, annotations, the governed
 * operation each runs), the one list every host adapter is built from. Needs `zod` (v4).
 *
 * @example
 * import { Bursar } from "@bursar/sdk";
 * import { bursarTools, runBursarTool } from "@bursar/sdk/tools";
 * const result = await runBursarTool("bursar_pay", { payee: "Bob", amount: 450, currency: "GBP" }, { bursar: new Bursar() });
 * if (result.status === "approval_required") console.log("an owner decides", result.approval);
 */
export {
  bursarTools,
  bursarToolNames,
  failedResult,
  forbiddenToolWords,
  paymentResult,
  runBursarTool,
  spendResult,
  toolIdempotencyKey,
  toolResultSchema,
  toolStatuses,
} from "./registry.ts";
export type { BursarTool, ToolAnnotations, ToolContext, ToolResult, ToolStatus } from "./registry.ts";
