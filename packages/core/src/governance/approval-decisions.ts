/**
 * Deciding an approval and carrying the decision to what waited on it. The subjects (payment
 * intents, service requests) each say what approval, rejection and expiry mean for them.
 */
import type { WriteContext } from "../journal/events.js";
import { fail, ok, type Result } from "../result.js";
import { canDecideApprovals, closeApproval, type ApprovalBody, type ApprovalRecord, type ApprovalSubject } from "./approvals.js";
import { approvePaymentIntent, closePaymentIntent } from "./payment-intents.js";
import { loadRecord } from "./store.js";

/** What a subject does when its approval closes; `approve` returns transactions to dispatch. */
interface SubjectHandlers {
  approve(context: WriteContext, subjectId: string): Promise<Result<{ dispatch: string[] }>>;
  close(context: WriteContext, subjectId: string, outcome: "rejected" | "expired"): Promise<unknown>;
}

const subjects: Partial<Record<ApprovalSubject, SubjectHandlers>> = {
  payment_intent: { approve: approvePaymentIntent, close: closePaymentIntent },
};

/** Lets another module (service requests) handle its own approvals. */
export function registerApprovalSubject(subject: ApprovalSubject, handlers: SubjectHandlers): void {
  subjects[subject] = handlers;
}

export interface ApprovalChange {
  approval: ApprovalRecord;
  dispatch: string[];
}

/**
 * Approves or rejects a pending approval as `context.actor`, whose credential acts for
 * `actorAgentId` (null for owners). An agent's credential is refused with `approver_not_allowed`.
 */
export async function decideApproval(
  context: WriteContext,
  approvalId: string,
  verdict: "approve" | "reject",
  note: string | null,
  actorAgentId: string | null,
): Promise<Result<ApprovalChange>> {
  if (!canDecideApprovals(context.actor, actorAgentId)) return fail("approver_not_allowed", "an agent's credential can never decide an approval");
  const approval = await loadRecord<ApprovalBody>(context.tx, context.tenantId, "approval", approvalId);
  if (!approval) return fail("not_found", `approval ${approvalId} not found`);
  if (approval.body.status !== "pending") return fail("approval_not_pending", `approval ${approvalId} is ${approval.body.status}`);
  if (approval.dueAtMs !== null && approval.dueAtMs <= context.nowMs) {
    return fail("approval_not_pending", `approval ${approvalId} expired at ${approval.body.expires_at}`);
  }
  const handlers = subjects[approval.body.subject_type];
  if (!handlers) throw new Error(`no handler for approvals of ${approval.body.subject_type}`);
  if (verdict === "reject") {
    const closed = await closeApproval(context, approval, "rejected", note);
    await handlers.close(context, approval.body.subject_id, "rejected");
    return ok({ approval: closed, dispatch: [] });
  }
  const closed = await closeApproval(context, approval, "approved", note);
  const started = await handlers.approve(context, approval.body.subject_id);
  if (!started.ok) return started;
  return ok({ approval: closed, dispatch: started.value.dispatch });
}

/** Expires an approval past its time (the sweeper). A decided approval is left alone. */
export async function expireApproval(context: WriteContext, approvalId: string): Promise<Result<ApprovalRecord | null>> {
  const approval = await loadRecord<ApprovalBody>(context.tx, context.tenantId, "approval", approvalId);
  if (!approval || approval.body.status !== "pending" || approval.dueAtMs === null || approval.dueAtMs > context.nowMs) return ok(null);
  const handlers = subjects[approval.body.subject_type];
  if (!handlers) throw new Error(`no handler for approvals of ${approval.body.subject_type}`);
  const closed = await closeApproval(context, approval, "expired", null);
  await handlers.close(context, approval.body.subject_id, "expired");
  return ok(closed);
}
