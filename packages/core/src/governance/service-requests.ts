/**
 * Service requests (SPEC 1 `sr_`, 2.4): a governed, priced call of a service operation. In one
 * write the payload is checked against the operation's input schema, the price is decided by
 * policy and budget like a payment (`checkSpend`, kind `service_request`), and then:
 *
 * - `deny` → `blocked`, nothing held, with reason codes and available actions;
 * - `approval_required` → the price is held and an approval opened; approval runs the operation,
 *   rejection or expiry releases the hold (`blocked`, reason `approval_rejected`/`_expired`);
 * - `allow` → the price is held and the operation runs: sandbox `echo`/`quote` in the same write
 *   (`executed`, the hold captured), `sandbox.slow` and HTTP operations after the commit
 *   (`running`, with a deadline; `settleServiceRequest` finishes them, the sweeper fails them past
 *   the deadline).
 *
 * Success captures the hold exactly once; every failure releases it. Statuses: `executed`,
 * `blocked`, `approval_required`, `failed`, `running`. Events: `service_request.created`, then
 * `.approval_required`, `.executed`, `.failed` or `.blocked`.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { holdGraceSeconds, servicePayloadBytesMax, serviceRequestDeadlineSeconds, serviceResultBytesMax } from "../limits.js";
import { formatMinor } from "../money.js";
import type { AvailableAction, DecisionKind } from "../policy/policy.js";
import type { AgentRow } from "../ports.js";
import { fail, invariant, ok, type FieldError, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { registerApprovalSubject } from "./approval-decisions.js";
import { openApproval } from "./approvals.js";
import type { StoredRecord } from "./records.js";
import { resolvedOperation, resolveOperation, runSandboxOperation, sandboxService, sandboxServiceId, serviceAccountId, type JsonSchema, type ServiceBody } from "./services.js";
import { capture, checkSpend, release, reserve } from "./spending.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

export const serviceRequestStatuses = ["executed", "blocked", "approval_required", "failed", "running"] as const;
export type ServiceRequestStatus = (typeof serviceRequestStatuses)[number];
export type ServiceApprovalStatus = "not_required" | "pending" | "approved" | "rejected" | "expired";

export interface ServiceRequestBody {
  agent_id: string;
  service: string;
  service_id: string;
  operation: string;
  payload: unknown;
  amount: number;
  currency: string;
  status: ServiceRequestStatus;
  decision: DecisionKind;
  reason_codes: string[];
  available_actions: AvailableAction[];
  remaining: Record<string, number | null>;
  approval_id: string | null;
  approval_status: ServiceApprovalStatus;
  hold_transfer_id: string | null;
  /** What the operation answered (executed requests). */
  result: unknown;
  failure_reason: string | null;
  /** When a running request fails if it has not finished. */
  deadline_at: string | null;
  completed_at: string | null;
}
export type ServiceRequestRecord = StoredRecord<ServiceRequestBody>;

/**
 * Checks a payload against an input schema; returns the errors, or null when it matches. The
 * server implements it with ajv and caches compiled schemas under `schemaKey`.
 */
export type PayloadValidator = (schemaKey: string, schema: JsonSchema, payload: unknown) => FieldError[] | null;

export interface ServiceRequestInput {
  /** A service name or `svc_` id. */
  service: string;
  operation: string;
  payload: unknown;
}

/** What a write did: the request, and the requests the server must now run (after the commit). */
export interface ServiceRequestChange {
  request: ServiceRequestRecord;
  dispatch: string[];
}

export type ServiceOutcome = { status: "executed"; result: unknown } | { status: "failed"; reason: string };

export function serviceRequestView(request: ServiceRequestRecord) {
  const body = request.body;
  return { object: "service_request" as const, ...recordStamp(request, toRfc3339), ...body, amount_display: formatMinor(body.amount, body.currency) };
}

/** Bytes of a JSON value as sent on the wire. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

/**
 * Creates a service request for `agent` and acts on it (see the module comment). Fails, writing
 * nothing, when the service or operation does not exist (`service_not_found`), the payload does
 * not match the schema (`payload_invalid`, with per-field `errors`) or is too large.
 */
