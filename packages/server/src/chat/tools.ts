/**
 * The payment agent's tools over the governed operations (docs/chat.md "Tools"), acting as one
 * agent with the caller's credential. Each tool is what an SDK caller could do over HTTP, with
 * the same scope, the same core function and the same view:
 *
 * - reads go through `store.read`, as the GET routes do;
 * - `create_payment_intent` is `createPaymentIntent` in its own durable write (the same write as
 *   `POST /v1/payment-intents`: journal events, holds, settlement), then the rail dispatch after
 *   the commit;
 * - nothing here approves, edits a policy or a budget, or reads a secret.
 *
 * Expected failures are `ChatToolError`s with the core's result codes; the planner explains them.
 */
import {
  approvalView,
  createServiceRequest,
  listCatalog,
  ok,
  serviceRequestView,
  serviceView,
  ChatToolError,
  createPaymentIntent,
  listRecordsOf,
  loadRecord,
  parseMajor,
  paymentIntentView,
  previewSpend,
  resolvePayee,
  findPayees,
  transactionView,
  accountView,
  pageLimitDefault,
  chatIntentStatusScanMax,
  type Actor,
  type AgentRow,
  type ApprovalBody,
  type ChatToolArguments,
  type ChatTools,
  type Clock,
  type PaymentIntentBody,
  type Result,
  type Scope,
  type ServiceRequestBody,
  type Store,
  type StoreReader,
  type TransactionBody,
  type WriteContext,
} from "@bursar/core";
import type { RailDispatcher } from "../rails/dispatcher.js";
import { validatePayload } from "../services/schemas.js";
import type { ServiceRunner } from "../services/runner.js";

/**
 * The service catalog and service requests, as `GET /v1/services` and `POST /v1/service-requests`
 * do them (`chatServices` below); null on a server without a service runner, where the two
 * tools fail with `not_available`.
 */
export interface ChatServiceOperations {
  /** The catalog as `GET /v1/services` answers it (`{data, has_more}`). */
  list(reader: StoreReader, tenantId: string, agent: AgentRow): Promise<unknown>;
  /** `POST /v1/service-requests` in the caller's write: the view, and requests to run after commit. */
  create(context: WriteContext, agent: AgentRow, input: ChatToolArguments<"create_service_request">): Promise<Result<{ view: unknown; dispatch: string[] }>>;
  /** Runs committed requests (slow and HTTP operations). */
  dispatch(tenantId: string, requestIds: readonly string[]): void;
}

/** The service operations over the core and a server's service runner. */
export function chatServices(runner: ServiceRunner): ChatServiceOperations {
  return {
    async list(reader, tenantId) {
      return { data: (await listCatalog(reader, tenantId)).map(serviceView), has_more: false };
    },
    async create(context, agent, input) {
      const created = await createServiceRequest(context, agent, { service: input.service, operation: input.operation, payload: input.payload ?? {} }, validatePayload);
      if (!created.ok) return created;
      return ok({ view: serviceRequestView(created.value.request), dispatch: created.value.dispatch });
    },
    dispatch: (tenantId, requestIds) => runner.dispatch(tenantId, requestIds),
  };
}

/** Who the tools act as, and what they use. */
export interface ChatToolsContext {
  store: Store;
  clock: Clock;
  rails: RailDispatcher | null;
  tenantId: string;
  /** The agent the conversation acts for (the credential's agent, or the one an owner named). */
  agentId: string;
  /** Who is recorded as the actor of writes (the journal's `actor`): the caller, as on the routes. */
  actor: Actor;
  /** The caller's scopes: each tool needs the scope its route needs. */
  scopes: readonly Scope[];
  services: ChatServiceOperations | null;
}

/** Only the fields the agent needs: a payee's rail details (account numbers) never reach a model. */
function payeeSummary(payee: { id: string; body: { name: string; aliases: string[]; currency: string } }) {
  return { object: "payee" as const, id: payee.id, name: payee.body.name, aliases: payee.body.aliases, currency: payee.body.currency };
}

/**
 * Builds the tools for one turn.
 * @example const tools = createChatTools({ store, clock, rails, tenantId, agentId, actor, scopes, services: null });
 */
