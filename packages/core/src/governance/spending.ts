/**
 * The money side of governance, shared by payments and service requests: decide an action
 * against the agent's policy, budgets and prior spending; hold the money in the ledger together
 * with the spend it counts as; then capture or release both. Everything runs inside the
 * caller's write, and writes of one tenant are serialised, so the check and the hold are one
 * atomic step: concurrent requests cannot spend past a limit or a balance.
 */
import type { WriteContext } from "../journal/events.js";
import { createTransfers, postTransfer, voidTransfer } from "../ledger/ledger.js";
import type { Transfer } from "../ledger/types.js";
import { decide, operationLimitPatterns, periodsInUse, windowStartMs, type Decision, type Period, type PolicyAction, type WindowSpend } from "../policy/policy.js";
import type { AgentRow, StoreReader } from "../ports.js";
import { invariant, ok, type Result } from "../result.js";
import { parentWindows, subtreeIds, sumSpendsOfSet } from "./lineage.js";
import { engineBudgets, enginePolicy, loadBudgets, loadPolicy, type AgentPolicy } from "./policies.js";
import { allocationBudgets, loadTeam, teamWindows } from "./teams.js";

export interface SpendAction {
  kind: PolicyAction["kind"];
  amountMinor: number;
  currency: string;
  payeeId?: string;
  service?: string;
  operation?: string;
  vendor?: string;
  /** A capability covers the action (approval reasons waived). */
  preApproved?: boolean;
}

export interface SpendCheck {
  decision: Decision;
  policy: AgentPolicy;
}

/**
 * What `action` would meet now: the decision and the policy that made it. No side effects.
 *
 * One decision covers every limit the spend counts against (issue 15): the agent's policy,
 * budgets and team allocations over its own spends and its descendants'; its team's pools over
 * every member's spends; and the limits of each agent that spawned it over that parent's whole
 * subtree. Called inside the write that holds the money, so none of them can race.
 */
export async function checkSpend(reader: StoreReader, agent: AgentRow, walletCurrency: string, action: SpendAction, nowMs: number): Promise<SpendCheck> {
  const tenantId = agent.tenantId;
  const agentPolicy = await loadPolicy(reader, tenantId, agent.id, walletCurrency);
  const policy = enginePolicy(agentPolicy.policy);
  const team = agent.teamId === null ? null : await loadTeam(reader, tenantId, agent.teamId);
  const budgets = [...engineBudgets(await loadBudgets(reader, tenantId, agent.id), policy.currency), ...allocationBudgets(team, agent.id, policy.currency)];
  const spenders = await subtreeIds(reader, tenantId, agent.id);
  const spent: Partial<Record<Period, WindowSpend>> = {};
  for (const period of periodsInUse(policy, budgets)) {
    spent[period] = await sumSpendsOfSet(reader, tenantId, spenders, policy.currency, windowStartMs(period, nowMs));
  }
  const operationSpent: Record<string, WindowSpend> = {};
  if (action.kind === "spend_authorization") {
    for (const pattern of operationLimitPatterns(policy, action.operation)) {
      if (policy.operationLimits[pattern]!.dailyMaxMinor === null) continue;
      operationSpent[pattern] = await reader.sumOperationSpends(tenantId, agent.id, policy.currency, windowStartMs("daily", nowMs), pattern);
    }
  }
  const sharedWindows = [...(team ? await teamWindows(reader, team, action.currency, nowMs) : []), ...(await parentWindows(reader, agent, nowMs))];
  const payeePaidBefore = action.payeeId !== undefined && policy.newPayeeRequiresApproval ? await reader.hasSettledSpend(tenantId, agent.id, action.payeeId) : false;
  const decision = decide(policy, { ...action, spent, operationSpent, payeePaidBefore, budgets, sharedWindows, nowMs });
  return { decision, policy: agentPolicy };
}

