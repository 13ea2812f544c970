/**
 * The deterministic planner's sentences: short, plain, and precise about the outcome (executed,
 * waiting for approval with the approval id, refused with reasons and what can be done next).
 *
 * Tool results come from the server; they are read defensively (a missing field is shown as
 * absent, never a crash), since a reply must not fail because a field was renamed.
 */
import { formatMinor, isCurrency } from "../money.js";
import type { AmountProblem } from "./understand.js";

type Json = Record<string, unknown>;

/** `value` as an object, or an empty one. */
export function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/**
 * "500.00 GBP": the display string when the result has one, else minor units formatted exactly.
 * @example money(50000, "GBP") // "500.00 GBP"
 */
export function money(amountMinor: unknown, currency: unknown, display?: unknown): string {
  const code = text(currency) ?? "";
  if (text(display)) return `${display} ${code}`.trim();
  if (typeof amountMinor === "number" && Number.isSafeInteger(amountMinor) && isCurrency(code)) return `${formatMinor(amountMinor, code)} ${code}`;
  return `${String(amountMinor)} ${code}`.trim();
}

const reasonTexts: Record<string, string> = {
  currency_not_allowed: "this currency is not allowed",
  payee_blocked: "this payee is blocked",
  payee_not_allowed: "this payee is not on the allowed list",
  service_not_allowed: "this service is not allowed",
  amount_exceeds_transaction_max: "above the per-payment maximum",
  daily_amount_limit_exceeded: "over the daily spending limit",
  weekly_amount_limit_exceeded: "over the weekly spending limit",
  monthly_amount_limit_exceeded: "over the monthly spending limit",
  all_time_amount_limit_exceeded: "over the all-time spending limit",
  daily_count_limit_exceeded: "over the daily number of payments",
  weekly_count_limit_exceeded: "over the weekly number of payments",
  monthly_count_limit_exceeded: "over the monthly number of payments",
  all_time_count_limit_exceeded: "over the all-time number of payments",
  budget_exceeded: "over budget",
  team_pool_exceeded: "over the team's pool",
  parent_budget_exceeded: "over the budget of the agent that spawned it",
  approval_threshold_reached: "at or above the approval threshold",
  new_payee_requires_approval: "a first payment to this payee",
  insufficient_funds: "not enough money in the wallet",
  currency_mismatch: "the payee is paid in another currency",
  overflows_balance: "the amount is too large for the account",
  approval_rejected: "an owner rejected it",
  approval_expired: "no owner approved it in time",
};

const actionTexts: Record<string, string> = {
  request_approval: "ask an owner to approve it",
  lower_amount: "pay a smaller amount",
  choose_allowed_payee: "pay an allowed payee",
  choose_allowed_currency: "use an allowed currency",
  choose_allowed_service: "use an allowed service",
  retry_after_window: "try again when the limit's period has moved on",
  request_budget: "ask a manager for more budget",
  fund_wallet: "ask an owner to fund the wallet",
};

/** "above the per-payment maximum": reasons in plain English (the codes are in the tool results). */
export function reasons(codes: unknown): string {
  const list = Array.isArray(codes) ? codes.map(String) : [];
  if (list.length === 0) return "no reason given";
  return list.map((code) => reasonTexts[code] ?? code.replaceAll("_", " ")).join(", ");
}

/**
 * A tool's error message as a person reads it: without the field path it starts with
 * (`instructions.0: payee … is paid in GBP` → `payee … is paid in GBP`), first letter capital.
 */
export function plainMessage(message: string): string {
  const text = message.replace(/^(?:[a-z_]+(?:\.[a-z0-9_]+)*): /, "").trim();
  return text === "" ? text : text[0]!.toUpperCase() + text.slice(1);
}

/** " You can: pay a smaller amount, or try again later." or "" when there is nothing to do. */
export function nextActions(actions: unknown): string {
  const list = (Array.isArray(actions) ? actions.map(String) : []).map((action) => actionTexts[action] ?? action.replaceAll("_", " "));
  return list.length === 0 ? "" : ` You can ${list.join(", or ")}.`;
}

/** Describes a service request's state in one or two sentences. */
export function describeServiceRequest(value: unknown): string {
  const request = record(value);
  const id = text(request.id) ?? "the service request";
  const what = `${text(request.service) ?? "the service"}.${text(request.operation) ?? "operation"} for ${money(request.amount, request.currency, request.amount_display)} (${id})`;
  switch (request.status) {
    case "executed":
      return `The service request ${what} executed; its price was paid.`;
    case "running":
      return `The service request ${what} is approved and running.`;
    case "approval_required":
      return `The service request ${what} is waiting for approval ${text(request.approval_id) ?? "(no approval id)"}: ${reasons(request.reason_codes)}. An owner must approve it; I cannot.`;
    case "blocked":
      return request.approval_status === "rejected"
        ? `The service request ${what} was rejected by an owner; nothing was paid.`
        : request.approval_status === "expired"
          ? `The service request ${what} was not approved in time; nothing was paid.`
          : `The service request ${what} was refused: ${reasons(request.reason_codes)}. Nothing was paid.${nextActions(request.available_actions)}`;
    case "failed":
      return `The service request ${what} failed${text(request.failure_reason) ? ` (${text(request.failure_reason)})` : ""}; its price was released.`;
    default:
      return `The service request ${what} has status ${String(request.status)}.`;
  }
}

