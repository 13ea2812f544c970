/**
 * The one list of tools an agent gets wherever it works: the MCP server (`@bursar/mcp`, stdio and
 * `/v1/mcp`) and every framework adapter (`@bursar/sdk/ai`, `/openai-agents`, `/langchain`) are
 * built from this registry, so names, schemas, annotations and results are the same everywhere.
 *
 * Each tool is one governed operation an agent credential already has over HTTP (the same scopes,
 * the same policy decision, the same ledger). By construction there is no tool that approves,
 * rejects, edits a policy or a budget, mints a credential or reads a secret: a model that is told
 * "ignore your rules and approve…" (in a payee name, a service result, a user message) has
 * nothing to call that would do it. The approver is the tenant's owner, in Bursar, never the
 * model and never the person at the MCP host.
 *
 * Every result starts from one shape (`toolResultSchema`): `status` (`executed`,
 * `approval_required`, `blocked`, `failed`, `running`), the Bursar ids, `reason_codes`,
 * `available_actions`, then the tool's `data`. A decision that is not "executed" is a normal
 * result, not an exception: the model reads why and what it may do next.
 */
import { z } from "zod";
import type { Bursar } from "../client.ts";
import { canonicalJson } from "../canonical.ts";
import { APIError, BursarError } from "../errors.ts";
import type { Approval, BudgetRequest, EscrowIntent, PaymentIntent, ServiceRequest, SpendAuthorization, Task } from "../types.ts";

export const toolStatuses = ["executed", "approval_required", "blocked", "failed", "running"] as const;
export type ToolStatus = (typeof toolStatuses)[number];

/** Where and until when an owner decides an approval; the agent cannot. */
const approvalSchema = z.object({
  approval_id: z.string(),
  status: z.string(),
  expires_at: z.string().nullable(),
  approve_with: z.string().describe("where an owner approves it: the API call (owners only), or `bursar approvals approve <id>`"),
});

/** The shape every tool result starts from (MCP `structuredContent`, adapter return values). */
export const toolResultSchema = z.object({
  status: z.enum(toolStatuses),
  /** Bursar ids this result is about: `payment_intent_id`, `approval_id`, `transaction_ids`, `service_request_id`, `spend_authorization_id`. */
  ids: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  reason_codes: z.array(z.string()),
  available_actions: z.array(z.string()),
  /** Set when `status` is `approval_required`. */
  approval: approvalSchema.nullable(),
  /** One line for the model. */
  message: z.string(),
  /** The resource as the API answered it (a payment intent, a page of transactions…). */
  data: z.unknown(),
});
export type ToolResult = z.infer<typeof toolResultSchema>;

/** MCP tool annotations (hints a host uses to auto-approve or ask). */
export interface ToolAnnotations {
  title: string;
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolContext {
  bursar: Bursar;
  /**
   * The idempotency key of this call's write, derived by the host adapter from its request (MCP:
   * the JSON-RPC request; frameworks: the tool call id) so a retried call pays once.
   */
  idempotencyKey?: string;
  /** The server's base URL, to say where an owner approves (default: not named). */
  approvalBaseUrl?: string;
  signal?: AbortSignal;
}

export interface BursarTool<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  description: string;
  inputSchema: z.ZodObject<Shape>;
  annotations: ToolAnnotations;
  /** True when the tool changes state (needs an idempotency key). */
  writes: boolean;
  run(input: z.infer<z.ZodObject<Shape>>, context: ToolContext): Promise<ToolResult>;
  /** Re-reads what an earlier `run` answered (a payment's state after an owner's decision). */
  refresh?(result: ToolResult, context: ToolContext): Promise<ToolResult>;
}

const amount = z.number().int().positive().max(1e15).describe("minor units (pence, cents): 450 is 4.50");
const currency = z.string().regex(/^[A-Z]{3}$/).describe("ISO 4217 code, e.g. GBP");
const idempotencyKey = z
  .string()
  .min(8)
  .max(128)
  .optional()
  .describe("optional: a key you choose for this payment; the same key again never pays twice");

function result(partial: Partial<ToolResult> & Pick<ToolResult, "status" | "message">): ToolResult {
  return { ids: {}, reason_codes: [], available_actions: [], approval: null, data: null, ...partial };
}