export async function createServiceRequest(context: WriteContext, agent: AgentRow, input: ServiceRequestInput, validate: PayloadValidator): Promise<Result<ServiceRequestChange>> {
  const { tx, tenantId, nowMs } = context;
  if (agent.status !== "active") return fail("agent_disabled", `agent ${agent.id} is disabled`);
  const resolved = await resolveOperation(tx, tenantId, input.service, input.operation);
  if (!resolved.ok) return resolved;
  const { service, operation, schemaKey } = resolved.value;
  if (jsonBytes(input.payload) > servicePayloadBytesMax) return fail("limit_exceeded", `the payload is larger than ${servicePayloadBytesMax} bytes`);
  const errors = validate(schemaKey, operation.input_schema, input.payload);
  if (errors) return fail("payload_invalid", `the payload does not match the input schema of ${service.body.name}.${operation.name}`, errors);
  const wallet = await tx.getAccount(tenantId, agent.walletAccountId);
  invariant(wallet, `agent ${agent.id} has its wallet`);

  const { decision, policy } = await checkSpend(tx, agent, wallet.currency, { kind: "service_request", amountMinor: operation.price, currency: operation.currency, service: service.body.name, operation: operation.name }, nowMs);
  const request: ServiceRequestRecord = {
    tenantId, kind: "service_request", id: newId("sr", nowMs), agentId: agent.id, status: "blocked", refId: service.id, dueAtMs: null, createdAtMs: nowMs, updatedAtMs: nowMs,
    body: {
      agent_id: agent.id, service: service.body.name, service_id: service.id, operation: operation.name, payload: input.payload,
      amount: operation.price, currency: operation.currency, status: "blocked", decision: decision.decision, reason_codes: decision.reason_codes,
      available_actions: decision.available_actions, remaining: decision.remaining, approval_id: null, approval_status: "not_required",
      hold_transfer_id: null, result: null, failure_reason: null, deadline_at: null, completed_at: null,
    },
  };
  const block = async (): Promise<Result<ServiceRequestChange>> => {
    request.body.decision = "deny";
    await saveRecord(tx, request, true);
    await appendEvent(context, "service_request.created", { service_request: serviceRequestView(request) }, agent.id);
    await appendEvent(context, "service_request.blocked", { service_request: serviceRequestView(request) }, agent.id);
    return ok({ request, dispatch: [] });
  };
  if (decision.decision === "deny") return block();

  const waits = decision.decision === "approval_required";
  const creditAccountId = await serviceAccountId(context, service, operation.currency);
  const hold = creditAccountId.ok
    ? await reserve(context, {
      agentId: agent.id, walletAccountId: wallet.id, creditAccountId: creditAccountId.value, amountMinor: operation.price, currency: operation.currency,
      payeeId: null, reference: `${service.body.name}.${operation.name}`, metadata: { service_request_id: request.id },
      timeoutSeconds: (waits ? policy.policy.approval_expiry_seconds : 0) + serviceRequestDeadlineSeconds + holdGraceSeconds,
    })
    : creditAccountId;
  if (!hold.ok) {
    request.body.reason_codes = [...request.body.reason_codes, hold.code];
    if (hold.code === "insufficient_funds") request.body.available_actions = ["fund_wallet"];
    return block();
  }
  request.body.hold_transfer_id = hold.value.id;

  if (waits) {
    const approval = await openApproval(context, {
      subjectType: "service_request", subjectId: request.id, agentId: agent.id, amountMinor: operation.price, currency: operation.currency,
      reasonCodes: decision.reason_codes, expirySeconds: policy.policy.approval_expiry_seconds,
    });
    Object.assign(request.body, { status: "approval_required", approval_id: approval.id, approval_status: "pending" });
    request.status = "approval_required";
    await saveRecord(tx, request, true);
    await appendEvent(context, "service_request.created", { service_request: serviceRequestView(request) }, agent.id);
    await appendEvent(context, "service_request.approval_required", { service_request: serviceRequestView(request), approval_id: approval.id }, agent.id);
    return ok({ request, dispatch: [] });
  }
  request.status = "running";
  request.body.status = "running";
  await saveRecord(tx, request, true);
  await appendEvent(context, "service_request.created", { service_request: serviceRequestView(request) }, agent.id);
  return startExecution(context, request);
}

/**
 * Runs a request whose money is held: sandbox inline operations settle now; the others stay
 * `running` with a deadline and are returned for dispatch. A service deleted meanwhile fails it.
 */
