/**
 * The payment agent's tools: the ONLY things the agent can do (SPEC 3 "The payment agent").
 *
 * Each tool is one governed operation an SDK caller with `agents:execute` also has. There is no
 * tool that approves, rejects, edits a policy, raises a limit or reads a secret, so no message,
 * however it is worded (prompt injection included), can make the agent do any of that: the
 * capability does not exist on this side of the API. Approvals stay with owners
 * (`approvals:write` is never grantable to an agent credential, SPEC 3 "Scopes").
 *
 * Amounts are decimal strings in major units ("500", "12.50"), parsed exactly with money.ts
 * against the currency's exponent: a model never handles floats or minor units.
 */
import { z } from "zod";
import { chatToolArgumentsBytesMax, pageLimitMax, stringLengthMax } from "../limits.js";
import { currencyExponent, isCurrency, parseMajor } from "../money.js";
import { parseJsonWellFormed } from "../unicode.js";

/** A payee id (`pay_…`) or a payee's name or alias ("Bob"). */
const payee = z.string().trim().min(1).max(200).describe("Payee id (pay_...) or the payee's name or alias");
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .refine(isCurrency, { message: "unknown ISO 4217 currency" })
  .describe("ISO 4217 currency code, e.g. GBP");
const amount = z
  .string()
  .regex(/^\d{1,16}(\.\d{1,4})?$/, "a decimal number in major units such as 500 or 12.50, without symbols or separators")
  .describe("Amount in major units as a decimal string, e.g. \"500\" or \"12.50\" (never minor units)");
const limit = z.number().int().min(1).max(pageLimitMax).optional().describe(`How many items, 1 to ${pageLimitMax}`);
const identifier = z.string().min(1).max(100);

/** Approval statuses of a payment intent (SPEC 1). */
export const approvalStatuses = ["auto_approved", "pending_approval", "approved_by_user", "rejected", "expired"] as const;
/** Execution statuses of a payment intent (SPEC 1). */
export const executionStatuses = ["pending", "executing", "completed", "partially_failed", "failed", "cancelled"] as const;

/** Checks that `amount` is exact in `currency` (decimals within its exponent) and positive. */
function exactAmount(value: { amount: string; currency: string }, context: z.RefinementCtx): void {
  if (!isCurrency(value.currency)) return; // the currency field reports it
  const minor = parseMajor(value.amount, value.currency);
  if (minor === null) {
    const exponent = currencyExponent(value.currency);
    context.addIssue({ code: "custom", path: ["amount"], message: `not an exact ${value.currency} amount (at most ${exponent} decimals, at most 10^15 minor units)` });
  } else if (minor === 0) {
    context.addIssue({ code: "custom", path: ["amount"], message: "must be greater than zero" });
  }
}

const payment = { payee, amount, currency };

/** Argument schemas, by tool name. Strict: an unexpected field is an error, not ignored. */
export const chatToolArguments = {
  get_balance: z.strictObject({}),
  list_transactions: z.strictObject({ limit }),
  list_payment_intents: z.strictObject({
    limit,
    status: z.enum([...approvalStatuses, ...executionStatuses]).optional().describe("Only intents with this approval or execution status"),
  }),
  get_payment_intent: z.strictObject({ payment_intent_id: z.string().regex(/^pi_[A-Za-z0-9_-]{1,61}$/, "a payment intent id (pi_...)") }),
  find_payees: z.strictObject({ query: z.string().trim().min(1).max(200).describe("Name, alias or id to look for") }),
  check_policy: z.strictObject(payment).superRefine(exactAmount),
  create_payment_intent: z
    .strictObject({ ...payment, reference: z.string().min(1).max(stringLengthMax).optional().describe("What the payment is for, e.g. \"April invoice\"") })
    .superRefine(exactAmount),
  list_pending_approvals: z.strictObject({}),
  list_services: z.strictObject({}),
  create_service_request: z.strictObject({
    service: identifier.describe("Service id from list_services"),
    operation: identifier.describe("Operation of that service"),
    payload: z.record(z.string(), z.unknown()).describe("Input matching the operation's JSON Schema"),
  }),
  get_service_request: z.strictObject({ service_request_id: z.string().regex(/^sr_[A-Za-z0-9_-]{1,61}$/, "a service request id (sr_...)") }),
} as const;

/** The name of one of the agent's tools. */
export type ChatToolName = keyof typeof chatToolArguments;
/** Every tool name, in a stable order (the order the LLM sees them). */
export const chatToolNames = Object.keys(chatToolArguments) as ChatToolName[];
/** The validated arguments of tool `Name`. */
export type ChatToolArguments<Name extends ChatToolName> = z.output<(typeof chatToolArguments)[Name]>;

