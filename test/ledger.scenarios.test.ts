/**
 * The ledger's rules as tables of scenarios (TigerBeetle's state-machine tests), run through the
 * core against every store kind. Each scenario creates named accounts, applies steps in order —
 * each with the result code it must produce — and then checks every balance field.
 */
import {
  createAccount,
  createTransfers,
  deposit,
  expireHold,
  postTransfer,
  voidTransfer,
  type Result,
  type Store,
  type WriteContext,
} from "@bursar/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, openFreshStore, storeKinds } from "./support.js";

type AccountSpec = { currency?: string; floor?: boolean; fund?: number };
type Step =
  | { transfer: [from: string, to: string, amount: number]; pending?: boolean; id?: string; as?: string; currency?: string; timeout?: number; reference?: string; expect: string }
  | { batch: Array<[from: string, to: string, amount: number]>; expect: string }
  | { post: string; amount?: number; expect: string }
  | { void: string; expect: string }
  | { expire: string; expect: string }
  | { advanceSeconds: number };
/** Expected [debits_pending, debits_posted, credits_pending, credits_posted] per account. */
type Balances = Record<string, [number, number, number, number]>;

interface Scenario {
  name: string;
  accounts: Record<string, AccountSpec>;
  steps: Step[];
  balances: Balances;
}