export function createChatTools(context: ChatToolsContext): ChatTools {
  const { store, clock, tenantId, agentId } = context;

  /** The same scope the HTTP route needs: the chat is never a way around a credential's scopes. */
  const need = (scope: Scope) => {
    if (!context.scopes.includes(scope)) throw new ChatToolError("insufficient_scope", `This credential lacks the ${scope} scope this needs.`);
  };
  const loadAgent = async (reader: StoreReader): Promise<AgentRow> => {
    const agent = await reader.getAgent(tenantId, agentId);
    if (!agent) throw new ChatToolError("not_found", `agent ${agentId} not found`);
    return agent;
  };
  const refused = (failure: { code: string; detail: string }) => new ChatToolError(failure.code, failure.detail);
  const exactMinor = (amount: string, currency: string): number => {
    const minor = parseMajor(amount, currency);
    // The argument schema already checked it (validateToolCall); this is the same rule again.
    if (minor === null || minor <= 0) throw new ChatToolError("invalid_arguments", `${amount} is not an exact ${currency} amount`);
    return minor;
  };

  return {
    async get_balance() {
      need("agents:execute");
      const agent = await loadAgent(store.read);
      const account = await store.read.getAccount(tenantId, agent.walletAccountId);
      if (!account) throw new Error(`agent ${agentId} without its wallet`);
      const view = accountView(account);
      return {
        object: "balance" as const, agent_id: agentId, currency: view.currency, balance: view.balance, balance_display: view.balance_display,
        available: view.available, available_display: view.available_display,
      };
    },

    async list_transactions({ limit }) {
      need("transactions:read");
      const rows = await listRecordsOf<TransactionBody>(store.read, tenantId, { kind: "transaction", agentId, limit: (limit ?? pageLimitDefault) + 1 });
      return page(rows, limit ?? pageLimitDefault, transactionView);
    },

    async list_payment_intents({ limit, status }) {
      need("transactions:read");
      const count = limit ?? pageLimitDefault;
      // The record's status column is the execution status; an approval status is filtered here.
      const isExecution = status === undefined || ["pending", "executing", "completed", "partially_failed", "failed", "cancelled"].includes(status);
      if (isExecution) {
        const rows = await listRecordsOf<PaymentIntentBody>(store.read, tenantId, { kind: "payment_intent", agentId, status, limit: count + 1 });
        return page(rows, count, paymentIntentView);
      }
      const rows = await listRecordsOf<PaymentIntentBody>(store.read, tenantId, { kind: "payment_intent", agentId, limit: chatIntentStatusScanMax });
      return page(rows.filter((row) => row.body.approval_status === status), count, paymentIntentView);
    },

    async get_payment_intent({ payment_intent_id }) {
      need("transactions:read");
      const intent = await loadRecord<PaymentIntentBody>(store.read, tenantId, "payment_intent", payment_intent_id);
      // Another agent's intent is "not found", exactly as over HTTP.
      if (!intent || intent.agentId !== agentId) throw new ChatToolError("not_found", `payment intent ${payment_intent_id} not found`);
      return paymentIntentView(intent);
    },

    async find_payees({ query }) {
      // `agents:execute` is enough: paying by name already resolves names to payees under it (a
      // `payee_ambiguous` answer names the candidates), and `findPayees` matches exact names and
      // aliases only, so this reveals nothing a payment attempt would not.
      need("agents:execute");
      if (/^pay_[A-Za-z0-9_-]+$/.test(query)) {
        const found = await resolvePayee(store.read, tenantId, query);
        return { data: found.ok ? [payeeSummary(found.value)] : [], has_more: false };
      }
      return { data: (await findPayees(store.read, tenantId, query)).map(payeeSummary), has_more: false };
    },

    async check_policy({ payee, amount, currency }) {
      need("agents:execute");
      const agent = await loadAgent(store.read);
      const resolved = await resolvePayee(store.read, tenantId, payee);
      if (!resolved.ok) throw refused(resolved);
      const { decision, policy } = await previewSpend(store.read, agent, { kind: "payment", amountMinor: exactMinor(amount, currency), currency, payeeId: resolved.value.id }, clock.nowMs());
      return { object: "policy_decision" as const, ...decision, policy_id: policy.id };
    },

    async create_payment_intent({ payee, amount, currency, reference }) {
      need("agents:execute");
      const amountMinor = exactMinor(amount, currency);
      const result = await store.write(tenantId, async (tx) => {
        const writeContext: WriteContext = { tx, tenantId, nowMs: clock.nowMs(), actor: context.actor };
        const agent = await loadAgent(tx);
        return createPaymentIntent(writeContext, agent, { instructions: [{ payee, amountMinor, currency, reference: reference ?? null }], reference: reference ?? null });
      });
      if (!result.ok) throw refused(result);
      // After the commit, as the route does: a rail must never start a payment that rolled back.
      context.rails?.dispatch(tenantId, result.value.dispatch);
      return paymentIntentView(result.value.intent);
    },

    async list_pending_approvals() {
      need("transactions:read");
      const rows = await listRecordsOf<ApprovalBody>(store.read, tenantId, { kind: "approval", agentId, status: "pending", limit: pageLimitDefault + 1 });
      return page(rows, pageLimitDefault, approvalView);
    },

    async list_services() {
      need("agents:execute");
      if (!context.services) throw notAvailable();
      return context.services.list(store.read, tenantId, await loadAgent(store.read));
    },

    async create_service_request(args) {
      need("agents:execute");
      const services = context.services;
      if (!services) throw notAvailable();
      const result = await store.write(tenantId, async (tx) => {
        const writeContext: WriteContext = { tx, tenantId, nowMs: clock.nowMs(), actor: context.actor };
        return services.create(writeContext, await loadAgent(tx), args);
      });
      if (!result.ok) throw refused(result);
      services.dispatch(tenantId, result.value.dispatch);
      return result.value.view;
    },

    async get_service_request({ service_request_id }) {
      // The scope of `GET /v1/service-requests/{id}`; works without a service runner too (a
      // request made earlier is still read).
      need("agents:execute");
      const found = await loadRecord<ServiceRequestBody>(store.read, tenantId, "service_request", service_request_id);
      // Another agent's request is "not found", exactly as over HTTP.
      if (!found || found.agentId !== agentId) throw new ChatToolError("not_found", `service request ${service_request_id} not found`);
      return serviceRequestView(found);
    },
  };
}

function notAvailable(): ChatToolError {
  return new ChatToolError("not_available", "This server runs no service catalog; use payments instead.");
}

/** `{data, has_more}` from `limit + 1` rows, as the list routes answer (without the cursor: the planner asks again with a larger limit). */
function page<Row, View>(rows: Row[], limit: number, view: (row: Row) => View) {
  return { data: rows.slice(0, limit).map(view), has_more: rows.length > limit };
}
