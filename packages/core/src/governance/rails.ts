/**
 * The Rail port (SPEC 3 "Rails"): what executes a payment outside the ledger. A payment's money
 * is held before a rail sees it; the rail's outcome captures the hold (completed) or releases it
 * (failed). Rails that answer later (the webhook rail's executor calls back) answer `submitted`,
 * and a payment whose rail stays silent past its deadline fails with `rail_timeout`.
 *
 * The sandbox rail is part of the domain: it moves the money inside the ledger to the payee's
 * account, in the same write that holds it, unless the payee's sandbox details ask for a delay.
 */
import { sandboxDelayMsMax } from "../limits.js";
import type { RailName } from "./payees.js";

export type RailOutcome = { status: "completed"; railReference: string | null } | { status: "failed"; reason: string };

export interface RailPayment {
  tenantId: string;
  transactionId: string;
  /** What it pays for: a payment intent (its leg), or an escrow intent's payout. */
  paymentIntentId: string | null;
  escrowIntentId: string | null;
  agentId: string;
  amountMinor: number;
  currency: string;
  reference: string | null;
  payee: { id: string; name: string; rail: RailName; railDetails: Record<string, unknown> };
}

export interface Rail {
  readonly name: RailName;
  /** Starts the payment; resolves with its outcome, or `submitted` when the outcome comes later. */
  execute(payment: RailPayment, signal: AbortSignal): Promise<RailOutcome | { status: "submitted" }>;
}

/** A sandbox payee's behaviour: `{ outcome: "succeed" | "fail", delay_ms }` in its rail details. */
export interface SandboxBehaviour {
  outcome: "succeed" | "fail";
  delayMs: number;
}

export function sandboxBehaviour(details: Record<string, unknown>): SandboxBehaviour {
  const delay = details.delay_ms;
  return {
    outcome: details.outcome === "fail" ? "fail" : "succeed",
    delayMs: typeof delay === "number" && Number.isSafeInteger(delay) && delay > 0 ? Math.min(delay, sandboxDelayMsMax) : 0,
  };
}

export function sandboxOutcome(behaviour: SandboxBehaviour, transactionId: string): RailOutcome {
  return behaviour.outcome === "fail" ? { status: "failed", reason: "sandbox_configured_failure" } : { status: "completed", railReference: `sandbox_${transactionId}` };
}