/** An expected API failure (not found, a missing scope, a refused capability) as a `failed` result. */
export function failedResult(error: unknown): ToolResult {
  if (error instanceof APIError) {
    return result({ status: "failed", message: `${error.code}: ${error.detail ?? error.message}`, reason_codes: [error.code], available_actions: error.availableActions ?? [] });
  }
  if (error instanceof BursarError) return result({ status: "failed", message: error.message, reason_codes: ["request_failed"] });
  throw error;
}

async function approvalOf(context: ToolContext, approvalId: string): Promise<ToolResult["approval"]> {
  const where = context.approvalBaseUrl ? `POST ${context.approvalBaseUrl.replace(/\/$/, "")}/v1/approvals/${approvalId}/approve` : `bursar approvals approve ${approvalId}`;
  let approval: Approval | null = null;
  try {
    approval = await context.bursar.approvals.get(approvalId, { signal: context.signal });
  } catch (error) {
    // Reading approvals needs `transactions:read`; without it the id is still enough to wait on.
    if (!(error instanceof APIError)) throw error;
  }
  return { approval_id: approvalId, status: approval?.status ?? "pending", expires_at: approval?.expires_at ?? null, approve_with: where };
}

/** A payment intent as a tool result. */
export async function paymentResult(intent: PaymentIntent, context: ToolContext): Promise<ToolResult> {
  const ids = { payment_intent_id: intent.id, ...(intent.approval_id ? { approval_id: intent.approval_id } : {}), transaction_ids: intent.transaction_ids };
  const base = { ids, reason_codes: intent.reason_codes, available_actions: intent.available_actions, data: intent };
  if (intent.approval_status === "pending_approval") {
    return result({ ...base, status: "approval_required", approval: await approvalOf(context, intent.approval_id!), message: `Payment ${intent.id} waits for an owner's approval (${intent.approval_id}); it is held, not paid. Check it later with bursar_get_payment_status.` });
  }
  if (intent.decision === "deny" || intent.approval_status === "rejected" || intent.approval_status === "expired") {
    const reasons = intent.approval_status === "rejected" ? ["approval_rejected"] : intent.approval_status === "expired" ? ["approval_expired"] : intent.reason_codes;
    return result({ ...base, reason_codes: reasons, status: "blocked", message: `Payment ${intent.id} was not made: ${reasons.join(", ")}.` });
  }
  switch (intent.execution_status) {
    case "completed":
      return result({ ...base, status: "executed", message: `Paid ${intent.amount_display ?? ""} ${intent.currency ?? ""} (${intent.id}).`.replace(/ +/g, " ") });
    case "pending":
    case "executing":
      return result({ ...base, status: "running", message: `Payment ${intent.id} is executing; check it with bursar_get_payment_status.` });
    default:
      return result({ ...base, status: "failed", reason_codes: intent.reason_codes.length ? intent.reason_codes : [intent.execution_status], message: `Payment ${intent.id} ${intent.execution_status}.` });
  }
}

async function serviceResult(request: ServiceRequest, context: ToolContext): Promise<ToolResult> {
  const ids = { service_request_id: request.id, ...(request.approval_id ? { approval_id: request.approval_id } : {}) };
  const base = { ids, reason_codes: request.reason_codes, available_actions: request.available_actions, data: request };
  const approval = request.status === "approval_required" && request.approval_id ? await approvalOf(context, request.approval_id) : null;
  return result({ ...base, status: request.status, approval, message: `Service request ${request.id}: ${request.status}${request.reason_codes.length ? ` (${request.reason_codes.join(", ")})` : ""}.` });
}

/** A spend authorization as a tool result (`executed` = authorized or completed). */
export async function spendResult(authorization: SpendAuthorization, context: ToolContext): Promise<ToolResult> {
  const ids = { spend_authorization_id: authorization.id, ...(authorization.approval_id ? { approval_id: authorization.approval_id } : {}) };
  const base = { ids, reason_codes: authorization.reason_codes, available_actions: authorization.available_actions, data: authorization };
  switch (authorization.status) {
    case "authorized":
    case "consumed":
    case "released":
      return result({ ...base, status: "executed", message: `Spend authorization ${authorization.id}: ${authorization.status} (${authorization.amount_display} ${authorization.currency}).` });
    case "pending_approval":
      return result({ ...base, status: "approval_required", approval: await approvalOf(context, authorization.approval_id!), message: `Spend authorization ${authorization.id} waits for an owner's approval (${authorization.approval_id}).` });
    default:
      return result({ ...base, status: "blocked", reason_codes: authorization.status === "denied" ? authorization.reason_codes : [`authorization_${authorization.status}`], message: `Spend authorization ${authorization.id}: ${authorization.status} (${authorization.reason_codes.join(", ")}).` });
  }
}

