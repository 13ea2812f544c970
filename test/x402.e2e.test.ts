/**
 * `@bursar/sdk/x402` guarding a real `@x402/core` client (`x402Client`, `x402HTTPClient`, and
 * `@x402/fetch`'s `wrapFetchWithPayment`) against a local x402 v2 resource server and a stub
 * facilitator (test/x402-support.ts) and a real Bursar server; money checked in the ledger after.
 * The scheme client is the test's (a payment network is outside the system): it counts the
 * payloads it creates, so "aborted before any payload is created" is observable.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { x402Client, x402HTTPClient } from "@x402/core/client";
import type { PaymentRequirements } from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { RunningServer } from "@bursar/server";
import { createBursarX402 } from "@bursar/sdk/x402";
import { checkLedger } from "./books.js";
import { toolTenant, walletOf, type ToolTenant } from "./mcp-support.js";
import { client, startTestServer } from "./support.js";
import { startX402Servers, testAsset, testNetwork, testSignature, type X402Servers } from "./x402-support.js";

let server: RunningServer;
let tenant: ToolTenant;
let x402: X402Servers;
let created: PaymentRequirements[] = [];
let failCreation = false;

// USDC has 6 decimals; the policy is in GBP pence: 10,000 atomic units a penny (a test mapping).
const assets = [{ network: testNetwork, asset: testAsset, currency: "GBP", atomicPerMinor: 10_000 }];

beforeAll(async () => {
  server = await startTestServer("sqlite");
  tenant = await toolTenant(server);
  x402 = await startX402Servers();
});
afterAll(async () => {
  await x402?.close();
  await tenant?.agent.close();
  await tenant?.owner.close();
  await server?.close();
});
beforeEach(() => {
  created = [];
  failCreation = false;
  x402.offers = [{ amount: "1250000" }];
  x402.settle = {};
});

const testScheme = {
  scheme: "exact",
  async createPaymentPayload(x402Version: number, requirements: PaymentRequirements) {
    created.push(requirements);
    if (failCreation) throw new Error("the wallet is locked");
    return { x402Version, payload: { signature: testSignature, from: "0x00000000000000000000000000000000000a9e47" } };
  },
};

/** A paying fetch as an app builds it, with the guard on the client (and on its HTTP wrapper when `dryRun`). */
function paidFetch({ dryRun = true } = {}) {
  const core = new x402Client().register(testNetwork, testScheme).setSpendControls({ allowedAssets: [{ network: testNetwork, asset: testAsset }] });
  const http = new x402HTTPClient(core);
  createBursarX402(tenant.agent, { assets }).register(core, dryRun ? http : undefined);
  return wrapFetchWithPayment(fetch, dryRun ? http : core);
}

const spends = async () => (await tenant.ownerGet(`/v1/spend/authorizations?agent_id=${tenant.agentId}&limit=100`)).data as any[];
const paidRequests = () => x402.requests.filter((request) => request.payload !== null);

describe("x402 guard", () => {
  it("a payment within policy: authorized before the payload, consumed with the settled amount and the transaction from PAYMENT-RESPONSE", async () => {
    const before = await walletOf(tenant);
    const spendsBefore = (await spends()).length;
    const response = await paidFetch()(x402.resourceUrl());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ forecast: "fog" });
    expect(created).toHaveLength(1);
    const [latest] = await spends();
    expect((await spends()).length).toBe(spendsBefore + 1);
    expect(latest).toMatchObject({ status: "consumed", operation: "x402.fetch", vendor: new URL(x402.resourceUrl()).host, amount: 125, consumed_amount: 125, currency: "GBP", external_reference: x402.transactions.at(-1) });
    expect(latest.metadata).toMatchObject({ x402_network: testNetwork, x402_amount: "1250000" });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 125);
  });

  it("settling less than required (upto) consumes what was settled; the rest goes back", async () => {
    const before = await walletOf(tenant);
    x402.settle = { settleAmount: "600000" };
    const response = await paidFetch()(x402.resourceUrl());
    expect(response.status).toBe(200);
    const [latest] = await spends();
    expect(latest).toMatchObject({ status: "consumed", amount: 125, consumed_amount: 60 });
    expect(latest.evidence).toMatchObject({ settlement: "payment_response", amount_atomic: "600000", transaction: x402.transactions.at(-1) });
    expect(await walletOf(tenant)).toEqual({ balance: before.balance - 60, available: before.available - 60 });
  });

  it("over the limit: the dry run filters the offer out and nothing is created, sent, authorized or held", async () => {
    const before = await walletOf(tenant);
    const spendsBefore = (await spends()).length;
    const paidBefore = paidRequests().length;
    x402.offers = [{ amount: "2000000000" }]; // £2,000 > the £1,000 per-payment cap
    await expect(paidFetch()(x402.resourceUrl())).rejects.toThrow(/filtered out by policies/);
    expect(created).toHaveLength(0);
    expect(paidRequests().length).toBe(paidBefore);
    expect((await spends()).length).toBe(spendsBefore);
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("over the limit without the dry run: the authorization is denied and the payload is never created", async () => {
    const before = await walletOf(tenant);
    const paidBefore = paidRequests().length;
    x402.offers = [{ amount: "2000000000" }];
    await expect(paidFetch({ dryRun: false })(x402.resourceUrl())).rejects.toThrow(/aborted: bursar: denied \(amount_exceeds_transaction_max/);
    expect(created).toHaveLength(0);
    expect(paidRequests().length).toBe(paidBefore);
    expect((await spends())[0]).toMatchObject({ status: "denied", amount: 200_000 });
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("offers the policy cannot govern or would deny are dropped; the one it allows is paid", async () => {
    const before = await walletOf(tenant);
    x402.offers = [{ amount: "1000", network: "solana:devnet", asset: "So11111111111111111111111111111111111111112" }, { amount: "2000000000" }, { amount: "990000" }];
    const response = await paidFetch()(x402.resourceUrl());
    expect(response.status).toBe(200);
    expect(created.map((requirement) => requirement.amount)).toEqual(["990000"]);
    expect((await spends())[0]).toMatchObject({ status: "consumed", consumed_amount: 99 });
    expect((await walletOf(tenant)).balance).toBe(before.balance - 99);
  });

  it("a payment an owner must approve aborts before the payload; its hold is released and the approval closed", async () => {
    const before = await walletOf(tenant);
    x402.offers = [{ amount: "300000000" }]; // £300 >= the £200 approval threshold
    await expect(paidFetch()(x402.resourceUrl())).rejects.toThrow(/approval_required/);
    expect(created).toHaveLength(0);
    const [latest] = await spends();
    expect(latest.status).toBe("released");
    expect((await tenant.ownerGet(`/v1/approvals/${latest.approval_id}`)).status).toBe("cancelled");
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("a failed settlement (402 again) releases the hold", async () => {
    const before = await walletOf(tenant);
    x402.settle = { failWith: "insufficient_funds" };
    const response = await paidFetch()(x402.resourceUrl());
    expect(response.status).toBe(402);
    expect(created).toHaveLength(1);
    expect((await spends())[0]).toMatchObject({ status: "released", amount: 125 });
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("a payload that cannot be created releases the hold", async () => {
    const before = await walletOf(tenant);
    failCreation = true;
    await expect(paidFetch()(x402.resourceUrl())).rejects.toThrow(/wallet is locked/);
    expect((await spends())[0]).toMatchObject({ status: "released" });
    expect(await walletOf(tenant)).toEqual(before);
  });

  it("the books balance", async () => {
    await checkLedger(client(server.url, tenant.ownerToken));
  });
});
