/** Wire schemas of teams, budget requests and spawned agents (issue 15, docs/teams.md). */
import { z } from "zod";
import { agentScopes } from "../scopes.js";
import { budgetRequestReasonLengthMax, budgetsPerAgentMax, registrationTicketTtlSecondsMax, registrationTicketTtlSecondsMin, teamManagersMax, teamPoolsMax } from "../limits.js";
import { periods } from "../policy/policy.js";
import { amountMinor, currencyCode, text, timestamp } from "./common.js";
import { agent } from "./identity.js";
import { policy } from "./policy.js";

const idText = z.string().min(1).max(64);
const period = z.enum(periods);
const amountOrZero = z.number().int().min(0).max(1e15);

const pool = z.object({ period, currency: currencyCode, amount: amountOrZero.describe("The pool: what the team's members may spend together over the period's trailing window, in minor units") }).strict();

export const createTeamBody = z
  .object({
    name: text,
    description: text.nullable().optional(),
    manager_ids: z.array(idText).max(teamManagersMax).optional().describe("Members of the tenant (`usr_…`) who manage this team with the `teams:manage` scope"),
    pools: z.array(pool).max(teamPoolsMax).optional().describe("Budget pools, one per period and currency"),
  })
  .strict();

export const updateTeamBody = z
  .object({
    name: text.optional(),
    description: text.nullable().optional(),
    manager_ids: z.array(idText).max(teamManagersMax).optional(),
    pools: z.array(pool).max(teamPoolsMax).optional().describe("Replaces every pool; a pool may not fall below what is allocated from it"),
  })
  .strict();

const poolView = z.object({
  period,
  currency: z.string(),
  amount: z.number().int(),
  amount_display: z.string(),
  allocated: z.number().int().describe("Sum of the allocations carved from this pool"),
  spent: z.number().int().optional().describe("Settled spends of the members over the trailing window (on `GET /v1/teams/{id}`)"),
  held: z.number().int().optional().describe("Money of the members held for payments still in flight, over the window"),
  remaining: z.number().int().optional().describe("amount − spent − held"),
  remaining_display: z.string().optional(),
  unallocated: z.number().int().optional().describe("amount − allocated"),
});

const allocationView = z.object({ agent_id: z.string(), period, currency: z.string(), amount: z.number().int(), amount_display: z.string() });

export const team = z.object({
  object: z.literal("team"),
  id: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
  name: z.string(),
  description: z.string().nullable(),
  manager_ids: z.array(z.string()),
  pools: z.array(poolView),
  allocations: z.array(allocationView),
});

export const teamMemberBody = z.object({ agent_id: idText }).strict();
export const teamMemberParams = z.object({ id: idText, agent_id: idText });
export const teamMembers = z.object({ object: z.literal("list"), team_id: z.string(), data: z.array(agent) });

export const allocationBody = z
  .object({
    agent_id: idText,
    period,
    amount: amountOrZero.describe("The agent's share of the pool over the period (minor units); 0 removes the allocation"),
    currency: currencyCode.optional().describe("The pool's currency; may be left out when the team has one pool for the period"),
  })
  .strict();

export const allocationEvent = allocationView;

// Budget requests

export const budgetRequestStatuses = ["pending", "approved", "rejected"] as const;

const blockedAction = z
  .object({
    kind: z.enum(["payment", "service_request", "spend_authorization"]),
    amount: amountMinor,
    currency: currencyCode,
    payee: z.string().min(1).max(200).optional(),
    service: z.string().min(1).max(200).optional(),
    operation: z.string().min(1).max(200).optional(),
    request_id: z.string().min(1).max(200).optional().describe("The `request_id` of the denied call"),
  })
  .strict()
  .describe("The blocked action the agent wants to retry once the budget is raised (shown to whoever decides)");

export const createBudgetRequestBody = z
  .object({
    agent_id: idText.optional().describe("Owners name the agent; an agent credential asks for itself"),
    amount: amountMinor.describe("How much more, in minor units"),
    currency: currencyCode.optional().describe("Defaults to the agent's policy currency"),
    period,
    reason: z.string().min(1).max(budgetRequestReasonLengthMax),
    action: blockedAction.optional(),
  })
  .strict();

export const decideBudgetRequestBody = z
  .object({
    amount: amountMinor.optional().describe("Approve less than asked (at most the requested amount); defaults to the whole request"),
    note: z.string().max(1000).optional(),
  })
  .strict();

export const rejectBudgetRequestBody = z.object({ note: z.string().max(1000).optional() }).strict();

const actor = z.object({ type: z.string(), id: z.string() });

export const budgetRequest = z.object({
  object: z.literal("budget_request"),
  id: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
  agent_id: z.string(),
  team_id: z.string().nullable(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  period,
  reason: z.string(),
  action: blockedAction.nullable(),
  status: z.enum(budgetRequestStatuses),
  approved_amount: z.number().int().nullable(),
  raised: z.enum(["allocation", "budget"]).nullable().describe("What the approval raised: the agent's team allocation, or its budget"),
  decided_by: actor.nullable(),
  decided_at: timestamp.nullable(),
  note: z.string().nullable(),
});

export const budgetRequestListQuery = z.object({
  status: z.enum(budgetRequestStatuses).optional(),
  agent_id: idText.optional(),
});

// Spawn

export const spawnBody = z
  .object({
    name: text,
    description: text.nullable().optional(),
    policy: policy.optional().describe("The child's policy: no looser than the parent's in any field (defaults to a copy of the parent's)"),
    budgets: z
      .array(z.object({ period, amount: amountOrZero }).strict())
      .min(1)
      .max(budgetsPerAgentMax)
      .describe("The child's budgets in the parent's currency, each carved from what the parent has left in that period"),
    scopes: z.array(z.enum(agentScopes)).min(1).max(agentScopes.length).optional().describe("The child's scope ceiling: a subset of the caller's scopes (defaults to them)"),
    funding: amountOrZero.optional().describe("Minor units moved from the parent's wallet to the child's at once (default 0)"),
    ticket_expires_in: z.number().int().min(registrationTicketTtlSecondsMin).max(registrationTicketTtlSecondsMax).optional().describe("Seconds the child's registration ticket lives; default 900"),
  })
  .strict();

const refusal = z.object({ path: z.string(), code: z.string(), detail: z.string() });

const spawnPlan = {
  parent_agent_id: z.string(),
  spawn_depth: z.number().int(),
  scopes: z.array(z.string()),
  policy,
  budgets: z.array(z.object({ period, amount: z.number().int(), currency: z.string() })),
  parent_remaining: z.record(z.string(), z.number().int().nullable()).describe("What the parent has left per period before this child (null: unlimited)"),
};

export const spawnEstimate = z.object({
  object: z.literal("spawn_estimate"),
  allowed: z.boolean(),
  code: z.string().nullable().describe("Why a spawn would be refused (`spawn_policy_looser_than_parent`, …), null when it would pass"),
  errors: z.array(refusal).describe("Each refused field, named (`policy.amount_max_minor.daily`)"),
  ...spawnPlan,
});

export const spawnResult = z.object({
  object: z.literal("spawned_agent"),
  agent,
  ...spawnPlan,
  registration_ticket: z.object({
    id: z.string(),
    ticket: z.string().nullable().describe("Shown once (null on an idempotent replay): hand it to the child, which registers its own key"),
    scopes: z.array(z.string()),
    expires_at: timestamp,
  }),
});
