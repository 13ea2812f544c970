/**
 * `@bursar/sdk/x402`: Bursar as the spending authority of an x402 client (`@x402/core` 2.x, whose
 * newest line, 2.27, declares no engine and runs on Node 20). The x402 client still signs and pays;
 * Bursar decides whether it may, against the agent's policy, budgets and approvals, and records
 * what it cost in the ledger. Optional peer dependency `@x402/core` (types only: the guard calls
 * the hooks of the client you give it, it imports nothing at run time).
 *
 * What `register(client, httpClient?)` hooks in:
 * - **offered requirements filtered by policy** (`registerPolicy`): only networks/assets you mapped
 *   to a Bursar currency are payable; with an `x402HTTPClient`, each offer is first checked with
 *   Bursar's dry run (`POST /v1/policy/check`, kind `spend_authorization`, in `onPaymentRequired`)
 *   and those it would deny are dropped, the allowed ones first;
 * - **authorize before a payment payload is created** (`onBeforePaymentCreation`): the selected
 *   requirement's amount is authorized (held); a denial, or a hold for an owner, aborts: no
 *   payload is signed, and a pending hold is released (unless `waitForApproval` waits for the
 *   owner's decision and goes on if approved);
 * - **complete** (`onPaymentResponse`): `consumed` with the settled amount (`PAYMENT-RESPONSE`'s
 *   `amount`, else the requirement's) and its `transaction` as the external reference;
 *   `released` when the payload could not be created (`onPaymentCreationFailure`), the
 *   settlement failed (`success: false`) or the server answered 402 again. A paid request whose
 *   answer carries no settlement at all may have paid: it is consumed in full (the budget errs on
 *   the side of counting), with `settlement: "missing"` in the evidence.
 *
 * Amounts: an x402 amount is atomic units of a token; `assets` says which Bursar currency a
 * network's asset is spent as and how many atomic units make one minor unit (USDC has 6 decimals,
 * so `10_000` per US cent). Authorizations round up, so the hold always covers the payment.
 *
 * @example
 * import { x402Client, x402HTTPClient } from "@x402/core/client";
 * import { wrapFetchWithPayment } from "@x402/fetch";
 * const client = new x402Client().register("eip155:8453", new ExactEvmScheme(signer));
 * const http = new x402HTTPClient(client);
 * createBursarX402(new Bursar(), { assets: [{ network: "eip155:8453", asset: USDC_BASE, currency: "USD", atomicPerMinor: 10_000 }] }).register(client, http);
 * const paidFetch = wrapFetchWithPayment(fetch, http);
 */
import type { x402Client, x402HTTPClient } from "@x402/core/client";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import type { Bursar } from "../client.ts";
import type { PolicyDecision, SpendAuthorization } from "../types.ts";

/** How one network's asset is spent in Bursar. */
export interface X402Asset {
  /** CAIP-2 network, e.g. `eip155:8453`. */
  network: string;
  /** The token address (or ISO 4217 code) as the requirement names it; compared case-insensitively. */
  asset: string;
  /** The Bursar currency the agent's policy and wallet use for it. */
  currency: string;
  /** Atomic units of the asset per minor unit of `currency` (a positive integer). */
  atomicPerMinor: number | bigint | string;
}

export interface BursarX402Options {
  assets: X402Asset[];
  /** The spend authorization's operation (default `x402.fetch`). */
  operation?: string;
  /** Who is paid (default: the host of the resource's URL, else the requirement's `payTo`). */
  vendor?: (requirement: PaymentRequirements, paymentRequired: PaymentRequired) => string;
  /** Wait for an owner when Bursar holds a payment for approval, instead of aborting it. */
  waitForApproval?: { timeoutMs: number; pollIntervalMs?: number };
}

/** Why the guard aborted a payment: `reason_codes` of the decision, and the approval if one was raised. */
export class X402SpendRefusedError extends Error {
  constructor(
    readonly authorization: SpendAuthorization,
    readonly reasonCodes: string[],
  ) {
    super(`bursar: ${authorization.status} (${reasonCodes.join(", ") || "no reason given"}) for ${authorization.amount} ${authorization.currency}; no payment was created`);
    this.name = "X402SpendRefusedError";
  }
}

export interface BursarX402 {
  /** Hooks the guard into `client` (and, given its HTTP wrapper, the dry-run filter). Call once per client. */
  register(client: x402Client, httpClient?: x402HTTPClient): void;
  /** The minor units `requirement` costs in Bursar, or null when it is not payable (unmapped asset, not an integer). */
  minorAmountOf(requirement: PaymentRequirements, atomic?: string): { amount: number; currency: string } | null;
}

const authorizationExpiryMarginSeconds = 60;
const authorizationExpiryMaxSeconds = 86_400;

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

