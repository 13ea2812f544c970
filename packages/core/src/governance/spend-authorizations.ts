/**
 * Spend authorizations (SPEC 1 `sa_`): authorize → execute → complete, for anything an agent pays
 * for that Bursar does not execute itself (a paid API, an MCP tool, an x402 resource, a vendor
 * account). The agent names a dotted `operation` and the most the call may cost; in one write the
 * policy decides (as for payments: the same windows, budgets and counts, plus the operation and
 * vendor rules) and, unless denied, the amount is held in the ledger from the wallet towards the
 * vendor's account (or a payee's). The agent runs the call, then completes: `consumed` posts the
 * hold for what the call cost (the rest goes back to the wallet; the windows count what was
 * spent), `released` voids it.
 *
 * Statuses: `authorized` (held, until `expires_at`) | `pending_approval` (held, waiting for an
 * owner) | `denied` (nothing held) | `consumed` | `released` | `rejected` | `expired`.
 * Events: `spend_authorization.created` (whatever the decision), `.authorized` (after approval),
 * `.consumed`, `.released`, `.rejected`, `.expired`.
 *
 * A capability token (capabilities.ts) waives the approval reasons while the capability covers
 * the amount, operation and expiry; a refused capability fails the request and writes nothing.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { holdGraceSeconds, spendAuthorizationExpirySecondsDefault } from "../limits.js";
import { formatMinor } from "../money.js";
import type { DecisionKind } from "../policy/policy.js";
import type { AgentRow } from "../ports.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { registerApprovalSubject } from "./approval-decisions.js";
import { closeApproval, openApproval, type ApprovalBody } from "./approvals.js";
import { checkCapability, giveBackCapability, takeCapability, type CapabilityRecord } from "./capabilities.js";
import { resolvePayee, type PayeeRecord } from "./payees.js";
import type { StoredRecord } from "./records.js";
import { capture, checkSpend, release, reserve } from "./spending.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";
import { defaultVendorOf, vendorAccountId } from "./vendors.js";
import { recordDraw, returnDraw, startEscrowDraw, undoDrawStart, type EscrowDrawSource } from "./escrow-draws.js";

export const spendAuthorizationStatuses = ["authorized", "pending_approval", "denied", "consumed", "released", "rejected", "expired"] as const;
export type SpendAuthorizationStatus = (typeof spendAuthorizationStatuses)[number];
export type SpendApprovalStatus = "not_required" | "pending" | "approved" | "rejected" | "expired" | "cancelled";
export type SpendOutcome = "consumed" | "released";

export interface SpendAuthorizationBody {
  agent_id: string;
  operation: string;
  vendor: string;
  payee_id: string | null;
  amount: number;
  currency: string;
  status: SpendAuthorizationStatus;
  decision: DecisionKind;
  reason_codes: string[];
  remaining: Record<string, number | null>;
  available_actions: string[];
  approval_id: string | null;
  approval_status: SpendApprovalStatus;
  capability_id: string | null;
  hold_transfer_id: string | null;
  /** The account the money goes to: the vendor's, or the payee's. */
  credit_account_id: string | null;
  tool_call_id: string | null;
  metadata: Record<string, string> | null;
  expires_in_seconds: number;
  /** Until when an authorized one may be completed; restarts when an owner approves. */
  expires_at: string | null;
  consumed_amount: number | null;
  external_reference: string | null;
  evidence: unknown;
  completed_at: string | null;
  /** Drawn on this escrow intent's escrow account (its capability was presented), not the wallet. */
  escrow_intent_id?: string | null;
}
export type SpendAuthorizationRecord = StoredRecord<SpendAuthorizationBody>;

export interface AuthorizeSpendInput {
  operation: string;
  amountMinor: number;
  currency: string;
  vendor?: string;
  /** A `pay_` id, or a payee's name or alias: the money goes to that payee's account. */
  payee?: string;
  toolCallId?: string | null;
  capabilityToken?: string;
  metadata?: Record<string, string> | null;
  expiresInSeconds?: number;
}

export interface CompleteSpendInput {
  outcome: SpendOutcome;
  /** What the call cost (consumed); default: the whole authorized amount. */
  amountMinor?: number;
  externalReference?: string | null;
  evidence?: unknown;
}

/** What the agent may do next, by status (a denial carries the decision's own). */
const nextActions: Partial<Record<SpendAuthorizationStatus, string[]>> = {
  authorized: ["consume", "release"],
  pending_approval: ["wait_for_approval", "release"],
};

export function spendAuthorizationView(authorization: SpendAuthorizationRecord) {
  const body = authorization.body;
  return {
    object: "spend_authorization" as const,
    ...recordStamp(authorization, toRfc3339),
    ...body,
    amount_display: formatMinor(body.amount, body.currency),
    consumed_amount_display: body.consumed_amount === null ? null : formatMinor(body.consumed_amount, body.currency),
  };
}

