/**
 * The escrow story through the SDK against a real server (the "Must show"): an agent
 * escrows £50 for a payee's report with a predicate, spends £5 of it on a tool through the
 * intent's capability token, the payee (no Bursar credential, its own Ed25519 key) submits failing
 * then passing signed evidence, £45 is released, and the payee's reputation receipt verifies
 * (with the tenant's key, and offline) and counts it. Balances are read by the owner over plain
 * HTTP, independently of the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar, generateAgentKey, signEvidence, submitEscrowEvidence, verifyReputationReceipt } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { client, startTestServer } from "./support.js";

let server: RunningServer;
let setup: SdkAgent;
let agent: Bursar;

async function ownerRead(path: string): Promise<any> {
  const response = await client(server.url, setup.ownerToken).get(path);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "payees:read", "events:read"], fundMinor: 100_00 });
  agent = new Bursar({ configDir: setup.configDir });
});
afterAll(async () => {
  await agent?.close();
  await setup?.owner.close();
  await server?.close();
});

describe("reading a payee's reputation receipt", () => {
  it("needs payees:read, not events:read: the receipt verifies with the public key any credential may read", async () => {
    // Each onboarding is a tenant of its own.
    const reader = await onboardWithSdk(server, { scopes: ["agents:execute", "payees:read"] });
    const blind = await onboardWithSdk(server, { scopes: ["agents:execute"] });
    const evidenceKey = (await generateAgentKey("EdDSA")).publicJwk;
    const payee = await reader.owner.payees.create({ name: "Scoped payee", currency: "GBP", evidence_public_key: evidenceKey });
    const blindPayee = await blind.owner.payees.create({ name: "Unseen payee", currency: "GBP", evidence_public_key: evidenceKey });
    const otherTenantsPayee = await setup.owner.payees.create({ name: "Another tenant's payee", currency: "GBP", evidence_public_key: evidenceKey });
    const readerClient = new Bursar({ configDir: reader.configDir });
    const blindClient = new Bursar({ configDir: blind.configDir });
    try {
      const receipt = await readerClient.reputation.get(payee.id);
      expect(receipt).toMatchObject({ verified: true, receipt: { payee_id: payee.id, counts: { settled: 0 } } });
      // The key is public; the journal it signs is not: checkpoints still need events:read.
      await expect(readerClient.journal.checkpoint()).rejects.toMatchObject({ status: 403, code: "insufficient_scope" });
      await expect(blindClient.reputation.get(blindPayee.id)).rejects.toMatchObject({ status: 403, code: "insufficient_scope" });
      // Another tenant's payee is not found.
      await expect(readerClient.reputation.get(otherTenantsPayee.id)).rejects.toMatchObject({ status: 404, code: "not_found" });
    } finally {
      await readerClient.close();
      await blindClient.close();
      await reader.owner.close();
      await blind.owner.close();
    }
  });
});

describe("escrow through the SDK", () => {
  it("escrows £50, draws £5 on a tool, releases £45 on passing evidence, and the receipt verifies and counts it", async () => {
    // The payee keeps its own evidence key; the owner registers its public half on the payee.
    const payeeKey = await generateAgentKey("EdDSA");
    const payee = await setup.owner.payees.create({ name: "Report Writer Ltd", currency: "GBP", evidence_public_key: payeeKey.publicJwk });

    const { predicate } = await agent.predicates.preview("http_status", { status: 200 });
    const tested = await agent.predicates.test({ predicate, evidence: { payload: { status: 500 } } });
    expect(tested.evaluation).toMatchObject({ passed: false, failing_node: "/root" });

    const intent = await agent.escrow.create({
      payee_id: payee.id, amount: 50_00, currency: "GBP", deadline: new Date(Date.now() + 86_400_000).toISOString(),
      evidence_schema: { type: "object", required: ["status", "report_sha256"], properties: { status: { type: "integer" }, report_sha256: { type: "string" } } },
      predicate: { version: 1, root: { op: "and", args: [predicate.root as Record<string, unknown>, { op: "exists", value: { ptr: "/payload/report_sha256" } }] } },
      allowed_operations: ["tools.*"], description: "Quarterly market report", fund: true,
    });
    expect(intent).toMatchObject({ status: "funded", amount: 50_00, signature: { key_id: setup.clientId } });
    expect((await ownerRead(`/v1/accounts/${setup.walletAccountId}`)).balance).toBe(50_00);
    expect((await ownerRead(`/v1/accounts/${intent.escrow_account_id}`)).balance).toBe(50_00);

    // £5 of the escrow pays for a tool, through the intent's capability.
    const { token } = await agent.escrow.capability(intent.id);
    const result = await agent.spend.guard({ operation: "tools.search", amount: 5_00, currency: "GBP", capability_token: token }, async () => ({ amount: 5_00, externalReference: "search-1" }));
    expect(result.status).toBe("completed");
    expect(await agent.escrow.get(intent.id)).toMatchObject({ drawn_amount: 5_00, releasable_amount: 45_00 });

    // The payee, with no Bursar credential, submits failing evidence, then passing evidence.
    const evidence = (payload: Record<string, unknown>) =>
      signEvidence(payeeKey, { tenantId: setup.tenantId, intentId: intent.id, payeeId: payee.id, payload, artifacts: [{ sha256: "q2-report-digest", media_type: "application/pdf" }] });
    const failing = await submitEscrowEvidence(server.url, intent.id, await evidence({ status: 503, report_sha256: "q2-report-digest" }));
    expect(failing).toMatchObject({ status: "evidence_submitted", last_evaluation: { passed: false, failing_node: "/root/args/0" } });
    const released = await submitEscrowEvidence(server.url, intent.id, await evidence({ status: 200, report_sha256: "q2-report-digest" }));
    expect(released).toMatchObject({ status: "released", settlement: { outcome: "released", payee_amount: 45_00, drawn_amount: 5_00, refund_amount: 0 } });

    expect((await ownerRead(`/v1/accounts/${payee.account_id}`)).balance).toBe(45_00);
    expect((await ownerRead(`/v1/accounts/${setup.walletAccountId}`)).balance).toBe(50_00);
    expect((await ownerRead(`/v1/accounts/${intent.escrow_account_id}`)).balance).toBe(0);

    // The receipt verifies with the tenant's key and counts the release.
    const receipt = await agent.reputation.get(payee.id);
    expect(receipt.verified).toBe(true);
    expect(receipt.receipt).toMatchObject({ payee_id: payee.id, counts: { settled: 1, released: 1 }, rates_bps: { released: 10_000 }, volume: { GBP: 45_00 } });
    const authority = await ownerRead("/v1/journal/authority");
    expect(await verifyReputationReceipt(receipt, authority.public_key)).toBe(true);
    expect(await verifyReputationReceipt({ ...receipt, receipt: { ...receipt.receipt, volume: { GBP: 50_00 } } }, authority.public_key)).toBe(false);

    const owner = client(server.url, setup.ownerToken);
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  });
});
