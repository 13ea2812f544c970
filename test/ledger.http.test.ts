/**
 * The owner-level ledger API end to end: a real server on loopback, real HTTP, a real store of
 * every kind. Includes the attacks: wrong tenant, concurrent overspend, duplicate ids, bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBase64, verifyInclusion, type Store } from "@bursar/core";
import type { RunningServer } from "@bursar/server";
import { checkConsistency, checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { TestClock, client, createTestTenant, startTestServer, storeKinds } from "./support.js";

for (const kind of storeKinds) {
  describe(`ledger over HTTP on ${kind}`, () => {
    const clock = new TestClock(Date.now());
    let server: RunningServer;
    let store: Store;
    let api: ReturnType<typeof client>;
    let other: ReturnType<typeof client>;
    let token: string;

    beforeAll(async () => {
      server = await startTestServer(kind, { clock });
      store = server.store;
      token = (await createTestTenant(store, "A")).token;
      api = client(server.url, token);
      other = client(server.url, (await createTestTenant(store, "B")).token);
    });
    afterAll(() => server.close());

    async function fundedAccount(amount: number, currency = "GBP") {
      const account = await api.post("/v1/accounts", { currency, kind: "wallet", name: "wallet" });
      expect(account.status).toBe(201);
      if (amount > 0) expect((await api.post(`/v1/accounts/${account.body.id}/deposits`, { amount })).status).toBe(201);
      return account.body.id as string;
    }

    it("refuses requests without a valid owner token", async () => {
      expect((await client(server.url).get("/v1/accounts")).status).toBe(401);
      const forged = await client(server.url, "bpat_forged").get("/v1/accounts");
      expect(forged.status).toBe(401);
      expect(forged.body.code).toBeTypeOf("string");
    });

    it("creates accounts, deposits, transfers, and shows balances with display strings", async () => {
      const wallet = await fundedAccount(50_000);
      const payee = (await api.post("/v1/accounts", { currency: "GBP", kind: "payee", name: "Bob" })).body.id;
      const transfer = await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 12_345, currency: "GBP", reference: "April invoice" });
      expect(transfer.status).toBe(201);
      expect(transfer.body).toMatchObject({ status: "posted", amount: 12_345, amount_display: "123.45", posted_amount: 12_345, reference: "April invoice" });
      expect(transfer.headers.get("x-request-id")).toBeTruthy();
      const account = (await api.get(`/v1/accounts/${wallet}`)).body;
      expect(account).toMatchObject({ credits_posted: 50_000, debits_posted: 12_345, balance: 37_655, balance_display: "376.55", available: 37_655 });
      const listed = await api.get(`/v1/transfers?account_id=${payee}`);
      expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([transfer.body.id]);
    });

    it("holds, posts in part, voids, and expires holds", async () => {
      const wallet = await fundedAccount(1_000);
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      const hold = (await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 600, currency: "GBP", pending: true, timeout_seconds: 60 })).body;
      expect(hold.status).toBe("pending");
      expect((await api.get(`/v1/accounts/${wallet}`)).body).toMatchObject({ debits_pending: 600, available: 400 });
      const over = await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 401, currency: "GBP" });
      expect(over.status).toBe(422);
      expect(over.body.code).toBe("insufficient_funds");

      const posted = await api.post(`/v1/transfers/${hold.id}/post`, { amount: 250 });
      expect(posted.status).toBe(200);
      expect(posted.body).toMatchObject({ status: "posted", posted_amount: 250 });
      expect((await api.post(`/v1/transfers/${hold.id}/void`)).body.code).toBe("transfer_not_pending");
      expect((await api.get(`/v1/accounts/${wallet}`)).body).toMatchObject({ debits_pending: 0, debits_posted: 250, available: 750 });

      const second = (await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 700, currency: "GBP", pending: true })).body;
      expect((await api.post(`/v1/transfers/${second.id}/void`)).body.status).toBe("voided");

      const third = (await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 700, currency: "GBP", pending: true, timeout_seconds: 30 })).body;
      clock.advance(31_000);
      const swept = await server.sweeper.sweepOnce();
      expect(swept.expiredHolds).toBeGreaterThanOrEqual(1);
      expect((await api.get(`/v1/transfers/${third.id}`)).body.status).toBe("expired");
      const late = await api.post(`/v1/transfers/${third.id}/post`);
      expect(late.status).toBe(409);
      expect(late.body.code).toBe("transfer_not_pending");
      expect((await api.get(`/v1/accounts/${wallet}`)).body).toMatchObject({ debits_pending: 0, available: 750 });
    });

    it("applies a batch as one, and names the transfer that failed", async () => {
      const wallet = await fundedAccount(1_000);
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      const leg = (amount: number) => ({ debit_account_id: wallet, credit_account_id: payee, amount, currency: "GBP" });
      const failed = await api.post("/v1/transfers", { transfers: [leg(400), leg(700), leg(1)] });
      expect(failed.status).toBe(422);
      expect(failed.body.code).toBe("insufficient_funds");
      expect(failed.body.errors.map((e: { code: string }) => e.code)).toEqual(["linked_transfer_failed", "insufficient_funds", "linked_transfer_failed"]);
      expect((await api.get(`/v1/accounts/${wallet}`)).body.debits_posted).toBe(0);
      const done = await api.post("/v1/transfers", { transfers: [leg(400), leg(600)] });
      expect(done.status).toBe(201);
      expect(done.body.data).toHaveLength(2);
      expect(new Set(done.body.data.map((t: { batch_id: string }) => t.batch_id)).size).toBe(1);
    });

    it("treats a transfer id as an idempotency key", async () => {
      const wallet = await fundedAccount(1_000);
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      const body = { id: "tr_invoice-42", debit_account_id: wallet, credit_account_id: payee, amount: 300, currency: "GBP" };
      const first = await api.post("/v1/transfers", body);
      const again = await api.post("/v1/transfers", body);
      expect([first.status, again.status]).toEqual([201, 200]);
      expect(again.body).toEqual(first.body);
      const changed = await api.post("/v1/transfers", { ...body, amount: 301 });
      expect(changed.status).toBe(409);
      expect(changed.body.code).toBe("transfer_exists_with_different_fields");
      expect((await api.get(`/v1/accounts/${wallet}`)).body.debits_posted).toBe(300);
      // Another tenant may use the same id: ids are per tenant.
      const theirs = await other.post("/v1/accounts", { currency: "GBP", debits_must_not_exceed_credits: false });
      const theirPayee = await other.post("/v1/accounts", { currency: "GBP" });
      const reused = await other.post("/v1/transfers", { ...body, debit_account_id: theirs.body.id, credit_account_id: theirPayee.body.id });
      expect(reused.status).toBe(201);
    });

    it("never lets one tenant see or move another tenant's money", async () => {
      const wallet = await fundedAccount(1_000);
      const theirAccount = (await other.post("/v1/accounts", { currency: "GBP" })).body.id;
      expect((await other.get(`/v1/accounts/${wallet}`)).status).toBe(404);
      const steal = await other.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: theirAccount, amount: 1, currency: "GBP" });
      expect(steal.status).toBe(404);
      expect((await other.post(`/v1/accounts/${wallet}/deposits`, { amount: 5 })).status).toBe(404);
      const theirList = await other.get("/v1/accounts?limit=100");
      expect(theirList.body.data.map((a: { id: string }) => a.id)).not.toContain(wallet);
      const theirEvents = await other.get("/v1/events?limit=100");
      expect(JSON.stringify(theirEvents.body)).not.toContain(wallet);
      expect((await api.get(`/v1/accounts/${wallet}`)).body.debits_posted).toBe(0);
    });

    it("answers bad input with a 4xx and a stable code, and changes nothing", async () => {
      const wallet = await fundedAccount(100);
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      const base = { debit_account_id: wallet, credit_account_id: payee, currency: "GBP" };
      const cases: Array<[unknown, number, string]> = [
        [{ ...base, amount: 1.5 }, 400, "validation_failed"],
        [{ ...base, amount: -1 }, 400, "validation_failed"],
        [{ ...base, amount: 10 ** 15 + 1 }, 400, "validation_failed"],
        [{ ...base, amount: "10" }, 400, "validation_failed"],
        [{ ...base, amount: 10, currency: "XXX" }, 400, "validation_failed"],
        [{ ...base, amount: 10, currency: "EUR" }, 422, "currency_mismatch"],
        [{ ...base, amount: 10, credit_account_id: wallet }, 422, "accounts_must_be_different"],
        [{ ...base, amount: 10, id: "not-a-transfer-id" }, 400, "validation_failed"],
        [{ ...base, amount: 10, timeout_seconds: 30 }, 400, "validation_failed"],
        [{ transfers: [] }, 400, "validation_failed"],
        [{ transfers: Array.from({ length: 101 }, () => ({ ...base, amount: 1 })) }, 400, "validation_failed"],
      ];
      for (const [body, status, code] of cases) {
        const response = await api.post("/v1/transfers", body);
        expect({ status: response.status, code: response.body.code }, JSON.stringify(body).slice(0, 120)).toEqual({ status, code });
      }
      const raw = await fetch(`${server.url}/v1/transfers`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: '{"amount": 1,' });
      expect(raw.status).toBe(400);
      expect(((await raw.json()) as { code: string }).code).toBe("malformed_json");
      expect((await api.get(`/v1/accounts/${wallet}`)).body.debits_posted).toBe(0);
      expect((await api.get("/v1/accounts/acc_missing")).status).toBe(404);
      expect((await api.get("/v1/transfers/tr_missing")).status).toBe(404);
    });

    it("never lets concurrent transfers take an account below its floor", async () => {
      const wallet = await fundedAccount(1_000);
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 30, currency: "GBP", pending: i % 2 === 0 }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(33);
      expect(responses.filter((r) => r.status === 422).every((r) => r.body.code === "insufficient_funds")).toBe(true);
      expect(statuses.filter((s) => s !== 201 && s !== 422)).toEqual([]);
      const account = (await api.get(`/v1/accounts/${wallet}`)).body;
      expect(account.debits_posted + account.debits_pending).toBe(990);
      expect(account.available).toBe(10);
    });

    it("journals every change, verifiably: checkpoint, entries, inclusion and consistency", async () => {
      const before = await fetchVerifiedCheckpoint(api);
      await fundedAccount(77);
      const after = await fetchVerifiedCheckpoint(api);
      expect(after.tree_size).toBeGreaterThan(before.tree_size);
      await checkConsistency(api, before, after);
      const events = await checkJournal(api, after);
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["tenant.created", "account.created", "transfer.created"]));
      await checkLedger(api);

      const last = events[events.length - 1];
      const proof = await api.get(`/v1/journal/proofs/inclusion?seq=${last.seq}&tree_size=${after.tree_size}`);
      expect(proof.status).toBe(200);
      const claim = {
        leafHash: decodeBase64(proof.body.leaf_hash)!,
        leafIndex: last.seq - 1,
        treeSize: after.tree_size,
        proof: proof.body.proof.map((h: string) => decodeBase64(h)!),
        rootHash: decodeBase64(after.root_hash)!,
      };
      expect(await verifyInclusion(claim)).toBe(true);
      expect(await verifyInclusion({ ...claim, leafIndex: claim.leafIndex === 0 ? 1 : 0 })).toBe(false);

      expect((await api.get(`/v1/journal/proofs/inclusion?seq=1&tree_size=${after.tree_size + 1000}`)).body.code).toBe("tree_size_out_of_range");
      expect((await api.get(`/v1/journal/proofs/consistency?from_size=5&to_size=2`)).status).toBe(400);
      const filtered = await api.get("/v1/events?type=transfer.created&limit=5");
      expect(filtered.body.data.every((e: { type: string }) => e.type === "transfer.created")).toBe(true);
      const forward = await api.get("/v1/events?after_seq=0&limit=3");
      expect(forward.body.data.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    });
  });
}