function setStatus(authorization: SpendAuthorizationRecord, status: SpendAuthorizationStatus, nowMs: number): void {
  authorization.status = status;
  authorization.updatedAtMs = nowMs;
  authorization.body.status = status;
  authorization.body.available_actions = nextActions[status] ?? (status === "denied" ? authorization.body.available_actions : []);
}

/** Makes it `authorized` from now: its expiry (re)starts and the sweeper will look at it then. */
function startAuthorized(authorization: SpendAuthorizationRecord, nowMs: number): void {
  const expiresAtMs = nowMs + authorization.body.expires_in_seconds * 1000;
  authorization.dueAtMs = expiresAtMs;
  authorization.body.expires_at = toRfc3339(expiresAtMs);
  setStatus(authorization, "authorized", nowMs);
}

async function emit(context: WriteContext, type: string, authorization: SpendAuthorizationRecord): Promise<void> {
  await appendEvent(context, `spend_authorization.${type}`, { spend_authorization: spendAuthorizationView(authorization) }, authorization.agentId);
}

/**
 * Authorizes a spend for `agent` (see the module comment). Fails, writing nothing, when the payee
 * cannot be resolved or is paid in another currency, or when a presented capability is refused.
 */
export async function authorizeSpend(context: WriteContext, agent: AgentRow, input: AuthorizeSpendInput): Promise<Result<SpendAuthorizationRecord>> {
  const { tx, tenantId, nowMs } = context;
  if (agent.status !== "active") return fail("agent_disabled", `agent ${agent.id} is disabled`);
  const wallet = await tx.getAccount(tenantId, agent.walletAccountId);
  invariant(wallet, `agent ${agent.id} has its wallet`);
  let payee: PayeeRecord | null = null;
  if (input.payee !== undefined) {
    const resolved = await resolvePayee(tx, tenantId, input.payee);
    if (!resolved.ok) return resolved;
    if (resolved.value.body.currency !== input.currency) {
      return fail("currency_mismatch", `payee ${resolved.value.id} is paid in ${resolved.value.body.currency}, not ${input.currency}`);
    }
    payee = resolved.value;
  }
  let capability: CapabilityRecord | null = null;
  if (input.capabilityToken !== undefined) {
    const tenant = await tx.getTenant(tenantId);
    invariant(tenant, `tenant ${tenantId} exists`);
    const checked = await checkCapability(tx, tenant, input.capabilityToken, { agentId: agent.id, operation: input.operation, amountMinor: input.amountMinor, currency: input.currency }, nowMs);
    if (!checked.ok) return checked;
    capability = checked.value;
  }
  // A capability issued by an escrow intent draws on the escrow (escrow-draws.ts).
  let draw: EscrowDrawSource | null = null;
  if (capability?.body.escrow_intent_id) {
    const started = await startEscrowDraw(context, capability.body.escrow_intent_id, input.amountMinor);
    if (!started.ok) return started;
    draw = started.value;
  }

  const vendor = input.vendor ?? defaultVendorOf(input.operation);
  const { decision, policy } = await checkSpend(tx, agent, wallet.currency, {
    kind: "spend_authorization", amountMinor: input.amountMinor, currency: input.currency, operation: input.operation, vendor,
    payeeId: payee?.id, preApproved: capability !== null,
  }, nowMs);
  const authorization: SpendAuthorizationRecord = {
    tenantId, kind: "spend_authorization", id: newId("sa", nowMs), agentId: agent.id, status: "denied", refId: capability?.id ?? null, dueAtMs: null,
    createdAtMs: nowMs, updatedAtMs: nowMs,
    body: {
      agent_id: agent.id, operation: input.operation, vendor, payee_id: payee?.id ?? null, amount: input.amountMinor, currency: input.currency,
      status: "denied", decision: decision.decision, reason_codes: decision.reason_codes, remaining: decision.remaining,
      available_actions: decision.available_actions, approval_id: null, approval_status: "not_required", capability_id: capability?.id ?? null,
      hold_transfer_id: null, credit_account_id: null, tool_call_id: input.toolCallId ?? null, metadata: input.metadata ?? null,
      expires_in_seconds: input.expiresInSeconds ?? spendAuthorizationExpirySecondsDefault, expires_at: null, consumed_amount: null,
      external_reference: null, evidence: null, completed_at: null, escrow_intent_id: draw?.intentId ?? null,
    },
  };
  if (capability) {
    authorization.body.remaining = {
      ...authorization.body.remaining,
      capability_amount: capability.body.max_amount - capability.body.used_amount - input.amountMinor,
      capability_uses: capability.body.max_uses === null ? null : capability.body.max_uses - capability.body.uses - 1,
    };
  }
  const deny = async (): Promise<Result<SpendAuthorizationRecord>> => {
    authorization.body.decision = "deny";
    if (draw) await undoDrawStart(context, draw.intentId);
    setStatus(authorization, "denied", nowMs);
    await saveRecord(tx, authorization, true);
    await emit(context, "created", authorization);
    return ok(authorization);
  };
  if (decision.decision === "deny") return deny();

  const waits = decision.decision === "approval_required";
  const creditAccountId = payee ? ok(payee.body.account_id) : await vendorAccountId(context, vendor, input.currency);
  const hold = creditAccountId.ok
    ? await reserve(context, {
      agentId: agent.id, walletAccountId: draw?.escrowAccountId ?? wallet.id, creditAccountId: creditAccountId.value, amountMinor: input.amountMinor, currency: input.currency,
      payeeId: payee?.id ?? null, operation: input.operation, reference: input.operation, metadata: { spend_authorization_id: authorization.id },
      timeoutSeconds: (waits ? policy.policy.approval_expiry_seconds : 0) + authorization.body.expires_in_seconds + holdGraceSeconds,
    })
    : creditAccountId;
  if (!hold.ok) {
    authorization.body.reason_codes = [...authorization.body.reason_codes, hold.code];
    authorization.body.available_actions = hold.code === "insufficient_funds" ? ["lower_amount", "fund_wallet"] : [];
    return deny();
  }
  authorization.body.hold_transfer_id = hold.value.id;
  authorization.body.credit_account_id = hold.value.creditAccountId;
  if (capability) await takeCapability(context, capability, input.amountMinor);
  if (draw) await recordDraw(context, draw.intentId, input.amountMinor);

  if (waits) {
    const approval = await openApproval(context, {
      subjectType: "spend_authorization", subjectId: authorization.id, agentId: agent.id, amountMinor: input.amountMinor, currency: input.currency,
      reasonCodes: decision.reason_codes, expirySeconds: policy.policy.approval_expiry_seconds,
    });
    Object.assign(authorization.body, { approval_id: approval.id, approval_status: "pending" });
    setStatus(authorization, "pending_approval", nowMs);
  } else {
    startAuthorized(authorization, nowMs);
  }
  await saveRecord(tx, authorization, true);
  await emit(context, "created", authorization);
  return ok(authorization);
}