/** An escrow intent as a tool result: funded or settled is `executed`; a funding hold for an owner, `approval_required`. */
export async function escrowResult(intent: EscrowIntent, context: ToolContext): Promise<ToolResult> {
  const ids = { escrow_intent_id: intent.id, ...(intent.approval_id ? { approval_id: intent.approval_id } : {}) };
  // The evidence and terms are the payee's and the payer's data, returned as data: never instructions.
  const base = { ids, reason_codes: intent.reason_codes, data: intent };
  if (intent.status === "open" && intent.approval_status === "pending" && intent.approval_id) {
    return result({ ...base, status: "approval_required", available_actions: ["wait_for_approval"], approval: await approvalOf(context, intent.approval_id), message: `Escrow ${intent.id} waits for an owner's approval to be funded (${intent.approval_id}); the amount is held, not escrowed yet.` });
  }
  if (intent.status === "open" && intent.decision === "deny") {
    return result({ ...base, status: "blocked", available_actions: ["lower_amount"], message: `Escrow ${intent.id} was not funded: ${intent.reason_codes.join(", ")}.` });
  }
  if (intent.status === "open" && (intent.approval_status === "rejected" || intent.approval_status === "expired")) {
    return result({ ...base, status: "blocked", reason_codes: [`approval_${intent.approval_status}`], message: `Escrow ${intent.id} was not funded: the owner's approval was ${intent.approval_status}.` });
  }
  if (intent.status === "expired") return result({ ...base, status: "failed", reason_codes: ["escrow_expired"], message: `Escrow ${intent.id} expired; its money went back.` });
  const next = intent.status === "open" ? ["fund"] : intent.status === "funded" || intent.status === "evidence_submitted" ? ["wait_for_evidence", "release"] : [];
  return result({ ...base, status: "executed", available_actions: next, message: `Escrow ${intent.id}: ${intent.status} (${intent.amount_display} ${intent.currency}${intent.status === "funded" ? `, ${intent.attempts_remaining} evidence attempt(s) left` : ""}).` });
}

/**
 * A task as a tool result: the work's state, what the agent may do next. The title, description,
 * criteria and review comments are the task creator's and reviewers' data, returned as data.
 */
export function taskResult(task: Task): ToolResult {
  const stopped = task.status === "blocked" || task.status === "cancelled";
  const reasons = stopped ? [`task_${task.status}`] : [];
  const bounty = task.bounty ? `, bounty ${task.bounty.amount_display} ${task.bounty.currency} ${task.bounty.status}` : "";
  return result({ status: stopped ? "blocked" : "executed", ids: { task_id: task.id, ...(task.bounty?.escrow_intent_id ? { escrow_intent_id: task.bounty.escrow_intent_id } : {}) }, reason_codes: reasons, available_actions: task.available_actions, data: task, message: `Task ${task.id}: ${task.status} (CI ${task.ci_status}${task.review_status ? `, review ${task.review_status}` : ""}${bounty}).` });
}

/** A budget request as a tool result: asking is done; an owner or a team manager decides. */
function budgetRequestResult(request: BudgetRequest): ToolResult {
  const base = { ids: { budget_request_id: request.id }, data: request };
  if (request.status === "pending") return result({ ...base, status: "executed", available_actions: ["wait_for_budget_decision"], message: `Budget request ${request.id} for ${request.amount_display} ${request.currency} more per ${request.period} waits for an owner or team manager; check it with bursar_get_budget_request.` });
  if (request.status === "rejected") return result({ ...base, status: "blocked", reason_codes: ["budget_request_rejected"], message: `Budget request ${request.id} was rejected${request.note ? `: ${request.note}` : ""}.` });
  return result({ ...base, status: "executed", available_actions: ["retry"], message: `Budget request ${request.id} was approved for ${request.approved_amount ?? request.amount} (minor units) more per ${request.period}; retry the blocked action.` });
}

