/**
 * The deterministic planner: offline, no model. It reads a message with `understand` and runs
 * a fixed plan of tool calls for it, at most three (a payment: balance for its currency when the
 * message names none, find the payee, create the intent). Same message, same tool results, same
 * reply, every time.
 */
import { pageLimitMax } from "../limits.js";
import { currencyExponent, formatMinor, isCurrency } from "../money.js";
import type { Planner, PlannerOutcome, PlannerStep, ToolOutcome, TurnContinuation } from "./conversation.js";
import { amountProblem, describeIntent, describeServiceRequest, helpText, intentStatus, money, nextActions, plainMessage, reasons, record } from "./replies.js";
import type { ChatToolArguments, ChatToolName } from "./tools.js";
import { toMinor, understand, type PaymentRequest } from "./understand.js";

type Plan<T> = AsyncGenerator<PlannerStep, T, ToolOutcome[] | undefined>;

/** Transactions "how much have I spent today?" adds up: one page, the tools' own maximum. */
const spentTransactionsMax = pageLimitMax;

const formatMoney = (amountMinor: number, currency: string) => (isCurrency(currency) ? `${formatMinor(amountMinor, currency)} ${currency}` : `${amountMinor} ${currency}`);

/** Candidates listed when a payee name is ambiguous or only nearly matches. */
const candidatesShownMax = 5;

/** Asks the runner for one tool call and returns its outcome. */
async function* call<Name extends ChatToolName>(name: Name, args: ChatToolArguments<Name>): Plan<ToolOutcome> {
  const outcomes = yield { type: "tool_calls", tool_calls: [{ name, arguments: args as Record<string, unknown> }] };
  const outcome = outcomes?.[0];
  if (outcome === undefined) throw new Error(`the runner answered no outcome for ${name}`);
  return outcome;
}

const reply = (text: string): PlannerOutcome => ({ type: "reply", text });

/** "I couldn't get your balance: <message in plain English>." (the code is in the tool result). */
function failed(what: string, outcome: Extract<ToolOutcome, { ok: false }>): PlannerOutcome {
  const why = Array.isArray(outcome.error.reason_codes) && outcome.error.reason_codes.length > 0 ? ` Reasons: ${reasons(outcome.error.reason_codes)}.` : "";
  const message = plainMessage(outcome.error.message).replace(/\.$/, "");
  return reply(`I couldn't ${what}: ${message}.${why}${nextActions(outcome.error.available_actions)}`);
}