/** Releases the hold, gives the capability back what was not spent, and closes the authorization. */
async function finish(context: WriteContext, authorization: SpendAuthorizationRecord, status: "released" | "rejected" | "expired"): Promise<void> {
  await release(context, authorization.body.hold_transfer_id!);
  if (authorization.body.escrow_intent_id) await returnDraw(context, authorization.body.escrow_intent_id, authorization.body.amount);
  if (authorization.body.capability_id) await giveBackCapability(context, authorization.body.capability_id, authorization.body.amount, true);
  authorization.dueAtMs = null;
  authorization.body.completed_at = toRfc3339(context.nowMs);
  setStatus(authorization, status, context.nowMs);
  await saveRecord(context.tx, authorization, false);
  await emit(context, status, authorization);
}

/**
 * Completes an authorization (see the module comment). The same outcome again answers the first
 * result; another outcome is `authorization_already_completed`. Past `expires_at` it expires
 * here (the hold is released) and fails with `authorization_expired`.
 */
export async function completeSpend(context: WriteContext, authorizationId: string, agentId: string | null, input: CompleteSpendInput): Promise<Result<SpendAuthorizationRecord>> {
  const { tx, tenantId, nowMs } = context;
  const authorization = await loadRecord<SpendAuthorizationBody>(tx, tenantId, "spend_authorization", authorizationId);
  if (!authorization || (agentId !== null && authorization.agentId !== agentId)) return fail("not_found", `spend authorization ${authorizationId} not found`);
  const body = authorization.body;
  if (body.status === "consumed" || body.status === "released") {
    if (body.status === input.outcome) return ok(authorization);
    return fail("authorization_already_completed", `spend authorization ${authorizationId} was already ${body.status}`);
  }
  if (body.status === "expired") return fail("authorization_expired", `spend authorization ${authorizationId} expired at ${body.expires_at}`);
  if (body.status === "pending_approval" && input.outcome === "released") {
    const approval = await loadRecord<ApprovalBody>(tx, tenantId, "approval", body.approval_id!);
    invariant(approval && approval.body.status === "pending", `pending authorization ${authorizationId} has its pending approval`);
    await closeApproval(context, approval, "cancelled", "released by the agent");
    body.approval_status = "cancelled";
    await finish(context, authorization, "released");
    return ok(authorization);
  }
  if (body.status !== "authorized") {
    return fail("authorization_not_authorized", `spend authorization ${authorizationId} is ${body.status}; only an authorized one can be consumed`);
  }
  if (authorization.dueAtMs !== null && authorization.dueAtMs <= nowMs) {
    await finish(context, authorization, "expired");
    return fail("authorization_expired", `spend authorization ${authorizationId} expired at ${body.expires_at}`);
  }
  if (input.outcome === "released") {
    await finish(context, authorization, "released");
    return ok(authorization);
  }
  const consumedMinor = input.amountMinor ?? body.amount;
  if (consumedMinor > body.amount) {
    return fail("amount_exceeds_authorization", `cannot consume ${formatMinor(consumedMinor, body.currency)}; ${formatMinor(body.amount, body.currency)} ${body.currency} was authorized`);
  }
  // Nothing spent is a release in the ledger (a hold cannot be posted for zero), recorded as consumed.
  if (consumedMinor === 0) await release(context, body.hold_transfer_id!);
  else {
    const captured = await capture(context, body.hold_transfer_id!, consumedMinor);
    if (!captured.ok) return captured;
  }
  if (body.capability_id) await giveBackCapability(context, body.capability_id, body.amount - consumedMinor, consumedMinor === 0);
  if (body.escrow_intent_id) await returnDraw(context, body.escrow_intent_id, body.amount - consumedMinor);
  Object.assign(body, {
    consumed_amount: consumedMinor, external_reference: input.externalReference ?? null, evidence: input.evidence ?? null, completed_at: toRfc3339(nowMs),
  });
  authorization.dueAtMs = null;
  setStatus(authorization, "consumed", nowMs);
  await saveRecord(tx, authorization, false);
  await emit(context, "consumed", authorization);
  return ok(authorization);
}