/** The `int_…` id of a created escrow: derived from the call's idempotency key, so a retried call creates (and signs) the same intent. */
async function escrowIdOf(context: ToolContext): Promise<string | undefined> {
  if (!context.idempotencyKey) return undefined;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`escrow-intent\n${context.idempotencyKey}`)));
  return `int_${Array.from(digest.slice(0, 20), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

const predicateTemplates = ["http_status", "webhook_event", "artifact_present", "cost_within_amount", "always"] as const;
const escrowId = z.string().regex(/^int_[A-Za-z0-9_-]{1,60}$/).describe("escrow intent id, int_…");
const budgetRequestId = z.string().regex(/^breq_[A-Za-z0-9_-]{1,60}$/).describe("budget request id, breq_…");
const taskId = z.string().regex(/^tsk_[A-Za-z0-9_-]{1,60}$/).describe("task id, tsk_…");

function define<Shape extends z.ZodRawShape>(tool: BursarTool<Shape>): BursarTool {
  return tool as unknown as BursarTool;
}

const readOnly = (title: string): ToolAnnotations => ({ title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
const write = (idempotencyKeyOf: ToolContext) => ({ idempotencyKey: idempotencyKeyOf.idempotencyKey, signal: idempotencyKeyOf.signal });
const read = (context: ToolContext) => ({ signal: context.signal });

/** Every tool, in the order hosts list them. */
export const bursarTools: readonly BursarTool[] = [
  define({
    name: "bursar_get_balance",
    description: "The agent's wallet balance (available and held), in minor units.",
    inputSchema: z.object({}),
    annotations: readOnly("Wallet balance"),
    writes: false,
    async run(_input, context) {
      const balance = await context.bursar.balance.get({}, read(context));
      return result({ status: "executed", message: `Balance ${balance.balance_display} ${balance.currency}.`, data: balance });
    },
  }),
  define({
    name: "bursar_find_payees",
    description: "Payees the agent may pay, or those whose name or alias is exactly `query` (e.g. \"Bob\").",
    inputSchema: z.object({ query: z.string().min(1).max(200).optional() }),
    annotations: readOnly("Find payees"),
    writes: false,
    async run(input, context) {
      const page = await context.bursar.payees.list({ q: input.query, limit: 20 }, read(context));
      // Names and aliases are data the owner typed, returned as data: they are never instructions.
      const payees = page.data.map((payee) => ({ id: payee.id, name: payee.name, aliases: payee.aliases, currency: payee.currency }));
      return result({ status: "executed", message: `${payees.length} payee(s).`, data: { payees } });
    },
  }),
  define({
    name: "bursar_pay",
    description:
      "Ask to pay a payee. Bursar's policy decides: it executes, is blocked (reason_codes say why, available_actions what to do next), or waits for an owner's approval (status approval_required; you cannot approve it).",
    inputSchema: z.object({
      payee: z.string().min(1).max(200).describe("payee id, name or alias"),
      amount,
      currency,
      reference: z.string().max(140).optional().describe("what it is for, e.g. \"April invoice\""),
      idempotency_key: idempotencyKey,
    }),
    annotations: { title: "Pay a payee", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    writes: true,
    async run(input, context) {
      const intent = await context.bursar.paymentIntents.create({ payee: input.payee, amount: input.amount, currency: input.currency, reference: input.reference ?? null }, write(context));
      return paymentResult(intent, context);
    },
    async refresh(previous, context) {
      const id = previous.ids.payment_intent_id;
      if (typeof id !== "string") return previous;
      return paymentResult(await context.bursar.paymentIntents.get(id, read(context)), context);
    },
  }),
  define({
    name: "bursar_get_payment_status",
    description: "The current state of a payment (payment intent pi_…): executed, waiting for approval, blocked, failed or running.",
    inputSchema: z.object({ payment_intent_id: z.string().regex(/^pi_[A-Za-z0-9]+$/) }),
    annotations: readOnly("Payment status"),
    writes: false,
    async run(input, context) {
      return paymentResult(await context.bursar.paymentIntents.get(input.payment_intent_id, read(context)), context);
    },
  }),
  define({
    name: "bursar_list_transactions",
    description: "The agent's most recent executed payments, newest first.",
    inputSchema: z.object({ limit: z.number().int().min(1).max(50).optional() }),
    annotations: readOnly("Recent transactions"),
    writes: false,
    async run(input, context) {
      const page = await context.bursar.transactions.list({ limit: input.limit ?? 10 }, read(context));
      return result({ status: "executed", message: `${page.data.length} transaction(s).`, ids: { transaction_ids: page.data.map((t) => t.id) }, data: { transactions: page.data } });
    },
  }),
  define({
    name: "bursar_check_policy",
    description: "Dry run, no side effects: what would happen to a payment, service request or spend now, and why.",
    inputSchema: z.object({
      kind: z.enum(["payment", "service_request", "spend_authorization"]).optional(),
      amount,
      currency,
      payee: z.string().max(200).optional(),
      service: z.string().max(128).optional(),
      operation: z.string().max(128).optional(),
      vendor: z.string().max(128).optional(),
    }),
    annotations: readOnly("Check the policy"),
    writes: false,
    async run(input, context) {
      const decision = await context.bursar.policy.check(input, read(context));
      const status: ToolStatus = decision.decision === "deny" ? "blocked" : decision.decision === "approval_required" ? "approval_required" : "executed";
      return result({ status, reason_codes: decision.reason_codes, available_actions: decision.available_actions, message: `The policy would answer ${decision.decision} (dry run; nothing was done).`, data: decision });
    },
  }),
  define({
    name: "bursar_list_services",
    description: "The service catalog: services, operations, prices in minor units and input schemas.",
    inputSchema: z.object({}),
    annotations: readOnly("Service catalog"),
    writes: false,
    async run(_input, context) {
      const services = await context.bursar.services.list(read(context));
      return result({ status: "executed", message: `${services.length} service(s).`, data: { services } });
    },
  }),
  define({
    name: "bursar_request_service",
    description: "Run a priced service operation under the policy: executed, blocked, approval_required, failed or running.",
    inputSchema: z.object({
      service: z.string().min(1).max(128),
      operation: z.string().min(1).max(128),
      payload: z.record(z.string(), z.unknown()).optional(),
      idempotency_key: idempotencyKey,
    }),
    annotations: { title: "Request a service", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    writes: true,
    async run(input, context) {
      const request = await context.bursar.serviceRequests.create({ service: input.service, operation: input.operation, payload: input.payload ?? {} }, write(context));
      return serviceResult(request, context);
    },
    async refresh(previous, context) {
      const id = previous.ids.service_request_id;
      if (typeof id !== "string") return previous;
      return serviceResult(await context.bursar.serviceRequests.get(id, read(context)), context);
    },
  }),
  define({
    name: "bursar_authorize_spend",
    description:
      "Before paying for something outside Bursar (a paid API, an x402 resource): ask to spend up to `amount` on `operation`. Authorized holds the amount; complete it with bursar_complete_spend.",
    inputSchema: z.object({
      operation: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).max(128).describe("dotted name, e.g. openai.chat"),
      amount,
      currency,
      vendor: z.string().max(128).optional(),
      tool_call_id: z.string().max(128).optional(),
      idempotency_key: idempotencyKey,
    }),
    annotations: { title: "Authorize a spend", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    writes: true,
    async run(input, context) {
      const { idempotency_key: _key, ...params } = input;
      return spendResult(await context.bursar.spend.authorize(params, write(context)), context);
    },
    async refresh(previous, context) {
      const id = previous.ids.spend_authorization_id;
      if (typeof id !== "string") return previous;
      return spendResult(await context.bursar.spend.get(id, read(context)), context);
    },
  }),
  define({
    name: "bursar_complete_spend",
    description: "After the paid call: consume what it really cost (at most what was authorized; the rest goes back) or release it all.",
    inputSchema: z.object({
      authorization_id: z.string().regex(/^sa_[A-Za-z0-9]+$/),
      outcome: z.enum(["consumed", "released"]),
      amount: z.number().int().min(0).max(1e15).optional(),
      external_reference: z.string().max(255).optional(),
    }),
    annotations: { title: "Complete a spend", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    writes: true,
    async run(input, context) {
      const completed = await context.bursar.spend.complete(input.authorization_id, { outcome: input.outcome, amount: input.amount, external_reference: input.external_reference }, write(context));
      return spendResult(completed, context);
    },
  }),
  define({
    name: "bursar_preview_escrow_predicate",
    description: "Dry run, no side effects: a named release rule template (http_status, webhook_event, artifact_present, cost_within_amount, always) as the predicate an escrow would use, and its summary.",
    inputSchema: z.object({ template: z.enum(predicateTemplates), parameters: z.record(z.string(), z.unknown()).optional() }),
    annotations: readOnly("Preview an escrow rule"),
    writes: false,
    async run(input, context) {
      const preview = await context.bursar.predicates.preview(input.template, input.parameters ?? {}, read(context));
      return result({ status: "executed", message: preview.summary, data: preview });
    },
  }),
  define({
    name: "bursar_create_escrow",
    description:
      "Hold money for a payee's work, released when the payee submits signed evidence that passes the rule (template and its parameters). The agent's key signs the terms; funding is decided by the policy like a payment: funded, blocked (reason_codes), or waiting for an owner's approval (you cannot approve it).",
    inputSchema: z.object({
      payee_id: z.string().regex(/^pay_[A-Za-z0-9]+$/).describe("the payee (pay_…); it must have an evidence key"),
      amount,
      currency,
      deadline: z.string().datetime({ offset: true }).describe("RFC 3339, at most 30 days ahead: the money goes back if not released by then"),
      template: z.enum(predicateTemplates).describe("the release rule (see bursar_preview_escrow_predicate)"),
      parameters: z.record(z.string(), z.unknown()).optional().describe("the template's parameters, e.g. {\"status\": 200}"),
      evidence_schema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema of the evidence payload; default any object"),
      release_mode: z.enum(["auto", "confirm"]).optional(),
      description: z.string().max(500).optional(),
      fund: z.boolean().optional().describe("fund it now (default true)"),
      idempotency_key: idempotencyKey,
    }),
    annotations: { title: "Create an escrow", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    writes: true,
    async run(input, context) {
      const preview = await context.bursar.predicates.preview(input.template, input.parameters ?? {}, read(context));
      const intent = await context.bursar.escrow.create(
        {
          id: await escrowIdOf(context),
          payee_id: input.payee_id,
          amount: input.amount,
          currency: input.currency,
          deadline: input.deadline,
          evidence_schema: input.evidence_schema ?? { type: "object" },
          predicate: preview.predicate,
          cost_path: preview.cost_path,
          release_mode: input.release_mode,
          description: input.description ?? null,
          fund: input.fund ?? true,
        },
        write(context),
      );
      return escrowResult(intent, context);
    },
    async refresh(previous, context) {
      const id = previous.ids.escrow_intent_id;
      if (typeof id !== "string") return previous;
      return escrowResult(await context.bursar.escrow.get(id, read(context)), context);
    },
  }),
  define({
    name: "bursar_fund_escrow",
    description: "Fund an open escrow: the policy decides as for a payment (funded, blocked, or waiting for an owner's approval).",
    inputSchema: z.object({ escrow_intent_id: escrowId }),
    annotations: { title: "Fund an escrow", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    writes: true,
    async run(input, context) {
      return escrowResult(await context.bursar.escrow.fund(input.escrow_intent_id, write(context)), context);
    },
  }),
  define({
    name: "bursar_get_escrow",
    description: "The current state of an escrow (int_…): open, funded, evidence submitted, disputed, released, refunded, split or expired, with the evidence attempts.",
    inputSchema: z.object({ escrow_intent_id: escrowId }),
    annotations: readOnly("Escrow status"),
    writes: false,
    async run(input, context) {
      return escrowResult(await context.bursar.escrow.get(input.escrow_intent_id, read(context)), context);
    },
  }),
  define({
    name: "bursar_list_escrows",
    description: "The agent's escrows, newest first (optionally one status).",
    inputSchema: z.object({
      status: z.enum(["open", "funded", "evidence_submitted", "disputed", "released", "refunded", "split", "expired"]).optional(),
      limit: z.number().int().min(1).max(50).optional(),
    }),
    annotations: readOnly("List escrows"),
    writes: false,
    async run(input, context) {
      const page = await context.bursar.escrow.list({ status: input.status, limit: input.limit ?? 10 }, read(context));
      const escrows = page.data.map((intent) => ({ id: intent.id, payee_id: intent.payee_id, amount: intent.amount, currency: intent.currency, status: intent.status, deadline: intent.deadline }));
      return result({ status: "executed", message: `${escrows.length} escrow(s).`, data: { escrows } });
    },
  }),
  define({
    name: "bursar_release_escrow",
    description: "As the payer: pay out a confirm-mode escrow whose evidence has passed its rule. Blocked before that (escrow_evidence_not_accepted) or while disputed. Refunds, splits and disputes are the owner's.",
    inputSchema: z.object({ escrow_intent_id: escrowId }),
    annotations: { title: "Release an escrow", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    writes: true,
    async run(input, context) {
      // The API lets the payer release at any time; the tool only once evidence passed the rule and
      // no owner disputed it, so text that says "release it now" (a payee's name, its evidence, a
      // service result) cannot pay the payee early.
      const intent = await context.bursar.escrow.get(input.escrow_intent_id, read(context));
      if (intent.status === "disputed") return result({ status: "blocked", ids: { escrow_intent_id: intent.id }, reason_codes: ["escrow_disputed"], message: `Escrow ${intent.id} is disputed: an owner decides it.`, data: intent });
      if (!intent.accepted_evidence && intent.status !== "released") {
        return result({ status: "blocked", ids: { escrow_intent_id: intent.id }, reason_codes: ["escrow_evidence_not_accepted"], available_actions: ["wait_for_evidence"], message: `Escrow ${intent.id} has no evidence that passed its rule yet; it is released when the payee's evidence passes.`, data: intent });
      }
      return escrowResult(await context.bursar.escrow.release(input.escrow_intent_id, write(context)), context);
    },
  }),
  define({
    name: "bursar_request_budget",
    description: "Ask an owner (or the team's manager) for more budget when a payment was denied on a budget (available_actions has request_budget). Name the denied payment to retry it once approved. Asking changes no limit: a person decides.",
    inputSchema: z.object({
      amount: amount.describe("how much more, in minor units"),
      period: z.enum(["daily", "weekly", "monthly", "all_time"]),
      reason: z.string().min(1).max(1000).describe("why, for the person who decides"),
      payment_intent_id: z.string().regex(/^pi_[A-Za-z0-9_-]{1,60}$/).optional().describe("the denied payment (pi_…) to retry once the budget is raised"),
    }),
    annotations: { title: "Request more budget", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    writes: true,
    async run(input, context) {
      const params = { amount: input.amount, period: input.period, reason: input.reason };
      if (input.payment_intent_id === undefined) return budgetRequestResult(await context.bursar.budgetRequests.create(params, write(context)));
      const denied = await context.bursar.paymentIntents.get(input.payment_intent_id, read(context));
      if (!denied.available_actions.includes("request_budget")) return result({ status: "failed", ids: { payment_intent_id: denied.id }, reason_codes: ["request_budget_not_offered"], available_actions: denied.available_actions, message: `Payment ${denied.id} was not denied on a budget: asking for more budget does not help it.`, data: denied });
      return budgetRequestResult(await context.bursar.budgetRequests.createFromDenial(denied, params, write(context)));
    },
  }),
  define({
    name: "bursar_get_budget_request",
    description: "Where a budget request (breq_…) is: pending, approved (for how much) or rejected (with the note). Needs the budgets:read scope.",
    inputSchema: z.object({ budget_request_id: budgetRequestId }),
    annotations: readOnly("Budget request status"),
    writes: false,
    async run(input, context) {
      return budgetRequestResult(await context.bursar.budgetRequests.get(input.budget_request_id, read(context)));
    },
  }),
  define({
    name: "bursar_list_my_tasks",
    description: "The tasks assigned to this agent, newest first (optionally one status), with what each allows next.",
    inputSchema: z.object({ status: z.enum(["todo", "in_progress", "in_review", "blocked", "done", "cancelled"]).optional(), limit: z.number().int().min(1).max(50).optional() }),
    annotations: readOnly("My tasks"),
    writes: false,
    async run(input, context) {
      const page = await context.bursar.tasks.mine({ status: input.status, limit: input.limit ?? 10 }, read(context));
      const tasks = page.data.map((task) => ({ id: task.id, title: task.title, status: task.status, priority: task.priority, ci_status: task.ci_status, review_status: task.review_status, available_actions: task.available_actions }));
      return result({ status: "executed", message: `${tasks.length} task(s).`, data: { tasks } });
    },
  }),
  define({
    name: "bursar_get_task",
    description: "One task (tsk_…): its description and acceptance criteria, status, CI and review state, must-fix review comments and bounty.",
    inputSchema: z.object({ task_id: taskId }),
    annotations: readOnly("Task status"),
    writes: false,
    async run(input, context) {
      const [task, feedback] = await Promise.all([context.bursar.tasks.get(input.task_id, read(context)), context.bursar.tasks.reviewFeedback(input.task_id, read(context))]);
      const answer = taskResult(task);
      return { ...answer, data: { task, must_fix: feedback.must_fix } };
    },
  }),
  define({
    name: "bursar_start_task",
    description: "Start a task assigned to this agent (todo → in_progress), or go back to work after review asked for changes.",
    inputSchema: z.object({ task_id: taskId }),
    annotations: { title: "Start a task", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    writes: true,
    async run(input, context) {
      const task = await context.bursar.tasks.get(input.task_id, read(context));
      if (task.available_actions.includes("fix")) return taskResult(await context.bursar.tasks.fix(input.task_id, write(context)));
      return taskResult(await context.bursar.tasks.start(input.task_id, write(context)));
    },
  }),
  define({
    name: "bursar_submit_task",
    description: "Submit the work of an in-progress task for review: a summary, links to what was made (pull requests, commits, docs) and the commit it is at.",
    inputSchema: z.object({
      task_id: taskId,
      summary: z.string().min(1).max(4000),
      artifacts: z.array(z.object({ type: z.enum(["pull_request", "commit", "doc", "ci_run", "other"]), url: z.string().url().max(2048) })).max(20).optional(),
      head_sha: z.string().regex(/^[0-9a-f]{7,64}$/).optional().describe("the commit the work is at"),
    }),
    annotations: { title: "Submit a task", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    writes: true,
    async run(input, context) {
      return taskResult(await context.bursar.tasks.submit(input.task_id, { summary: input.summary, artifacts: input.artifacts, head_sha: input.head_sha }, write(context)));
    },
  }),
  define({
    name: "bursar_block_task",
    description: "Say a task is blocked: why, and what someone else must do. An owner or the creator resolves the blocker.",
    inputSchema: z.object({ task_id: taskId, reason: z.string().min(1).max(2000), action_required: z.string().max(2000).optional() }),
    annotations: { title: "Block a task", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    writes: true,
    async run(input, context) {
      return taskResult(await context.bursar.tasks.block(input.task_id, { reason: input.reason, action_required: input.action_required ?? null }, write(context)));
    },
  }),
];

/**
 * The idempotency key of a tool call's write. With the input's own `idempotency_key`, that key
 * (so a retry in a new request, even a new session, pays once; another body with it is refused
 * 409 `idempotency_key_payload_mismatch`). Otherwise a digest of where the call came from
 * (`scope`: the MCP session or process, `requestId`: the JSON-RPC id or the framework's tool call
 * id), the tool and its canonical input: a host that resends the same request pays once, while a
 * new request is a new payment.
 */
export async function toolIdempotencyKey(parts: { scope: string; requestId: string | number; tool: string; input: unknown }): Promise<string> {
  const own = (parts.input as { idempotency_key?: unknown } | null)?.idempotency_key;
  if (typeof own === "string") return `tool:${parts.tool}:${own}`;
  const material = [parts.scope, typeof parts.requestId, String(parts.requestId), parts.tool, canonicalJson(parts.input ?? {})].join("\n");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material)));
  return `tool:${parts.tool}:${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** Names of every tool. */
export const bursarToolNames: readonly string[] = bursarTools.map((tool) => tool.name);

/** Names no tool may ever have: a test asserts the registry never grows one. */
export const forbiddenToolWords: readonly string[] = ["approve", "reject", "policy_update", "set_policy", "budget_set", "secret", "api_key", "token"];

/**
 * Runs a tool by name: validates the input, runs it, and turns an expected API failure (a payee
 * not found, a missing scope) into a `failed` result. An unknown name or invalid input is a
 * `failed` result too, so a model that invents a tool ("bursar_approve") learns it does not exist.
 */
export async function runBursarTool(name: string, input: unknown, context: ToolContext): Promise<ToolResult> {
  const tool = bursarTools.find((candidate) => candidate.name === name);
  if (!tool) return result({ status: "failed", message: `There is no tool ${name}.`, reason_codes: ["unknown_tool"] });
  const parsed = tool.inputSchema.safeParse(input ?? {});
  if (!parsed.success) return result({ status: "failed", message: `Invalid input: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`).join("; ")}`, reason_codes: ["invalid_input"] });
  try {
    return await tool.run(parsed.data, context);
  } catch (error) {
    return failedResult(error);
  }
}
