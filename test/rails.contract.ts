/**
 * The rail contract (STYLE habit 5: one contract suite for every adapter): the same observable
 * behaviour over HTTP from every rail. A rail under test says how to make a payee that succeeds,
 * fails or stays silent, and how to wait for its outcome; the assertions are shared.
 *
 * - success: the hold is captured, the payee's account is paid, the transaction is `completed`;
 * - failure: the hold is released, the transaction is `failed` with a reason;
 * - silence: the sweeper fails the payment at its deadline (`rail_timeout`), releasing the hold;
 * - each transaction is listed in `/v1/transactions` and journaled (`transaction.completed` /
 *   `transaction.failed`); the books balance and the journal verifies.
 */
import { railTimeoutSecondsDefault, type RailName } from "@bursar/core";
import type { RunningServer, ServerConfig } from "@bursar/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "./agents-support.js";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { agentClient, balanceOf, createPayee, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, listAll, startTestServer, TestClock, type StoreKind } from "./support.js";
import { waitFor } from "./webhook-receiver.js";

export type Behaviour = "succeed" | "fail" | "silent";

export interface RailUnderTest {
  name: RailName;
  /** Server settings the rail needs (the webhook rail: loopback executors allowed). */
  serverConfig?: Partial<ServerConfig>;
  /** Prepares the rail for a tenant (the webhook rail: starts an executor and configures it). */
  setUp(owner: Api): Promise<void>;
  /** Payee fields that make the rail behave so. */
  payeeFields(behaviour: Behaviour): Record<string, unknown>;
  /** Resolves once the rail holds a silent payment: nothing more will happen until its deadline. */
  accepted(server: RunningServer): Promise<void>;
  tearDown(): Promise<void>;
}

/** Waits until the rail has reported on the transaction (at once, in the background, or by callback). */
async function settled(server: RunningServer, owner: Api, transactionId: string): Promise<any> {
  await server.rails.drain();
  let transaction: any = null;
  await waitFor(
    async () => {
      transaction = expectStatus(await owner.get(`/v1/transactions/${transactionId}`), 200);
      return transaction.status !== "pending";
    },
    20_000,
    `transaction ${transactionId} to settle`,
  );
  return transaction;
}

