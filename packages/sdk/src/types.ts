/**
 * The shapes of the API's request and response bodies, as plain TypeScript types. They mirror the
 * zod wire schemas of `@bursar/core` (`wire.*`); types.test.ts checks, at typecheck time, that
 * every one stays assignable both ways, so the built SDK carries no zod at runtime and still
 * cannot drift from the server.
 */

/** RFC 3339 UTC time. */
export type Timestamp = string;
export type Metadata = Record<string, string>;

/** Scopes (SPEC 3): agent scopes, and owner-only ones never grantable to an agent credential. */
export type AgentScope = "agents:execute" | "transactions:read" | "events:read" | "payees:read" | "budgets:read" | "agents:spawn";
export type Scope = AgentScope | "agents:config" | "approvals:write" | "tenant:admin" | "teams:manage";

/** What a caller can do about a decision (`available_actions`). */
export type AvailableAction =
  | "request_approval"
  | "lower_amount"
  | "choose_allowed_payee"
  | "choose_allowed_currency"
  | "choose_allowed_service"
  | "choose_allowed_operation"
  | "choose_allowed_vendor"
  | "retry_after_window"
  | "request_budget"
  | "fund_wallet";

/** `limit` and `cursor` of every list (SPEC 3 "Pagination"). */
export interface PageParams {
  limit?: number;
  cursor?: string;
}

/** The list envelope of every list endpoint. */
export interface PageBody<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

// --- identity ---