/** The deterministic planner (see docs/chat.md for what it understands). */
export const deterministicPlanner: Planner = {
  async *plan(context) {
    if (context.continueFrom) return yield* continuation(context.continueFrom);
    const request = understand(context.message);
    switch (request.kind) {
      case "pay":
      case "check_policy":
        return yield* payment(request.payment, request.kind === "check_policy");
      case "payment_missing_amount":
        return reply(`How much should I pay ${request.payee}? For example: "pay ${request.payee} £20".`);
      case "invalid_amount":
        return reply(amountProblem(request.problem, request.text));
      case "balance": {
        const outcome = yield* call("get_balance", {});
        if (!outcome.ok) return failed("get your balance", outcome);
        const balance = record(outcome.result);
        const total = money(balance.balance, balance.currency, balance.balance_display);
        const available = money(balance.available, balance.currency, balance.available_display);
        return reply(total === available ? `Your balance is ${total}, all of it available.` : `Your balance is ${total}; ${available} is available to spend.`);
      }
      case "transactions": {
        const outcome = yield* call("list_transactions", { limit: request.limit });
        if (!outcome.ok) return failed("list your transactions", outcome);
        return reply(list(outcome.result, "You have no transactions yet.", "Your recent transactions", (item) => {
          const counterparty = label(item.creditor) ?? label(item.payee) ?? "";
          const reference = typeof item.reference === "string" && item.reference !== "" ? ` for "${item.reference}"` : "";
          const when = typeof item.created_at === "string" ? `, ${item.created_at.slice(0, 10)}` : "";
          return `${String(item.id)}: ${money(item.amount, item.currency, item.amount_display)}${counterparty ? ` to ${counterparty}` : ""}${reference}, ${String(item.status)}${when}`;
        }));
      }
      case "payment_intents": {
        const args: ChatToolArguments<"list_payment_intents"> = { limit: request.limit };
        if (request.status) args.status = request.status as ChatToolArguments<"list_payment_intents">["status"];
        const outcome = yield* call("list_payment_intents", args);
        if (!outcome.ok) return failed("list your payment intents", outcome);
        return reply(list(outcome.result, "You have no payment intents" + (request.status ? ` with status ${request.status}.` : "."), "Your payment intents", (item) =>
          `${String(item.id)}: ${money(item.amount, item.currency, item.amount_display)}, ${intentStatus(item)}`,
        ));
      }
      case "payment_intent": {
        const outcome = yield* call("get_payment_intent", { payment_intent_id: request.id });
        if (!outcome.ok) return failed(`get ${request.id}`, outcome);
        return reply(describeIntent(outcome.result));
      }
      case "pending_approvals": {
        const outcome = yield* call("list_pending_approvals", {});
        if (!outcome.ok) return failed("list pending approvals", outcome);
        return reply(list(outcome.result, "Nothing is waiting for approval.", "Waiting for an owner's approval", (item) => {
          const subject = typeof item.payment_intent_id === "string" ? ` for ${item.payment_intent_id}` : "";
          const expires = typeof item.expires_at === "string" ? `, expires ${item.expires_at}` : "";
          return `${String(item.id)}: ${money(item.amount, item.currency, item.amount_display)}${subject} (${reasons(item.reason_codes)})${expires}`;
        }) + "\nOnly an owner can approve or reject them.");
      }
      case "services": {
        const outcome = yield* call("list_services", {});
        if (!outcome.ok) return failed("list the services", outcome);
        return reply(list(outcome.result, "No services are available.", "Available services", (item) => {
          const operations = Array.isArray(item.operations) ? item.operations.map(record) : [];
          const priced = operations.map((operation) => {
            const name = label(operation) ?? "operation";
            const price = operation.price ?? operation.price_minor ?? operation.amount;
            return price === undefined ? name : `${name} ${money(price, operation.currency ?? item.currency, operation.price_display)}`;
          });
          const description = typeof item.description === "string" ? ` — ${item.description}` : "";
          return `${label(item) ?? "service"}${description}${priced.length > 0 ? ` (${priced.join("; ")})` : ""}`;
        }));
      }
      case "find_payees": {
        const outcome = yield* call("find_payees", { query: request.query });
        if (!outcome.ok) return failed("search payees", outcome);
        return reply(list(outcome.result, `No payee matches "${request.query}".`, "Matching payees", (item) => payeeLine(item)));
      }
      case "limits":
        return reply('I can check what your limits allow for a specific payment: ask, for example, "Can I pay Bob £900?". Only an owner can see or change the policy itself.');
      case "cannot_approve":
        return reply("I can't approve or reject anything: approvals are an owner's decision, made in Bursar (for example `bursar approvals approve apr_…`). I can show what is waiting: ask \"What is waiting for approval?\".");
      case "cannot_cancel":
        return reply(
          "I can't cancel payments: a payment that has been made is final, and one waiting for approval can only be rejected by an owner (bursar approvals reject apr_…). I can show your recent payments (\"List my recent payments\") or what waits for approval.",
        );
      case "spent": {
        const outcome = yield* call("list_transactions", { limit: spentTransactionsMax });
        if (!outcome.ok) return failed("add up your spending", outcome);
        const page = record(outcome.result);
        const items = (Array.isArray(page.data) ? page.data : []).map(record);
        const sinceMs = context.nowMs - 24 * 60 * 60 * 1000;
        const recent = items.filter((item) => typeof item.created_at === "string" && Date.parse(item.created_at) > sinceMs && item.status !== "failed");
        if (recent.length === 0) return reply("You have spent nothing in the last 24 hours.");
        const totals = new Map<string, number>();
        for (const item of recent) totals.set(String(item.currency), (totals.get(String(item.currency)) ?? 0) + Number(item.amount));
        const sum = [...totals].map(([currency, amount]) => formatMoney(amount, currency)).join(" and ");
        const more = page.has_more === true && recent.length === items.length ? ` (at least: I looked at your last ${spentTransactionsMax} payments)` : "";
        return reply(`In the last 24 hours you have spent ${sum} in ${recent.length} payment${recent.length === 1 ? "" : "s"}${more}.`);
      }
      case "cannot_change_policy":
        return reply("I can't change limits, budgets or the policy: only an owner can. I can check whether a payment fits the current ones, e.g. \"Can I pay Bob £900?\".");
      case "cannot_reveal_secrets":
        return reply("I have no access to secrets such as keys, tokens or passwords, and no tool that could reveal them.");
      case "help":
        return reply(helpText);
      case "not_understood":
        return reply(`Sorry, I didn't understand that. ${helpText}`);
    }
  },
};

