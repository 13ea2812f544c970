/**
 * The one contract every Store adapter passes (STYLE habit 5). sqlite/sqlite.test.ts and
 * postgres/postgres.test.ts run it; adapter-specific behaviour (group commit) is tested beside
 * the adapter. Tests share one database, so each makes its own tenants and never assumes it is
 * alone, except where noted (global counts are compared before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvent, appendLeaf, canonicalJson, consistencyProof, inclusionProof, leafHash, newId, rootHash, type AgentRow, type IdempotencyRecord, type SpendRow, type StoredRecord, type RefreshTokenRow, type Store, type StoreTx, type TreeNodeKey } from "@bursar/core";
import {
  accountRow,
  agentRow,
  apiKeyRow,
  baseMs,
  bindingRow,
  eventRow,
  idempotencyRecord,
  refreshTokenRow,
  seedAgent,
  seedTenant,
  signingKeyRow,
  tenantRow,
  ticketRow,
  tokenHash,
  tokenRow,
  transferRow,
  treeNode,
  userRow,
  webhookDeliveryRow,
  webhookEndpointRow,
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

      it("lists members oldest first and updates a member's role and removal", async () => {
        const { tenant, user } = await seedTenant(store);
        const second = userRow(tenant.id, { role: "approver" });
        await store.write(tenant.id, (tx) => tx.insertUser(second));
        expect((await store.read.listUsers(tenant.id, 10)).map((row) => row.id)).toEqual([user.id, second.id]);
        expect(await store.read.listUsers(tenant.id, 1)).toEqual([user]);
        const changed = { ...second, role: "viewer" as const, name: "Renamed", removedAtMs: baseMs + 9 };
        await store.write(tenant.id, (tx) => tx.updateUser(changed));
        expect(await store.read.getUser(tenant.id, second.id)).toEqual(changed);
        expect(await store.read.listUsers(newId("ten"), 10)).toEqual([]);
        await expect(store.write(tenant.id, (tx) => tx.updateUser({ ...second, id: newId("usr") }))).rejects.toThrow();
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
      it("appends a write's events in one pass: the same tree as one leaf at a time", async () => {
        const { tenant } = await seedTenant(store);
        const context = (tx: StoreTx) => ({ tx, tenantId: tenant.id, nowMs: baseMs, actor: { type: "system" as const, id: "test" } });
        // Writes of 1, 5, 2, 8 and 3 events: every alignment of the tree's right edge.
        const returned: number[] = [];
        for (const count of [1, 5, 2, 8, 3]) {
          await store.write(tenant.id, async (tx) => {
            for (let i = 0; i < count; i++) returned.push((await appendEvent(context(tx), "transfer.created", { i, count })).seq);
          });
        }
        const size = 19;
        expect(returned).toEqual(Array.from({ length: size }, (_, i) => i + 1));
        expect((await store.read.getTenant(tenant.id))?.journalSize).toBe(size);
        const events = await store.read.listEvents(tenant.id, { limit: 100, ascending: true });
        expect(events.map((event) => event.seq)).toEqual(returned);
        // The reference: the same leaves appended one at a time into memory.
        const memory = new Map<string, Uint8Array>();
        const memoryRead = async (keys: TreeNodeKey[]) => keys.map((key) => memory.get(`${key.level}/${key.index}`)!);
        for (const [index, event] of events.entries()) {
          for (const node of await appendLeaf(memoryRead, index, leafHash(new TextEncoder().encode(canonicalJson(event))))) memory.set(`${node.level}/${node.index}`, node.hash);
        }
        const storedRead = (keys: TreeNodeKey[]) => store.read.getTreeNodes(tenant.id, keys);
        for (let treeSize = 1; treeSize <= size; treeSize++) {
          expect(await rootHash(storedRead, treeSize)).toEqual(await rootHash(memoryRead, treeSize));
          expect(await inclusionProof(storedRead, treeSize - 1, size)).toEqual(await inclusionProof(memoryRead, treeSize - 1, size));
        }
      });

      it("keeps the tree exact when appends roll back and another store process appends (the cached right edge)", async () => {
        const { tenant } = await seedTenant(store);
        const other = await open();
        try {
          const context = (tx: StoreTx) => ({ tx, tenantId: tenant.id, nowMs: baseMs, actor: { type: "system" as const, id: "test" } });
          const append = (on: Store, count: number, fail = false) =>
            on.write(tenant.id, async (tx) => {
              for (let i = 0; i < count; i++) await appendEvent(context(tx), "transfer.created", { count, i });
              if (fail) throw new Error("rolled back after appending");
            });
          await append(store, 3);
          // Rolled back after appending: its nodes must not be served to the next write.
          await expect(append(store, 2, true)).rejects.toThrow(/rolled back/);
          // Queued together: the middle one rolls back to its savepoint, its neighbours commit.
          const together = await Promise.allSettled([append(store, 1), append(store, 4, true), append(store, 2)]);
          expect(together.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
          // Another process appends to the same tenant; this process appends after it.
          await append(other, 5);
          await append(store, 3);
          await append(other, 1);
          await append(store, 1);
          const size = 3 + 1 + 2 + 5 + 3 + 1 + 1;
          expect((await store.read.getTenant(tenant.id))?.journalSize).toBe(size);
          const events = await store.read.listEvents(tenant.id, { limit: 100, ascending: true });
          expect(events.map((event) => event.seq)).toEqual(Array.from({ length: size }, (_, i) => i + 1));
          const memory = new Map<string, Uint8Array>();
          const memoryRead = async (keys: TreeNodeKey[]) => keys.map((key) => memory.get(`${key.level}/${key.index}`)!);
          for (const [index, event] of events.entries()) {
            for (const node of await appendLeaf(memoryRead, index, leafHash(new TextEncoder().encode(canonicalJson(event))))) memory.set(`${node.level}/${node.index}`, node.hash);
          }
          const storedRead = (keys: TreeNodeKey[]) => store.read.getTreeNodes(tenant.id, keys);
          for (let treeSize = 1; treeSize <= size; treeSize++) {
            expect(await rootHash(storedRead, treeSize)).toEqual(await rootHash(memoryRead, treeSize));
            expect(await consistencyProof(storedRead, treeSize, size)).toEqual(await consistencyProof(memoryRead, treeSize, size));
          }
        } finally {
          await other.close();
        }
      });

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

      it("redacts the recorded answers that name an erased object, on the routes given, in the tenant only", async () => {
        const { tenant } = await seedTenant(store);
        const other = await seedTenant(store);
        const answer = (id: string) => `{"object":"chat.response","conversation_id":"${id}","reply":"secret"}`;
        const chat = idempotencyRecord(tenant.id, { route: "/v1/chat" });
        const otherConversation = idempotencyRecord(tenant.id, { route: "/v1/chat" });
        // "conv_1" must not match "conv_10", nor "_" act as a wildcard.
        const lookalike = idempotencyRecord(tenant.id, { route: "/v1/chat" });
        const otherRoute = idempotencyRecord(tenant.id, { route: "/v1/payees" });
        const otherTenant = idempotencyRecord(other.tenant.id, { route: "/v1/chat" });
        const inFlight = idempotencyRecord(tenant.id, { route: "/v1/chat" });
        const answers: Array<[IdempotencyRecord, string]> = [[chat, answer("conv_1")], [otherConversation, answer("conv_2")], [lookalike, answer("conv_10").replace("conv_10", "convX1")], [otherRoute, answer("conv_1")]];
        await store.write(tenant.id, async (tx) => {
          for (const [record, body] of answers) {
            await tx.claimIdempotencyKey(record, stale);
            await tx.completeIdempotencyKey(record, 200, body);
          }
          await tx.claimIdempotencyKey(inFlight, stale);
        });
        await store.write(other.tenant.id, async (tx) => {
          await tx.claimIdempotencyKey(otherTenant, stale);
          await tx.completeIdempotencyKey(otherTenant, 200, answer("conv_1"));
        });
        const marker = '"conversation_id":"conv_1"';
        expect(await store.write(tenant.id, (tx) => tx.redactIdempotencyAnswers(tenant.id, ["/v1/chat", "/v1/chat/stream"], marker, 410, '{"code":"gone"}'))).toBe(1);
        expect(await store.read.getIdempotencyRecord(chat)).toMatchObject({ state: "completed", responseStatus: 410, responseBody: '{"code":"gone"}' });
        for (const [record, body] of answers.slice(1)) expect((await store.read.getIdempotencyRecord(record))?.responseBody).toBe(body);
        expect((await store.read.getIdempotencyRecord(otherTenant))?.responseBody).toBe(answer("conv_1"));
        expect((await store.read.getIdempotencyRecord(inFlight))?.state).toBe("in_progress");
        await store.purgeErased();
      });
    });

    describe("webhook endpoints and deliveries", () => {
      it("round-trips endpoints, lists them newest first, counts, updates and deletes with their deliveries", async () => {
        const { tenant } = await seedTenant(store);
        const endpoints = [0, 1, 2].map((index) => webhookEndpointRow(tenant.id, { id: newId("whe", baseMs + index), enabled: index !== 1 }));
        endpoints[2] = { ...endpoints[2]!, ed25519PrivateKeyPkcs8: null, ed25519PublicKey: null, description: null };
        await store.write(tenant.id, async (tx) => {
          for (const endpoint of endpoints) await tx.insertWebhookEndpoint(endpoint);
        });
        expect(await store.read.getWebhookEndpoint(tenant.id, endpoints[0]!.id)).toEqual(endpoints[0]);
        expect(await store.read.getWebhookEndpoint(tenant.id, endpoints[2]!.id)).toEqual(endpoints[2]);
        expect(await store.read.countWebhookEndpoints(tenant.id)).toBe(3);
        const first = await store.read.listWebhookEndpoints(tenant.id, { limit: 2 });
        expect(first.map((row) => row.id)).toEqual([endpoints[2]!.id, endpoints[1]!.id]);
        expect((await store.read.listWebhookEndpoints(tenant.id, { limit: 2, beforeId: first[1]!.id })).map((row) => row.id)).toEqual([endpoints[0]!.id]);
        expect((await store.read.listEnabledWebhookEndpoints(tenant.id, 10)).map((row) => row.id)).toEqual([endpoints[0]!.id, endpoints[2]!.id]);

        const rotated = { ...endpoints[0]!, secret: "whsec_bmV3", previousSecret: endpoints[0]!.secret, previousSecretExpiresAtMs: baseMs + 5, enabled: false, disabledReason: "410", eventTypes: ["*"], updatedAtMs: baseMs + 9 };
        await store.write(tenant.id, (tx) => tx.updateWebhookEndpoint(rotated));
        expect(await store.read.getWebhookEndpoint(tenant.id, rotated.id)).toEqual(rotated);
        await expect(store.write(tenant.id, (tx) => tx.updateWebhookEndpoint(webhookEndpointRow(tenant.id)))).rejects.toThrow();

        const delivery = webhookDeliveryRow(tenant.id, rotated.id);
        await store.write(tenant.id, (tx) => tx.insertWebhookDelivery(delivery));
        await store.write(tenant.id, (tx) => tx.deleteWebhookEndpoint(tenant.id, rotated.id));
        expect(await store.read.getWebhookEndpoint(tenant.id, rotated.id)).toBeNull();
        expect(await store.read.getWebhookDelivery(tenant.id, delivery.id)).toBeNull();
      });

      it("round-trips deliveries, pages them per endpoint, records attempts", async () => {
        const { tenant } = await seedTenant(store);
        const endpoint = webhookEndpointRow(tenant.id);
        const deliveries = [0, 1, 2].map((index) => webhookDeliveryRow(tenant.id, endpoint.id, { id: newId("whd", baseMs + index), eventSeq: index + 1 }));
        await store.write(tenant.id, async (tx) => {
          await tx.insertWebhookEndpoint(endpoint);
          for (const delivery of deliveries) await tx.insertWebhookDelivery(delivery);
        });
        expect(await store.read.getWebhookDelivery(tenant.id, deliveries[1]!.id)).toEqual(deliveries[1]);
        const page = await store.read.listWebhookDeliveries(tenant.id, endpoint.id, { limit: 2 });
        expect(page.map((row) => row.id)).toEqual([deliveries[2]!.id, deliveries[1]!.id]);
        expect((await store.read.listWebhookDeliveries(tenant.id, endpoint.id, { limit: 2, beforeId: page[1]!.id })).map((row) => row.id)).toEqual([deliveries[0]!.id]);
        const attempted = {
          ...deliveries[0]!,
          status: "failed" as const,
          attemptCount: 1,
          lastAttemptAtMs: baseMs + 1,
          attempts: [{ attemptedAtMs: baseMs + 1, durationMs: 12, statusCode: 500, error: null, responseBody: "nope" }],
          updatedAtMs: baseMs + 2,
        };
        await store.write(tenant.id, (tx) => tx.updateWebhookDelivery(attempted));
        expect(await store.read.getWebhookDelivery(tenant.id, attempted.id)).toEqual(attempted);
      });

      it("queues deliveries for the endpoints as they are now, also after another store process changed them", async () => {
        // Endpoints are cached per process under the tenant's config version (migration 19):
        // a change by another process, or by the same write, must be seen by the next append.
        const { tenant } = await seedTenant(store);
        const other = await open();
        try {
          const context = (tx: StoreTx) => ({ tx, tenantId: tenant.id, nowMs: baseMs, actor: { type: "system" as const, id: "test" } });
          const first = webhookEndpointRow(tenant.id, { eventTypes: ["*"] });
          await store.write(tenant.id, (tx) => tx.insertWebhookEndpoint(first));
          const delivered = async (endpointId: string) => (await store.read.listWebhookDeliveries(tenant.id, endpointId, { limit: 100 })).map((row) => row.eventId);
          const one = await store.write(tenant.id, (tx) => appendEvent(context(tx), "transfer.posted", {}));
          expect(await delivered(first.id)).toEqual([one.id]);
          // Another process adds an endpoint and disables the first.
          const second = webhookEndpointRow(tenant.id, { eventTypes: ["transfer.*"] });
          await other.write(tenant.id, async (tx) => {
            await tx.insertWebhookEndpoint(second);
            await tx.updateWebhookEndpoint({ ...first, enabled: false, disabledReason: "test", updatedAtMs: baseMs + 1 });
          });
          const two = await store.write(tenant.id, (tx) => appendEvent(context(tx), "transfer.posted", {}));
          expect(await delivered(first.id)).toEqual([one.id]);
          expect(await delivered(second.id)).toEqual([two.id]);
          // The same write adds an endpoint, then appends: the new endpoint hears the event.
          const third = webhookEndpointRow(tenant.id, { eventTypes: ["*"] });
          const three = await store.write(tenant.id, async (tx) => {
            await appendEvent(context(tx), "transfer.created", {});
            await tx.insertWebhookEndpoint(third);
            return appendEvent(context(tx), "transfer.posted", {});
          });
          expect(await delivered(third.id)).toEqual([three.id]);
          // A write that changed endpoints and rolled back leaves the cache as it was.
          await expect(
            store.write(tenant.id, async (tx) => {
              await tx.deleteWebhookEndpoint(tenant.id, third.id);
              await appendEvent(context(tx), "transfer.voided", {});
              throw new Error("rolled back");
            }),
          ).rejects.toThrow("rolled back");
          const four = await store.write(tenant.id, (tx) => appendEvent(context(tx), "transfer.posted", {}));
          expect(await delivered(third.id)).toEqual([four.id, three.id]);
          // Another process deletes it: the next append no longer queues for it.
          await other.write(tenant.id, (tx) => tx.deleteWebhookEndpoint(tenant.id, third.id));
          await store.write(tenant.id, (tx) => appendEvent(context(tx), "transfer.posted", {}));
          expect(await delivered(third.id)).toEqual([]);
          expect((await delivered(second.id)).length).toBe(5);
        } finally {
          await other.close();
        }
      });

      it("reads an agent's newest policy inside a write as it is now, also after another store process changed it", async () => {
        // Policies and budgets are cached per process under the tenant's config version.
        const { tenant } = await seedTenant(store);
        const other = await open();
        try {
          const policy = (id: string, createdAtMs: number, kind: "policy" | "budget" = "policy"): StoredRecord => ({
            tenantId: tenant.id, kind, id, agentId: "agt_cached", status: "active", refId: null, dueAtMs: null, createdAtMs, updatedAtMs: createdAtMs, body: { limit: createdAtMs },
          });
          const newest = (tx: StoreTx) => tx.listRecords(tenant.id, { kind: "policy", agentId: "agt_cached", limit: 1 });
          await store.write(tenant.id, (tx) => tx.insertRecord(policy("pol_1", 1)));
          expect((await store.write(tenant.id, newest)).map((row) => row.id)).toEqual(["pol_1"]);
          expect((await store.write(tenant.id, newest)).map((row) => row.id)).toEqual(["pol_1"]);
          await other.write(tenant.id, (tx) => tx.insertRecord(policy("pol_2", 2)));
          expect((await store.write(tenant.id, newest)).map((row) => row.id)).toEqual(["pol_2"]);
          // Changed and read in one write: the write sees its own change.
          const seen = await store.write(tenant.id, async (tx) => {
            await newest(tx);
            await tx.insertRecord(policy("pol_3", 3));
            return newest(tx);
          });
          expect(seen.map((row) => row.id)).toEqual(["pol_3"]);
          // A cached body handed out is a copy: changing it changes nothing cached.
          const [copy] = await store.write(tenant.id, newest);
          copy!.body.limit = -1;
          expect((await store.write(tenant.id, newest))[0]!.body).toEqual({ limit: 3 });
          await other.write(tenant.id, (tx) => tx.updateRecord({ ...policy("pol_3", 3), status: "active", updatedAtMs: 4, body: { limit: 4 } }));
          expect((await store.write(tenant.id, newest))[0]!.body).toEqual({ limit: 4 });
        } finally {
          await other.close();
        }
      });

      it("reads agents, their children and team members, and payees inside a write as they are now, also after another store process changed them", async () => {
        // Cached per process under the tenant's config version (migration 25): every change of
        // an agent (an insert too) and of a payee record bumps it.
        const { tenant, wallet } = await seedTenant(store);
        const other = await open();
        try {
          const parent = agentRow(tenant.id, wallet.id);
          const payee: StoredRecord = {
            tenantId: tenant.id, kind: "payee", id: newId("pay"), agentId: null, status: "active", refId: null, dueAtMs: null,
            createdAtMs: baseMs, updatedAtMs: baseMs, body: { name: "Bob" },
          };
          await store.write(tenant.id, async (tx) => {
            await tx.insertAgent(parent);
            await tx.insertRecord(payee);
          });
          const seen = (tx: StoreTx) => Promise.all([
            tx.getAgent(tenant.id, parent.id),
            tx.listChildAgents(tenant.id, parent.id, 10),
            tx.listTeamAgents(tenant.id, "team_cached", 10),
            tx.getRecord(tenant.id, "payee", payee.id),
          ]);
          const ids = (rows: AgentRow[]) => rows.map((row) => row.id);
          for (let i = 0; i < 2; i++) {
            const [agent, children, members, record] = await store.write(tenant.id, seen);
            expect(agent).toEqual(parent);
            expect(children).toEqual([]);
            expect(members).toEqual([]);
            expect(record).toEqual(payee);
          }
          // Another process spawns a child (an insert), moves the parent into a team and renames
          // it (an update that leaves the status alone), and changes the payee.
          const child = agentRow(tenant.id, wallet.id, { parentAgentId: parent.id, spawnDepth: 1 });
          const moved = { ...parent, name: "Renamed", teamId: "team_cached", updatedAtMs: baseMs + 1 };
          await other.write(tenant.id, (tx) => tx.insertAgent(child));
          expect(ids((await store.write(tenant.id, seen))[1])).toEqual([child.id]);
          await other.write(tenant.id, (tx) => tx.updateAgent(moved));
          const [agent, , members] = await store.write(tenant.id, seen);
          expect(agent).toEqual(moved);
          expect(ids(members)).toEqual([parent.id]);
          await other.write(tenant.id, (tx) => tx.updateRecord({ ...payee, status: "deleted", updatedAtMs: baseMs + 2, body: { name: "Bob", status: "deleted" } }));
          expect((await store.write(tenant.id, seen))[3]).toMatchObject({ status: "deleted", body: { status: "deleted" } });
          // Changed and read in one write: the write sees its own change.
          const renamedAgain = await store.write(tenant.id, async (tx) => {
            await tx.getAgent(tenant.id, parent.id);
            await tx.updateAgent({ ...moved, name: "Again", updatedAtMs: baseMs + 3 });
            return tx.getAgent(tenant.id, parent.id);
          });
          expect(renamedAgain!.name).toBe("Again");
        } finally {
          await other.close();
        }
      });

      it("claims due pending deliveries across tenants in due order, leased until the lease ends", async () => {
        const a = await seedTenant(store);
        const b = await seedTenant(store);
        const endpointA = webhookEndpointRow(a.tenant.id);
        const endpointB = webhookEndpointRow(b.tenant.id);
        // Due times near the epoch: no other test queues deliveries this old.
        const dueA = webhookDeliveryRow(a.tenant.id, endpointA.id, { nextAttemptAtMs: 20, eventSeq: 2 });
        const dueB = webhookDeliveryRow(b.tenant.id, endpointB.id, { nextAttemptAtMs: 10, eventSeq: 1 });
        const later = webhookDeliveryRow(a.tenant.id, endpointA.id, { nextAttemptAtMs: 50, eventSeq: 3 });
        const done = webhookDeliveryRow(a.tenant.id, endpointA.id, { nextAttemptAtMs: 5, status: "delivered" });
        await store.write(a.tenant.id, async (tx) => {
          await tx.insertWebhookEndpoint(endpointA);
          for (const delivery of [dueA, later, done]) await tx.insertWebhookDelivery(delivery);
        });
        await store.write(b.tenant.id, async (tx) => {
          await tx.insertWebhookEndpoint(endpointB);
          await tx.insertWebhookDelivery(dueB);
        });
        const mine = new Set([a.tenant.id, b.tenant.id]);
        // No other test queues deliveries due this early: the earliest due is ours.
        expect(await store.read.nextWebhookDeliveryDueAtMs()).toBe(10);
        const claimed = (await store.write(null, (tx) => tx.claimDueWebhookDeliveries(30, 1000, 100))).filter((row) => mine.has(row.tenantId));
        expect(claimed.map((row) => row.id)).toEqual([dueB.id, dueA.id]);
        expect(claimed.every((row) => row.nextAttemptAtMs === 1000)).toBe(true);
        // Leased: not due again before the lease ends, due again after it.
        expect((await store.write(null, (tx) => tx.claimDueWebhookDeliveries(40, 2000, 100))).filter((row) => mine.has(row.tenantId))).toEqual([]);
        const again = (await store.write(null, (tx) => tx.claimDueWebhookDeliveries(1000, 3000, 100))).filter((row) => mine.has(row.tenantId));
        expect(again.map((row) => row.id).sort()).toEqual([dueA.id, dueB.id, later.id].sort());
        // Tenant isolation of reads.
        expect(await store.read.getWebhookDelivery(a.tenant.id, dueB.id)).toBeNull();
        expect(await store.read.getWebhookEndpoint(a.tenant.id, endpointB.id)).toBeNull();
        expect(await store.read.listWebhookDeliveries(a.tenant.id, endpointB.id, { limit: 10 })).toEqual([]);
      });

      it("queues deliveries in the event's own transaction: both commit, or neither", async () => {
        const { tenant } = await seedTenant(store);
        const endpoint = webhookEndpointRow(tenant.id, { eventTypes: ["transfer.*"] });
        const other = webhookEndpointRow(tenant.id, { eventTypes: ["account.created"] });
        const disabled = webhookEndpointRow(tenant.id, { eventTypes: ["*"], enabled: false });
        await store.write(tenant.id, async (tx) => {
          for (const row of [endpoint, other, disabled]) await tx.insertWebhookEndpoint(row);
        });
        const context = (tx: StoreTx) => ({ tx, tenantId: tenant.id, nowMs: baseMs, actor: { type: "system" as const, id: "test" } });
        const event = await store.write(tenant.id, (tx) => appendEvent(context(tx), "transfer.posted", { n: 1 }));
        expect(await store.read.getEventSeqById(tenant.id, event.id)).toBe(event.seq);
        expect(await store.read.getEventSeqById(newId("ten"), event.id)).toBeNull();
        const queued = await store.read.listWebhookDeliveries(tenant.id, endpoint.id, { limit: 10 });
        expect(queued.map((row) => [row.eventId, row.status])).toEqual([[event.id, "pending"]]);
        expect(await store.read.listWebhookDeliveries(tenant.id, other.id, { limit: 10 })).toEqual([]);
        expect(await store.read.listWebhookDeliveries(tenant.id, disabled.id, { limit: 10 })).toEqual([]);
        await expect(
          store.write(tenant.id, async (tx) => {
            await appendEvent(context(tx), "transfer.voided", {});
            throw new Error("rolled back");
          }),
        ).rejects.toThrow("rolled back");
        expect(await store.read.listWebhookDeliveries(tenant.id, endpoint.id, { limit: 10 })).toHaveLength(1);
      });

      it("filters events by type patterns", async () => {
        const { tenant } = await seedTenant(store);
        const types = ["payment_intent.created", "payment_intent.leg.failed", "paymentXintent.created", "transfer.posted", "account.created"];
        await store.write(tenant.id, async (tx) => {
          for (const [index, type] of types.entries()) await tx.insertEvent(eventRow(tenant.id, index + 1, { type }));
        });
        const typesOf = async (patterns: string[]) =>
          (await store.read.listEvents(tenant.id, { limit: 10, ascending: true, types: patterns })).map((event) => event.type);
        expect(await typesOf(["payment_intent.*"])).toEqual(["payment_intent.created", "payment_intent.leg.failed"]);
        expect(await typesOf(["payment_intent.*", "account.created"])).toEqual(["payment_intent.created", "payment_intent.leg.failed", "account.created"]);
        expect(await typesOf(["*"])).toEqual(types);
        expect(await typesOf(["transfer.posted"])).toEqual(["transfer.posted"]);
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

    describe("identity: agents", () => {
      it("round-trips an agent and updates name, description, status, metadata and time", async () => {
        const { tenant, agent, funding } = await seedAgent(store);
        expect(await store.read.getAgent(tenant.id, agent.id)).toEqual(agent);
        expect(await store.read.getAgent(tenant.id, newId("agt"))).toBeNull();
        const changed: AgentRow = {
          ...agent,
          name: "Renamed",
          description: null,
          status: "disabled",
          metadata: null,
          updatedAtMs: baseMs + 5,
          // Not written by updateAgent: these stay as stored.
          walletAccountId: funding.id,
          createdAtMs: baseMs + 9,
        };
        await store.write(tenant.id, (tx) => tx.updateAgent(changed));
        expect(await store.read.getAgent(tenant.id, agent.id)).toEqual({
          ...changed,
          walletAccountId: agent.walletAccountId,
          createdAtMs: agent.createdAtMs,
        });
        await expect(store.write(tenant.id, (tx) => tx.updateAgent(agentRow(tenant.id, funding.id)))).rejects.toThrow();
        // The wallet must be an account of the same tenant.
        await expect(store.write(tenant.id, (tx) => tx.insertAgent(agentRow(tenant.id, newId("acc"))))).rejects.toThrow();
      });

      it("pages agents newest first with a beforeId cursor", async () => {
        const { tenant, wallet } = await seedTenant(store);
        const agents = Array.from({ length: 5 }, (_, index) => agentRow(tenant.id, wallet.id, { id: newId("agt", baseMs + index) }));
        await store.write(tenant.id, async (tx) => {
          for (const agent of [...agents].reverse()) await tx.insertAgent(agent);
        });
        const newestFirst = [...agents].reverse();
        expect(await store.read.listAgents(tenant.id, { limit: 10 })).toEqual(newestFirst);
        const first = await store.read.listAgents(tenant.id, { limit: 2 });
        expect(first).toEqual(newestFirst.slice(0, 2));
        const second = await store.read.listAgents(tenant.id, { limit: 2, beforeId: first[1]!.id });
        expect(second).toEqual(newestFirst.slice(2, 4));
        expect(await store.read.listAgents(tenant.id, { limit: 2, beforeId: second[1]!.id })).toEqual(newestFirst.slice(4));
        expect(await store.read.listAgents(tenant.id, { limit: 2, beforeId: agents[0]!.id })).toEqual([]);
      });
    });

    describe("identity: registration tickets", () => {
      it("finds a ticket by hash across tenants and consumes it once", async () => {
        const { tenant, user, agent } = await seedAgent(store);
        const ticket = ticketRow(tenant.id, agent.id, user.id);
        await store.write(tenant.id, (tx) => tx.insertRegistrationTicket(ticket));
        expect(await store.read.findRegistrationTicketByHash(ticket.tokenHash)).toEqual(ticket);
        expect(await store.read.findRegistrationTicketByHash(tokenHash())).toBeNull();

        const bindingId = newId("cb");
        expect(await store.write(tenant.id, (tx) => tx.consumeRegistrationTicket(tenant.id, ticket.id, bindingId, baseMs + 7))).toBe(true);
        const consumed = { ...ticket, consumedAtMs: baseMs + 7, bindingId };
        expect(await store.read.findRegistrationTicketByHash(ticket.tokenHash)).toEqual(consumed);
        expect(await store.write(tenant.id, (tx) => tx.consumeRegistrationTicket(tenant.id, ticket.id, newId("cb"), baseMs + 8))).toBe(false);
        expect(await store.read.findRegistrationTicketByHash(ticket.tokenHash)).toEqual(consumed);
        expect(await store.write(tenant.id, (tx) => tx.consumeRegistrationTicket(tenant.id, newId("tkt"), bindingId, baseMs))).toBe(false);

        const duplicate = ticketRow(tenant.id, agent.id, user.id, { tokenHash: ticket.tokenHash });
        await expect(store.write(tenant.id, (tx) => tx.insertRegistrationTicket(duplicate))).rejects.toThrow();
        await expect(store.write(tenant.id, (tx) => tx.insertRegistrationTicket(ticketRow(tenant.id, newId("agt"), user.id)))).rejects.toThrow();
      });

      it("lets exactly one of 20 concurrent consumptions win, and keeps nothing of a rolled-back one", async () => {
        const { tenant, user, agent } = await seedAgent(store);
        const ticket = ticketRow(tenant.id, agent.id, user.id);
        await store.write(tenant.id, (tx) => tx.insertRegistrationTicket(ticket));
        await expect(
          store.write(tenant.id, async (tx) => {
            expect(await tx.consumeRegistrationTicket(tenant.id, ticket.id, newId("cb"), baseMs)).toBe(true);
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect((await store.read.findRegistrationTicketByHash(ticket.tokenHash))?.consumedAtMs).toBeNull();

        // Tenant id null: no tenant lock on PostgreSQL, so the conditional UPDATE alone decides.
        const bindingIds = Array.from({ length: 20 }, () => newId("cb"));
        const results = await Promise.all(
          bindingIds.map((bindingId, index) =>
            store.write(null, async (tx) => {
              const seen = await tx.findRegistrationTicketByHash(ticket.tokenHash);
              if (seen?.consumedAtMs !== null) return false;
              return tx.consumeRegistrationTicket(tenant.id, ticket.id, bindingId, baseMs + index);
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.read.findRegistrationTicketByHash(ticket.tokenHash)).toEqual({
          ...ticket,
          consumedAtMs: baseMs + winner,
          bindingId: bindingIds[winner],
        });
      });
    });

    describe("identity: credential bindings", () => {
      it("round-trips a binding by id and by thumbprint, and revokes it keeping the first time", async () => {
        const { tenant, agent } = await seedAgent(store);
        const binding = bindingRow(tenant.id, agent.id);
        const plain = bindingRow(tenant.id, agent.id, { algorithm: "ES256", clientMetadata: null, scopes: [] });
        await store.write(tenant.id, async (tx) => {
          await tx.insertCredentialBinding(binding);
          await tx.insertCredentialBinding(plain);
        });
        expect(await store.read.findCredentialBinding(binding.id)).toEqual(binding);
        expect(await store.read.findCredentialBinding(plain.id)).toEqual(plain);
        expect(await store.read.findCredentialBindingByThumbprint(binding.thumbprint)).toEqual(binding);
        expect(await store.read.findCredentialBinding(newId("cb"))).toBeNull();
        expect(await store.read.findCredentialBindingByThumbprint("nope")).toBeNull();

        await store.write(tenant.id, (tx) => tx.revokeCredentialBinding(tenant.id, binding.id, baseMs + 3));
        await store.write(tenant.id, (tx) => tx.revokeCredentialBinding(tenant.id, binding.id, baseMs + 4));
        expect(await store.read.findCredentialBinding(binding.id)).toEqual({ ...binding, revokedAtMs: baseMs + 3 });
        expect(await store.read.findCredentialBinding(plain.id)).toEqual(plain);
        await expect(store.write(tenant.id, (tx) => tx.revokeCredentialBinding(tenant.id, newId("cb"), baseMs))).rejects.toThrow();
      });

      it("refuses a duplicate thumbprint or binding id, in any tenant", async () => {
        const a = await seedAgent(store);
        const b = await seedAgent(store);
        const binding = bindingRow(a.tenant.id, a.agent.id);
        await store.write(a.tenant.id, (tx) => tx.insertCredentialBinding(binding));
        const sameKey = bindingRow(a.tenant.id, a.agent.id, { thumbprint: binding.thumbprint });
        await expect(store.write(a.tenant.id, (tx) => tx.insertCredentialBinding(sameKey))).rejects.toThrow();
        const sameKeyElsewhere = bindingRow(b.tenant.id, b.agent.id, { thumbprint: binding.thumbprint });
        await expect(store.write(b.tenant.id, (tx) => tx.insertCredentialBinding(sameKeyElsewhere))).rejects.toThrow();
        const sameIdElsewhere = bindingRow(b.tenant.id, b.agent.id, { id: binding.id });
        await expect(store.write(b.tenant.id, (tx) => tx.insertCredentialBinding(sameIdElsewhere))).rejects.toThrow();
        // The agent must belong to the binding's tenant.
        await expect(store.write(a.tenant.id, (tx) => tx.insertCredentialBinding(bindingRow(a.tenant.id, b.agent.id)))).rejects.toThrow();
        expect(await store.read.findCredentialBindingByThumbprint(binding.thumbprint)).toEqual(binding);
        expect(await store.read.listCredentialBindings(b.tenant.id, { limit: 10 })).toEqual([]);
      });

      it("pages bindings newest first, for the tenant and for one agent", async () => {
        const { tenant, wallet, agent } = await seedAgent(store);
        const other = agentRow(tenant.id, wallet.id);
        await store.write(tenant.id, (tx) => tx.insertAgent(other));
        const bindings = Array.from({ length: 5 }, (_, index) =>
          bindingRow(tenant.id, index % 2 === 0 ? agent.id : other.id, { id: newId("cb", baseMs + index) }),
        );
        await store.write(tenant.id, async (tx) => {
          for (const binding of [...bindings].reverse()) await tx.insertCredentialBinding(binding);
        });
        const newestFirst = [...bindings].reverse();
        const first = await store.read.listCredentialBindings(tenant.id, { limit: 3 });
        expect(first).toEqual(newestFirst.slice(0, 3));
        expect(await store.read.listCredentialBindings(tenant.id, { limit: 3, beforeId: first[2]!.id })).toEqual(newestFirst.slice(3));
        const agentBindings = newestFirst.filter((binding) => binding.agentId === agent.id);
        expect(agentBindings).toHaveLength(3);
        const agentFirst = await store.read.listCredentialBindings(tenant.id, { limit: 2, agentId: agent.id });
        expect(agentFirst).toEqual(agentBindings.slice(0, 2));
        expect(await store.read.listCredentialBindings(tenant.id, { limit: 2, agentId: agent.id, beforeId: agentFirst[1]!.id })).toEqual(
          agentBindings.slice(2),
        );
        expect(await store.read.listCredentialBindings(tenant.id, { limit: 10, agentId: other.id })).toEqual(
          newestFirst.filter((binding) => binding.agentId === other.id),
        );
      });
    });

    describe("identity: refresh tokens", () => {
      async function seedBinding() {
        const seeded = await seedAgent(store);
        const binding = bindingRow(seeded.tenant.id, seeded.agent.id);
        await store.write(seeded.tenant.id, (tx) => tx.insertCredentialBinding(binding));
        return { ...seeded, binding };
      }

      it("round-trips a token by hash and marks it used once", async () => {
        const { tenant, binding } = await seedBinding();
        const token = refreshTokenRow(tenant.id, binding.id);
        await store.write(tenant.id, (tx) => tx.insertRefreshToken(token));
        expect(await store.read.findRefreshTokenByHash(token.tokenHash)).toEqual(token);
        expect(await store.read.findRefreshTokenByHash(tokenHash())).toBeNull();
        expect(await store.write(tenant.id, (tx) => tx.useRefreshToken(tenant.id, token.id, baseMs + 1))).toBe(true);
        expect(await store.write(tenant.id, (tx) => tx.useRefreshToken(tenant.id, token.id, baseMs + 2))).toBe(false);
        expect(await store.read.findRefreshTokenByHash(token.tokenHash)).toEqual({ ...token, usedAtMs: baseMs + 1 });
        expect(await store.write(tenant.id, (tx) => tx.useRefreshToken(tenant.id, newId("rft"), baseMs))).toBe(false);
        const duplicate = refreshTokenRow(tenant.id, binding.id, { tokenHash: token.tokenHash });
        await expect(store.write(tenant.id, (tx) => tx.insertRefreshToken(duplicate))).rejects.toThrow();
        await expect(store.write(tenant.id, (tx) => tx.insertRefreshToken(refreshTokenRow(tenant.id, newId("cb"))))).rejects.toThrow();
      });

      it("lets exactly one of 20 concurrent uses of one token win", async () => {
        const { tenant, binding } = await seedBinding();
        const token = refreshTokenRow(tenant.id, binding.id);
        await store.write(tenant.id, (tx) => tx.insertRefreshToken(token));
        // Tenant id null: no tenant lock on PostgreSQL, so the conditional UPDATE alone decides.
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.write(null, async (tx) => {
              const seen = await tx.findRefreshTokenByHash(token.tokenHash);
              if (seen?.usedAtMs !== null) return false;
              return tx.useRefreshToken(tenant.id, token.id, baseMs + index);
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.read.findRefreshTokenByHash(token.tokenHash))?.usedAtMs).toBe(baseMs + results.indexOf(true));
      });

      it("revokes a whole family, and every token of a binding, keeping earlier revocations", async () => {
        const { tenant, agent, binding } = await seedBinding();
        const otherBinding = bindingRow(tenant.id, agent.id);
        await store.write(tenant.id, (tx) => tx.insertCredentialBinding(otherBinding));
        const familyId = newId("rff");
        const family = [0, 1, 2].map((index) => refreshTokenRow(tenant.id, binding.id, { familyId, createdAtMs: baseMs + index }));
        const earlier = refreshTokenRow(tenant.id, binding.id, { familyId, revokedAtMs: baseMs - 1 });
        const sameBinding = refreshTokenRow(tenant.id, binding.id);
        const elsewhere = refreshTokenRow(tenant.id, otherBinding.id);
        await store.write(tenant.id, async (tx) => {
          for (const token of [...family, earlier, sameBinding, elsewhere]) await tx.insertRefreshToken(token);
        });
        const read = async (token: RefreshTokenRow) => store.read.findRefreshTokenByHash(token.tokenHash);

        await store.write(tenant.id, (tx) => tx.revokeRefreshTokenFamily(tenant.id, familyId, baseMs + 10));
        for (const token of family) expect(await read(token)).toEqual({ ...token, revokedAtMs: baseMs + 10 });
        expect(await read(earlier)).toEqual(earlier);
        expect(await read(sameBinding)).toEqual(sameBinding);
        expect(await read(elsewhere)).toEqual(elsewhere);

        await store.write(tenant.id, (tx) => tx.revokeRefreshTokensOfBinding(tenant.id, binding.id, baseMs + 20));
        expect(await read(sameBinding)).toEqual({ ...sameBinding, revokedAtMs: baseMs + 20 });
        for (const token of family) expect((await read(token))?.revokedAtMs).toBe(baseMs + 10);
        expect(await read(elsewhere)).toEqual(elsewhere);
      });
    });

    describe("identity: API keys", () => {
      it("round-trips agent and service-account keys by hash and id, and updates their lifecycle", async () => {
        const { tenant, agent } = await seedAgent(store);
        const key = apiKeyRow(tenant.id, agent.id);
        const service = apiKeyRow(tenant.id, null, {
          scopes: [],
          expiresAtMs: baseMs + 1,
          revokedAtMs: baseMs + 2,
          lastUsedAtMs: baseMs + 3,
          acceptedCount: Number.MAX_SAFE_INTEGER,
          deniedCounts: { rate_limited: 5, insufficient_scope: 0 },
        });
        const rotated = apiKeyRow(tenant.id, agent.id, { rotatedFromId: key.id });
        await store.write(tenant.id, async (tx) => {
          for (const row of [key, service, rotated]) await tx.insertApiKey(row);
        });
        for (const row of [key, service, rotated]) {
          expect(await store.read.findApiKeyByHash(row.tokenHash)).toEqual(row);
          expect(await store.read.getApiKey(tenant.id, row.id)).toEqual(row);
        }
        expect(await store.read.findApiKeyByHash(tokenHash())).toBeNull();
        expect(await store.read.getApiKey(tenant.id, newId("key"))).toBeNull();

        await store.write(tenant.id, (tx) => tx.updateApiKeyLifecycle(tenant.id, key.id, baseMs + 60_000, null));
        expect(await store.read.getApiKey(tenant.id, key.id)).toEqual({ ...key, expiresAtMs: baseMs + 60_000 });
        await store.write(tenant.id, (tx) => tx.updateApiKeyLifecycle(tenant.id, key.id, null, baseMs + 5));
        expect(await store.read.getApiKey(tenant.id, key.id)).toEqual({ ...key, expiresAtMs: null, revokedAtMs: baseMs + 5 });
        await expect(store.write(tenant.id, (tx) => tx.updateApiKeyLifecycle(tenant.id, newId("key"), null, null))).rejects.toThrow();

        const duplicate = apiKeyRow(tenant.id, null, { tokenHash: key.tokenHash });
        await expect(store.write(tenant.id, (tx) => tx.insertApiKey(duplicate))).rejects.toThrow();
        await expect(store.write(tenant.id, (tx) => tx.insertApiKey(apiKeyRow(tenant.id, newId("agt"))))).rejects.toThrow();
        await expect(
          store.write(tenant.id, (tx) => tx.insertApiKey(apiKeyRow(tenant.id, null, { rotatedFromId: newId("key") }))),
        ).rejects.toThrow();
      });

      it("adds usage: counts sum, denials merge by reason, last use stays at the maximum", async () => {
        const { tenant } = await seedTenant(store);
        const key = apiKeyRow(tenant.id, null);
        await store.write(tenant.id, (tx) => tx.insertApiKey(key));
        const add = (accepted: number, denied: Record<string, number>, lastUsedAtMs: number | null) =>
          store.write(tenant.id, (tx) => tx.addApiKeyUsage(tenant.id, key.id, { accepted, denied, lastUsedAtMs }));
        await add(0, {}, null);
        expect(await store.read.getApiKey(tenant.id, key.id)).toEqual(key);
        await add(3, { rate_limited: 2 }, baseMs + 50);
        await add(4, { rate_limited: 2, insufficient_scope: 1 }, baseMs + 20);
        await add(0, {}, null);
        await add(1, { "odd \"reason\"": 7 }, baseMs + 90);
        expect(await store.read.getApiKey(tenant.id, key.id)).toEqual({
          ...key,
          acceptedCount: 8,
          deniedCounts: { rate_limited: 4, insufficient_scope: 1, "odd \"reason\"": 7 },
          lastUsedAtMs: baseMs + 90,
        });
        await expect(add(-1, {}, null)).rejects.toThrow();
        await expect(add(1, { rate_limited: 0.5 }, null)).rejects.toThrow();
        await expect(
          store.write(tenant.id, (tx) => tx.addApiKeyUsage(tenant.id, newId("key"), { accepted: 1, denied: {}, lastUsedAtMs: null })),
        ).rejects.toThrow();
        expect((await store.read.getApiKey(tenant.id, key.id))?.acceptedCount).toBe(8);
      });

      it("loses no usage under 20 concurrent adds", async () => {
        const { tenant } = await seedTenant(store);
        const key = apiKeyRow(tenant.id, null, { acceptedCount: 100, deniedCounts: { rate_limited: 1 } });
        await store.write(tenant.id, (tx) => tx.insertApiKey(key));
        // Tenant id null: no tenant lock on PostgreSQL, so the UPDATE itself must not lose counts.
        await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.write(null, (tx) =>
              tx.addApiKeyUsage(tenant.id, key.id, {
                accepted: index + 1,
                denied: index % 2 === 0 ? { rate_limited: 1 } : { rate_limited: 1, [`reason_${index % 3}`]: 2 },
                lastUsedAtMs: baseMs + ((index * 7) % 20),
              }),
            ),
          ),
        );
        expect(await store.read.getApiKey(tenant.id, key.id)).toEqual({
          ...key,
          acceptedCount: 100 + 210,
          // Odd indexes 1..19: index % 3 is 1 for 1, 7, 13, 19; 0 for 3, 9, 15; 2 for 5, 11, 17.
          deniedCounts: { rate_limited: 21, reason_0: 6, reason_1: 8, reason_2: 6 },
          lastUsedAtMs: baseMs + 19,
        });
      });

      it("pages keys newest first with a beforeId cursor", async () => {
        const { tenant } = await seedTenant(store);
        const keys = Array.from({ length: 5 }, (_, index) => apiKeyRow(tenant.id, null, { id: newId("key", baseMs + index) }));
        await store.write(tenant.id, async (tx) => {
          for (const key of [...keys].reverse()) await tx.insertApiKey(key);
        });
        const newestFirst = [...keys].reverse();
        const first = await store.read.listApiKeys(tenant.id, { limit: 2 });
        expect(first).toEqual(newestFirst.slice(0, 2));
        const second = await store.read.listApiKeys(tenant.id, { limit: 2, beforeId: first[1]!.id });
        expect(second).toEqual(newestFirst.slice(2, 4));
        expect(await store.read.listApiKeys(tenant.id, { limit: 2, beforeId: second[1]!.id })).toEqual(newestFirst.slice(4));
        expect(await store.read.listApiKeys(tenant.id, { limit: 10 })).toEqual(newestFirst);
      });
    });

    describe("identity: tenant isolation", () => {
      it("hides tenant B's identity rows from tenant A and refuses A's writes to them", async () => {
        const a = await seedAgent(store);
        const b = await seedAgent(store);
        const A = a.tenant.id;
        const B = b.tenant.id;
        const bTicket = ticketRow(B, b.agent.id, b.user.id);
        const bBinding = bindingRow(B, b.agent.id);
        const bToken = refreshTokenRow(B, bBinding.id);
        const bKey = apiKeyRow(B, b.agent.id);
        await store.write(B, async (tx) => {
          await tx.insertRegistrationTicket(bTicket);
          await tx.insertCredentialBinding(bBinding);
          await tx.insertRefreshToken(bToken);
          await tx.insertApiKey(bKey);
        });
        const reader = store.read;
        expect(await reader.getAgent(A, b.agent.id)).toBeNull();
        expect(await reader.listAgents(A, { limit: 100 })).toEqual([a.agent]);
        expect(await reader.listCredentialBindings(A, { limit: 100 })).toEqual([]);
        expect(await reader.listCredentialBindings(A, { limit: 100, agentId: b.agent.id })).toEqual([]);
        expect(await reader.getApiKey(A, bKey.id)).toBeNull();
        expect(await reader.listApiKeys(A, { limit: 100 })).toEqual([]);
        // The by-hash and by-id lookups are global: they return B's rows, tagged with B.
        expect((await reader.findCredentialBinding(bBinding.id))?.tenantId).toBe(B);
        expect((await reader.findApiKeyByHash(bKey.tokenHash))?.tenantId).toBe(B);

        await store.write(A, async (tx) => {
          expect(await tx.getAgent(A, b.agent.id)).toBeNull();
          expect(await tx.getApiKey(A, bKey.id)).toBeNull();
          expect(await tx.consumeRegistrationTicket(A, bTicket.id, newId("cb"), baseMs)).toBe(false);
          expect(await tx.useRefreshToken(A, bToken.id, baseMs)).toBe(false);
          await tx.revokeRefreshTokenFamily(A, bToken.familyId, baseMs);
          await tx.revokeRefreshTokensOfBinding(A, bBinding.id, baseMs);
        });
        await expect(store.write(A, (tx) => tx.updateAgent({ ...b.agent, tenantId: A, name: "stolen" }))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.revokeCredentialBinding(A, bBinding.id, baseMs))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.updateApiKeyLifecycle(A, bKey.id, null, baseMs))).rejects.toThrow();
        await expect(
          store.write(A, (tx) => tx.addApiKeyUsage(A, bKey.id, { accepted: 1, denied: {}, lastUsedAtMs: baseMs })),
        ).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.insertApiKey(apiKeyRow(A, b.agent.id)))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.insertRefreshToken(refreshTokenRow(A, bBinding.id)))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.insertRegistrationTicket(ticketRow(A, b.agent.id, a.user.id)))).rejects.toThrow();
        await expect(store.write(A, (tx) => tx.insertAgent(agentRow(A, b.wallet.id)))).rejects.toThrow();

        expect(await reader.getAgent(B, b.agent.id)).toEqual(b.agent);
        expect(await reader.findRegistrationTicketByHash(bTicket.tokenHash)).toEqual(bTicket);
        expect(await reader.findCredentialBinding(bBinding.id)).toEqual(bBinding);
        expect(await reader.findRefreshTokenByHash(bToken.tokenHash)).toEqual(bToken);
        expect(await reader.getApiKey(B, bKey.id)).toEqual(bKey);
      });
    });

    describe("server signing key", () => {
      it("keeps the first key stored, also when several writers race to store one", async () => {
        const before = await store.read.getServerSigningKey();
        const attempts = [1, 2, 3, 4, 5].map(signingKeyRow);
        const stored = await Promise.all(attempts.map((row) => store.write(null, (tx) => tx.ensureServerSigningKey(row))));
        const kept = stored[0]!;
        for (const row of stored) expect(row).toEqual(kept);
        if (before) expect(kept).toEqual(before);
        else expect(attempts).toContainEqual(kept);
        expect(await store.read.getServerSigningKey()).toEqual(kept);
        expect(await store.write(null, (tx) => tx.ensureServerSigningKey(signingKeyRow(9)))).toEqual(kept);
      });
    });

    describe("governance records and spends", () => {
      const record = (tenantId: string, id: string, more: Partial<StoredRecord> = {}): StoredRecord => ({
        tenantId, kind: "payee", id, agentId: null, status: null, refId: null, dueAtMs: null,
        createdAtMs: baseMs, updatedAtMs: baseMs, body: { name: id, nested: { list: [1, "two"] } }, ...more,
      });

      it("stores, updates, filters and pages records per tenant and kind", async () => {
        const { tenant } = await seedTenant(store);
        const other = await seedTenant(store);
        const ids = Array.from({ length: 5 }, (_, i) => `apr_${String(i).padStart(3, "0")}`);
        await store.write(tenant.id, async (tx) => {
          for (const [i, id] of ids.entries()) {
            await tx.insertRecord(record(tenant.id, id, { kind: "approval", agentId: i % 2 ? "agt_a" : "agt_b", status: i < 3 ? "pending" : "approved", refId: `pi_${i % 2}` }));
          }
          await tx.insertRecord(record(tenant.id, "pay_1"));
        });
        await store.write(other.tenant.id, (tx) => tx.insertRecord(record(other.tenant.id, "apr_999", { kind: "approval" })));
        const all = await store.read.listRecords(tenant.id, { kind: "approval", limit: 10 });
        expect(all.map((row) => row.id)).toEqual([...ids].reverse());
        expect(all[0]!.body).toEqual({ name: ids[4], nested: { list: [1, "two"] } });
        const page = await store.read.listRecords(tenant.id, { kind: "approval", limit: 2, beforeId: ids[3] });
        expect(page.map((row) => row.id)).toEqual([ids[2], ids[1]]);
        expect((await store.read.listRecords(tenant.id, { kind: "approval", limit: 10, agentId: "agt_a" })).map((row) => row.id)).toEqual([ids[3], ids[1]]);
        expect((await store.read.listRecords(tenant.id, { kind: "approval", limit: 10, status: "pending", refId: "pi_0" })).map((row) => row.id)).toEqual([ids[2], ids[0]]);
        expect(await store.read.getRecord(tenant.id, "payee", ids[0]!)).toBeNull();
        expect(await store.read.getRecord(other.tenant.id, "approval", ids[0]!)).toBeNull();
        // Counting, for caps: the same filters, at most `limit`.
        expect(await store.read.countRecords(tenant.id, { kind: "approval" }, 100)).toBe(5);
        expect(await store.read.countRecords(tenant.id, { kind: "approval" }, 3)).toBe(3);
        expect(await store.read.countRecords(tenant.id, { kind: "approval", agentId: "agt_a", status: "pending" }, 100)).toBe(1);
        expect(await store.read.countRecords(other.tenant.id, { kind: "approval", agentId: "agt_a" }, 100)).toBe(0);
        const before = (await store.read.getRecord(tenant.id, "approval", ids[0]!))!;
        const changed = { ...before, status: "approved", dueAtMs: null, updatedAtMs: baseMs + 5, body: { decided: true } };
        await store.write(tenant.id, (tx) => tx.updateRecord(changed));
        expect(await store.read.getRecord(tenant.id, "approval", ids[0]!)).toEqual(changed);
        await expect(store.write(tenant.id, (tx) => tx.updateRecord({ ...changed, tenantId: other.tenant.id, id: "apr_missing" }))).rejects.toThrow();
      });

      it("finds records by name key and lists due records across tenants", async () => {
        const { tenant } = await seedTenant(store);
        const kind = "payee";
        await store.write(tenant.id, async (tx) => {
          await tx.insertRecord(record(tenant.id, "pay_b"));
          await tx.insertRecord(record(tenant.id, "pay_a"));
          await tx.setRecordNames(tenant.id, kind, "pay_a", ["bob", "robert", "bob"]);
          await tx.setRecordNames(tenant.id, kind, "pay_b", ["bob"]);
          await tx.insertRecord(record(tenant.id, "txn_due1", { kind: "transaction", dueAtMs: 1 }));
          await tx.insertRecord(record(tenant.id, "txn_due2", { kind: "transaction", dueAtMs: 2 }));
          await tx.insertRecord(record(tenant.id, "txn_later", { kind: "transaction", dueAtMs: Number.MAX_SAFE_INTEGER }));
        });
        expect(await store.read.findRecordIdsByName(tenant.id, kind, "bob", 10)).toEqual(["pay_a", "pay_b"]);
        expect(await store.read.findRecordIdsByName(tenant.id, kind, "robert", 10)).toEqual(["pay_a"]);
        await store.write(tenant.id, (tx) => tx.setRecordNames(tenant.id, kind, "pay_a", ["rob"]));
        expect(await store.read.findRecordIdsByName(tenant.id, kind, "bob", 10)).toEqual(["pay_b"]);
        const due = await store.read.listDueRecords("transaction", 2, 1000);
        expect(due.filter((row) => row.tenantId === tenant.id).map((row) => row.id)).toEqual(["txn_due1", "txn_due2"]);
      });

      it("keeps a row inserted and then changed in one write as two writes would (both stores write it once, in its final state)", async () => {
        const { tenant, funding, wallet } = await seedTenant(store);
        const spend = (id: string, agentId: string): SpendRow => ({
          tenantId: tenant.id, id, agentId, amountMinor: 900, currency: "GBP", payeeId: "pay_1", operation: "openai.chat", atMs: baseMs + 5, state: "held",
        });
        const hold = (id: string) => transferRow(tenant.id, funding.id, wallet.id, { id, status: "pending", amountMinor: 900, postedAmountMinor: 0, expiresAtMs: baseMs + 60_000 });
        const post = (row: ReturnType<typeof hold>) => ({ ...row, status: "posted" as const, postedAmountMinor: 700, updatedAtMs: row.updatedAtMs + 1 });
        // One agent's hold and capture in two writes, the other's in one.
        await store.write(tenant.id, async (tx) => {
          await tx.insertTransfer(hold("tr_two"));
          await tx.insertSpend(spend("sp_two", "agt_two"));
        });
        await store.write(tenant.id, async (tx) => {
          await tx.updateTransfer(post((await tx.getTransfer(tenant.id, "tr_two"))!));
          await tx.setSpendState(tenant.id, "sp_two", "settled", 700);
        });
        const seen = await store.write(tenant.id, async (tx) => {
          // As a payment does: the accounts first, then the hold, then its capture.
          const [account] = await tx.getAccountsForUpdate(tenant.id, [wallet.id]);
          const row = hold("tr_one");
          await tx.insertTransfer(row);
          await tx.insertSpend(spend("sp_one", "agt_one"));
          await tx.updateAccountBalances(tenant.id, [{ ...account!, creditsPendingMinor: account!.creditsPendingMinor + 900 }]);
          const heldTransfer = (await tx.getTransfer(tenant.id, "tr_one"))!.status;
          await tx.updateTransfer(post(row));
          await tx.setSpendState(tenant.id, "sp_one", "settled", 700);
          const [again] = await tx.getAccountsForUpdate(tenant.id, [wallet.id]);
          await tx.updateAccountBalances(tenant.id, [{ ...again!, creditsPendingMinor: again!.creditsPendingMinor - 900, creditsPostedMinor: again!.creditsPostedMinor + 700 }]);
          const listed = await tx.listTransfers(tenant.id, { limit: 10, accountId: wallet.id });
          return { heldTransfer, listed: listed.find((transfer) => transfer.id === "tr_one")?.status, settled: await tx.sumSpends(tenant.id, "agt_one", "GBP", 0) };
        });
        expect(seen).toEqual({ heldTransfer: "pending", listed: "posted", settled: { amountMinor: 700, count: 1 } });
        const one = (await store.read.getTransfer(tenant.id, "tr_one"))!;
        const two = (await store.read.getTransfer(tenant.id, "tr_two"))!;
        expect({ ...one, id: "tr", updatedAtMs: 0 }).toEqual({ ...two, id: "tr", updatedAtMs: 0 });
        expect(one.status).toBe("posted");
        expect(await store.read.sumSpends(tenant.id, "agt_one", "GBP", 0)).toEqual(await store.read.sumSpends(tenant.id, "agt_two", "GBP", 0));
        const usage = await store.read.usage(tenant.id, { fromMs: baseMs - 86_400_000, toMs: baseMs + 86_400_000, groupBy: "agent", limit: 10 });
        const byAgent = (agentId: string) => usage.filter((row) => JSON.stringify(row).includes(agentId)).map((row) => JSON.parse(JSON.stringify(row).replaceAll(agentId, "agt")));
        expect(byAgent("agt_one")).toEqual(byAgent("agt_two"));
        expect(byAgent("agt_one")).toHaveLength(1);
        expect((await store.read.getAccount(tenant.id, wallet.id))!.creditsPostedMinor).toBe(wallet.creditsPostedMinor + 700);
        // A held row that breaks a key fails its write when it goes out, and nothing of that write is kept.
        await expect(store.write(tenant.id, async (tx) => {
          await tx.insertSpend(spend("sp_lost", "agt_one"));
          await tx.insertTransfer(hold("tr_one"));
        })).rejects.toThrow();
        expect(await store.read.sumSpends(tenant.id, "agt_one", "GBP", 0)).toEqual({ amountMinor: 700, count: 1 });
      });

      it("sums an agent's spends after a moment, leaving out released ones", async () => {
        const { tenant } = await seedTenant(store);
        const spend = (id: string, amountMinor: number, atMs: number, more: Partial<SpendRow> = {}): SpendRow => ({
          tenantId: tenant.id, id, agentId: "agt_1", amountMinor, currency: "GBP", payeeId: "pay_1", operation: null, atMs, state: "held", ...more,
        });
        await store.write(tenant.id, async (tx) => {
          await tx.insertSpend(spend("s1", 100, 10));
          await tx.insertSpend(spend("s2", 200, 20, { state: "settled" }));
          await tx.insertSpend(spend("s3", 400, 30, { currency: "EUR" }));
          await tx.insertSpend(spend("s4", 800, 40));
          await tx.insertSpend(spend("s5", 1600, 50, { agentId: "agt_2", payeeId: "pay_2" }));
          await tx.setSpendState(tenant.id, "s4", "released");
        });
        expect(await store.read.sumSpends(tenant.id, "agt_1", "GBP", Number.MIN_SAFE_INTEGER)).toEqual({ amountMinor: 300, count: 3 });
        expect(await store.read.sumSpends(tenant.id, "agt_1", "GBP", 10)).toEqual({ amountMinor: 200, count: 2 });
        expect(await store.read.sumSpends(tenant.id, "agt_1", "EUR", 0)).toEqual({ amountMinor: 400, count: 3 });
        expect(await store.read.sumSpends(tenant.id, "agt_9", "GBP", 0)).toEqual({ amountMinor: 0, count: 0 });
        expect(await store.read.hasSettledSpend(tenant.id, "agt_1", "pay_1")).toBe(true);
        expect(await store.read.hasSettledSpend(tenant.id, "agt_2", "pay_2")).toBe(false);
        await expect(store.write(tenant.id, (tx) => tx.setSpendState(tenant.id, "missing", "settled"))).rejects.toThrow();
      });

      it("sums trailing windows exactly across hour buckets, whatever the spends' states became", async () => {
        // The rolling counters (hour buckets and an all-time row, migration 19) must agree with
        // the plain definition: not released, at_ms strictly after the window start.
        const { tenant } = await seedTenant(store);
        const hourMs = 3_600_000;
        const startMs = Date.UTC(2026, 0, 1);
        const spends: SpendRow[] = [];
        // Deterministic spread over five hours: on bucket edges, just before and after them.
        const offsets = [0, 1, hourMs - 1, hourMs, hourMs + 1, 2 * hourMs + 17, 3 * hourMs - 1, 3 * hourMs, 4 * hourMs + 5, 4 * hourMs + 6];
        offsets.forEach((offset, i) => {
          spends.push({
            tenantId: tenant.id, id: `sr${i}`, agentId: i % 4 === 3 ? "agt_other" : "agt_roll", amountMinor: 10 + i * 7,
            currency: i % 3 === 2 ? "EUR" : "GBP", payeeId: null, operation: null, atMs: startMs + offset, state: i % 5 === 4 ? "settled" : "held",
          });
        });
        await store.write(tenant.id, async (tx) => {
          for (const row of spends) await tx.insertSpend(row);
        });
        const settle = (id: string, state: SpendRow["state"], amountMinor?: number) => {
          const row = spends.find((spend) => spend.id === id)!;
          row.state = state;
          if (amountMinor !== undefined) row.amountMinor = amountMinor;
          return store.write(tenant.id, (tx) => tx.setSpendState(tenant.id, id, state, amountMinor));
        };
        await settle("sr1", "released");
        await settle("sr5", "settled");
        await settle("sr6", "released");
        await settle("sr2", "settled");
        // Settled for less than was held (a partial capture), in a bucket that also has others.
        await settle("sr3", "settled", 5);
        await settle("sr8", "settled", 1);
        const expected = (agentId: string, currency: string, sinceMs: number) => {
          const live = spends.filter((row) => row.agentId === agentId && row.atMs > sinceMs && row.state !== "released");
          return { amountMinor: live.filter((row) => row.currency === currency).reduce((sum, row) => sum + row.amountMinor, 0), count: live.length };
        };
        const starts = [Number.MIN_SAFE_INTEGER, 0, startMs - 1, ...offsets.map((offset) => startMs + offset), startMs + hourMs / 2, startMs + 10 * hourMs];
        for (const agentId of ["agt_roll", "agt_other"]) {
          for (const currency of ["GBP", "EUR"]) {
            for (const sinceMs of starts) {
              expect(await store.read.sumSpends(tenant.id, agentId, currency, sinceMs), `${agentId} ${currency} after ${sinceMs - startMs}`).toEqual(expected(agentId, currency, sinceMs));
            }
            // Several windows in one read (a policy decision's): each as if read alone, in order,
            // an all-time window among timed ones included.
            for (let first = 0; first + 4 <= starts.length; first += 3) {
              const windows = [starts[first + 3]!, starts[first]!, starts[first + 2]!, Number.MIN_SAFE_INTEGER];
              expect(await store.read.sumSpendWindows(tenant.id, agentId, currency, windows)).toEqual(windows.map((sinceMs) => expected(agentId, currency, sinceMs)));
            }
            expect(await store.write(tenant.id, (tx) => tx.sumSpendWindows(tenant.id, agentId, currency, [startMs, 0]))).toEqual([expected(agentId, currency, startMs), expected(agentId, currency, 0)]);
          }
        }
      });

      it("sums spends per operation pattern, and settles a spend at a lower amount", async () => {
        const { tenant } = await seedTenant(store);
        const spend = (id: string, amountMinor: number, operation: string | null, more: Partial<SpendRow> = {}): SpendRow => ({
          tenantId: tenant.id, id, agentId: "agt_1", amountMinor, currency: "GBP", payeeId: null, operation, atMs: 10, state: "held", ...more,
        });
        await store.write(tenant.id, async (tx) => {
          await tx.insertSpend(spend("o1", 100, "openai.chat"));
          await tx.insertSpend(spend("o2", 200, "openai.chat.stream"));
          await tx.insertSpend(spend("o3", 400, "openaix.chat"));
          await tx.insertSpend(spend("o4", 800, "openai"));
          await tx.insertSpend(spend("o5", 1600, "openai/x"));
          await tx.insertSpend(spend("o6", 3200, null));
          await tx.insertSpend(spend("o7", 6400, "openai.images", { atMs: 5 }));
          await tx.insertSpend(spend("o8", 12800, "openai.chat", { state: "released" }));
        });
        const sum = (pattern: string, sinceMs = 0) => store.read.sumOperationSpends(tenant.id, "agt_1", "GBP", sinceMs, pattern);
        expect(await sum("openai.*")).toEqual({ amountMinor: 6700, count: 3 });
        expect(await sum("openai.*", 5)).toEqual({ amountMinor: 300, count: 2 });
        expect(await sum("openai.chat")).toEqual({ amountMinor: 100, count: 1 });
        expect(await sum("openai")).toEqual({ amountMinor: 800, count: 1 });
        expect(await sum("*")).toEqual({ amountMinor: 9500, count: 6 });
        expect(await store.read.sumOperationSpends(tenant.id, "agt_2", "GBP", 0, "*")).toEqual({ amountMinor: 0, count: 0 });
        await store.write(tenant.id, (tx) => tx.setSpendState(tenant.id, "o1", "settled", 70));
        expect(await sum("openai.chat")).toEqual({ amountMinor: 70, count: 1 });
        expect(await store.read.sumSpends(tenant.id, "agt_1", "GBP", 0)).toEqual({ amountMinor: 12_670, count: 7 });
      });
      it("lists a team's and a parent's agents, keeps team changes, and sums the spends of a set of agents (issue 15)", async () => {
        const { tenant, wallet } = await seedTenant(store);
        const parent = agentRow(tenant.id, wallet.id, { id: newId("agt", baseMs), teamId: "team_1" });
        const child = agentRow(tenant.id, wallet.id, { id: newId("agt", baseMs + 1), teamId: "team_1", parentAgentId: parent.id, spawnDepth: 1 });
        const loner = agentRow(tenant.id, wallet.id, { id: newId("agt", baseMs + 2) });
        const spend = (id: string, agentId: string, amountMinor: number, more: Partial<SpendRow> = {}): SpendRow => ({
          tenantId: tenant.id, id, agentId, amountMinor, currency: "GBP", payeeId: null, operation: null, atMs: baseMs + 10, state: "settled", ...more,
        });
        await store.write(tenant.id, async (tx) => {
          for (const row of [parent, child, loner]) await tx.insertAgent(row);
          await tx.insertSpend(spend("s1", parent.id, 100));
          await tx.insertSpend(spend("s2", child.id, 200, { state: "held" }));
          await tx.insertSpend(spend("s3", child.id, 400, { state: "released" }));
          await tx.insertSpend(spend("s4", loner.id, 800));
          await tx.insertSpend(spend("s5", child.id, 1600, { currency: "EUR" }));
          await tx.insertSpend(spend("s6", parent.id, 3200, { atMs: baseMs - 7_200_000 }));
        });
        expect((await store.read.listTeamAgents(tenant.id, "team_1", 10)).map((a) => a.id)).toEqual([parent.id, child.id]);
        expect(await store.read.listChildAgents(tenant.id, parent.id, 10)).toEqual([child]);
        expect(await store.read.listChildAgents(tenant.id, child.id, 10)).toEqual([]);
        const both = [parent.id, child.id];
        expect(await store.read.sumSpendsOf(tenant.id, both, "GBP", baseMs)).toEqual({ amountMinor: 300, count: 3 });
        expect(await store.read.sumSpendsOf(tenant.id, both, "GBP", Number.MIN_SAFE_INTEGER)).toEqual({ amountMinor: 3500, count: 4 });
        expect(await store.read.sumSpendsOf(tenant.id, [loner.id], "GBP", baseMs)).toEqual({ amountMinor: 800, count: 1 });
        expect(await store.read.sumSpendsOf(tenant.id, [], "GBP", baseMs)).toEqual({ amountMinor: 0, count: 0 });
        expect(await store.read.sumHeldSpendsOf(tenant.id, both, "GBP", baseMs)).toBe(200);
        await store.write(tenant.id, (tx) => tx.updateAgent({ ...child, teamId: null }));
        expect((await store.read.listTeamAgents(tenant.id, "team_1", 10)).map((a) => a.id)).toEqual([parent.id]);
        expect((await store.read.getAgent(tenant.id, child.id))?.parentAgentId).toBe(parent.id);
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

      it("rolls back alone a write whose last statements fail (a row-count check at its end), among concurrent writes of one tenant", async () => {
        // On PostgreSQL a write's deferred statements go out when it ends, with the next write's
        // savepoint: a check that fails then must still roll back only its own write.
        const { tenant } = await seedTenant(store);
        const context = (tx: StoreTx) => ({ tx, tenantId: tenant.id, nowMs: baseMs, actor: { type: "system" as const, id: "test" } });
        const accounts = Array.from({ length: 12 }, () => accountRow(tenant.id));
        const outcomes = await Promise.allSettled(
          accounts.map((account, i) =>
            store.write(tenant.id, async (tx) => {
              await tx.insertAccount(account);
              await appendEvent(context(tx), "transfer.created", { i });
              // A record that does not exist: its update finds no row, which fails the write.
              if (i % 4 === 1 || i === 2) {
                await tx.updateRecord({
                  tenantId: tenant.id, kind: "payee", id: `pay_missing_${i}`, agentId: null, status: null, refId: null, dueAtMs: null,
                  createdAtMs: baseMs, updatedAtMs: baseMs, body: { name: "missing" },
                });
              }
            }),
          ),
        );
        const failed = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [i] : []));
        expect(failed).toEqual([1, 2, 5, 9]);
        for (const [i, account] of accounts.entries()) expect(await store.read.getAccount(tenant.id, account.id) !== null, `account ${i}`).toBe(!failed.includes(i));
        const events = await store.read.listEvents(tenant.id, { limit: 100, ascending: true });
        expect(events.map((event) => (event.data as { i: number }).i)).toEqual(accounts.map((_, i) => i).filter((i) => !failed.includes(i)));
        expect(events.map((event) => event.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      });

      it("rolls back alone a write that throws among concurrent writes of one tenant, and lets later ones see earlier config", async () => {
        // Both stores group concurrent writes into one commit, each in its own savepoint.
        const { tenant } = await seedTenant(store);
        const context = (tx: StoreTx) => ({ tx, tenantId: tenant.id, nowMs: baseMs, actor: { type: "system" as const, id: "test" } });
        const endpoint = webhookEndpointRow(tenant.id, { eventTypes: ["*"] });
        const writes = Array.from({ length: 30 }, (_, i) =>
          store.write(tenant.id, async (tx) => {
            if (i === 10) await tx.insertWebhookEndpoint(endpoint);
            const event = await appendEvent(context(tx), "transfer.created", { i });
            if (i % 7 === 3) throw new Error(`write ${i} fails`);
            return event;
          }),
        );
        const outcomes = await Promise.allSettled(writes);
        const failed = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [i] : []));
        expect(failed).toEqual([3, 10, 17, 24]);
        const events = await store.read.listEvents(tenant.id, { limit: 100, ascending: true });
        const grouped = events.filter((event) => event.type === "transfer.created" && typeof (event.data as { i?: unknown }).i === "number");
        expect(grouped.map((event) => (event.data as { i: number }).i)).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => !failed.includes(i)));
        // No gap: the failed writes' seqs were reused by the next ones.
        expect(events.map((event) => event.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
        // The endpoint was inserted by a write that failed: it does not exist and heard nothing.
        expect(await store.read.getWebhookEndpoint(tenant.id, endpoint.id)).toBeNull();
        const later = webhookEndpointRow(tenant.id, { eventTypes: ["*"] });
        const withEndpoint = await Promise.all([
          store.write(tenant.id, (tx) => tx.insertWebhookEndpoint(later)),
          store.write(tenant.id, (tx) => appendEvent(context(tx), "transfer.voided", {})),
        ]);
        expect((await store.read.listWebhookDeliveries(tenant.id, later.id, { limit: 10 })).map((row) => row.eventId)).toEqual([withEndpoint[1].id]);
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
