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
export type AgentScope = "agents:execute" | "transactions:read" | "events:read" | "payees:read" | "budgets:read" | "agents:spawn" | "tasks:write";
export type Scope = AgentScope | "agents:config" | "approvals:write" | "tenant:admin" | "teams:manage" | "ci:write" | "reviews:write";

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
  /** On record lists: the journal position the page was read at (stream from it to miss nothing). */
  journal_seq?: number;
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
  /** Only events about these tasks (`data.task.id`), or null for no task filter. */
  task_ids: string[] | null;
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
  task_ids?: string[] | null;
  description?: string | null;
  enabled?: boolean;
  signature_schemes?: Array<"v1" | "v1a">;
}
export interface WebhookEndpointUpdateParams {
  url?: string;
  event_types?: string[];
  task_ids?: string[] | null;
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
 * The `data` of every event type the server emits, by type (the server's event catalog, published
 * as the OpenAPI document's `webhooks`; `test/sdk.event-types.test.ts` checks the two list the
 * same types).
 * Events of types this SDK version does not know still arrive, as `BursarEvent<string>`.
 */
export interface EventDataMap {
  "tenant.created": { tenant: { id: string; name: string; created_at: Timestamp } };
  "user.created": { user: { id: string; name: string | null; email: string | null; role: string }; invite_id?: string };
  "user.role_changed": { user: { id: string; role: string; previous_role: string } };
  "user.removed": { user: { id: string } };
  "console.login_code.created": { login_code: { id: string; user_id: string; expires_at: Timestamp } };
  "console.invite.created": { invite: { id: string; role: string; expires_at: Timestamp } };
  "console.session.created": { session: { id: string; user_id: string; via: string; scopes: string[]; expires_at: Timestamp } };
  "console.session.revoked": { session: { id: string; user_id: string } };
  "personal_access_token.created": { personal_access_token: { id: string; user_id: string; name: string | null; scopes: string[]; expires_at: Timestamp | null } };
  "agent.created": { agent: Agent };
  "agent.updated": { agent: Agent };
  "agent.disabled": { agent: Agent };
  "registration_ticket.created": { registration_ticket: { id: string; agent_id: string; scopes: string[]; expires_at: Timestamp } };
  "credential_binding.registered": { credential_binding: CredentialBinding; registration_ticket_id: string };
  "credential_binding.revoked": { credential_binding: CredentialBinding | { id: string; agent_id: string; reason: "agent_disabled" } };
  "api_key.created": { api_key: ApiKey };
  "api_key.rotated": { api_key: ApiKey; rotated_from: ApiKey };
  "api_key.revoked": { api_key: ApiKey | { id: string; agent_id: string; reason: "agent_disabled" } };
  "refresh_token.reuse_detected": { refresh_token: { id: string; family_id: string; credential_binding_id: string } };
  "account.created": { account: Account };
  "transfer.created": { transfer: Transfer };
  "transfer.posted": { transfer: Transfer };
  "transfer.voided": { transfer: Transfer };
  "transfer.expired": { transfer: Transfer };
  "webhook_endpoint.created": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.updated": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.secret_rotated": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.disabled": { webhook_endpoint: WebhookEndpoint };
  "webhook_endpoint.deleted": { webhook_endpoint: WebhookEndpoint };
  "payee.created": { payee: Payee };
  "payee.updated": { payee: Payee };
  "payee.deleted": { payee: Payee };
  "policy.updated": { policy: Policy };
  "budget.updated": { agent_id: string; budgets: Budget[] };
  "team.created": { team: Team };
  "team.updated": { team: Team };
  "team.member_added": { team_id: string; agent: Agent };
  "team.member_removed": { team_id: string; agent: Agent };
  "team.allocation_set": { team_id: string; allocation: TeamAllocation };
  "budget_request.created": { budget_request: BudgetRequest };
  "budget_request.approved": { budget_request: BudgetRequest };
  "budget_request.rejected": { budget_request: BudgetRequest };
  "agent.spawned": { agent: Agent; parent_agent_id: string; spawn_depth: number; scopes: string[]; registration_ticket_id: string };
  "agent.cloned": { agent: Agent; cloned_from: string };
  "trigger.created": { trigger: Trigger };
  "trigger.updated": { trigger: Trigger };
  "trigger.deleted": { trigger: Trigger };
  "trigger.secret_rotated": { trigger: Trigger };
  "trigger.fired": { trigger_fire: Omit<TriggerFire, "result"> };
  "task.created": TaskEventData;
  "task.updated": TaskEventData;
  "task.submitted": TaskEventData;
  "task.ci_updated": TaskEventData;
  "task.reviewed": TaskEventData;
  "task.shipped": TaskEventData;
  "task.blocked": TaskEventData;
  "task.cancelled": TaskEventData;
  "rail.configured": { rail_config: RailConfig };
  "rail.secret_rotated": { rail_config: RailConfig };
  "payment_intent.created": { payment_intent: PaymentIntent };
  "payment_intent.approval_required": { payment_intent: PaymentIntent; approval_id: string };
  "payment_intent.approved": { payment_intent_id: string; approval_id: string | null };
  "payment_intent.rejected": { payment_intent_id: string; approval_id: string | null };
  "payment_intent.expired": { payment_intent_id: string; approval_id: string | null };
  "payment_intent.executed": { payment_intent: PaymentIntent };
  "payment_intent.failed": { payment_intent: PaymentIntent };
  "payment_intent.cancelled": { payment_intent: PaymentIntent };
  "transaction.pending": { transaction: Transaction };
  "transaction.completed": { transaction: Transaction };
  "transaction.failed": { transaction: Transaction };
  "approval.created": { approval: Approval };
  "approval.approved": { approval: Approval };
  "approval.rejected": { approval: Approval };
  "approval.expired": { approval: Approval };
  "approval.cancelled": { approval: Approval };
  "spend_authorization.created": { spend_authorization: SpendAuthorization };
  "spend_authorization.authorized": { spend_authorization: SpendAuthorization };
  "spend_authorization.consumed": { spend_authorization: SpendAuthorization };
  "spend_authorization.released": { spend_authorization: SpendAuthorization };
  "spend_authorization.rejected": { spend_authorization: SpendAuthorization };
  "spend_authorization.expired": { spend_authorization: SpendAuthorization };
  "capability.created": { capability: Capability };
  "capability.revoked": { capability: Capability };
  "escrow_intent.created": { escrow_intent: EscrowIntent };
  "escrow_intent.funded": { escrow_intent: EscrowIntent };
  "escrow_intent.funding_pending_approval": { escrow_intent: EscrowIntent };
  "escrow_intent.funding_denied": { escrow_intent: EscrowIntent };
  "escrow_intent.evidence_submitted": { escrow_intent: EscrowIntent };
  "escrow_intent.disputed": { escrow_intent: EscrowIntent };
  "escrow_intent.payout_pending": { escrow_intent: EscrowIntent };
  "escrow_intent.payout_failed": { escrow_intent: EscrowIntent };
  "escrow_intent.released": { escrow_intent: EscrowIntent };
  "escrow_intent.refunded": { escrow_intent: EscrowIntent };
  "escrow_intent.split": { escrow_intent: EscrowIntent };
  "escrow_intent.expired": { escrow_intent: EscrowIntent };
  "signing_key.created": { signing_key: SigningKey };
  "signing_key.revoked": { signing_key: SigningKey };
  "service.created": { service: Service };
  "service.updated": { service: Service };
  "service.deleted": { service: Service };
  "service_request.created": { service_request: ServiceRequest };
  "service_request.approval_required": { service_request: ServiceRequest; approval_id: string };
  "service_request.executed": { service_request: ServiceRequest };
  "service_request.blocked": { service_request: ServiceRequest };
  "service_request.failed": { service_request: ServiceRequest };
  "service_request.running": { service_request: ServiceRequest };
}

// --- teams and budget requests (docs/teams.md) ---

/** A team's budget pool for one period and currency (the usage fields on `GET /v1/teams/{id}`). */
export interface TeamPool {
  period: Period;
  currency: string;
  amount: number;
  amount_display: string;
  allocated: number;
  spent?: number;
  held?: number;
  remaining?: number;
  remaining_display?: string;
  unallocated?: number;
}
/** What a member may spend of a pool. */
export interface TeamAllocation {
  agent_id: string;
  period: Period;
  currency: string;
  amount: number;
  amount_display: string;
}
export interface Team {
  object: "team";
  id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  name: string;
  description: string | null;
  manager_ids: string[];
  pools: TeamPool[];
  allocations: TeamAllocation[];
}
export interface BudgetRequest {
  object: "budget_request";
  id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  agent_id: string;
  team_id: string | null;
  amount: number;
  amount_display: string;
  currency: string;
  period: Period;
  reason: string;
  /** The blocked action the agent wants to retry once the budget is raised. */
  action: {
    kind: "payment" | "service_request" | "spend_authorization";
    amount: number;
    currency: string;
    payee?: string;
    service?: string;
    operation?: string;
    request_id?: string;
  } | null;
  status: "pending" | "approved" | "rejected";
  approved_amount: number | null;
  raised: "allocation" | "budget" | null;
  decided_by: { type: string; id: string } | null;
  decided_at: Timestamp | null;
  note: string | null;
}

export interface TeamPoolParams {
  period: Period;
  currency: string;
  /** What the members may spend together over the period's trailing window, in minor units. */
  amount: number;
}
export interface TeamCreateParams {
  name: string;
  description?: string | null;
  /** Members of the tenant (`usr_…`) who manage the team with the `teams:manage` scope. */
  manager_ids?: string[];
  /** One pool per period and currency. */
  pools?: TeamPoolParams[];
}
export interface TeamUpdateParams {
  name?: string;
  description?: string | null;
  manager_ids?: string[];
  /** Replaces every pool; a pool may not fall below what is allocated from it. */
  pools?: TeamPoolParams[];
}
export interface TeamMemberParams {
  agent_id: string;
}
/** `GET /v1/teams/{id}/members`: the team's agents, oldest first. */
export interface TeamMembers {
  object: "list";
  team_id: string;
  data: Agent[];
}
export interface TeamAllocationParams {
  agent_id: string;
  period: Period;
  /** The agent's share of the pool over the period, in minor units; 0 removes the allocation. */
  amount: number;
  /** The pool's currency; may be left out when the team has one pool for the period. */
  currency?: string;
}
export type BudgetRequestStatus = BudgetRequest["status"];
export type BudgetRequestAction = NonNullable<BudgetRequest["action"]>;
export interface BudgetRequestCreateParams {
  /** Owners name the agent; an agent credential asks for itself. */
  agent_id?: string;
  /** How much more, in minor units. */
  amount: number;
  /** Defaults to the agent's policy currency. */
  currency?: string;
  period: Period;
  reason: string;
  /** The blocked action to retry once the budget is raised. */
  action?: BudgetRequestAction;
}
export interface BudgetRequestListParams extends PageParams {
  status?: BudgetRequestStatus;
  agent_id?: string;
}
export interface BudgetRequestApproveParams {
  /** Approve less than asked (at most the requested amount); the whole request by default. */
  amount?: number;
  note?: string;
}
export interface BudgetRequestRejectParams {
  note?: string;
}

// --- spawn (docs/teams.md) ---

export interface SpawnParams {
  name: string;
  description?: string | null;
  /** No looser than the parent's in any field (a copy of the parent's by default). */
  policy?: PolicyRules;
  /** In the parent's currency, each carved from what the parent has left in that period. */
  budgets: Array<{ period: Period; amount: number }>;
  /** A subset of the caller's scopes (default: them). */
  scopes?: AgentScope[];
  /** Minor units moved from the parent's wallet to the child's at once (default 0). */
  funding?: number;
  /** Seconds the child's registration ticket lives (default 900). */
  ticket_expires_in?: number;
}
/** Each refused field, named (`policy.amount_max_minor.daily`). */
export interface SpawnRefusal {
  path: string;
  code: string;
  detail: string;
}
/** A policy's rules as the server answers them (every field present). */
export type PolicyBody = Omit<PolicyRules, keyof PolicyOperationRules> & PolicyOperationRules;
interface SpawnPlan {
  parent_agent_id: string;
  spawn_depth: number;
  scopes: string[];
  policy: PolicyBody;
  budgets: Array<{ period: Period; amount: number; currency: string }>;
  /** What the parent has left per period before this child (null: unlimited). */
  parent_remaining: Record<string, number | null>;
}
/** `POST /v1/agents/{id}/spawn/estimate`: the dry run. */
export interface SpawnEstimate extends SpawnPlan {
  object: "spawn_estimate";
  allowed: boolean;
  /** Why a spawn would be refused, null when it would pass. */
  code: string | null;
  errors: SpawnRefusal[];
}
export interface SpawnedAgent extends SpawnPlan {
  object: "spawned_agent";
  agent: Agent;
  registration_ticket: {
    id: string;
    /** Shown once (null on an idempotent replay): hand it to the child, which registers its own key. */
    ticket: string | null;
    scopes: string[];
    expires_at: Timestamp;
  };
}

/** The webhook rail's executor configuration (`GET /v1/rails/webhook`; never its secret). */
export interface RailConfig {
  object: "rail_config";
  id: string;
  rail: "webhook";
  url: string;
  previous_secret_expires_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
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
  /** The payment intent whose leg it is; null for an escrow payout. */
  payment_intent_id: string | null;
  leg_index: number | null;
  /** The escrow intent whose payout it is; null for a payment. */
  escrow_intent_id: string | null;
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
  /** Required unless `continue_from` is given. */
  message?: string;
  /** Resume the turn that stopped on this approval (after `chat.resolveApproval`); needs `conversation_id`. */
  continue_from?: { approval_id: string };
  /** Continue this conversation; without it a new one starts. */
  conversation_id?: string;
  /** Owners: the agent to act for. */
  agent_id?: string;
}
/** `chat.resolveApproval`: an owner decides an approval a chat turn stopped on. */
export interface ChatApprovalResolveParams {
  decision: "approve" | "reject";
  note?: string | null;
}
export interface ChatApprovalResolution {
  object: "chat.approval_resolution";
  approval: Approval;
  /** Send as `continue_from` with the conversation's id to resume the turn. */
  continue_from: { approval_id: string };
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

export type EscrowStatus = "open" | "funded" | "evidence_submitted" | "disputed" | "payout_pending" | "released" | "refunded" | "split" | "expired";
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
  /** The predicate in plain English. */
  predicate_summary: string;
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
    /** The payout's transaction on the payee's rail; null when nothing went to the payee. */
    transaction_id: string | null;
    settled_at: Timestamp;
  } | null;
  /** While `payout_pending`: the payout running on the payee's rail. */
  payout: {
    transaction_id: string;
    action: "release" | "split";
    payee_amount: number;
    refund_amount: number;
    previous_status: "funded" | "evidence_submitted" | "disputed";
    started_at: Timestamp;
  } | null;
  /** Payouts the payee's rail failed, newest last (the money went back into escrow). */
  failed_payouts: Array<{ transaction_id: string; payee_amount: number; failure_reason: string; failed_at: Timestamp }>;
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

// --- triggers, usage, agent clone/health/activity (issue 15) ---

export type TriggerOperation = "payment_intents.create" | "service_requests.create";
export type TriggerStatus = "active" | "disabled" | "deleted";
/** An external signed event bound to a governed action of one agent. Never its secret. */
export interface Trigger {
  object: "trigger";
  id: string;
  agent_id: string;
  name: string;
  description: string | null;
  kind: "webhook";
  operation: TriggerOperation;
  /** The operation's request body; strings may hold `{{field}}` placeholders filled from the event. */
  payload_template: Record<string, unknown>;
  status: TriggerStatus;
  last_fired_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface TriggerWithSecret extends Trigger {
  /** `whsec_…`, shown once (create, rotate); null on idempotent replays. */
  secret: string | null;
}
export interface TriggerCreateParams {
  agent_id: string;
  name: string;
  description?: string | null;
  kind?: "webhook";
  operation: TriggerOperation;
  payload_template: Record<string, unknown>;
}
export interface TriggerUpdateParams {
  name?: string;
  description?: string | null;
  payload_template?: Record<string, unknown>;
  status?: "active" | "disabled";
}
export interface TriggerListParams extends PageParams {
  agent_id?: string;
  status?: TriggerStatus;
}
/** One accepted fire: the governed outcome of the trigger's operation. */
export interface TriggerFire {
  object: "trigger_fire";
  id: string;
  trigger_id: string;
  agent_id: string;
  webhook_id: string;
  operation: TriggerOperation;
  outcome: "executed" | "running" | "approval_required" | "blocked" | "failed";
  /** The payment intent or service request made, as the API answered it then. */
  result: Record<string, unknown> | null;
  payment_intent_id: string | null;
  service_request_id: string | null;
  approval_id: string | null;
  reason_codes: string[];
  error: { code: string; detail: string } | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type UsageGroupBy = "day" | "agent" | "team" | "payee" | "operation";
export interface UsageParams {
  agent_id?: string;
  team_id?: string;
  /** RFC 3339 date or time; rounded down to its UTC day. */
  from?: string;
  /** RFC 3339 date (included) or time (rounded up to the end of its UTC day). */
  to?: string;
  group_by?: UsageGroupBy;
}
export interface UsageBucket {
  key: string | null;
  currency: string;
  spent: number;
  spent_display: string;
  held: number;
  held_display: string;
  count: number;
  spent_count: number;
  held_count: number;
}
export interface Usage {
  object: "usage";
  from: Timestamp;
  to: Timestamp;
  group_by: UsageGroupBy;
  agent_id: string | null;
  team_id: string | null;
  data: UsageBucket[];
  totals: UsageBucket[];
  truncated: boolean;
}

export interface AgentCloneParams {
  name?: string;
  description?: string | null;
}
export type AgentHealthIssue = "agent_disabled" | "no_active_credential" | "wallet_empty" | "limit_near_exhaustion" | "approvals_pending";
export interface AgentHealth {
  object: "agent_health";
  agent_id: string;
  status: "healthy" | "attention" | "disabled";
  issues: AgentHealthIssue[];
  checked_at: Timestamp;
  credential: { active_bindings: number; active_api_keys: number };
  wallet: { account_id: string; currency: string; balance: number; balance_display: string; available: number; available_display: string };
  limits: Array<{ limit: string; max: number; remaining: number; near_exhaustion: boolean }>;
  approvals: { pending: number };
}

// --- Tasks (docs/tasks.md) ---

export type TaskStatus = "todo" | "in_progress" | "in_review" | "blocked" | "done" | "cancelled";
export type TaskAction = "start" | "submit" | "fix" | "ship" | "block" | "resolve_blocker" | "cancel" | "review" | "report_ci";
export type TaskPriority = "low" | "medium" | "high" | "critical";
export type TaskArtifactType = "pull_request" | "commit" | "doc" | "ci_run" | "other";
export type CiCheckStatus = "queued" | "running" | "passed" | "failed" | "cancelled" | "skipped";
export type CiOverallStatus = "pending" | "running" | "passed" | "failed";
export type ReviewOutcome = "approved" | "changes_requested";
export type ReviewSeverity = "must_fix" | "should_fix" | "note";
export type ShipMode = "merge" | "deploy" | "merge_and_deploy";
export type BountyStatus = "unassigned" | "pending_approval" | "unfunded" | "held" | "disputed" | "released" | "refunded" | "split" | "expired";

export interface TaskArtifact {
  type: TaskArtifactType;
  url: string;
  sha256?: string;
}
export interface CiCheck {
  name: string;
  status: CiCheckStatus;
  url?: string;
  duration_ms?: number;
  failure?: string;
}
export interface ReviewComment {
  body: string;
  severity: ReviewSeverity;
  path?: string;
  line?: number;
}
export interface TaskReview {
  id: string;
  outcome: ReviewOutcome;
  summary: string;
  comments: ReviewComment[];
  reviewer: { type: string; id: string };
  head_sha: string | null;
  created_at: Timestamp;
}
/** A unit of delegated work (`tsk_…`); `available_actions` says what can be done to it now. */
export interface Task {
  object: "task";
  id: string;
  title: string;
  description: string | null;
  acceptance_criteria: string[];
  priority: TaskPriority;
  assignee_agent_id: string | null;
  reviewer_agent_id: string | null;
  review_required: boolean;
  creator: { type: string; id: string; agent_id: string | null };
  due_at: string | null;
  links: Array<{ url: string; title?: string }>;
  labels: string[];
  bounty: {
    amount: number;
    amount_display: string;
    currency: string;
    predicate: Record<string, unknown> | null;
    payer_agent_id: string;
    escrow_intent_id: string | null;
    status: BountyStatus;
    paid_amount: number;
  } | null;
  status: TaskStatus;
  blocker: { reason: string; action_required: string | null } | null;
  blocked_from: TaskStatus | null;
  head_sha: string | null;
  submission: { summary: string; artifacts: TaskArtifact[]; checks: string[]; head_sha: string | null; submitted_at: Timestamp } | null;
  ci_status: CiOverallStatus;
  review_status: ReviewOutcome | null;
  reviews: TaskReview[];
  shipped: { mode: ShipMode; target_environment: string; head_sha: string; shipped_at: Timestamp; shipped_by: { type: string; id: string } } | null;
  cancel_reason: string | null;
  available_actions: TaskAction[];
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface TaskCreateParams {
  title: string;
  description?: string | null;
  acceptance_criteria?: string[];
  priority?: TaskPriority;
  assignee_agent_id?: string | null;
  reviewer_agent_id?: string | null;
  review_required?: boolean;
  due_at?: string | null;
  links?: Array<{ url: string; title?: string }>;
  labels?: string[];
  bounty?: { amount: number; currency: string; predicate?: Record<string, unknown> | null; payer_agent_id?: string } | null;
}
export interface TaskUpdateParams {
  title?: string;
  description?: string | null;
  acceptance_criteria?: string[];
  priority?: TaskPriority;
  labels?: string[];
  links?: Array<{ url: string; title?: string }>;
  /** Assigns a todo task that has no assignee (once); its bounty is then held in escrow. */
  assignee_agent_id?: string;
}
export interface TaskListParams extends PageParams {
  status?: TaskStatus;
  assignee_agent_id?: string;
}
export interface TaskSubmitParams {
  summary: string;
  artifacts?: TaskArtifact[];
  checks?: string[];
  head_sha?: string;
}
export interface TaskShipParams {
  mode: ShipMode;
  target_environment: string;
  expected_head_sha: string;
}
export interface TaskBlockParams {
  reason: string;
  action_required?: string | null;
}
export interface CiReportParams {
  head_sha: string;
  checks: CiCheck[];
}
export interface TaskReviewParams {
  outcome: ReviewOutcome;
  summary: string;
  comments?: ReviewComment[];
}
export interface TaskCiStatus {
  task_id: string;
  head_sha: string | null;
  overall_status: CiOverallStatus;
  summary: { total: number; queued: number; running: number; passed: number; failed: number; cancelled: number; skipped: number };
  required_checks: string[];
  missing_checks: string[];
  checks: CiCheck[];
  failures: Array<{ name: string; failure: string | null; url: string | null }>;
  stale_reports: number;
  updated_at: Timestamp | null;
}
export interface CiReport {
  object: "ci_report";
  id: string;
  task_id: string;
  head_sha: string;
  /** For another head than the task's: recorded and ignored. */
  stale: boolean;
  received_at: Timestamp;
  ci_status: TaskCiStatus;
}
export interface TaskReviewFeedback {
  task_id: string;
  head_sha: string | null;
  review_required: boolean;
  latest_decision: TaskReview | null;
  must_fix: ReviewComment[];
  reviews: TaskReview[];
}

/** The data of every `task.*` event: the task as the API shows it, its status before, what changed, what is available now. */
export type TaskEventData = {
  task: Task;
  previous_status: TaskStatus | null;
  changed_fields: string[];
  available_actions: TaskAction[];
};