/** A resumed turn: where the approval stands, then what became of the payment or service request (`continue_from`). */
async function* continuation(from: TurnContinuation): Plan<PlannerOutcome> {
  const outcome =
    from.subjectType === "service_request"
      ? yield* call("get_service_request", { service_request_id: from.subjectId })
      : yield* call("get_payment_intent", { payment_intent_id: from.subjectId });
  if (!outcome.ok) return failed(`get ${from.subjectId}`, outcome);
  const lead =
    from.approvalStatus === "approved" ? `An owner approved ${from.approvalId}.`
    : from.approvalStatus === "rejected" ? `An owner rejected ${from.approvalId}.`
    : from.approvalStatus === "pending" ? `${from.approvalId} is still waiting for an owner.`
    : `${from.approvalId} is ${from.approvalStatus}.`;
  return reply(`${lead} ${from.subjectType === "service_request" ? describeServiceRequest(outcome.result) : describeIntent(outcome.result)}`);
}

/** Pays (or, with `checkOnly`, dry-runs) a payment: currency, amount, payee, then the action. */
async function* payment(request: PaymentRequest, checkOnly: boolean): Plan<PlannerOutcome> {
  let currency = request.amount.currency;
  if (currency === null) {
    const outcome = yield* call("get_balance", {});
    if (!outcome.ok) return failed("find your wallet's currency", outcome);
    const walletCurrency = record(outcome.result).currency;
    if (typeof walletCurrency !== "string" || !isCurrency(walletCurrency)) return reply("I couldn't find your wallet's currency; please name one, e.g. £20 or 20 EUR.");
    currency = walletCurrency;
  }
  const written = `${request.amount.decimal} ${currency}`;
  const amount = toMinor(request.amount.decimal, currency);
  if ("problem" in amount) return reply(amountProblem(amount.problem, written, currency, currencyExponent(currency)));

  const payee = yield* resolvePayee(request.payee);
  if (typeof payee === "object" && "type" in payee) return payee;

  const args = { payee: payee.id, amount: request.amount.decimal, currency };
  if (checkOnly) {
    const outcome = yield* call("check_policy", args);
    if (!outcome.ok) return failed("check that payment", outcome);
    return reply(describeCheck(outcome.result, `${money(amount.amountMinor, currency)} to ${payee.name}`, currency));
  }
  const outcome = yield* call("create_payment_intent", request.reference ? { ...args, reference: request.reference } : args);
  if (!outcome.ok) return failed(`pay ${money(amount.amountMinor, currency)} to ${payee.name}`, outcome);
  return reply(describeIntent(outcome.result, payee.name));
}