const scenarios: Scenario[] = [
  {
    name: "a posted transfer moves money",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [{ transfer: ["A", "B", 300], expect: "ok" }],
    balances: { A: [0, 300, 0, 1000], B: [0, 0, 0, 300] },
  },
  {
    name: "the floor refuses a debit beyond the credits, to the unit",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 1001], expect: "insufficient_funds" },
      { transfer: ["A", "B", 1000], expect: "ok" },
      { transfer: ["A", "B", 1], expect: "insufficient_funds" },
    ],
    balances: { A: [0, 1000, 0, 1000], B: [0, 0, 0, 1000] },
  },
  {
    name: "an account without a floor may go below zero",
    accounts: { A: { floor: false }, B: {} },
    steps: [{ transfer: ["A", "B", 500], expect: "ok" }],
    balances: { A: [0, 500, 0, 0], B: [0, 0, 0, 500] },
  },
  {
    name: "a hold reserves money: a second debit cannot use it",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 700], pending: true, as: "h", expect: "ok" },
      { transfer: ["A", "B", 301], expect: "insufficient_funds" },
      { transfer: ["A", "B", 300], expect: "ok" },
    ],
    balances: { A: [700, 300, 0, 1000], B: [0, 0, 700, 300] },
  },
  {
    name: "posting a hold in part releases the rest",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 700], pending: true, as: "h", expect: "ok" },
      { post: "h", amount: 701, expect: "post_amount_exceeds_pending_amount" },
      { post: "h", amount: 400, expect: "ok" },
      { post: "h", expect: "transfer_not_pending" },
      { void: "h", expect: "transfer_not_pending" },
    ],
    balances: { A: [0, 400, 0, 1000], B: [0, 0, 0, 400] },
  },
  {
    name: "voiding a hold releases all of it",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 1000], pending: true, as: "h", expect: "ok" },
      { void: "h", expect: "ok" },
      { post: "h", expect: "transfer_not_pending" },
      { transfer: ["A", "B", 1000], expect: "ok" },
    ],
    balances: { A: [0, 1000, 0, 1000], B: [0, 0, 0, 1000] },
  },
  {
    name: "a hold expires: it can no longer be posted, and the money is free again",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 600], pending: true, timeout: 60, as: "h", expect: "ok" },
      { expire: "h", expect: "validation_failed" },
      { advanceSeconds: 61 },
      { post: "h", expect: "pending_transfer_expired" },
      { expire: "h", expect: "transfer_not_pending" },
      { transfer: ["A", "B", 1000], expect: "ok" },
    ],
    balances: { A: [0, 1000, 0, 1000], B: [0, 0, 0, 1000] },
  },
  {
    name: "the sweeper's expiry of a due hold",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 600], pending: true, timeout: 5, as: "h", expect: "ok" },
      { advanceSeconds: 5 },
      { expire: "h", expect: "ok" },
    ],
    balances: { A: [0, 0, 0, 1000], B: [0, 0, 0, 0] },
  },
  {
    name: "a batch succeeds or fails as one",
    accounts: { A: { fund: 1000 }, B: {}, C: {} },
    steps: [
      { batch: [["A", "B", 400], ["A", "C", 400], ["A", "B", 400]], expect: "insufficient_funds" },
      { batch: [["A", "B", 400], ["A", "C", 400], ["B", "C", 100]], expect: "ok" },
    ],
    balances: { A: [0, 800, 0, 1000], B: [0, 100, 0, 400], C: [0, 0, 0, 500] },
  },
  {
    name: "a batch may use money an earlier transfer of the same batch brought in",
    accounts: { A: { fund: 100 }, B: {} },
    steps: [{ batch: [["A", "B", 100], ["B", "A", 60]], expect: "ok" }],
    balances: { A: [0, 100, 0, 160], B: [0, 60, 0, 100] },
  },
  {
    name: "the same transfer id with the same fields is applied once",
    accounts: { A: { fund: 1000 }, B: {} },
    steps: [
      { transfer: ["A", "B", 100], id: "tr_invoice-1", expect: "ok" },
      { transfer: ["A", "B", 100], id: "tr_invoice-1", expect: "ok" },
      { transfer: ["A", "B", 101], id: "tr_invoice-1", expect: "transfer_exists_with_different_fields" },
      { transfer: ["A", "B", 100], id: "tr_invoice-1", reference: "other", expect: "transfer_exists_with_different_fields" },
    ],
    balances: { A: [0, 100, 0, 1000], B: [0, 0, 0, 100] },
  },
  {
    name: "currencies never mix",
    accounts: { A: { fund: 1000 }, E: { currency: "EUR" } },
    steps: [
      { transfer: ["A", "E", 100], expect: "currency_mismatch" },
      { transfer: ["A", "E", 100], currency: "EUR", expect: "currency_mismatch" },
      { transfer: ["A", "A", 100], expect: "accounts_must_be_different" },
      { transfer: ["A", "E", 100], currency: "XYZ", expect: "unknown_currency" },
    ],
    balances: { A: [0, 0, 0, 1000], E: [0, 0, 0, 0] },
  },
  {
    name: "amounts are positive integers no larger than 10^15",
    accounts: { A: { floor: false }, B: {} },
    steps: [
      { transfer: ["A", "B", 0], expect: "validation_failed" },
      { transfer: ["A", "B", -5], expect: "validation_failed" },
      { transfer: ["A", "B", 1.5], expect: "validation_failed" },
      { transfer: ["A", "B", 10 ** 15 + 1], expect: "validation_failed" },
      { transfer: ["A", "B", 10 ** 15], expect: "ok" },
    ],
    balances: { A: [0, 10 ** 15, 0, 0], B: [0, 0, 0, 10 ** 15] },
  },
  {
    name: "no balance field may pass 2^53 - 1",
    accounts: { A: { floor: false }, B: {} },
    steps: [
      ...Array.from({ length: 9 }, () => ({ transfer: ["A", "B", 10 ** 15] as [string, string, number], expect: "ok" })),
      { transfer: ["A", "B", 10 ** 15], expect: "overflows_balance" },
    ],
    balances: { A: [0, 9 * 10 ** 15, 0, 0], B: [0, 0, 0, 9 * 10 ** 15] },
  },
  {
    name: "a transfer to an account of another tenant is not found",
    accounts: { A: { fund: 100 }, B: {} },
    steps: [{ transfer: ["A", "other-tenant", 10], expect: "not_found" }],
    balances: { A: [0, 0, 0, 100], B: [0, 0, 0, 0] },
  },
];

