/**
 * `/v1/spend/authorizations`: authorize → execute → complete, for anything an agent pays for that
 * Bursar does not execute itself (a paid API, an MCP tool, an x402 resource, a vendor account).
 * `authorize` asks the policy and, unless denied, holds the most the call may cost; `complete`
 * consumes what it really cost (the rest goes back) or releases it all. `guard` does the three
 * steps around your function; `authorizeAndWait` waits (bounded) for an owner's decision.
 */
import { BursarError, ConflictError, ConnectionError, SpendCompletionError } from "../errors.ts";
import { spendApprovalPollIntervalDefaultMs, spendApprovalPollIntervalMaxMs, spendApprovalPollIntervalMinMs, spendApprovalWaitMaxMs } from "../limits.ts";
import type { Page } from "../pagination.ts";
import { sleep } from "../transport.ts";
import type { SpendAuthorization, SpendAuthorizationListParams, SpendAuthorizeParams, SpendCompleteParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

/** How `authorizeAndWait` (and `guard` with `waitForApproval`) waits for an owner. */
export interface SpendWaitOptions {
  /** How long to wait for a decision; at most `limits.spendApprovalWaitMaxMs` (7 days). */
  timeoutMs: number;
  /**
   * Delay before the first poll (default 1 s, at least 100 ms); each later one waits 1.5× longer,
   * up to `limits.spendApprovalPollIntervalMaxMs` (5 s).
   */
  pollIntervalMs?: number;
  /** Stops waiting: the authorization is released (best effort, as when a poll fails) and a `ConnectionError` thrown. */
  signal?: AbortSignal;
}

/**
 * `decided`: no longer pending (`authorized`, `denied`, `rejected`, `expired`, or released
 * elsewhere). `timed_out`: nobody decided within `timeoutMs`, so the SDK released it (nothing is
 * held); an approval given after that changes nothing.
 */
export type SpendWaitResult =
  | { status: "decided"; authorization: SpendAuthorization }
  | { status: "timed_out"; authorization: SpendAuthorization };

/**
 * What a guarded function returns: what the call cost, and how to prove it; any other field (the
 * vendor's response) comes back to you in the result's `value`.
 */
export interface SpendGuardCompletion {
  /** Minor units, at most the authorized amount; default: the authorized amount. */
  amount?: number;
  /** The vendor's id for the charge. */
  externalReference?: string | null;
  /** A receipt, a response header…, as JSON. */
  evidence?: unknown;
  [field: string]: unknown;
}

/**
 * What `guard` did. Only `completed` ran the function; in every other case nothing is held.
 * - `denied`: the policy said no, or an owner rejected it (`reasonCodes` says which, e.g.
 *   `approval_rejected`); `availableActions` says what could change that.
 * - `approval_required`: it waits for an owner (`approvalId`) and its amount is held; complete
 *   it `released` if you give up, or pass `waitForApproval` to wait inside `guard`.
 * - `approval_timed_out` (with `waitForApproval` only): nobody decided in time, or the approval
 *   expired; the hold is released.
 */
export type SpendGuardResult<R> =
  | { status: "completed"; authorization: SpendAuthorization; value: R }
  | { status: "denied"; authorization: SpendAuthorization; reasonCodes: string[]; availableActions: string[] }
  | { status: "approval_required"; authorization: SpendAuthorization; approvalId: string; availableActions: string[] }
  | { status: "approval_timed_out"; authorization: SpendAuthorization; approvalId: string | null };

export interface SpendGuardOptions extends CallOptions {
  /** Wait for an owner's decision (`authorizeAndWait`) instead of returning `approval_required`. */
  waitForApproval?: Omit<SpendWaitOptions, "signal">;
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

export class SpendAuthorizations extends Resource {
  /**
   * Asks to spend up to `amount` on `operation`. Always answers (201) whatever the decision:
   * read `status` (`authorized`, `pending_approval`, `denied`), `reason_codes` and
   * `available_actions`. A refused capability token throws `PermissionDeniedError` with its code
   * (`capability_revoked`, `capability_expired`, `capability_exhausted`, …) and holds nothing.
   * @example const authorization = await bursar.spend.authorize({ operation: "openai.chat", amount: 500, currency: "GBP" });
   */
  authorize(params: SpendAuthorizeParams, options?: CallOptions): Promise<SpendAuthorization> {
    return this.postJson("/v1/spend/authorizations", params, options);
  }

  /**
   * `consumed` posts `amount` (default: all) to the vendor and releases the rest; `released`
   * gives it all back (a pending one's approval is cancelled). The same outcome twice answers the
   * first result; another is `ConflictError` `authorization_already_completed`.
   * @example await bursar.spend.complete(authorization.id, { outcome: "consumed", amount: 320, external_reference: "chatcmpl-123" });
   */
  complete(id: string, params: SpendCompleteParams, options?: CallOptions): Promise<SpendAuthorization> {
    return this.postJson(`/v1/spend/authorizations/${segment(id)}/complete`, params, options);
  }

  /** @example const { status, consumed_amount } = await bursar.spend.get("sa_…"); */
  get(id: string, options?: CallOptions): Promise<SpendAuthorization> {
    return this.getJson(`/v1/spend/authorizations/${segment(id)}`, undefined, options);
  }

  /** An agent lists its own; owners all (or one agent's). @example for await (const authorization of await bursar.spend.list({ status: "authorized" })) … */
  list(params: SpendAuthorizationListParams = {}, options?: CallOptions): Promise<Page<SpendAuthorization>> {
    return this.paginate("/v1/spend/authorizations", { ...params }, options);
  }

  /**
   * Authorizes, then polls while it is `pending_approval` until an owner decides or `timeoutMs`
   * passes; on timeout it releases the authorization and answers `timed_out`.
   * @example
   * const { status, authorization } = await bursar.spend.authorizeAndWait(
   *   { operation: "vendor.invoice", amount: 25_000, currency: "GBP" }, { timeoutMs: 10 * 60_000 });
   * if (status === "decided" && authorization.status === "authorized") { … }
   */
  async authorizeAndWait(params: SpendAuthorizeParams, options: SpendWaitOptions & Pick<CallOptions, "idempotencyKey">): Promise<SpendWaitResult> {
    const authorization = await this.authorize(params, { signal: options.signal, idempotencyKey: options.idempotencyKey });
    return this.waitForDecision(authorization, options);
  }

  /**
   * Authorizes, runs `fn` if authorized, and completes: `consumed` with the amount `fn` returns
   * (default: the authorized amount), or `released` if `fn` throws (the error is rethrown). A
   * denial or a wait for approval is a result, not an exception, and runs nothing. The
   * completion does not listen to `signal`: once `fn` has run, its cost is recorded. If it
   * cannot be recorded, `SpendCompletionError` says which authorization to complete.
   * @example
   * const result = await bursar.spend.guard({ operation: "openai.chat", amount: 500, currency: "GBP" }, async (authorization) => {
   *   const response = await openai.chat.completions.create({ ... });
   *   return { amount: costOf(response.usage), externalReference: response.id, response };
   * });
   * if (result.status === "completed") console.log(result.value.response);
   * else console.log(result.status, result.authorization.reason_codes);
   */
  async guard<R extends SpendGuardCompletion | void>(
    params: SpendAuthorizeParams,
    fn: (authorization: SpendAuthorization) => Promise<R> | R,
    options: SpendGuardOptions = {},
  ): Promise<SpendGuardResult<R>> {
    const { waitForApproval, ...call } = options;
    const authorization = waitForApproval
      ? (await this.authorizeAndWait(params, { ...waitForApproval, signal: call.signal, idempotencyKey: call.idempotencyKey })).authorization
      : await this.authorize(params, call);
    switch (authorization.status) {
      case "authorized":
        return this.run(authorization, fn, call);
      case "denied":
      case "rejected":
        return { status: "denied", authorization, reasonCodes: authorization.reason_codes, availableActions: authorization.available_actions };
      case "pending_approval":
        return { status: "approval_required", authorization, approvalId: authorization.approval_id!, availableActions: authorization.available_actions };
      case "expired":
      case "released":
        return { status: "approval_timed_out", authorization, approvalId: authorization.approval_id };
      case "consumed":
        throw new BursarError(`spend authorization ${authorization.id} was consumed by someone else while it waited`);
    }
  }

  private async run<R extends SpendGuardCompletion | void>(
    authorization: SpendAuthorization,
    fn: (authorization: SpendAuthorization) => Promise<R> | R,
    options: CallOptions,
  ): Promise<SpendGuardResult<R>> {
    let value: R;
    try {
      value = await fn(authorization);
    } catch (error) {
      // Best effort: if the release is lost too, the hold is released at `expires_at`.
      await this.complete(authorization.id, { outcome: "released" }, { timeoutMs: options.timeoutMs }).catch(() => undefined);
      throw error;
    }
    const completion: SpendGuardCompletion = value ?? {};
    try {
      const completed = await this.complete(
        authorization.id,
        { outcome: "consumed", amount: completion.amount ?? authorization.amount, external_reference: completion.externalReference, evidence: completion.evidence },
        { timeoutMs: options.timeoutMs },
      );
      return { status: "completed", authorization: completed, value };
    } catch (error) {
      throw new SpendCompletionError(authorization.id, value, error);
    }
  }

  private async waitForDecision(authorization: SpendAuthorization, options: SpendWaitOptions): Promise<SpendWaitResult> {
    const deadlineMs = Date.now() + clamp(options.timeoutMs, 0, spendApprovalWaitMaxMs);
    let intervalMs = clamp(options.pollIntervalMs ?? spendApprovalPollIntervalDefaultMs, spendApprovalPollIntervalMinMs, spendApprovalPollIntervalMaxMs);
    const signal = options.signal ? AbortSignal.any([options.signal, this.client.closedSignal]) : this.client.closedSignal;
    let current = authorization;
    try {
      while (current.status === "pending_approval") {
        const leftMs = deadlineMs - Date.now();
        if (leftMs <= 0) return await this.giveUp(current);
        await sleep(Math.min(intervalMs, leftMs), signal).catch((reason: unknown) => {
          throw new ConnectionError("wait for approval aborted", { cause: reason });
        });
        intervalMs = Math.min(intervalMs * 1.5, spendApprovalPollIntervalMaxMs);
        current = await this.get(current.id, { signal });
      }
    } catch (error) {
      // Aborted, or a poll failed: the caller gets an error, not the id, so nothing may stay held
      // for it (best effort; else the approval's own expiry releases it).
      if (current.status === "pending_approval") await this.complete(current.id, { outcome: "released" }).catch(() => undefined);
      throw error;
    }
    return { status: "decided", authorization: current };
  }

  /** Releases a still-pending authorization at the deadline (a decision may land just before). */
  private async giveUp(authorization: SpendAuthorization): Promise<SpendWaitResult> {
    try {
      return { status: "timed_out", authorization: await this.complete(authorization.id, { outcome: "released" }) };
    } catch (error) {
      // Rejected or expired in the meantime: it is decided, and nothing is held.
      if (!(error instanceof ConflictError)) throw error;
      return { status: "decided", authorization: await this.get(authorization.id) };
    }
  }
}
