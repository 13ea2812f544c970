/**
 * The one contract every Store adapter passes (STYLE habit 5). sqlite/sqlite.test.ts and
 * postgres/postgres.test.ts run it; adapter-specific behaviour (group commit) is tested beside
 * the adapter. Tests share one database, so each makes its own tenants and never assumes it is
 * alone, except where noted (global counts are compared before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, type Store, type StoreTx, type TreeNodeKey } from "@bursar/core";
import {
  accountRow,
  baseMs,
  eventRow,
  idempotencyRecord,
  seedTenant,
  tenantRow,
  tokenRow,
  transferRow,
  treeNode,
  userRow,
} from "./contract-fixtures.js";

/**
 * Registers the contract suite for one adapter. `open` must return a new Store on the same
 * database every time it is called (the suite reopens it to check durability).
 *
 * @example storeContract("sqlite", () => openSqliteStore({ path }));
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await open();
      await store.migrate();
    });

    afterAll(async () => {
      await store?.close();
    });

    describe("migrations", () => {
      it("can run again, and from two stores at once", async () => {
        await store.migrate();
        const [first, second] = await Promise.all([open(), open()]);
        try {
          await Promise.all([first.migrate(), second.migrate()]);
          expect(await first.read.countTenants()).toBeGreaterThanOrEqual(0);
        } finally {
          await Promise.all([first.close(), second.close()]);
        }
      });
    });

    describe("tenants, users and tokens", () => {
      it("round-trips a tenant, counts it and updates its journal size", async () => {
        const before = await store.read.countTenants();
        const tenant = tenantRow();
        await store.write(null, (tx) => tx.insertTenant(tenant));
        expect(await store.read.getTenant(tenant.id)).toEqual(tenant);
        expect(await store.read.countTenants()).toBe(before + 1);
        await store.write(tenant.id, (tx) => tx.setJournalSize(tenant.id, 7));
        expect((await store.read.getTenant(tenant.id))?.journalSize).toBe(7);
        expect(await store.read.getTenant(newId("ten"))).toBeNull();
        await expect(store.write(null, (tx) => tx.setJournalSize(newId("ten"), 1))).rejects.toThrow();
      });

      it("round-trips users and personal access tokens; token hashes are unique", async () => {
        const { tenant, user } = await seedTenant(store);
        const quiet = userRow(tenant.id, { email: null, role: "viewer" });
        const token = tokenRow(tenant.id, user.id);
        const forever = tokenRow(tenant.id, quiet.id, { scopes: [], expiresAtMs: null, revokedAtMs: baseMs + 5 });
        await store.write(tenant.id, async (tx) => {
          await tx.insertUser(quiet);
          await tx.insertPersonalAccessToken(token);
          await tx.insertPersonalAccessToken(forever);
        });
        expect(await store.read.getUser(tenant.id, user.id)).toEqual(user);
        expect(await store.read.getUser(tenant.id, quiet.id)).toEqual(quiet);
        expect(await store.read.getUser(tenant.id, newId("usr"))).toBeNull();
        expect(await store.read.findPersonalAccessTokenByHash(token.tokenHash)).toEqual(token);
        expect(await store.read.findPersonalAccessTokenByHash(forever.tokenHash)).toEqual(forever);
        expect(await store.read.findPersonalAccessTokenByHash("0".repeat(64))).toBeNull();
        const duplicate = tokenRow(tenant.id, user.id, { tokenHash: token.tokenHash });
        await expect(store.write(tenant.id, (tx) => tx.insertPersonalAccessToken(duplicate))).rejects.toThrow();
      });
    });

    describe("accounts", () => {
      it("round-trips accounts, finds the funding account and updates balances", async () => {
        const { tenant, funding, wallet } = await seedTenant(store);
        expect(await store.read.getAccount(tenant.id, wallet.id)).toEqual(wallet);
        expect(await store.read.getAccount(tenant.id, funding.id)).toEqual(funding);
        expect(await store.read.getAccount(tenant.id, newId("acc"))).toBeNull();
        expect(await store.read.findFundingAccount(tenant.id, "USD")).toEqual(funding);
        expect(await store.read.findFundingAccount(tenant.id, "EUR")).toBeNull();

        const largest = Number.MAX_SAFE_INTEGER;
        const changed = [
          { ...funding, debitsPostedMinor: largest, debitsPendingMinor: 3 },
          { ...wallet, creditsPostedMinor: largest, creditsPendingMinor: 3 },
        ];
        await store.write(tenant.id, (tx) => tx.updateAccountBalances(tenant.id, changed));
        expect(await store.read.getAccount(tenant.id, funding.id)).toEqual(changed[0]);
        expect(await store.read.getAccount(tenant.id, wallet.id)).toEqual(changed[1]);
        expect(await store.read.sumBalances(tenant.id)).toEqual([
          { currency: "USD", debitsPostedMinor: largest, creditsPostedMinor: largest, debitsPendingMinor: 3, creditsPendingMinor: 3 },
        ]);
      });

      it("sums balances per currency", async () => {
        const { tenant } = await seedTenant(store);
        const euros = [
          accountRow(tenant.id, { currency: "EUR", debitsPostedMinor: 10, creditsPendingMinor: 1 }),
          accountRow(tenant.id, { currency: "EUR", creditsPostedMinor: 25, debitsPendingMinor: 2 }),
        ];
        await store.write(tenant.id, async (tx) => {
          for (const account of euros) await tx.insertAccount(account);
        });
        expect(await store.read.sumBalances(tenant.id)).toEqual([
          { currency: "EUR", debitsPostedMinor: 10, creditsPostedMinor: 25, debitsPendingMinor: 2, creditsPendingMinor: 1 },
          { currency: "USD", debitsPostedMinor: 0, creditsPostedMinor: 0, debitsPendingMinor: 0, creditsPendingMinor: 0 },
        ]);
      });

      it("reads accounts for update in id order and leaves out missing ids", async () => {
        const { tenant, funding, wallet } = await seedTenant(store);
        const ordered = [funding, wallet].sort((a, b) => (a.id < b.id ? -1 : 1));
        const found = await store.write(tenant.id, (tx) =>
          tx.getAccountsForUpdate(tenant.id, [ordered[1]!.id, newId("acc"), ordered[0]!.id]),
        );
        expect(found).toEqual(ordered);
      });

      it("refuses a balance update of an unknown account and a second funding account per currency", async () => {
        const { tenant, wallet } = await seedTenant(store);
        const ghost = accountRow(tenant.id);
        await expect(store.write(tenant.id, (tx) => tx.updateAccountBalances(tenant.id, [wallet, ghost]))).rejects.toThrow();
        const secondFunding = accountRow(tenant.id, { kind: "funding" });
        await expect(store.write(tenant.id, (tx) => tx.insertAccount(secondFunding))).rejects.toThrow();
      });

      it("pages accounts newest first with a beforeId cursor", async () => {
        const tenant = tenantRow();
        const accounts = Array.from({ length: 5 }, (_, index) => accountRow(tenant.id, { id: newId("acc", baseMs + index) }));
        await store.write(null, async (tx) => {
          await tx.insertTenant(tenant);
          for (const account of [...accounts].reverse()) await tx.insertAccount(account);
        });
        const newestFirst = [...accounts].reverse().map((account) => account.id);
        const first = await store.read.listAccounts(tenant.id, { limit: 2 });
        expect(first.map((account) => account.id)).toEqual(newestFirst.slice(0, 2));
        const second = await store.read.listAccounts(tenant.id, { limit: 2, beforeId: first[1]!.id });
        expect(second.map((account) => account.id)).toEqual(newestFirst.slice(2, 4));
        const last = await store.read.listAccounts(tenant.id, { limit: 2, beforeId: second[1]!.id });
        expect(last.map((account) => account.id)).toEqual(newestFirst.slice(4));
        expect(await store.read.listAccounts(tenant.id, { limit: 2, beforeId: last[0]!.id })).toEqual([]);
        expect(await store.read.listAccounts(tenant.id, { limit: 10 })).toEqual([...accounts].reverse());
      });
    });

    describe("transfers", () => {
      it("round-trips a transfer and updates status, posted amount and time", async () => {
        const { tenant, funding, wallet } = await seedTenant(store);
        const hold = transferRow(tenant.id, funding.id, wallet.id, {
          status: "pending",
          postedAmountMinor: 0,
          expiresAtMs: baseMs + 60_000,
          reference: null,
          metadata: { order: "42" },
          batchId: newId("bat"),
        });
        await store.write(tenant.id, (tx) => tx.insertTransfer(hold));
        expect(await store.read.getTransfer(tenant.id, hold.id)).toEqual(hold);
        const posted = { ...hold, status: "posted" as const, postedAmountMinor: 300, updatedAtMs: baseMs + 10 };
        await store.write(tenant.id, (tx) => tx.updateTransfer(posted));
        expect(await store.read.getTransfer(tenant.id, hold.id)).toEqual(posted);
        expect(await store.read.getTransfer(tenant.id, newId("tr"))).toBeNull();
        const unknown = transferRow(tenant.id, funding.id, wallet.id);
        await expect(store.write(tenant.id, (tx) => tx.updateTransfer(unknown))).rejects.toThrow();
      });

      it("pages transfers newest first, for the tenant and for one account (either side)", async () => {
        const { tenant, funding, wallet } = await seedTenant(store);
        const other = accountRow(tenant.id);
        await store.write(tenant.id, (tx) => tx.insertAccount(other));
        // Alternate sides so the account page must merge debits and credits.
        const pairs: Array<[string, string]> = [
          [funding.id, wallet.id],
          [wallet.id, other.id],
          [funding.id, other.id],
          [other.id, wallet.id],
          [funding.id, wallet.id],
        ];
        const transfers = pairs.map(([debit, credit], index) =>
          transferRow(tenant.id, debit, credit, { id: newId("tr", baseMs + index) }),
        );
        await store.write(tenant.id, async (tx) => {
          for (const transfer of transfers) await tx.insertTransfer(transfer);
        });
        const ids = (list: Array<{ id: string }>) => list.map((row) => row.id);
        const newestFirst = ids([...transfers].reverse());
        const first = await store.read.listTransfers(tenant.id, { limit: 3 });
        expect(ids(first)).toEqual(newestFirst.slice(0, 3));
        expect(ids(await store.read.listTransfers(tenant.id, { limit: 3, beforeId: first[2]!.id }))).toEqual(newestFirst.slice(3));

        const walletIds = ids([...transfers].reverse().filter((t) => t.debitAccountId === wallet.id || t.creditAccountId === wallet.id));
        expect(walletIds).toHaveLength(4);
        const walletFirst = await store.read.listTransfers(tenant.id, { limit: 2, accountId: wallet.id });
        expect(ids(walletFirst)).toEqual(walletIds.slice(0, 2));
        const walletSecond = await store.read.listTransfers(tenant.id, { limit: 2, accountId: wallet.id, beforeId: walletFirst[1]!.id });
        expect(ids(walletSecond)).toEqual(walletIds.slice(2, 4));
        expect(await store.read.listTransfers(tenant.id, { limit: 2, accountId: wallet.id, beforeId: walletSecond[1]!.id })).toEqual([]);
        expect(await store.read.listTransfers(tenant.id, { limit: 10, accountId: wallet.id })).toEqual(
          [...transfers].reverse().filter((t) => walletIds.includes(t.id)),
        );
      });

      it("lists expired holds across tenants, oldest first, up to the limit", async () => {
        const a = await seedTenant(store);
        const b = await seedTenant(store);
        // Expiry times near the epoch: no other test makes holds this old.
        const holdA1 = transferRow(a.tenant.id, a.funding.id, a.wallet.id, { status: "pending", postedAmountMinor: 0, expiresAtMs: 30 });
        const holdB = transferRow(b.tenant.id, b.funding.id, b.wallet.id, { status: "pending", postedAmountMinor: 0, expiresAtMs: 10 });
        const holdA2 = transferRow(a.tenant.id, a.funding.id, a.wallet.id, { status: "pending", postedAmountMinor: 0, expiresAtMs: 20 });
        const notYet = transferRow(a.tenant.id, a.funding.id, a.wallet.id, { status: "pending", postedAmountMinor: 0, expiresAtMs: 41 });
        const voided = transferRow(b.tenant.id, b.funding.id, b.wallet.id, { status: "voided", postedAmountMinor: 0, expiresAtMs: 5 });
        await store.write(a.tenant.id, async (tx) => {
          for (const transfer of [holdA1, holdA2, notYet]) await tx.insertTransfer(transfer);
        });
        await store.write(b.tenant.id, async (tx) => {
          for (const transfer of [holdB, voided]) await tx.insertTransfer(transfer);
        });
        const mine = new Set([a.tenant.id, b.tenant.id]);
        const expired = (await store.read.listExpiredHolds(40, 100)).filter((hold) => mine.has(hold.tenantId));
        expect(expired).toEqual([
          { tenantId: b.tenant.id, transferId: holdB.id },
          { tenantId: a.tenant.id, transferId: holdA2.id },
          { tenantId: a.tenant.id, transferId: holdA1.id },
        ]);
        expect(await store.read.listExpiredHolds(10, 1)).toEqual([{ tenantId: b.tenant.id, transferId: holdB.id }]);
        await store.write(a.tenant.id, (tx) => tx.updateTransfer({ ...holdA2, status: "expired", updatedAtMs: baseMs }));
        const after = (await store.read.listExpiredHolds(40, 100)).filter((hold) => mine.has(hold.tenantId));
        expect(after.map((hold) => hold.transferId)).toEqual([holdB.id, holdA1.id]);
      });
    });

    describe("journal events and tree nodes", () => {
      it("stores events and returns them parsed, filtered and ordered", async () => {
        const { tenant } = await seedTenant(store);
        const agentId = newId("agt");
        const events = [
          eventRow(tenant.id, 1, { type: "account.created" }),
          eventRow(tenant.id, 2, { type: "transfer.created", agent_id: agentId }),
          eventRow(tenant.id, 3, { type: "transfer.posted" }),
          eventRow(tenant.id, 4, { type: "transfer.created" }),
          eventRow(tenant.id, 5, { type: "transfer.posted", agent_id: agentId }),
        ];
        await store.write(tenant.id, async (tx) => {
          for (const event of events) await tx.insertEvent(event);
        });
        const seqs = (list: Array<{ seq: number }>) => list.map((event) => event.seq);
        expect(await store.read.getEventBySeq(tenant.id, 2)).toEqual(events[1]);
        expect(await store.read.getEventBySeq(tenant.id, 6)).toBeNull();
        expect(await store.read.listEvents(tenant.id, { limit: 10, ascending: true })).toEqual(events);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 2, ascending: true, afterSeq: 2 }))).toEqual([3, 4]);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: false }))).toEqual([5, 4, 3, 2, 1]);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 2, ascending: false, beforeSeq: 4 }))).toEqual([3, 2]);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: false, beforeSeq: 5, afterSeq: 2 }))).toEqual([4, 3]);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: true, types: ["transfer.posted"] }))).toEqual([3, 5]);
        expect(
          seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: true, types: ["account.created", "transfer.posted"] })),
        ).toEqual([1, 3, 5]);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: true, types: [] }))).toEqual([1, 2, 3, 4, 5]);
        expect(seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: false, agentId }))).toEqual([5, 2]);
        expect(
          seqs(await store.read.listEvents(tenant.id, { limit: 10, ascending: true, agentId, types: ["transfer.created"] })),
        ).toEqual([2]);
      });

      it("refuses a second event at the same seq", async () => {
        const { tenant } = await seedTenant(store);
        await store.write(tenant.id, (tx) => tx.insertEvent(eventRow(tenant.id, 1)));
        await expect(store.write(tenant.id, (tx) => tx.insertEvent(eventRow(tenant.id, 1)))).rejects.toThrow();
      });

      it("returns tree nodes in the order asked, and refuses missing or rewritten nodes", async () => {
        const { tenant } = await seedTenant(store);
        const nodes = [treeNode(0, 0), treeNode(0, 1), treeNode(1, 0), treeNode(0, 2), treeNode(2, 2 ** 40)];
        await store.write(tenant.id, (tx) => tx.putTreeNodes(tenant.id, nodes));
        const asked: TreeNodeKey[] = [nodes[4]!, nodes[0]!, nodes[2]!, nodes[0]!, nodes[3]!];
        const hashes = await store.read.getTreeNodes(tenant.id, asked);
        expect(hashes).toEqual(asked.map((key) => treeNode(key.level, key.index).hash));
        expect(await store.read.getTreeNodes(tenant.id, [])).toEqual([]);
        await expect(store.read.getTreeNodes(tenant.id, [{ level: 0, index: 0 }, { level: 0, index: 9 }])).rejects.toThrow();
        await expect(store.write(tenant.id, (tx) => tx.putTreeNodes(tenant.id, [treeNode(0, 1)]))).rejects.toThrow();
      });
    });

    describe("idempotency records", () => {
      const stale = baseMs - 60_000;

      it("claims a fresh key and returns a live claim or a completed answer to later claims", async () => {
        const { tenant } = await seedTenant(store);
        const record = idempotencyRecord(tenant.id);
        expect(await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(record, stale))).toBeNull();
        expect(await store.read.getIdempotencyRecord(record)).toEqual(record);

        const retry = { ...record, fingerprint: "b".repeat(64), createdAtMs: baseMs + 1000 };
        expect(await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(retry, stale))).toEqual(record);

        await store.write(tenant.id, (tx) => tx.completeIdempotencyKey(record, 201, '{"id":"tr_1"}'));
        const completed = { ...record, state: "completed" as const, responseStatus: 201, responseBody: '{"id":"tr_1"}' };
        expect(await store.read.getIdempotencyRecord(record)).toEqual(completed);
        // A completed answer is returned even when its claim would count as stale.
        expect(await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(retry, baseMs + 500))).toEqual(completed);
        // Another principal, method, route or key is another scope.
        for (const field of ["principalId", "method", "route", "key"] as const) {
          const elsewhere = { ...record, [field]: `${record[field]}-other` };
          expect(await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(elsewhere, stale))).toBeNull();
        }
      });

      it("replaces a stale in-progress claim and an expired record", async () => {
        const { tenant } = await seedTenant(store);
        const claim = idempotencyRecord(tenant.id);
        await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(claim, stale));
        const takeover = { ...claim, fingerprint: "c".repeat(64), createdAtMs: baseMs + 120_000 };
        expect(await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(takeover, baseMs + 1))).toBeNull();
        expect(await store.read.getIdempotencyRecord(claim)).toEqual(takeover);

        const done = idempotencyRecord(tenant.id, { expiresAtMs: baseMs + 10 });
        await store.write(tenant.id, async (tx) => {
          await tx.claimIdempotencyKey(done, stale);
          await tx.completeIdempotencyKey(done, 200, "{}");
        });
        const later = { ...done, createdAtMs: baseMs + 10, expiresAtMs: baseMs + 99_999 };
        expect(await store.write(tenant.id, (tx) => tx.claimIdempotencyKey(later, stale))).toBeNull();
        expect(await store.read.getIdempotencyRecord(done)).toEqual(later);
      });

      it("releases only an in-progress claim, and deletes expired records up to a limit", async () => {
        const { tenant } = await seedTenant(store);
        const claim = idempotencyRecord(tenant.id);
        const answered = idempotencyRecord(tenant.id);
        await store.write(tenant.id, async (tx) => {
          await tx.claimIdempotencyKey(claim, stale);
          await tx.claimIdempotencyKey(answered, stale);
          await tx.completeIdempotencyKey(answered, 200, "{}");
          await tx.releaseIdempotencyKey(claim);
          await tx.releaseIdempotencyKey(answered);
        });
        expect(await store.read.getIdempotencyRecord(claim)).toBeNull();
        expect((await store.read.getIdempotencyRecord(answered))?.state).toBe("completed");

        // Expiry times near the epoch: no other test's records are this old.
        const old = [1, 2, 3].map((expiresAtMs) => idempotencyRecord(tenant.id, { createdAtMs: 0, expiresAtMs }));
        await store.write(tenant.id, async (tx) => {
          for (const record of old) await tx.claimIdempotencyKey(record, 0);
        });
        expect(await store.write(tenant.id, (tx) => tx.deleteExpiredIdempotencyRecords(2, 1))).toBe(1);
        expect(await store.read.getIdempotencyRecord(old[0]!)).toBeNull();
        expect(await store.read.getIdempotencyRecord(old[1]!)).not.toBeNull();
        expect(await store.write(tenant.id, (tx) => tx.deleteExpiredIdempotencyRecords(3, 10))).toBe(2);
        expect(await store.read.getIdempotencyRecord(old[2]!)).toBeNull();
      });
    });

    describe("tenant isolation", () => {
      it("hides tenant B's rows from every getter and list of tenant A", async () => {
        const a = await seedTenant(store);
        const b = await seedTenant(store);
        const bTransfer = transferRow(b.tenant.id, b.funding.id, b.wallet.id, { status: "pending", postedAmountMinor: 0 });
        const bRecord = idempotencyRecord(b.tenant.id);
        await store.write(b.tenant.id, async (tx) => {
          await tx.insertTransfer(bTransfer);
          await tx.insertEvent(eventRow(b.tenant.id, 1, { agent_id: "agt_b" }));
          await tx.putTreeNodes(b.tenant.id, [treeNode(0, 0)]);
          await tx.setJournalSize(b.tenant.id, 1);
          await tx.claimIdempotencyKey(bRecord, 0);
        });
        const A = a.tenant.id;
        const reader = store.read;
        expect(await reader.getUser(A, b.user.id)).toBeNull();
        expect(await reader.getAccount(A, b.wallet.id)).toBeNull();
        expect((await reader.listAccounts(A, { limit: 100 })).map((row) => row.id).sort()).toEqual([a.funding.id, a.wallet.id].sort());
        expect(await reader.findFundingAccount(A, "USD")).toEqual(a.funding);
        expect(await reader.getTransfer(A, bTransfer.id)).toBeNull();
        expect(await reader.listTransfers(A, { limit: 100 })).toEqual([]);
        expect(await reader.listTransfers(A, { limit: 100, accountId: b.wallet.id })).toEqual([]);
        expect(await reader.listEvents(A, { limit: 100, ascending: true })).toEqual([]);
        expect(await reader.listEvents(A, { limit: 100, ascending: false, agentId: "agt_b" })).toEqual([]);
        expect(await reader.getEventBySeq(A, 1)).toBeNull();
        await expect(reader.getTreeNodes(A, [{ level: 0, index: 0 }])).rejects.toThrow();
        expect(await reader.getIdempotencyRecord({ ...bRecord, tenantId: A })).toBeNull();
        expect(await reader.sumBalances(A)).toEqual([
          { currency: "USD", debitsPostedMinor: 0, creditsPostedMinor: 0, debitsPendingMinor: 0, creditsPendingMinor: 0 },
        ]);
        // The same holds inside a write of tenant A.
        await store.write(A, async (tx) => {
          expect(await tx.getAccountsForUpdate(A, [b.wallet.id, a.wallet.id])).toEqual([a.wallet]);
          expect(await tx.getTransfer(A, bTransfer.id)).toBeNull();
          expect(await tx.getUser(A, b.user.id)).toBeNull();
        });
      });

      it("refuses writes that reach into another tenant", async () => {
        const a = await seedTenant(store);
        const b = await seedTenant(store);
        const A = a.tenant.id;
        const crossing = transferRow(A, a.wallet.id, b.wallet.id);
        await expect(store.write(A, (tx) => tx.insertTransfer(crossing))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.updateAccountBalances(A, [{ ...b.wallet, creditsPostedMinor: 9 }]))).rejects.toThrow();
        const bTransfer = transferRow(b.tenant.id, b.funding.id, b.wallet.id);
        await store.write(b.tenant.id, (tx) => tx.insertTransfer(bTransfer));
        await expect(store.write(A, (tx) => tx.updateTransfer({ ...bTransfer, tenantId: A, status: "voided" }))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.insertPersonalAccessToken(tokenRow(A, b.user.id)))).rejects.toThrow();
        expect(await store.read.getAccount(b.tenant.id, b.wallet.id)).toEqual(b.wallet);
        expect((await store.read.getTransfer(b.tenant.id, bTransfer.id))?.status).toBe("posted");
      });
    });

    describe("write transactions", () => {
      it("returns the callback's value and lets the callback read its own writes", async () => {
        const { tenant } = await seedTenant(store);
        const account = accountRow(tenant.id);
        const seen = await store.write(tenant.id, async (tx) => {
          await tx.insertAccount(account);
          return tx.getAccount(tenant.id, account.id);
        });
        expect(seen).toEqual(account);
      });

      it("keeps nothing of a callback that throws, and rethrows its error", async () => {
        const { tenant, wallet } = await seedTenant(store);
        const account = accountRow(tenant.id);
        const record = idempotencyRecord(tenant.id);
        const failure = new Error("boom");
        await expect(
          store.write(tenant.id, async (tx) => {
            await tx.insertAccount(account);
            await tx.updateAccountBalances(tenant.id, [{ ...wallet, creditsPostedMinor: 100 }]);
            await tx.insertEvent(eventRow(tenant.id, 1));
            await tx.putTreeNodes(tenant.id, [treeNode(0, 0)]);
            await tx.setJournalSize(tenant.id, 1);
            await tx.claimIdempotencyKey(record, 0);
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await store.read.getAccount(tenant.id, account.id)).toBeNull();
        expect(await store.read.getAccount(tenant.id, wallet.id)).toEqual(wallet);
        expect(await store.read.getEventBySeq(tenant.id, 1)).toBeNull();
        await expect(store.read.getTreeNodes(tenant.id, [{ level: 0, index: 0 }])).rejects.toThrow();
        expect((await store.read.getTenant(tenant.id))?.journalSize).toBe(0);
        expect(await store.read.getIdempotencyRecord(record)).toBeNull();
      });

      it("does not show uncommitted writes to store.read", async () => {
        const { tenant } = await seedTenant(store);
        const account = accountRow(tenant.id);
        await store.write(tenant.id, async (tx) => {
          await tx.insertAccount(account);
          expect(await store.read.getAccount(tenant.id, account.id)).toBeNull();
        });
        expect(await store.read.getAccount(tenant.id, account.id)).toEqual(account);
      });

      it("refuses a transaction used after its callback settled", async () => {
        const { tenant } = await seedTenant(store);
        let leaked: StoreTx | undefined;
        await store.write(tenant.id, async (tx) => {
          leaked = tx;
        });
        await expect(leaked!.getTenant(tenant.id)).rejects.toThrow();
        await expect(leaked!.insertAccount(accountRow(tenant.id))).rejects.toThrow();
      });

      it("serialises concurrent writes of one tenant: no lost update, no seq gap", async () => {
        const { tenant } = await seedTenant(store);
        const writes = Array.from({ length: 50 }, () =>
          store.write(tenant.id, async (tx) => {
            const size = (await tx.getTenant(tenant.id))!.journalSize;
            await tx.insertEvent(eventRow(tenant.id, size + 1));
            await tx.setJournalSize(tenant.id, size + 1);
            return size + 1;
          }),
        );
        const seqs = await Promise.all(writes);
        expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
        expect((await store.read.getTenant(tenant.id))?.journalSize).toBe(50);
        const events = await store.read.listEvents(tenant.id, { limit: 100, ascending: true });
        expect(events.map((event) => event.seq)).toEqual(seqs.sort((x, y) => x - y));
      });
    });

    describe("durability", () => {
      it("keeps committed writes across close and reopen", async () => {
        const { tenant, wallet } = await seedTenant(store);
        const event = eventRow(tenant.id, 1);
        const record = idempotencyRecord(tenant.id);
        await store.write(tenant.id, async (tx) => {
          await tx.insertEvent(event);
          await tx.putTreeNodes(tenant.id, [treeNode(0, 0)]);
          await tx.setJournalSize(tenant.id, 1);
          await tx.claimIdempotencyKey(record, 0);
          await tx.completeIdempotencyKey(record, 201, '{"ok":true}');
        });
        await store.close();
        store = await open();
        await store.migrate();
        expect((await store.read.getTenant(tenant.id))?.journalSize).toBe(1);
        expect(await store.read.getAccount(tenant.id, wallet.id)).toEqual(wallet);
        expect(await store.read.getEventBySeq(tenant.id, 1)).toEqual(event);
        expect(await store.read.getTreeNodes(tenant.id, [{ level: 0, index: 0 }])).toEqual([treeNode(0, 0).hash]);
        expect(await store.read.getIdempotencyRecord(record)).toEqual({ ...record, state: "completed", responseStatus: 201, responseBody: '{"ok":true}' });
      });
    });
  });
}