export function railContract(kind: StoreKind, rail: RailUnderTest): void {
  describe(`rail contract: ${rail.name} (${kind})`, () => {
    let server: RunningServer;
    let owner: Api;
    let agent: AgentApi;
    let agentId: string;
    // Moved only by the deadline test, and set to real time before each test: agent DPoP proofs
    // and executor signatures carry real time and are checked against this clock.
    const clock = new TestClock(Date.now());
    beforeEach(() => {
      clock.ms = Date.now();
    });

    beforeAll(async () => {
      server = await startTestServer(kind, { clock, config: rail.serverConfig });
      const tenant = await createTestTenant(server.store);
      owner = client(server.url, tenant.token);
      await rail.setUp(owner);
      const onboarded = await fundedAgent(server.url, owner, 100_000);
      agentId = onboarded.agentId;
      agent = await agentClient(server.url, onboarded);
      await putPolicy(owner, agentId, {});
    });
    afterAll(async () => {
      await server?.close();
      await rail.tearDown();
    });

    async function pay(behaviour: Behaviour, amount: number) {
      const payee = await createPayee(owner, `${rail.name} ${behaviour} ${amount}`, { rail: rail.name, ...rail.payeeFields(behaviour) });
      const before = await balanceOf(agent);
      const intent = expectStatus(await agent.post("/v1/payment-intents", { payee_id: payee.id, amount, currency: "GBP", reference: `contract ${behaviour}` }), 201);
      expect(intent.legs[0]).toMatchObject({ decision: "allow" });
      expect(intent.transaction_ids).toHaveLength(1);
      return { payee, before, intent, transactionId: intent.transaction_ids[0] as string };
    }

    async function journaled(type: string, transactionId: string): Promise<any[]> {
      const events = await listAll(owner, `/v1/events?type=${type}`);
      return events.filter((event: any) => event.data.transaction?.id === transactionId);
    }

    it("success captures the hold and pays the payee's account", async () => {
      const { payee, before, intent, transactionId } = await pay("succeed", 1_500);
      const transaction = await settled(server, owner, transactionId);
      expect(transaction).toMatchObject({
        status: "completed", amount: 1_500, currency: "GBP", rail: rail.name, failure_reason: null, reference: "contract succeed",
        payment_intent_id: intent.id, creditor: { payee_id: payee.id }, debtor: { agent_id: agentId },
      });
      expect(transaction.completed_at).not.toBeNull();
      expect(await balanceOf(agent)).toEqual(expect.objectContaining({ balance: before.balance - 1_500, available: before.balance - 1_500 }));
      expect(expectStatus(await owner.get(`/v1/accounts/${payee.account_id}`), 200).balance).toBe(1_500);
      expect(expectStatus(await agent.get(`/v1/payment-intents/${intent.id}`), 200)).toMatchObject({ execution_status: "completed" });
      expect((await listAll(owner, "/v1/transactions")).map((listed: any) => listed.id)).toContain(transactionId);
      expect(expectStatus(await agent.get("/v1/transactions"), 200).data.map((listed: any) => listed.id)).toContain(transactionId);
      expect(await journaled("transaction.completed", transactionId)).toHaveLength(1);
      expect(await journaled("transaction.failed", transactionId)).toHaveLength(0);
    });

    it("failure releases the hold and records a failed transaction with a reason", async () => {
      const { payee, before, intent, transactionId } = await pay("fail", 2_500);
      const transaction = await settled(server, owner, transactionId);
      expect(transaction).toMatchObject({ status: "failed", amount: 2_500, rail: rail.name, completed_at: null });
      expect(transaction.failure_reason).toMatch(/^[a-z][a-z0-9_]+$/);
      expect(await balanceOf(agent)).toEqual(expect.objectContaining({ balance: before.balance, available: before.available }));
      expect(expectStatus(await owner.get(`/v1/accounts/${payee.account_id}`), 200).balance).toBe(0);
      expect(expectStatus(await agent.get(`/v1/payment-intents/${intent.id}`), 200)).toMatchObject({ execution_status: "failed", legs: [{ status: "failed", failure_reason: transaction.failure_reason }] });
      expect((await listAll(owner, "/v1/transactions")).map((listed: any) => listed.id)).toContain(transactionId);
      expect(await journaled("transaction.failed", transactionId)).toHaveLength(1);
    });

    it("a rail that never answers is failed by the sweeper at the deadline (rail_timeout)", async () => {
      const { payee, before, intent, transactionId } = await pay("silent", 3_500);
      expect(intent).toMatchObject({ execution_status: "executing" });
      await rail.accepted(server);
      expect(await balanceOf(agent)).toEqual(expect.objectContaining({ balance: before.balance, available: before.available - 3_500 }));
      expect(expectStatus(await owner.get(`/v1/transactions/${transactionId}`), 200).status).toBe("pending");
      const start = clock.ms;
      try {
        clock.advance(railTimeoutSecondsDefault * 1000 - 1000);
        expect((await server.sweeper.sweepOnce()).timedOutTransactions).toBe(0);
        clock.advance(1000);
        expect((await server.sweeper.sweepOnce()).timedOutTransactions).toBe(1);
        // Read as the owner: the agent's DPoP proofs carry real time, which the moved clock refuses.
        expect(expectStatus(await owner.get(`/v1/transactions/${transactionId}`), 200)).toMatchObject({ status: "failed", failure_reason: "rail_timeout" });
        expect(expectStatus(await owner.get(`/v1/payment-intents/${intent.id}`), 200)).toMatchObject({ execution_status: "failed" });
        expect(await balanceOf(owner, agentId)).toEqual(expect.objectContaining({ balance: before.balance, available: before.available }));
      } finally {
        clock.ms = start;
      }
      expect(expectStatus(await owner.get(`/v1/accounts/${payee.account_id}`), 200).balance).toBe(0);
      expect(await journaled("transaction.failed", transactionId)).toHaveLength(1);
    });

    it("keeps the books: double entry, no stray holds, and a journal that verifies", async () => {
      await checkLedger(owner);
      await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
      const pending = (await listAll(owner, "/v1/transfers")).filter((transfer: any) => transfer.status === "pending");
      expect(pending).toEqual([]);
    });
  });
}