/**
 * The dry run of `POST /v1/policy/check`: `checkSpend`, plus the wallet, since a payment the
 * policy allows still fails without the money. Adds `insufficient_funds` (a deny) and the
 * wallet's available amount after the action as `remaining.wallet`.
 */
export async function previewSpend(reader: StoreReader, agent: AgentRow, action: SpendAction, nowMs: number): Promise<SpendCheck> {
  const wallet = await reader.getAccount(agent.tenantId, agent.walletAccountId);
  invariant(wallet, `agent ${agent.id} has its wallet`);
  const check = await checkSpend(reader, agent, wallet.currency, action, nowMs);
  const available = wallet.creditsPostedMinor - wallet.debitsPostedMinor - wallet.debitsPendingMinor;
  const decision = { ...check.decision, remaining: { ...check.decision.remaining, wallet: available - action.amountMinor } };
  const short = wallet.currency !== action.currency || available < action.amountMinor;
  if (short) {
    decision.decision = "deny";
    decision.reason_codes = [...decision.reason_codes, wallet.currency !== action.currency ? "currency_mismatch" : "insufficient_funds"];
    decision.available_actions = [...new Set([...decision.available_actions, "lower_amount" as const, "fund_wallet" as const])];
  }
  return { ...check, decision };
}

export interface Reservation {
  agentId: string;
  walletAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: string;
  payeeId: string | null;
  /** The spend authorization's operation, for per-operation limits; null for payments and service requests. */
  operation?: string | null;
  timeoutSeconds: number;
  reference: string | null;
  metadata: Record<string, string>;
}

/**
 * Holds the money (a pending transfer from the wallet) and records it as a held spend under the
 * hold's id. Fails as the ledger does (`insufficient_funds`, `currency_mismatch`, …), having
 * written nothing.
 */
export async function reserve(context: WriteContext, reservation: Reservation): Promise<Result<Transfer>> {
  const created = await createTransfers(context, [
    {
      debitAccountId: reservation.walletAccountId,
      creditAccountId: reservation.creditAccountId,
      amountMinor: reservation.amountMinor,
      currency: reservation.currency,
      pending: true,
      timeoutSeconds: reservation.timeoutSeconds,
      reference: reservation.reference,
      metadata: reservation.metadata,
    },
  ]);
  if (!created.ok) return created;
  const hold = created.value.transfers[0]!;
  await context.tx.insertSpend({
    tenantId: context.tenantId, id: hold.id, agentId: reservation.agentId, amountMinor: reservation.amountMinor,
    currency: reservation.currency, payeeId: reservation.payeeId, operation: reservation.operation ?? null, atMs: context.nowMs, state: "held",
  });
  return ok(hold);
}

/**
 * Posts the hold, in full or for `amountMinor` of it (the rest goes back to the wallet), and
 * settles its spend at the amount posted, so the windows count what was spent, not what was
 * held. Fails (writing nothing) when the hold is no longer pending or the amount exceeds it.
 */
export async function capture(context: WriteContext, holdId: string, amountMinor?: number): Promise<Result<Transfer>> {
  const posted = await postTransfer(context, holdId, amountMinor);
  if (!posted.ok) return posted;
  await context.tx.setSpendState(context.tenantId, holdId, "settled", posted.value.postedAmountMinor);
  return ok(posted.value);
}

/** Voids the hold (when still pending) and releases its spend. */
export async function release(context: WriteContext, holdId: string): Promise<void> {
  const transfer = await context.tx.getTransfer(context.tenantId, holdId);
  if (transfer?.status === "pending") {
    const voided = await voidTransfer(context, holdId);
    // A pending hold past its expiry cannot be voided; the ledger sweeper expires it.
    if (!voided.ok && voided.code !== "pending_transfer_expired") throw new Error(`releasing hold ${holdId}: ${voided.detail}`);
  }
  await context.tx.setSpendState(context.tenantId, holdId, "released");
}