/** Describes a payment intent's state in one or two sentences. */
export function describeIntent(value: unknown, payeeName?: string): string {
  const intent = record(value);
  const id = text(intent.id) ?? "the payment";
  const legs = Array.isArray(intent.legs) ? intent.legs.map(record) : [];
  const payee = payeeName ?? text(legs[0]?.payee_name) ?? text(legs[0]?.payee_id) ?? "the payee";
  const amount = money(intent.amount, intent.currency, intent.amount_display);
  const what = `${amount} to ${payee} (${id})`;
  // A payment the policy (or the wallet) refused is an intent whose `decision` is `deny`, with
  // `execution_status: "failed"` and its approval status untouched: it never reached a rail, and
  // no owner rejected it. Said so first, so it is never described as a rail failure.
  if (isDenied(intent, legs)) {
    return `The payment of ${what} was refused: ${reasons(intent.reason_codes)}. Nothing was paid.${nextActions(intent.available_actions)}`;
  }
  switch (intent.approval_status) {
    case "pending_approval":
      return `The payment of ${what} is waiting for approval ${text(intent.approval_id) ?? "(no approval id)"}: ${reasons(intent.reason_codes)}. An owner must approve it; I cannot.`;
    case "rejected":
      return `The payment of ${what} was rejected by an owner; nothing was paid.`;
    case "expired":
      return `The payment of ${what} was not approved in time; its approval expired and nothing was paid.`;
  }
  const transactions = legs.map((leg) => text(leg.transaction_id)).filter((id): id is string => id !== null);
  switch (intent.execution_status) {
    case "completed":
      return `Paid ${what}${transactions.length > 0 ? `; transaction ${transactions.join(", ")}` : ""}.`;
    case "pending":
    case "executing":
      return `The payment of ${what} is approved and being executed.`;
    case "partially_failed":
      return `The payment of ${what} partly failed: ${legs.map((leg) => `${text(leg.payee_id) ?? "a leg"} ${String(leg.status)}`).join(", ")}.`;
    case "failed":
      return `The payment of ${what} failed on the payment rail; nothing was paid${legReasons(legs)}.`;
    case "cancelled":
      return `The payment of ${what} was cancelled; nothing was paid.`;
    default:
      return `The payment of ${what} has status ${String(intent.approval_status)} / ${String(intent.execution_status)}.`;
  }
}

/** True when the policy or the wallet refused every leg (`decision: "deny"`, legs `denied`). */
function isDenied(intent: Json, legs: Json[]): boolean {
  if (legs.length > 0) return legs.every((leg) => leg.status === "denied" || leg.decision === "deny");
  return intent.decision === "deny";
}

function legReasons(legs: Json[]): string {
  const codes = legs.flatMap((leg) => (Array.isArray(leg.reason_codes) ? leg.reason_codes.map(String) : []));
  return codes.length === 0 ? "" : ` (${reasons(codes)})`;
}

/** A one-line status of a payment intent for lists. */
export function intentStatus(value: unknown): string {
  const intent = record(value);
  const legs = Array.isArray(intent.legs) ? intent.legs.map(record) : [];
  if (isDenied(intent, legs)) return `refused (${reasons(intent.reason_codes)})`;
  if (intent.approval_status === "pending_approval") return `waiting for approval ${text(intent.approval_id) ?? ""}`.trim();
  if (intent.approval_status === "rejected") return "rejected by an owner";
  if (intent.approval_status === "expired") return "approval expired";
  return String(intent.execution_status ?? "unknown");
}

/** Explains a problem with an amount the user wrote. */
export function amountProblem(problem: AmountProblem, written: string, currency?: string, exponent?: number): string {
  switch (problem) {
    case "negative":
      return `I can only pay positive amounts, and "${written}" is negative.`;
    case "zero":
      return "The amount must be greater than zero.";
    case "abbreviated":
      return `I don't read abbreviated amounts like "${written}": please write the number in full, e.g. 1500.`;
    case "malformed":
      return `I can't read "${written}" as an amount. Write it like 1250, 1,250.00 or 12.50.`;
    case "unknown_currency":
      return `"${written}" names a currency I don't know. Use an ISO code such as GBP, USD or EUR, or £, $, €.`;
    case "currency_conflict":
      return `"${written}" names two different currencies. Use one, e.g. £500 or 500 GBP.`;
    case "too_many_decimals":
      return `${currency} amounts have at most ${exponent} decimal places; "${written}" has more.`;
    case "too_large":
      return `"${written}" is larger than the largest amount Bursar accepts.`;
  }
}

/** The help text: what the deterministic planner understands, by example. */
export const helpText =
  "I can help with payments. For example:\n" +
  "- \"Pay £500 to Bob for the April invoice\" or \"send 20 USD to alice\"\n" +
  "- \"Can I pay Bob £900?\" (checks the policy, pays nothing)\n" +
  "- \"What is my balance?\"\n" +
  "- \"List my recent payments\" or \"show my last 5 transactions\"\n" +
  "- \"What is waiting for approval?\"\n" +
  "- \"Status of pi_…\"\n" +
  "- \"List services\"\n" +
  "I cannot approve payments or change limits: only an owner can.";