async function startExecution(context: WriteContext, request: ServiceRequestRecord): Promise<Result<ServiceRequestChange>> {
  const body = request.body;
  const service = body.service_id === sandboxServiceId ? sandboxService : await loadRecord<ServiceBody>(context.tx, context.tenantId, "service", body.service_id);
  const resolved = service && service.body.status === "active" ? resolvedOperation(context.tenantId, service, body.operation) : null;
  if (!resolved) return ok({ request: await settle(context, request, { status: "failed", reason: "service_unavailable" }), dispatch: [] });
  if (resolved.execution === "inline") {
    return ok({ request: await settle(context, request, { status: "executed", result: runSandboxOperation(body.operation, body.payload) }), dispatch: [] });
  }
  const deadlineMs = context.nowMs + serviceRequestDeadlineSeconds * 1000;
  Object.assign(request, { status: "running", dueAtMs: deadlineMs, updatedAtMs: context.nowMs });
  Object.assign(body, { status: "running", deadline_at: toRfc3339(deadlineMs) });
  await saveRecord(context.tx, request, false);
  return ok({ request, dispatch: [request.id] });
}

/** Applies an outcome to a running request: captures the hold on success, releases it otherwise. */
async function settle(context: WriteContext, request: ServiceRequestRecord, outcome: ServiceOutcome): Promise<ServiceRequestRecord> {
  let result = outcome;
  if (result.status === "executed" && jsonBytes(result.result) > serviceResultBytesMax) result = { status: "failed", reason: "result_too_large" };
  const holdId = request.body.hold_transfer_id;
  invariant(holdId !== null, `running request ${request.id} holds its price`);
  if (result.status === "executed") {
    const captured = await capture(context, holdId);
    if (!captured.ok) result = { status: "failed", reason: captured.code };
  }
  if (result.status === "failed") await release(context, holdId);
  Object.assign(request, { status: result.status, dueAtMs: null, updatedAtMs: context.nowMs });
  Object.assign(request.body, {
    status: result.status,
    result: result.status === "executed" ? result.result : null,
    failure_reason: result.status === "failed" ? result.reason : null,
    completed_at: toRfc3339(context.nowMs),
  });
  await saveRecord(context.tx, request, false);
  await appendEvent(context, `service_request.${result.status}`, { service_request: serviceRequestView(request) }, request.agentId);
  return request;
}

/**
 * Finishes a running request with its outcome (the server's runner, or the sweeper at the
 * deadline). A request that is not running any more is left as it is and returned: whoever
 * settles first wins, and the price is captured or released exactly once.
 */
export async function settleServiceRequest(context: WriteContext, requestId: string, outcome: ServiceOutcome): Promise<Result<ServiceRequestRecord>> {
  const request = await loadRecord<ServiceRequestBody>(context.tx, context.tenantId, "service_request", requestId);
  if (!request) return fail("not_found", `service request ${requestId} not found`);
  if (request.body.status !== "running") return ok(request);
  return ok(await settle(context, request, outcome));
}

/** The approval of a request was granted: it runs. */
async function approveServiceRequest(context: WriteContext, requestId: string): Promise<Result<{ dispatch: string[] }>> {
  const request = await loadRecord<ServiceRequestBody>(context.tx, context.tenantId, "service_request", requestId);
  invariant(request && request.body.status === "approval_required", `service request ${requestId} waits for approval`);
  request.body.approval_status = "approved";
  const started = await startExecution(context, request);
  if (!started.ok) return started;
  return ok({ dispatch: started.value.dispatch });
}

/** The approval of a request was rejected or expired: its hold is released and it is blocked. */
async function closeServiceRequest(context: WriteContext, requestId: string, outcome: "rejected" | "expired"): Promise<ServiceRequestRecord> {
  const request = await loadRecord<ServiceRequestBody>(context.tx, context.tenantId, "service_request", requestId);
  invariant(request && request.body.status === "approval_required", `service request ${requestId} waits for approval`);
  await release(context, request.body.hold_transfer_id!);
  Object.assign(request, { status: "blocked", updatedAtMs: context.nowMs });
  Object.assign(request.body, {
    status: "blocked", approval_status: outcome, reason_codes: [...request.body.reason_codes, `approval_${outcome}`],
    available_actions: [], completed_at: toRfc3339(context.nowMs),
  });
  await saveRecord(context.tx, request, false);
  await appendEvent(context, "service_request.blocked", { service_request: serviceRequestView(request) }, request.agentId);
  return request;
}

registerApprovalSubject("service_request", { approve: approveServiceRequest, close: closeServiceRequest });
