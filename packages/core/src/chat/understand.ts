/**
 * What the deterministic planner understands: plain English requests of a payments assistant,
 * turned into a `ChatRequest`. Pure string work, no tools; see docs/chat.md for the phrasings.
 *
 * Amounts are read exactly: digits are kept as a decimal string and only converted to minor
 * units by `parseMajor` once the currency is known. Abbreviations ("1.5k", "2m") are refused
 * rather than guessed: for money, "m" (million? thousand?) is not worth a guess.
 */
import { pageLimitMax } from "../limits.js";
import { currencyExponent, isCurrency, parseMajor } from "../money.js";
import { approvalStatuses, executionStatuses } from "./tools.js";

/** An amount as written: an exact decimal string and the currency, if the text named one. */
export interface AmountPhrase {
  decimal: string;
  currency: string | null;
}

export type AmountProblem =
  | "negative"
  | "zero"
  | "abbreviated"
  | "malformed"
  | "unknown_currency"
  | "currency_conflict"
  | "too_many_decimals"
  | "too_large";

export interface PaymentRequest {
  payee: string;
  amount: AmountPhrase;
  reference: string | null;
}

export type ChatRequest =
  | { kind: "pay"; payment: PaymentRequest }
  | { kind: "check_policy"; payment: PaymentRequest }
  | { kind: "payment_missing_amount"; payee: string }
  | { kind: "invalid_amount"; problem: AmountProblem; text: string }
  | { kind: "balance" }
  | { kind: "transactions"; limit: number }
  | { kind: "payment_intents"; limit: number; status: string | null }
  | { kind: "payment_intent"; id: string }
  | { kind: "pending_approvals" }
  | { kind: "services" }
  | { kind: "find_payees"; query: string }
  | { kind: "limits" }
  | { kind: "cannot_approve" }
  | { kind: "cannot_change_policy" }
  | { kind: "cannot_cancel" }
  | { kind: "spent" }
  | { kind: "cannot_reveal_secrets" }
  | { kind: "help" }
  | { kind: "not_understood" };

/** How many items a list shows when the message does not say. */
export const listLimitDefault = 10;

const symbols: Record<string, string> = { "£": "GBP", $: "USD", "€": "EUR" };
const currencyWords: Record<string, string> = {
  pound: "GBP", pounds: "GBP", quid: "GBP", sterling: "GBP",
  dollar: "USD", dollars: "USD", bucks: "USD",
  euro: "EUR", euros: "EUR",
  yen: "JPY",
};

const amountPattern =
  /^(?:([A-Za-z]{3})\s+)?([£$€])?\s*(\d[\d,]*(?:\.\d*)?|\.\d+)\s*(?:(k|m|mn|bn|thousand|million|billion)\b)?\s*([A-Za-z]+)?$/i;

/**
 * Reads an amount such as "£500", "20 USD", "EUR 1,250.00", "12.50", "30 euros".
 * Returns null when `text` is not an amount at all, a problem when it is a wrong one.
 * @example parseAmountPhrase("€1,250.00") // { decimal: "1250.00", currency: "EUR" }
 */
export function parseAmountPhrase(text: string): AmountPhrase | { problem: AmountProblem } | null {
  let trimmed = text.trim();
  if (!/\d/.test(trimmed)) return null;
  const negative = /^[-−–]|^[£$€]\s*[-−–]|^[A-Za-z]{3}\s+[-−–]/.test(trimmed);
  trimmed = trimmed.replace(/^([A-Za-z]{3}\s+)?([£$€])?\s*[-−–]\s*([£$€])?/, (_all, code = "", symbol = "", after = "") => `${code}${symbol}${after}`);
  const match = amountPattern.exec(trimmed);
  if (!match) return null;
  const [, prefixCode, symbol, number, abbreviation, word] = match;

  const currencies: string[] = [];
  if (symbol) currencies.push(symbols[symbol]!);
  for (const name of [prefixCode, word]) {
    if (name === undefined) continue;
    const known = currencyWords[name.toLowerCase()] ?? (isCurrency(name.toUpperCase()) ? name.toUpperCase() : null);
    if (known) currencies.push(known);
    else if (/^[A-Z]{3}$/.test(name)) return { problem: "unknown_currency" };
    else return null; // "20 apples", "pay bob 20 now": not an amount phrase
  }
  if (new Set(currencies).size > 1) return { problem: "currency_conflict" };
  if (negative) return { problem: "negative" };
  if (abbreviation) return { problem: "abbreviated" };

  let digits = number!;
  if (digits.includes(",")) {
    if (!/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(digits)) return { problem: "malformed" };
    digits = digits.replaceAll(",", "");
  }
  const [whole = "", fraction = ""] = digits.split(".");
  const decimal = (whole.replace(/^0+(?=\d)/, "") || "0") + (fraction === "" ? "" : `.${fraction}`);
  if (/^[0.]+$/.test(decimal)) return { problem: "zero" };
  return { decimal, currency: currencies[0] ?? null };
}