interface ResolvedPayee {
  id: string;
  name: string;
}

/**
 * Turns a name into one payee. Only an exact name or alias match (any case) resolves: paying a
 * near match ("Bob" → "Bobby Tables") on a guess is not acceptable for money, so near matches are
 * offered back instead. A `pay_…` id is passed through; the tool checks it.
 */
async function* resolvePayee(query: string): Plan<ResolvedPayee | PlannerOutcome> {
  if (/^pay_[A-Za-z0-9_-]+$/.test(query)) return { id: query, name: query };
  const outcome = yield* call("find_payees", { query });
  if (!outcome.ok) return failed(`look up "${query}"`, outcome);
  const page = record(outcome.result);
  const candidates = (Array.isArray(page.data) ? page.data : []).map(record).filter((payee) => typeof payee.id === "string");
  const wanted = query.toLowerCase();
  const exact = candidates.filter((payee) =>
    [payee.name, ...(Array.isArray(payee.aliases) ? payee.aliases : [])].some((name) => typeof name === "string" && name.toLowerCase() === wanted),
  );
  if (exact.length === 1) return { id: String(exact[0]!.id), name: String(exact[0]!.name ?? exact[0]!.id) };
  const shown = (exact.length > 1 ? exact : candidates).slice(0, candidatesShownMax).map((payee) => `- ${payeeLine(payee)}`).join("\n");
  if (exact.length > 1) return reply(`"${query}" matches several payees:\n${shown}\nWhich one? Use the name or the id, e.g. "pay ${String(exact[0]!.id)} …".`);
  if (candidates.length > 0) return reply(`I found no payee called "${query}" exactly. Did you mean:\n${shown}\nSay the full name or the id to pay one of them.`);
  return reply(`I couldn't find a payee called "${query}". Payees are added by an owner; ask "find payee <name>" to search.`);
}

function describeCheck(value: unknown, what: string, currency: string): string {
  const check = record(value);
  const remaining = Object.entries(record(check.remaining))
    .filter(([key, left]) => typeof left === "number" && left >= 0 && !key.endsWith("_count"))
    .map(([key, left]) => `${key.replaceAll("_", " ")} ${money(left, currency)}`);
  const left = remaining.length > 0 ? ` Left after it: ${remaining.join(", ")}.` : "";
  switch (check.decision) {
    case "allow":
      return `Yes: paying ${what} is allowed now.${left}`;
    case "approval_required":
      return `Paying ${what} would need an owner's approval: ${reasons(check.reason_codes)}.${left}`;
    case "deny":
      return `No: paying ${what} would be refused: ${reasons(check.reason_codes)}.${nextActions(check.available_actions)}`;
    default:
      return `The policy check answered ${String(check.decision)} for ${what}.`;
  }
}

/** A name for an object: `name`, else `id`, else a string value itself. */
function label(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  const item = record(value);
  for (const key of ["name", "id", "payee_id"]) if (typeof item[key] === "string" && item[key] !== "") return item[key] as string;
  return null;
}

function payeeLine(item: Record<string, unknown>): string {
  const aliases = Array.isArray(item.aliases) && item.aliases.length > 0 ? ` (also ${item.aliases.join(", ")})` : "";
  const currency = typeof item.currency === "string" ? `, ${item.currency}` : "";
  return `${String(item.name ?? item.id)}${aliases} — ${String(item.id)}${currency}`;
}

/** A `{data, has_more}` page as a bulleted list. */
function list(value: unknown, empty: string, title: string, line: (item: Record<string, unknown>) => string): string {
  const page = record(value);
  const items = (Array.isArray(page.data) ? page.data : []).map(record);
  if (items.length === 0) return empty;
  const more = page.has_more === true ? "\nThere are more; ask for more, e.g. \"last 50\"." : "";
  return `${title}:\n${items.map((item) => `- ${line(item)}`).join("\n")}${more}`;
}
