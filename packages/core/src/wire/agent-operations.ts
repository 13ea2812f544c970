/** Wire schemas of agent clone, health and activity (governance/agent-operations.ts). */
import { z } from "zod";
import { agentActivityPageMax } from "../limits.js";
import { pageLimit, queryInteger, text, timestamp } from "./common.js";

export const cloneAgentBody = z
  .object({
    name: text.optional().describe("Default: the source's name with \" (copy)\""),
    description: z.string().max(512).nullable().optional().describe("Default: the source's"),
  })
  .strict()
  .optional();

export const agentHealth = z.object({
  object: z.literal("agent_health"),
  agent_id: z.string(),
  status: z.enum(["healthy", "attention", "disabled"]).describe("`attention`: see `issues`"),
  issues: z.array(z.enum(["agent_disabled", "no_active_credential", "wallet_empty", "limit_near_exhaustion", "approvals_pending"])),
  checked_at: timestamp,
  credential: z.object({ active_bindings: z.number().int(), active_api_keys: z.number().int() }),
  wallet: z.object({ account_id: z.string(), currency: z.string(), balance: z.number().int(), balance_display: z.string(), available: z.number().int(), available_display: z.string() }),
  limits: z
    .array(z.object({ limit: z.string().describe("`daily`, `weekly_count`, `budget_monthly`, `per_transaction`…"), max: z.number().int(), remaining: z.number().int(), near_exhaustion: z.boolean() }))
    .describe("Each limit of the policy and budgets in force, with what is left now"),
  approvals: z.object({ pending: z.number().int() }),
});

export const agentActivityQuery = z.object({
  limit: pageLimit(agentActivityPageMax),
  cursor: queryInteger(1, Number.MAX_SAFE_INTEGER).optional().describe("next_cursor of the previous page (an event seq)"),
});