const descriptions: Record<ChatToolName, string> = {
  get_balance: "The agent's wallet balance: currency, balance and available amount (minor units and display strings).",
  list_transactions: "Executed payments (transactions), newest first.",
  list_payment_intents: "Payment intents the agent created, newest first, optionally filtered by status.",
  get_payment_intent: "One payment intent: approval status, execution status, approval id, legs and reason codes.",
  find_payees: "Payees whose name, alias or id matches a query. Use it to turn a name into a payee id.",
  check_policy: "Dry run: would this payment be allowed now, need approval, or be denied, and why. Changes nothing.",
  create_payment_intent:
    "Ask to pay a payee. The policy decides: it executes, waits for an owner's approval, or is refused with reasons. You cannot approve it yourself.",
  list_pending_approvals: "Approvals waiting for an owner's decision. Only owners can approve or reject them.",
  list_services: "The service catalog: services, operations, prices and input schemas.",
  create_service_request: "Call a priced service operation under the same policy, budget and approval rules as payments.",
  get_service_request: "One service request: status (executed, running, approval_required, blocked, failed), approval status, amount, reason codes and result.",
};

/** A tool as described to an LLM: name, description and JSON Schema of its arguments. */
export interface ChatToolDefinition {
  name: ChatToolName;
  description: string;
  parameters: Record<string, unknown>;
}

/**
 * Every tool, described for an LLM (JSON Schema 2020-12 from the zod schemas; refinements such as
 * "exact in the currency" are checked on the call, not expressed in the schema).
 */
export const chatToolDefinitions: readonly ChatToolDefinition[] = chatToolNames.map((name) => {
  const { $schema: _schema, ...parameters } = z.toJSONSchema(chatToolArguments[name], { io: "input" }) as Record<string, unknown>;
  return { name, description: descriptions[name], parameters };
});

/** A JSON value as a tool returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * What the server implements over the governed operations, one async function per tool, each
 * acting as the calling agent (its credential, scopes, policy and budgets). Expected failures
 * (not found, refused by policy) are thrown as `ChatToolError`; anything else thrown is reported
 * to the planner as `tool_error` without its message, which might hold internals.
 */
export type ChatTools = {
  [Name in ChatToolName]: (args: ChatToolArguments<Name>) => Promise<unknown>;
};

/** An expected failure of a tool, shown to the planner (and the user) as `{code, message}`. */
export class ChatToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Extra machine-readable detail, e.g. `reason_codes`, `available_actions`. */
    readonly details: Record<string, JsonValue> = {},
  ) {
    super(message);
    this.name = "ChatToolError";
  }
}

/** The error of a failed tool call: a stable snake_case code and a sentence. */
export interface ChatToolFailure {
  code: string;
  message: string;
  [detail: string]: JsonValue;
}

/** The result of `validateToolCall`. */
export type ValidatedToolCall =
  | { ok: true; name: ChatToolName; arguments: Record<string, unknown> }
  | { ok: false; error: ChatToolFailure };

/** True when `name` is one of the agent's tools. */
export function isChatToolName(name: string): name is ChatToolName {
  return Object.hasOwn(chatToolArguments, name);
}

/**
 * Checks a tool call: known name, JSON arguments within `chatToolArgumentsBytesMax`, matching the
 * tool's schema. Never throws.
 * @example validateToolCall("get_balance", "{}") // { ok: true, name: "get_balance", arguments: {} }
 */
export function validateToolCall(name: string, rawArguments: string | Record<string, unknown>): ValidatedToolCall {
  if (!isChatToolName(name)) {
    return { ok: false, error: { code: "unknown_tool", message: `There is no tool named "${name.slice(0, 100)}". Tools: ${chatToolNames.join(", ")}.` } };
  }
  const text = typeof rawArguments === "string" ? rawArguments : JSON.stringify(rawArguments);
  if (utf8Bytes(text) > chatToolArgumentsBytesMax) {
    return { ok: false, error: { code: "invalid_arguments", message: `Arguments are larger than ${chatToolArgumentsBytesMax} bytes.` } };
  }
  let parsed: unknown;
  try {
    parsed = typeof rawArguments === "string" ? parseJsonWellFormed(rawArguments.trim() === "" ? "{}" : rawArguments) : rawArguments;
  } catch {
    return { ok: false, error: { code: "invalid_arguments", message: "Arguments are not valid JSON." } };
  }
  const result = chatToolArguments[name].safeParse(parsed);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`).join("; ");
    return { ok: false, error: { code: "invalid_arguments", message: `Invalid arguments for ${name}: ${details}.` } };
  }
  return { ok: true, name, arguments: result.data as Record<string, unknown> };
}

const encoder = new TextEncoder();

/** Length of `text` in UTF-8 bytes. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}