export interface Agent {
  id: string;
  object: "agent";
  name: string;
  description: string | null;
  status: "active" | "disabled";
  wallet_account_id: string;
  metadata: Metadata | null;
  /** The team whose pools its spending counts against, or null. */
  team_id: string | null;
  /** The agent that spawned it, or null for an agent an owner created. */
  parent_agent_id: string | null;
  /** 0 for an owner's agent; a spawned agent is its parent's depth + 1 (at most 3). */
  spawn_depth: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface AgentCreateParams {
  name: string;
  description?: string;
  /** ISO 4217 currency of the wallet; GBP by default. */
  currency?: string;
  metadata?: Metadata;
}
export interface AgentUpdateParams {
  name?: string;
  description?: string | null;
  metadata?: Metadata | null;
}

export interface RegistrationTicket {
  id: string;
  object: "registration_ticket";
  /** Shown once; null when an idempotent replay answers. */
  ticket: string | null;
  agent_id: string;
  scopes: string[];
  expires_at: Timestamp;
  created_at: Timestamp;
}
export interface RegistrationTicketCreateParams {
  agent_id: string;
  scopes: Scope[];
  /** Seconds; 900 by default. */
  expires_in?: number;
}

export interface Registration {
  client_id: string;
  fingerprint: string;
  agent_id: string;
  tenant_id: string;
  scopes: string[];
  algorithm: "ES256" | "EdDSA";
  token_endpoint: string;
}

export interface CredentialBinding {
  id: string;
  object: "credential_binding";
  agent_id: string;
  fingerprint: string;
  algorithm: "ES256" | "EdDSA";
  public_key_jwk: Record<string, string>;
  scopes: string[];
  client_metadata: Record<string, unknown> | null;
  status: "active" | "revoked";
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface ApiKey {
  id: string;
  object: "api_key";
  /** The secret (`bsk_…`), on creation and rotation only. */
  key?: string | null;
  name: string;
  agent_id: string | null;
  scopes: string[];
  rate_limit_per_minute: number;
  status: "active" | "expiring" | "expired" | "revoked";
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  rotated_from_id: string | null;
  last_used_at: Timestamp | null;
}
export interface ApiKeyCreateParams {
  name: string;
  /** The agent the key acts as; omit for a service account. */
  agent_id?: string;
  scopes: Scope[];
  rate_limit_per_minute?: number;
}
export interface ApiKeyUsage {
  id: string;
  object: "api_key_usage";
  accepted: number;
  denied: Record<string, number>;
  denied_total: number;
  last_used_at: Timestamp | null;
}

export interface PersonalAccessToken {
  id: string;
  object: "personal_access_token";
  token: string | null;
  name: string;
  scopes: string[];
  expires_at: Timestamp | null;
  created_at: Timestamp;
}
export interface PersonalAccessTokenCreateParams {
  name: string;
  scopes?: Scope[];
  expires_in?: number;
}

export interface Principal {
  tenant_id: string;
  principal_type: "user" | "agent" | "api_key";
  principal_id: string;
  agent_id?: string;
  credential_id: string;
  scopes: string[];
}

// --- ledger ---

export type AccountKind = "wallet" | "funding" | "payee" | "escrow" | "rail_clearing" | "fees" | "vendor" | "general";

export interface Account {
  id: string;
  object: "account";
  currency: string;
  kind: AccountKind;
  name: string | null;
  debits_must_not_exceed_credits: boolean;
  debits_pending: number;
  debits_posted: number;
  credits_pending: number;
  credits_posted: number;
  balance: number;
  balance_display: string;
  available: number;
  available_display: string;
  metadata: Metadata | null;
  created_at: Timestamp;
}
export interface AccountCreateParams {
  currency: string;
  kind?: Exclude<AccountKind, "funding" | "vendor">;
  name?: string;
  debits_must_not_exceed_credits?: boolean;
  metadata?: Metadata;
}
export interface DepositParams {
  /** Minor units. */
  amount: number;
  id?: string;
  reference?: string;
}

export interface Transfer {
  id: string;
  object: "transfer";
  debit_account_id: string;
  credit_account_id: string;
  amount: number;
  amount_display: string;
  currency: string;
  status: "posted" | "pending" | "voided" | "expired";
  posted_amount: number;
  expires_at: Timestamp | null;
  reference: string | null;
  metadata: Metadata | null;
  batch_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface TransferCreateParams {
  /** Your id (`tr_…`): retrying with the same id and fields returns the first result. */
  id?: string;
  debit_account_id: string;
  credit_account_id: string;
  /** Minor units. */
  amount: number;
  currency: string;
  /** A hold instead of a posted transfer. */
  pending?: boolean;
  timeout_seconds?: number;
  reference?: string;
  metadata?: Metadata;
}
export interface TransferListParams extends PageParams {
  account_id?: string;
}

export interface Balance {
  object: "balance";
  agent_id: string;
  currency: string;
  balance: number;
  balance_display: string;
  available: number;
  available_display: string;
  account: Account;
}

// --- events, webhooks, journal ---

export interface Actor {
  type: "user" | "agent" | "system" | "api_key";
  id: string;
}

/** One journal event, exactly as listed, streamed, delivered by webhook and hashed into the journal. */
export interface BursarEvent<Type extends string = string, Data = Record<string, unknown>> {
  id: string;
  seq: number;
  type: Type;
  tenant_id: string;
  agent_id: string | null;
  created_at: Timestamp;
  actor: Actor;
  data: Data;
}

export interface EventListParams extends PageParams {
  /** Oldest first from this seq (journal order) instead of newest first. */
  after_seq?: number;
  /** Exact types, `prefix.*` or `*`; an array is sent comma-separated. */
  type?: string | string[];
  agent_id?: string;
}

export interface WebhookEndpoint {
  id: string;
  object: "webhook_endpoint";
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  signature_schemes: Array<"v1" | "v1a">;
  /** `whpk_…`: the Ed25519 public key for `v1a`. */
  public_key: string | null;
  previous_secret_expires_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  /** `whsec_…`, shown once; null when an idempotent replay answers. */
  secret: string | null;
}
export interface WebhookEndpointCreateParams {
  url: string;
  event_types?: string[];
  description?: string | null;
  enabled?: boolean;
  signature_schemes?: Array<"v1" | "v1a">;
}
export interface WebhookEndpointUpdateParams {
  url?: string;
  event_types?: string[];
  description?: string | null;
  enabled?: boolean;
}
export interface WebhookDelivery {
  id: string;
  object: "webhook_delivery";
  endpoint_id: string;
  event_id: string;
  event_seq: number;
  event_type: string;
  status: "pending" | "delivered" | "failed";
  attempt_count: number;
  next_attempt_at: Timestamp | null;
  last_attempt_at: Timestamp | null;
  attempts: Array<{
    attempted_at: Timestamp;
    duration_ms: number;
    status_code: number | null;
    error: string | null;
    response_body: string | null;
  }>;
  created_at: Timestamp;
}

export interface JournalAuthority {
  tenant_id: string;
  origin: string;
  key_name: string;
  key_id: string;
  algorithm: "Ed25519";
  public_key: string;
  verifier_key: string;
}
/** A checkpoint as the server serves it (C2SP tlog-checkpoint note plus its fields). */
export interface JournalCheckpoint {
  origin: string;
  tree_size: number;
  root_hash: string;
  time: Timestamp;
  note: string;
}
export interface JournalEntry {
  seq: number;
  leaf_hash: string;
  /** Null for an entry outside the caller's view (another agent's, for an agent credential): its leaf hash still counts. */
  event: BursarEvent | null;
}
export interface InclusionProof {
  seq: number;
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  root_hash: string;
  proof: string[];
}
export interface ConsistencyProof {
  from_size: number;
  to_size: number;
  from_root: string;
  to_root: string;
  proof: string[];
}

// --- typed events ---

/**
 * The `data` of the event types the server emits today, by type. Events of other types (new
 * ones, or ones this SDK version does not know) still arrive, as `BursarEvent<string>`.
 */
export interface EventDataMap {
  "tenant.created": { tenant: { id: string; name: string; created_at: Timestamp } };
  "user.created": { user: { id: string; name: string; email: string | null; role: string } };
  "personal_access_token.created": { personal_access_token: { id: string; user_id: string; name: string; scopes: string[]; expires_at: Timestamp | null } };
  "agent.created": { agent: Agent };
  "agent.updated": { agent: Agent };
  "agent.disabled": { agent: Agent };
  "account.created": { account: Account };
  "transfer.created": { transfer: Transfer };
  "transfer.posted": { transfer: Transfer };
  "transfer.voided": { transfer: Transfer };
  "transfer.expired": { transfer: Transfer };
  "credential_binding.registered": { credential_binding: CredentialBinding; registration_ticket_id: string };
  "credential_binding.revoked": { credential_binding: CredentialBinding | { id: string; agent_id: string; reason: string } };
  "api_key.created": { api_key: ApiKey };
  "api_key.rotated": { api_key: ApiKey; rotated_from: ApiKey };
  "api_key.revoked": { api_key: ApiKey | { id: string; agent_id: string; reason: string } };
  "refresh_token.reuse_detected": { refresh_token: { id: string; family_id: string; credential_binding_id: string } };
  "webhook_endpoint.created": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.updated": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.secret_rotated": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.deleted": { webhook_endpoint: WebhookEndpoint };
}

/** An event of a known type, with its typed `data`. */
export type EventOf<Type extends keyof EventDataMap> = BursarEvent<Type, EventDataMap[Type]>;

// --- governed spending ---

export type Period = "daily" | "weekly" | "monthly" | "all_time";
export type DecisionKind = "allow" | "approval_required" | "deny";
type PerPeriod = { daily?: number; weekly?: number; monthly?: number; all_time?: number };

/** An agent's spending rules (owners edit them; amounts in minor units). */
/** Limits on every operation a pattern matches: each call, and their sum over the trailing 24 h. */
export interface OperationLimit {
  per_call_max_minor: number | null;
  daily_max_minor: number | null;
}
/** The operation and vendor rules of a policy (spend authorizations); each has a default. */
export interface PolicyOperationRules {
  /** Operation patterns (exact, `prefix.*` or `*`) a spend authorization may name; null: any. */
  allowed_operations: string[] | null;
  blocked_operations: string[];
  /** Keyed by operation pattern, e.g. `{"openai.*": {per_call_max_minor: 500, daily_max_minor: 5000}}`. */
  operation_limits: Record<string, OperationLimit>;
  /** Vendors an action may name; null: any. */
  allowed_vendors: string[] | null;
  blocked_vendors: string[];
}
/** What `policy.update` sends: the operation rules may be left out (their defaults apply). */
export interface PolicyRules extends Partial<Omit<PolicyOperationRules, "operation_limits">> {
  operation_limits?: Record<string, Partial<OperationLimit>>;
  currency: string;
  per_transaction_max_minor: number | null;
  amount_max_minor: PerPeriod;
  count_max: PerPeriod;
  allowed_payee_ids: string[] | null;
  blocked_payee_ids: string[];
  allowed_currencies: string[] | null;
  /** `service` or `service.operation`; null: every service. */
  allowed_services: string[] | null;
  approval_threshold_minor: number | null;
  new_payee_requires_approval: boolean;
  approval_expiry_seconds: number;
}
/** A partial policy for `policy.patch`: per-period objects merge key by key (`null` removes a key). */
export type PolicyPatch = {
  [K in keyof PolicyRules]?: PolicyRules[K] extends Partial<Record<string, number>> ? Partial<Record<keyof PolicyRules[K], number | null>> : PolicyRules[K];
};

export interface Policy extends Omit<PolicyRules, keyof PolicyOperationRules>, PolicyOperationRules {
  object: "policy";
  /** Null while the agent runs on the default policy. */
  id: string | null;
  agent_id: string;
  is_default: boolean;
  updated_at: Timestamp | null;
}

export interface PolicyDecision {
  object: "policy_decision";
  decision: DecisionKind;
  reason_codes: string[];
  /** Amount or count left after the action; null when unlimited. */
  remaining: Record<string, number | null>;
  available_actions: AvailableAction[];
  policy_id: string | null;
}
export interface PolicyCheckParams {
  /** Owners name the agent; an agent checks itself. */
  agent_id?: string;
  kind?: "payment" | "service_request" | "spend_authorization";
  amount: number;
  currency: string;
  /** A payee id, name or alias. */
  payee?: string;
  service?: string;
  /** A service's operation, or a spend authorization's dotted operation name. */
  operation?: string;
  /** Spend authorizations: who is paid outside Bursar. */
  vendor?: string;
  /** Spend authorizations: a capability token the action would present. */
  capability_token?: string;
}

export interface Budget {
  object: "budget";
  id: string;
  agent_id: string | null;
  period: Period;
  amount: number;
  amount_display: string;
  currency: string;
  status: "active" | "replaced";
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface BudgetList {
  object: "list";
  agent_id: string;
  data: Budget[];
}
export interface BudgetsParams {
  budgets: Array<{ period: Period; amount: number; currency: string }>;
}

export type RailName = "sandbox" | "webhook";
export interface Payee {
  object: "payee";
  id: string;
  name: string;
  aliases: string[];
  currency: string;
  account_id: string;
  rail: RailName;
  rail_details: Record<string, unknown>;
  metadata: Metadata | null;
  status: "active" | "deleted";
  /** The public JWK that signs the payee's escrow evidence (Ed25519 or P-256). */
  evidence_public_key: Record<string, string> | null;
  /** Its RFC 7638 thumbprint: what an escrow intent's payer signs. */
  evidence_key_thumbprint: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface PayeeCreateParams {
  name: string;
  aliases?: string[];
  currency: string;
  rail?: RailName;
  rail_details?: Record<string, string | number | boolean>;
  metadata?: Metadata;
  /** The public JWK (Ed25519 or P-256) that will sign the payee's escrow evidence. */
  evidence_public_key?: Record<string, string>;
}
export interface PayeeUpdateParams {
  name?: string;
  aliases?: string[];
  rail?: RailName;
  rail_details?: Record<string, string | number | boolean>;
  metadata?: Metadata | null;
  evidence_public_key?: Record<string, string> | null;
}
export interface PayeeListParams extends PageParams {
  /** A name or alias: the payees it matches exactly (case-insensitive). */
  q?: string;
}

export type LegStatus = "denied" | "pending_approval" | "executing" | "completed" | "failed" | "cancelled";
export interface PaymentLeg {
  index: number;
  payee_id: string;
  payee_name: string;
  amount: number;
  amount_display: string;
  currency: string;
  reference: string | null;
  status: LegStatus;
  decision: DecisionKind;
  reason_codes: string[];
  available_actions: AvailableAction[];
  remaining: Record<string, number | null>;
  hold_transfer_id: string | null;
  transaction_id: string | null;
  failure_reason: string | null;
}
export interface PaymentIntent {
  object: "payment_intent";
  id: string;
  agent_id: string;
  amount: number | null;
  amount_display: string | null;
  currency: string | null;
  reference: string | null;
  metadata: Metadata | null;
  approval_status: "auto_approved" | "pending_approval" | "approved_by_user" | "rejected" | "expired";
  execution_status: "pending" | "executing" | "completed" | "partially_failed" | "failed" | "cancelled";
  approval_id: string | null;
  decision: DecisionKind;
  reason_codes: string[];
  available_actions: AvailableAction[];
  legs: PaymentLeg[];
  transaction_ids: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface PaymentInstruction {
  payee_id?: string;
  /** A payee id, name or alias. */
  payee?: string;
  amount: number;
  currency: string;
  reference?: string | null;
}
/** Either `instructions` (legs), or one leg's fields at the top level. */
export interface PaymentIntentCreateParams {
  instructions?: PaymentInstruction[];
  payee_id?: string;
  payee?: string;
  amount?: number;
  currency?: string;
  reference?: string | null;
  metadata?: Metadata | null;
}
export interface RecordListParams extends PageParams {
  agent_id?: string;
  status?: string;
}

export interface Approval {
  object: "approval";
  id: string;
  subject_type: "payment_intent" | "service_request" | "spend_authorization" | "escrow_intent";
  subject_id: string;
  payment_intent_id?: string;
  service_request_id?: string;
  spend_authorization_id?: string;
  escrow_intent_id?: string;
  agent_id: string;
  amount: number;
  amount_display: string;
  currency: string;
  reason_codes: string[];
  status: "pending" | "approved" | "rejected" | "expired" | "cancelled";
  expires_at: Timestamp;
  decided_by: { type: string; id: string } | null;
  decided_at: Timestamp | null;
  note: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Transaction {
  object: "transaction";
  id: string;
  payment_intent_id: string;
  leg_index: number;
  agent_id: string;
  amount: number;
  amount_display: string;
  currency: string;
  status: "pending" | "completed" | "failed";
  creditor: { payee_id: string; name: string; account_id: string };
  debtor: { agent_id: string; account_id: string };
  reference: string | null;
  rail: RailName;
  rail_reference: string | null;
  failure_reason: string | null;
  hold_transfer_id: string;
  completed_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

// --- the payment agent (chat) ---

export interface ChatMessage {
  role: "user" | "assistant" | "tool";
  content: string | null;
  tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}
export interface ChatParams {
  message: string;
  /** Continue this conversation; without it a new one starts. */
  conversation_id?: string;
  /** Owners: the agent to act for. */
  agent_id?: string;
}
export interface ChatResponse {
  object: "chat.response";
  conversation_id: string;
  reply: string;
  new_messages: ChatMessage[];
  payment_intents: unknown[];
  error?: { code: string; message: string };
}
/** The events of `chat.stream`, in order: `conversation`, then the turn's, then `done`. */
export type ChatStreamEvent =
  | { type: "conversation"; conversation_id: string; agent_id: string }
  | { type: "text_delta"; text: string }
  | { type: "tool_started"; tool_call_id: string; tool_name: string; arguments: unknown }
  | { type: "tool_completed"; tool_call_id: string; tool_name: string; result: unknown }
  | { type: "tool_failed"; tool_call_id: string; tool_name: string; error: { code: string; message: string } }
  | { type: "approval_required"; approval_id: string; payment_intent_id: string; amount: number; currency: string; reason_codes: string[] }
  | { type: "reply"; text: string }
  | { type: "error"; code: string; message: string }
  | { type: "done"; conversation_id: string };
export interface ConversationSummary {
  object: "conversation";
  id: string;
  agent_id: string;
  title: string;
  message_count: number;
  messages_kept: number;
  status: "active" | "deleted";
  created_by: { type: string; id: string };
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface Conversation extends ConversationSummary {
  messages: ChatMessage[];
}

// --- services ---

export interface ServiceOperation {
  name: string;
  description: string | null;
  price: number;
  price_display: string;
  currency: string;
  input_schema: Record<string, unknown>;
  url: string | null;
  timeout_ms: number | null;
  /** inline: answered at once; async and http: may answer `running`. */
  execution: "inline" | "async" | "http";
}
export interface Service {
  object: "service";
  id: string;
  name: string;
  description: string | null;
  kind: "builtin" | "http";
  operations: ServiceOperation[];
  account_ids: Record<string, string>;
  metadata: Metadata | null;
  status: "active" | "deleted";
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
}
export type ServiceRequestStatus = "executed" | "blocked" | "approval_required" | "failed" | "running";
export interface ServiceRequest {
  object: "service_request";
  id: string;
  agent_id: string;
  service: string;
  service_id: string;
  operation: string;
  payload: unknown;
  amount: number;
  amount_display: string;
  currency: string;
  status: ServiceRequestStatus;
  decision: DecisionKind;
  reason_codes: string[];
  available_actions: AvailableAction[];
  remaining: Record<string, number | null>;
  approval_id: string | null;
  approval_status: "not_required" | "pending" | "approved" | "rejected" | "expired";
  hold_transfer_id: string | null;
  result: unknown;
  failure_reason: string | null;
  deadline_at: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface ServiceRequestCreateParams {
  /** A service name (`sandbox`) or id. */
  service: string;
  operation: string;
  payload?: unknown;
  /** Owners: the agent to act for. */
  agent_id?: string;
}

// --- spend authorizations and capabilities ---

/**
 * `authorized` (held until `expires_at`) | `pending_approval` (held, waiting for an owner) |
 * `denied` (nothing held) | `consumed` | `released` | `rejected` | `expired`.
 */
export type SpendAuthorizationStatus = "authorized" | "pending_approval" | "denied" | "consumed" | "released" | "rejected" | "expired";
/** Permission to spend up to `amount` on `operation`, for something Bursar does not execute itself. */
export interface SpendAuthorization {
  object: "spend_authorization";
  id: string;
  agent_id: string;
  operation: string;
  vendor: string;
  payee_id: string | null;
  amount: number;
  amount_display: string;
  currency: string;
  status: SpendAuthorizationStatus;
  decision: DecisionKind;
  reason_codes: string[];
  remaining: Record<string, number | null>;
  /** `consume`, `release` while authorized; `wait_for_approval`, `release` while pending; a denial's own. */
  available_actions: string[];
  approval_id: string | null;
  approval_status: "not_required" | "pending" | "approved" | "rejected" | "expired" | "cancelled";
  capability_id: string | null;
  hold_transfer_id: string | null;
  /** The vendor's ledger account (kind `vendor`), or the payee's. */
  credit_account_id: string | null;
  tool_call_id: string | null;
  metadata: Metadata | null;
  expires_in_seconds: number;
  /** Until when an authorized one may be completed; null while it waits for approval. */
  expires_at: Timestamp | null;
  consumed_amount: number | null;
  consumed_amount_display: string | null;
  external_reference: string | null;
  evidence: unknown;
  completed_at: Timestamp | null;
  /** Drawn on this escrow intent (its capability was presented), not the wallet. */
  escrow_intent_id?: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface SpendAuthorizeParams {
  /** A dotted name you choose for what is paid for: `openai.chat`, `stripe.charges.create`, `x402.fetch`. */
  operation: string;
  /** The most the call may cost, in minor units. */
  amount: number;
  currency: string;
  /** Who is paid outside Bursar; default: the operation's first word. */
  vendor?: string;
  /** A payee id, name or alias, when the money goes to a Bursar payee. */
  payee?: string;
  tool_call_id?: string;
  /** An owner's pre-approval (`capabilities.create`): skips the approval threshold while it covers the spend. */
  capability_token?: string;
  metadata?: Metadata | null;
  /** Seconds until an authorized hold is released if not completed; 900 by default. */
  expires_in?: number;
  /** Owners: the agent to act for. */
  agent_id?: string;
}
export interface SpendCompleteParams {
  outcome: "consumed" | "released";
  /** Consumed: what the call cost (at most the authorized amount); all of it by default. */
  amount?: number;
  /** The vendor's id for the charge. */
  external_reference?: string | null;
  /** What proves the spend (a receipt, a response header), as JSON; bounded by the server. */
  evidence?: unknown;
}
export interface SpendAuthorizationListParams extends PageParams {
  agent_id?: string;
  status?: SpendAuthorizationStatus;
}

/** An owner's pre-approval for one agent: operations, a total amount, an expiry, optionally a number of uses. */
export interface Capability {
  object: "capability";
  id: string;
  agent_id: string;
  allowed_operations: string[];
  max_amount: number;
  max_amount_display: string;
  currency: string;
  expires_at: Timestamp;
  max_uses: number | null;
  used_amount: number;
  uses: number;
  remaining_amount: number;
  remaining_uses: number | null;
  status: "active" | "revoked";
  revoked_at: Timestamp | null;
  description: string | null;
  /** Issued by this escrow intent: authorizations presenting it draw on the escrow. */
  escrow_intent_id?: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface CapabilityWithToken extends Capability {
  /** The capability token: shown once, give it to the agent (null in an idempotent replay). */
  token: string | null;
}
export interface CapabilityCreateParams {
  agent_id: string;
  /** Exact operation names, `prefix.*` or `*`. */
  allowed_operations: string[];
  /** The most all authorizations under it may take together, in minor units. */
  max_amount: number;
  currency: string;
  /** RFC 3339; at most 90 days ahead. */
  expires_at: Timestamp;
  max_uses?: number | null;
  description?: string | null;
}
export interface CapabilityListParams extends PageParams {
  agent_id?: string;
  status?: "active" | "revoked";
}

// --- escrow intents, predicates, reputation (docs/escrow.md) ---

export type EscrowStatus = "open" | "funded" | "evidence_submitted" | "disputed" | "released" | "refunded" | "split" | "expired";
/** What the payer signs: the exact terms, named as in docs/escrow.md. */
export interface EscrowTerms {
  tenant_id: string;
  intent_id: string;
  payer_agent_id: string;
  payee_id: string;
  payee_key_thumbprint: string;
  amount: number;
  currency: string;
  deadline: string;
  release_mode: "auto" | "confirm";
  cost_path: string | null;
  evidence_schema_sha256: string;
  predicate_sha256: string;
  allowed_operations_sha256: string;
}
export interface PredicateEvaluation {
  passed: boolean;
  /** JSON Pointer into the predicate of the node that failed. */
  failing_node: string | null;
  reason: string | null;
  steps: number;
}
export interface EvidenceArtifact {
  sha256: string;
  uri?: string;
  media_type?: string;
}
export interface EscrowIntent {
  object: "escrow_intent";
  id: string;
  terms: EscrowTerms;
  signature: { key_id: string; algorithm: "ES256" | "EdDSA"; public_key_jwk: Record<string, string>; value: string };
  payer_agent_id: string;
  payee_id: string;
  amount: number;
  amount_display: string;
  currency: string;
  deadline: string;
  release_mode: "auto" | "confirm";
  cost_path: string | null;
  evidence_schema: Record<string, unknown>;
  predicate: Record<string, unknown>;
  allowed_operations: string[];
  description: string | null;
  metadata: Metadata | null;
  status: EscrowStatus;
  decision: DecisionKind | null;
  reason_codes: string[];
  remaining: Record<string, number | null>;
  approval_id: string | null;
  approval_status: "not_required" | "pending" | "approved" | "rejected" | "expired" | "cancelled";
  hold_transfer_id: string | null;
  escrow_account_id: string | null;
  funded_at: Timestamp | null;
  capability_id: string | null;
  drawn_amount: number;
  releasable_amount: number;
  attempts: Array<{ binding_sha256: string; submitted_at: string; received_at: Timestamp; passed: boolean; failing_node: string | null; reason: string | null }>;
  attempts_remaining: number;
  accepted_evidence: { payload: unknown; artifacts: EvidenceArtifact[]; submitted_at: string; evaluation: PredicateEvaluation } | null;
  last_evaluation: PredicateEvaluation | null;
  disputed_at: Timestamp | null;
  dispute_reason: string | null;
  was_disputed: boolean;
  settlement: {
    outcome: "released" | "refunded" | "split" | "expired";
    payee_amount: number;
    refund_amount: number;
    drawn_amount: number;
    transfer_ids: string[];
    settled_at: Timestamp;
  } | null;
  available_actions: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface EscrowCapability {
  escrow_intent_id: string;
  capability_id: string;
  token: string;
}
export interface PredicatePreview {
  predicate: Record<string, unknown>;
  cost_path: string | null;
  summary: string;
}
export interface PredicateTestResult {
  valid: boolean;
  errors: Array<{ path: string; code: string; detail: string }>;
  evaluation: PredicateEvaluation | null;
  summary: string;
}
export interface ReputationReceipt {
  version: 1;
  tenant_id: string;
  payee_id: string;
  journal_seq: number;
  computed_at: Timestamp;
  counts: { settled: number; released: number; refunded: number; split: number; expired: number; disputed: number };
  rates_bps: { released: number; refunded: number; split: number; expired: number; disputed: number };
  volume: Record<string, number>;
  time_to_release_seconds: { median: number | null; p90: number | null; samples: number };
  truncated: boolean;
}
export interface SignedReputationReceipt {
  receipt: ReputationReceipt;
  signature: string;
  key_id: string;
}
/** An owner's public signing key (`sk_…`): signs what an owner agrees to for an agent (escrow terms). */
export interface SigningKey {
  object: "signing_key";
  id: string;
  owner_id: string;
  name: string | null;
  public_key_jwk: Record<string, string>;
  algorithm: "ES256" | "EdDSA";
  thumbprint: string;
  status: "active" | "revoked";
  revoked_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