/**
 * Converts a parsed decimal to minor units in `currency`, exactly. Strict like `parseMajor`:
 * more decimals than the currency has is refused, even trailing zeros ("12.500 GBP").
 * @example toMinor("12.50", "USD") // { amountMinor: 1250 }
 */
export function toMinor(decimal: string, currency: string): { amountMinor: number } | { problem: AmountProblem } {
  const fraction = decimal.split(".")[1] ?? "";
  if (fraction.length > currencyExponent(currency)) return { problem: "too_many_decimals" };
  const amountMinor = parseMajor(decimal, currency);
  if (amountMinor === null) return { problem: "too_large" };
  if (amountMinor === 0) return { problem: "zero" };
  return { amountMinor };
}

const politePrefix =
  /^(?:(?:please|kindly|ok(?:ay)?|hey|hi|hello|so|now|then|and|also)\b,?\s*|(?:can|could|would|will) you(?: please)?\s+|i(?:'d| would) like to\s+|i (?:want|need|wish) to\s+|go ahead and\s+|let'?s\s+)+/i;
const politeSuffix = /(?:[\s,]+(?:please|thanks|thank you|now|asap|right now|today))+$/i;

/** Removes courtesy words and end punctuation: "Please pay Bob £5, thanks!" → "pay Bob £5". */
export function normalise(message: string): string {
  let text = message.replace(/\s+/g, " ").trim().replace(/[.!?]+$/, "").trim();
  text = text.replace(politePrefix, "");
  text = text.replace(/[.!?]+$/, "").replace(politeSuffix, "").trim();
  return text.replace(/[\s,]*[.!?]+$/, "").trim();
}

const payVerb = /^(?:pay|send|transfer|wire|make a payment of|make a payment to)\s+/i;
const checkPrefix =
  /^(?:(?:can|could|may|should) i|am i (?:allowed|able) to|is it (?:ok|okay|possible|allowed) (?:to|if i)|(?:check|see) (?:if|whether) i (?:can|could|may)|what (?:if|happens if|would happen if) i|would i be (?:allowed|able) to)\s+(?=(?:pay|paid|send|sent|transfer|wire)\b)/i;
const referenceSplit = /\s+(?:for|ref:?|reference:?|with reference|re:)\s+/i;

/**
 * Reads a payment sentence after its verb: "£500 to Bob for the April invoice",
 * "Bob 12.50", "20 USD to alice", "ACME Ltd €1,250.00 ref INV-42".
 */
function parsePayment(body: string): ChatRequest {
  const split = referenceSplit.exec(body);
  const core = (split ? body.slice(0, split.index) : body).trim();
  const reference = split ? body.slice(split.index + split[0].length).replace(/^the\s+/i, "").trim() || null : null;

  // "<amount> to <payee>"
  const amountFirst = /^(.+?)\s+to\s+(.+)$/i.exec(core);
  if (amountFirst) {
    const amount = parseAmountPhrase(amountFirst[1]!);
    if (amount !== null) return payment(amount, amountFirst[2]!, reference, amountFirst[1]!);
  }
  // "<payee> <amount>": the amount is the last one or two words.
  const words = core.replace(/^to\s+/i, "").split(" ");
  for (const count of [2, 1]) {
    if (words.length <= count) continue;
    const amountText = words.slice(-count).join(" ");
    const amount = parseAmountPhrase(amountText);
    if (amount !== null) return payment(amount, words.slice(0, -count).join(" "), reference, amountText);
  }
  if (!/\d/.test(core) && core !== "") return { kind: "payment_missing_amount", payee: core.replace(/^to\s+/i, "") };
  return { kind: "not_understood" };
}

function payment(amount: AmountPhrase | { problem: AmountProblem }, payee: string, reference: string | null, text: string): ChatRequest {
  if ("problem" in amount) return { kind: "invalid_amount", problem: amount.problem, text: text.trim() };
  const name = payee.trim().replace(/^["'“‘]|["'”’]$/g, "").trim();
  if (name === "") return { kind: "not_understood" };
  return { kind: "pay", payment: { payee: name, amount, reference } };
}

function listLimit(text: string): number {
  const match = /\b(?:last|recent|latest|newest|top|past)\s+(\d{1,4})\b|\b(\d{1,4})\s+(?:most\s+)?(?:recent|latest|last|newest)\b/i.exec(text);
  const count = match ? Number(match[1] ?? match[2]) : listLimitDefault;
  return Math.min(Math.max(count, 1), pageLimitMax);
}

const intentStatusWords: Record<string, string> = {
  pending: "pending_approval", waiting: "pending_approval", rejected: "rejected", refused: "rejected", blocked: "rejected",
  expired: "expired", executing: "executing", completed: "completed", executed: "completed", failed: "failed", cancelled: "cancelled",
};

/**
 * Understands one user message.
 * @example understand("Pay £500 to Bob for the April invoice")
 * // { kind: "pay", payment: { payee: "Bob", amount: { decimal: "500", currency: "GBP" }, reference: "April invoice" } }
 */
export function understand(message: string): ChatRequest {
  const text = normalise(message);
  const lower = text.toLowerCase();
  if (lower === "") return { kind: "help" };

  const intentId = /\b(pi_[A-Za-z0-9_-]+)/.exec(text);
  if (intentId) return { kind: "payment_intent", id: intentId[1]! };

  // Requests for powers the agent does not have are answered plainly, before anything else
  // reads the sentence ("pay Bob £5 and approve it" must not half-happen).
  if (/\b(?:approve|approving|authori[sz]e|authori[sz]ing|reject|rejecting)\b/.test(lower)) {
    return { kind: "cannot_approve" };
  }

  const check = checkPrefix.exec(text);
  if (check) {
    const rest = text.slice(check[0].length).replace(/^(?:paid|sent)\b/i, "pay");
    const verb = payVerb.exec(rest);
    const parsed = verb ? parsePayment(rest.slice(verb[0].length)) : { kind: "not_understood" as const };
    return parsed.kind === "pay" ? { kind: "check_policy", payment: parsed.payment } : parsed;
  }
  if (/\b(?:cancel|undo|revoke|reverse|refund|stop|take back)\b.*\b(?:payments?|transactions?|transfers?|pi_\S+)\b/.test(lower)) return { kind: "cannot_cancel" };
  if (/\bhow much\b.*\b(?:spent|spend|paid)\b|\b(?:spent|spending)\b.*\b(?:today|so far|this day|last 24 hours)\b|\btotal (?:spent|spend|spending)\b/.test(lower)) return { kind: "spent" };
  const verb = payVerb.exec(text);
  if (verb) return parsePayment(text.slice(verb[0].length));

  if (/\b(?:raise|increase|change|edit|lift|remove|update|set|bump|double|disable|turn off)\b.*\b(?:limits?|policy|policies|budgets?|thresholds?|allowance|max(?:imum)?s?|minimums?|caps?|ceilings?|rules?|allow[- ]?lists?|block[- ]?lists?)\b/.test(lower)) {
    return { kind: "cannot_change_policy" };
  }
  if (/\b(?:show|reveal|give|tell|what(?:'s| is| are)|print|display|share|leak)\b.*\b(?:secrets?|api keys?|passwords?|private keys?|tokens?|credentials?)\b/.test(lower)) {
    return { kind: "cannot_reveal_secrets" };
  }
  if (/\bapprovals?\b|\b(?:waiting|awaiting|pending) (?:for )?(?:an? )?(?:owner'?s? )?approval\b/.test(lower)) return { kind: "pending_approvals" };
  if (/\bpayment intents?\b|\bintents\b/.test(lower)) {
    const word = Object.keys(intentStatusWords).find((status) => new RegExp(`\\b${status}\\b`).test(lower));
    // A status written as the API spells it ("partially_failed") wins over a word ("pending").
    const exact = [...approvalStatuses, ...executionStatuses].find((status) => status.includes("_") && lower.includes(status));
    return { kind: "payment_intents", limit: listLimit(text), status: exact ?? (word ? intentStatusWords[word]! : null) };
  }
  if (/\b(?:transactions?|payments|payment history|paid|spent|spending)\b|\b(?:last|recent|latest) payment\b/.test(lower)) {
    return { kind: "transactions", limit: listLimit(text) };
  }
  if (/\bbalance\b|\bhow much (?:money )?(?:do i have|have i got|is (?:left|available)|can i spend)\b|\b(?:my )?(?:funds|wallet)\b/.test(lower)) {
    return { kind: "balance" };
  }
  if (/\b(?:services?|catalog(?:ue)?)\b/.test(lower)) return { kind: "services" };
  const find = /^(?:find|search(?: for)?|look up|lookup|who is)\s+(?:(?:a |the )?payees?\s+(?:for\s+|named\s+|called\s+)?)?(.+)$/i.exec(text);
  if (find) return { kind: "find_payees", query: find[1]!.trim() };
  if (/\b(?:limits?|policy|allowed|allowance)\b/.test(lower)) return { kind: "limits" };
  if (/^(?:help|what can you do|what do you do|commands|\?)$/.test(lower) || /^(?:hi|hello|hey)$/.test(lower)) return { kind: "help" };
  return { kind: "not_understood" };
}
