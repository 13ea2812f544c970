/**
 * In-memory `ChatTools` for tests: a wallet, payees, and payments decided by the real policy
 * engine (`decide`), shaped like the server's results (SPEC 3; docs/chat.md "Tool results").
 * Every call is recorded in `calls`.
 */
import { decide, sumSpends, type Policy } from "../policy/policy.js";
import { formatMinor, parseMajor } from "../money.js";
import { ChatToolError, type ChatToolName, type ChatTools } from "./tools.js";

export interface FakePayee {
  id: string;
  name: string;
  aliases: string[];
  currency: string;
}

export interface FakeWorld {
  currency: string;
  balanceMinor: number;
  payees: FakePayee[];
  policy: Policy;
  /** Service catalog returned by `list_services`. */
  services: unknown[];
}

export const fakePolicy = (overrides: Partial<Policy> = {}): Policy => ({
  currency: "GBP",
  perTransactionMaxMinor: 100_000,
  amountMaxMinor: { daily: 200_000 },
  countMax: {},
  allowedPayeeIds: null,
  blockedPayeeIds: [],
  allowedCurrencies: ["GBP", "USD", "EUR", "JPY", "KWD"],
  allowedServices: null,
  approvalThresholdMinor: 50_000,
  allowedOperations: null,
  blockedOperations: [],
  operationLimits: {},
  allowedVendors: null,
  blockedVendors: [],
  newPayeeRequiresApproval: false,
  approvalExpirySeconds: 86_400,
  ...overrides,
});

export const fakeWorld = (overrides: Partial<FakeWorld> = {}): FakeWorld => ({
  currency: "GBP",
  balanceMinor: 1_000_000,
  payees: [
    { id: "pay_bob", name: "Bob", aliases: ["Robert"], currency: "GBP" },
    { id: "pay_alice", name: "Alice", aliases: [], currency: "USD" },
    { id: "pay_acme", name: "ACME Ltd", aliases: ["acme"], currency: "EUR" },
    { id: "pay_bobby", name: "Bobby Tables", aliases: [], currency: "GBP" },
    { id: "pay_sam1", name: "Sam", aliases: [], currency: "GBP" },
    { id: "pay_sam2", name: "Samantha", aliases: ["Sam"], currency: "GBP" },
  ],
  policy: fakePolicy(),
  services: [{ id: "translate", description: "Machine translation", operations: [{ name: "translate", price: 5, currency: "GBP" }] }],
  ...overrides,
});

const nowMs = Date.UTC(2026, 3, 30);

export interface FakeTools extends ChatTools {
  calls: { name: ChatToolName; args: unknown }[];
  intents: Map<string, Record<string, unknown>>;
  /** Service requests by id (`create_service_request` adds one; a test may put others, e.g. one an owner approved). */
  serviceRequests: Map<string, Record<string, unknown>>;
}