for (const kind of storeKinds) {
  describe(`ledger scenarios on ${kind}`, () => {
    let store: Store;
    let otherTenantAccountId: string;

    beforeAll(async () => {
      store = await openFreshStore(kind);
      const other = await createTestTenant(store, "Other");
      otherTenantAccountId = await store.write(other.tenantId, async (tx) => {
        const result = await createAccount({ tx, tenantId: other.tenantId, nowMs: Date.now(), actor: { type: "system", id: "test" } }, { currency: "GBP" });
        if (!result.ok) throw new Error(result.detail);
        return result.value.id;
      });
    });
    afterAll(() => store.close());

    for (const scenario of scenarios) {
      it(scenario.name, async () => {
        const { tenantId } = await createTestTenant(store);
        let nowMs = Date.UTC(2026, 10, 22, 12);
        const run = <T>(operation: (context: WriteContext) => Promise<T>) =>
          store.write(tenantId, (tx) => operation({ tx, tenantId, nowMs, actor: { type: "system", id: "test" } }));
        const unwrap = <T>(result: Result<T>): T => {
          if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
          return result.value;
        };

        const ids: Record<string, string> = { "other-tenant": otherTenantAccountId };
        for (const [name, spec] of Object.entries(scenario.accounts)) {
          const currency = spec.currency ?? "GBP";
          const account = unwrap(await run((c) => createAccount(c, { currency, debitsMustNotExceedCredits: spec.floor ?? true })));
          ids[name] = account.id;
          if (spec.fund) unwrap(await run((c) => deposit(c, { accountId: account.id, amountMinor: spec.fund! })));
        }
        const holds: Record<string, string> = {};

        for (const [index, step] of scenario.steps.entries()) {
          if ("advanceSeconds" in step) {
            nowMs += step.advanceSeconds * 1000;
            continue;
          }
          let result: Result<unknown>;
          if ("transfer" in step) {
            const [from, to, amount] = step.transfer;
            result = await run((c) =>
              createTransfers(c, [
                {
                  id: step.id,
                  debitAccountId: ids[from]!,
                  creditAccountId: ids[to]!,
                  amountMinor: amount,
                  currency: step.currency ?? "GBP",
                  pending: step.pending,
                  timeoutSeconds: step.timeout,
                  reference: step.reference,
                },
              ]),
            );
            if (result.ok && step.as) holds[step.as] = (result.value as { transfers: Array<{ id: string }> }).transfers[0]!.id;
          } else if ("batch" in step) {
            result = await run((c) =>
              createTransfers(
                c,
                step.batch.map(([from, to, amount]) => ({ debitAccountId: ids[from]!, creditAccountId: ids[to]!, amountMinor: amount, currency: "GBP" })),
              ),
            );
          } else if ("post" in step) {
            result = await run((c) => postTransfer(c, holds[step.post]!, step.amount));
          } else if ("void" in step) {
            result = await run((c) => voidTransfer(c, holds[step.void]!));
          } else {
            result = await run((c) => expireHold(c, holds[step.expire]!));
          }
          const code = result.ok ? "ok" : result.code;
          expect(code, `step ${index} of "${scenario.name}"`).toBe(step.expect);
        }

        for (const [name, [debitsPending, debitsPosted, creditsPending, creditsPosted]] of Object.entries(scenario.balances)) {
          const account = await store.read.getAccount(tenantId, ids[name]!);
          expect(
            [account!.debitsPendingMinor, account!.debitsPostedMinor, account!.creditsPendingMinor, account!.creditsPostedMinor],
            `balances of ${name}`,
          ).toEqual([debitsPending, debitsPosted, creditsPending, creditsPosted]);
        }

        // Double entry: per currency, debits equal credits, posted and pending.
        for (const sum of await store.read.sumBalances(tenantId)) {
          expect(sum.debitsPostedMinor, `${sum.currency} posted`).toBe(sum.creditsPostedMinor);
          expect(sum.debitsPendingMinor, `${sum.currency} pending`).toBe(sum.creditsPendingMinor);
        }
      });
    }
  });
}
