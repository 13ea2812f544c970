/**
 * Approvals (SPEC 1 `apr_`): a human decision an action waits on, `pending` → `approved` /
 * `rejected` / `expired`. Only an owner's credential decides (never an agent's, not even on its
 * own requests); every decision is a journal event whose actor is who decided.
 */
import type { Actor } from "../journal/types.js";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { formatMinor } from "../money.js";
import { toRfc3339 } from "../time.js";
import type { StoredRecord } from "./records.js";
import { recordStamp, saveRecord } from "./store.js";

/** `cancelled`: what waited on it was withdrawn (an agent released its spend authorization). */
export const approvalStatuses = ["pending", "approved", "rejected", "expired", "cancelled"] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];
export const approvalSubjects = ["payment_intent", "service_request", "spend_authorization", "escrow_intent"] as const;
export type ApprovalSubject = (typeof approvalSubjects)[number];

export interface ApprovalBody {
  subject_type: ApprovalSubject;
  subject_id: string;
  agent_id: string;
  amount: number;
  currency: string;
  reason_codes: string[];
  status: ApprovalStatus;
  expires_at: string;
  decided_by: Actor | null;
  decided_at: string | null;
  note: string | null;
}
export type ApprovalRecord = StoredRecord<ApprovalBody>;

export function approvalView(approval: ApprovalRecord) {
  const body = approval.body;
  return {
    object: "approval" as const,
    ...recordStamp(approval, toRfc3339),
    ...body,
    amount_display: formatMinor(body.amount, body.currency),
    [`${body.subject_type}_id`]: body.subject_id,
  };
}

/** Who may decide: an owner (user) or an owner's service account, never an agent's credential. */
export function canDecideApprovals(actor: Actor, actorAgentId: string | null): boolean {
  return actorAgentId === null && (actor.type === "user" || actor.type === "api_key");
}

/** Opens an approval that expires after `expirySeconds`. Event: `approval.created`. */
export async function openApproval(
  context: WriteContext,
  input: { subjectType: ApprovalSubject; subjectId: string; agentId: string; amountMinor: number; currency: string; reasonCodes: string[]; expirySeconds: number },
): Promise<ApprovalRecord> {
  const expiresAtMs = context.nowMs + input.expirySeconds * 1000;
  const approval: ApprovalRecord = {
    tenantId: context.tenantId, kind: "approval", id: newId("apr", context.nowMs), agentId: input.agentId, status: "pending",
    refId: input.subjectId, dueAtMs: expiresAtMs, createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      subject_type: input.subjectType, subject_id: input.subjectId, agent_id: input.agentId, amount: input.amountMinor,
      currency: input.currency, reason_codes: input.reasonCodes, status: "pending", expires_at: toRfc3339(expiresAtMs),
      decided_by: null, decided_at: null, note: null,
    },
  };
  await saveRecord(context.tx, approval, true);
  await appendEvent(context, "approval.created", { approval: approvalView(approval) }, input.agentId);
  return approval;
}

/** Records the decision. Event: `approval.approved` / `.rejected` / `.expired`, its actor the decider. */
export async function closeApproval(context: WriteContext, approval: ApprovalRecord, status: Exclude<ApprovalStatus, "pending">, note: string | null): Promise<ApprovalRecord> {
  const closed: ApprovalRecord = {
    ...approval, status, dueAtMs: null, updatedAtMs: context.nowMs,
    body: { ...approval.body, status, decided_by: context.actor, decided_at: toRfc3339(context.nowMs), note },
  };
  await saveRecord(context.tx, closed, false);
  await appendEvent(context, `approval.${status}`, { approval: approvalView(closed) }, approval.agentId);
  return closed;
}