export function createBursarX402(bursar: Bursar, options: BursarX402Options): BursarX402 {
  const operation = options.operation ?? "x402.fetch";
  const assets = options.assets.map((entry) => {
    const atomicPerMinor = BigInt(entry.atomicPerMinor);
    if (atomicPerMinor <= 0n) throw new RangeError(`atomicPerMinor must be a positive integer (${entry.network} ${entry.asset})`);
    return { ...entry, atomicPerMinor };
  });
  const assetOf = (requirement: PaymentRequirements) =>
    assets.find((entry) => entry.network === requirement.network && entry.asset.toLowerCase() === String(requirement.asset).toLowerCase());

  function minorAmountOf(requirement: PaymentRequirements, atomic: string = requirement.amount): { amount: number; currency: string } | null {
    const entry = assetOf(requirement);
    if (!entry || !/^[0-9]{1,78}$/.test(atomic)) return null;
    const minor = ceilDiv(BigInt(atomic), entry.atomicPerMinor);
    if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    return { amount: Number(minor), currency: entry.currency };
  }

  const vendorOf = (requirement: PaymentRequirements, paymentRequired: PaymentRequired): string => {
    if (options.vendor) return options.vendor(requirement, paymentRequired);
    try {
      return new URL(paymentRequired.resource.url).host;
    } catch {
      return requirement.payTo;
    }
  };

  // Dry-run decisions per offered requirement (by identity: the same objects reach the policy hook).
  const decisions = new WeakMap<object, PolicyDecision["decision"]>();
  // The authorization made for a selected requirement, then for the payload created from it.
  const bySelection = new WeakMap<object, SpendAuthorization>();
  const byPayload = new WeakMap<object, SpendAuthorization>();

  const release = async (authorization: SpendAuthorization | undefined) => {
    // Best effort: a release that is lost too ends at the authorization's `expires_at`.
    if (authorization) await bursar.spend.complete(authorization.id, { outcome: "released" }).catch(() => undefined);
  };

  async function authorize(requirement: PaymentRequirements, paymentRequired: PaymentRequired): Promise<SpendAuthorization | { refused: string }> {
    const cost = minorAmountOf(requirement);
    if (!cost) return { refused: `no Bursar currency for ${requirement.network} ${requirement.asset}` };
    const params = {
      operation,
      vendor: vendorOf(requirement, paymentRequired),
      amount: cost.amount,
      currency: cost.currency,
      expires_in: Math.min(authorizationExpiryMaxSeconds, Math.max(0, requirement.maxTimeoutSeconds ?? 0) + authorizationExpiryMarginSeconds),
      // Metadata values are at most 500 characters (limits.metadataValueLengthMax).
      metadata: { x402_resource: String(paymentRequired.resource?.url ?? "").slice(0, 500), x402_network: requirement.network.slice(0, 500), x402_pay_to: String(requirement.payTo).slice(0, 500), x402_amount: requirement.amount },
    };
    const authorization = options.waitForApproval
      ? (await bursar.spend.authorizeAndWait(params, options.waitForApproval)).authorization
      : await bursar.spend.authorize(params);
    return authorization;
  }

  function register(client: x402Client, httpClient?: x402HTTPClient): void {
    httpClient?.onPaymentRequired(async ({ paymentRequired }) => {
      await Promise.all(
        paymentRequired.accepts.map(async (requirement) => {
          const cost = minorAmountOf(requirement);
          if (!cost) return;
          const check = await bursar.policy.check({ kind: "spend_authorization", operation, vendor: vendorOf(requirement, paymentRequired), amount: cost.amount, currency: cost.currency });
          decisions.set(requirement, check.decision);
        }),
      );
    });

    client.registerPolicy((_version, requirements) => {
      const payable = requirements.filter((requirement) => minorAmountOf(requirement) !== null && decisions.get(requirement) !== "deny");
      const rank = (requirement: PaymentRequirements) => (decisions.get(requirement) === "allow" ? 0 : 1);
      return payable.sort((a, b) => rank(a) - rank(b));
    });

    client.onBeforePaymentCreation(async ({ paymentRequired, selectedRequirements }) => {
      const authorization = await authorize(selectedRequirements, paymentRequired);
      if ("refused" in authorization) return { abort: true, reason: authorization.refused };
      if (authorization.status === "authorized") {
        bySelection.set(selectedRequirements, authorization);
        return undefined;
      }
      if (authorization.status === "pending_approval") await release(authorization);
      const error = new X402SpendRefusedError(authorization, authorization.status === "pending_approval" ? [...authorization.reason_codes, "approval_required"] : authorization.reason_codes);
      return { abort: true, reason: error.message };
    });

    client.onAfterPaymentCreation(async ({ selectedRequirements, paymentPayload }) => {
      const authorization = bySelection.get(selectedRequirements);
      if (authorization) byPayload.set(paymentPayload, authorization);
    });

    client.onPaymentCreationFailure(async ({ selectedRequirements }) => {
      await release(bySelection.get(selectedRequirements));
      bySelection.delete(selectedRequirements);
      return undefined;
    });

    client.onPaymentResponse(async ({ paymentPayload, requirements, settleResponse, paymentRequired }) => {
      const authorization = byPayload.get(paymentPayload);
      if (!authorization) return undefined;
      byPayload.delete(paymentPayload);
      if (paymentRequired || (settleResponse && !settleResponse.success)) {
        await release(authorization);
        return undefined;
      }
      await bursar.spend.complete(authorization.id, completion(authorization, requirements, paymentPayload, settleResponse));
      return undefined;
    });
  }

  function completion(authorization: SpendAuthorization, requirements: PaymentRequirements, payload: PaymentPayload, settled: SettleResponse | undefined) {
    if (!settled) return { outcome: "consumed" as const, amount: authorization.amount, evidence: { settlement: "missing", network: requirements.network, x402_version: payload.x402Version } };
    const cost = minorAmountOf(requirements, settled.amount ?? requirements.amount);
    // A settlement above what was authorized is the resource's breach; the hold caps what is recorded.
    const amount = Math.min(cost?.amount ?? authorization.amount, authorization.amount);
    const evidence = { settlement: "payment_response", network: settled.network, transaction: settled.transaction, payer: settled.payer ?? null, amount_atomic: settled.amount ?? requirements.amount };
    return { outcome: "consumed" as const, amount, external_reference: String(settled.transaction ?? "").slice(0, 200) || null, evidence };
  }

  return { register, minorAmountOf };
}