/** Builds tools over `world`. Payees resolve by id or exact name/alias, as the server's do. */
export function fakeTools(world: FakeWorld = fakeWorld()): FakeTools {
  const calls: FakeTools["calls"] = [];
  const intents = new Map<string, Record<string, unknown>>();
  const serviceRequests = new Map<string, Record<string, unknown>>();
  const spends: { amountMinor: number; currency: string; atMs: number; payeeId: string }[] = [];
  let sequence = 0;

  const findPayee = (text: string) => {
    const lower = text.toLowerCase();
    const matches = world.payees.filter((payee) => payee.id === text || [payee.name, ...payee.aliases].some((name) => name.toLowerCase() === lower));
    if (matches.length !== 1) throw new ChatToolError("payee_not_found", `No single payee matches "${text}".`);
    return matches[0]!;
  };
  const decision = (args: { payee: string; amount: string; currency: string }) => {
    const payee = findPayee(args.payee);
    const amountMinor = parseMajor(args.amount, args.currency)!;
    const result = decide(world.policy, { kind: "payment", amountMinor, currency: args.currency, payeeId: payee.id, spent: sumSpends(spends, world.policy.currency, nowMs), payeePaidBefore: spends.some((s) => s.payeeId === payee.id), nowMs });
    return { payee, amountMinor, result };
  };
  const record = <Name extends ChatToolName>(name: Name, implementation: ChatTools[Name]): ChatTools[Name] =>
    (async (args: never) => {
      calls.push({ name, args });
      return implementation(args);
    }) as ChatTools[Name];

  const tools: ChatTools = {
    get_balance: record("get_balance", async () => ({
      currency: world.currency,
      balance: world.balanceMinor,
      balance_display: formatMinor(world.balanceMinor, world.currency),
      available: world.balanceMinor,
      available_display: formatMinor(world.balanceMinor, world.currency),
    })),
    list_transactions: record("list_transactions", async ({ limit }) => {
      const data = [...intents.values()]
        .filter((intent) => intent.execution_status === "completed")
        .reverse()
        .slice(0, limit ?? 20)
        .map((intent) => ({ id: (intent.legs as { transaction_id: string }[])[0]!.transaction_id, amount: intent.amount, currency: intent.currency, status: "completed", created_at: "2026-04-30T00:00:00Z", creditor: (intent.legs as { payee_id: string }[])[0]!.payee_id, reference: intent.reference ?? null, payment_intent_id: intent.id }));
      return { data, has_more: false };
    }),
    list_payment_intents: record("list_payment_intents", async ({ limit, status }) => {
      const data = [...intents.values()].filter((intent) => !status || intent.approval_status === status || intent.execution_status === status).reverse().slice(0, limit ?? 20);
      return { data, has_more: false };
    }),
    get_payment_intent: record("get_payment_intent", async ({ payment_intent_id }) => {
      const intent = intents.get(payment_intent_id);
      if (!intent) throw new ChatToolError("not_found", `No payment intent ${payment_intent_id}.`);
      return intent;
    }),
    find_payees: record("find_payees", async ({ query }) => {
      const lower = query.toLowerCase();
      const data = world.payees.filter((payee) => payee.id === query || [payee.name, ...payee.aliases].some((name) => name.toLowerCase().includes(lower)));
      return { data, has_more: false };
    }),
    check_policy: record("check_policy", async (args) => {
      const { result } = decision(args);
      return result;
    }),
    create_payment_intent: record("create_payment_intent", async (args) => {
      const { payee, amountMinor, result } = decision(args);
      sequence += 1;
      const id = `pi_${sequence}`;
      const approved = result.decision === "allow";
      const pending = result.decision === "approval_required";
      if (approved) spends.push({ amountMinor, currency: args.currency, atMs: nowMs, payeeId: payee.id });
      const intent: Record<string, unknown> = {
        id,
        // As the server answers: a denied payment keeps `auto_approved` (no owner was asked),
        // fails with `decision: "deny"`, and its leg is `denied`.
        approval_status: pending ? "pending_approval" : "auto_approved",
        execution_status: approved ? "completed" : pending ? "pending" : "failed",
        decision: result.decision,
        approval_id: pending ? `apr_${sequence}` : null,
        amount: amountMinor,
        currency: args.currency,
        amount_display: formatMinor(amountMinor, args.currency),
        reference: args.reference ?? null,
        reason_codes: result.reason_codes,
        available_actions: result.available_actions,
        legs: [{ payee_id: payee.id, amount: amountMinor, currency: args.currency, status: approved ? "completed" : pending ? "pending_approval" : "denied", decision: result.decision, reason_codes: result.reason_codes, transaction_id: approved ? `txn_${sequence}` : null }],
      };
      intents.set(id, intent);
      return intent;
    }),
    list_pending_approvals: record("list_pending_approvals", async () => {
      const data = [...intents.values()]
        .filter((intent) => intent.approval_status === "pending_approval")
        .map((intent) => ({ id: intent.approval_id, status: "pending", payment_intent_id: intent.id, amount: intent.amount, currency: intent.currency, amount_display: intent.amount_display, reason_codes: intent.reason_codes, expires_at: "2026-05-01T00:00:00Z" }));
      return { data, has_more: false };
    }),
    list_services: record("list_services", async () => ({ data: world.services, has_more: false })),
    create_service_request: record("create_service_request", async ({ service, operation }) => {
      const request = { id: `sr_${serviceRequests.size + 1}`, service, operation, status: "executed" };
      serviceRequests.set(request.id, request);
      return request;
    }),
    get_service_request: record("get_service_request", async ({ service_request_id }) => {
      const request = serviceRequests.get(service_request_id);
      if (!request) throw new ChatToolError("not_found", `No service request ${service_request_id}.`);
      return request;
    }),
  };
  return Object.assign(tools, { calls, intents, serviceRequests });
}