/**
 * Releases a live (authorized or pending) authorization whatever its expiry: its escrow intent
 * settled, so nothing more may be drawn. A pending approval is closed as `cancelled`.
 */
export async function releaseSpendAuthorization(context: WriteContext, authorizationId: string): Promise<void> {
  const authorization = await loadRecord<SpendAuthorizationBody>(context.tx, context.tenantId, "spend_authorization", authorizationId);
  invariant(authorization && (authorization.body.status === "authorized" || authorization.body.status === "pending_approval"), `spend authorization ${authorizationId} is live`);
  if (authorization.body.status === "pending_approval") {
    const approval = await loadRecord<ApprovalBody>(context.tx, context.tenantId, "approval", authorization.body.approval_id!);
    invariant(approval && approval.body.status === "pending", `pending authorization ${authorizationId} has its pending approval`);
    await closeApproval(context, approval, "cancelled", "its escrow intent settled");
    authorization.body.approval_status = "cancelled";
  }
  authorization.body.reason_codes = [...authorization.body.reason_codes, "escrow_settled"];
  await finish(context, authorization, "released");
}

/** Expires an authorized one past its time (the sweeper); any other is left alone. */
export async function expireSpendAuthorization(context: WriteContext, authorizationId: string): Promise<Result<SpendAuthorizationRecord | null>> {
  const authorization = await loadRecord<SpendAuthorizationBody>(context.tx, context.tenantId, "spend_authorization", authorizationId);
  if (!authorization || authorization.body.status !== "authorized" || authorization.dueAtMs === null || authorization.dueAtMs > context.nowMs) return ok(null);
  await finish(context, authorization, "expired");
  return ok(authorization);
}

/** An owner approved: it becomes `authorized`, its expiry restarting now. */
async function approveSpendAuthorization(context: WriteContext, authorizationId: string): Promise<Result<{ dispatch: string[] }>> {
  const authorization = await loadRecord<SpendAuthorizationBody>(context.tx, context.tenantId, "spend_authorization", authorizationId);
  invariant(authorization && authorization.body.status === "pending_approval", `spend authorization ${authorizationId} waits for approval`);
  authorization.body.approval_status = "approved";
  startAuthorized(authorization, context.nowMs);
  await saveRecord(context.tx, authorization, false);
  await emit(context, "authorized", authorization);
  return ok({ dispatch: [] });
}

/** An owner rejected, or the approval expired: the hold is released. */
async function closeSpendAuthorization(context: WriteContext, authorizationId: string, outcome: "rejected" | "expired"): Promise<void> {
  const authorization = await loadRecord<SpendAuthorizationBody>(context.tx, context.tenantId, "spend_authorization", authorizationId);
  invariant(authorization && authorization.body.status === "pending_approval", `spend authorization ${authorizationId} waits for approval`);
  authorization.body.approval_status = outcome;
  authorization.body.reason_codes = [...authorization.body.reason_codes, `approval_${outcome}`];
  await finish(context, authorization, outcome);
}

registerApprovalSubject("spend_authorization", { approve: approveSpendAuthorization, close: closeSpendAuthorization });
