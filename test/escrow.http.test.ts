/**
 * Escrow intents end to end over HTTP, on both stores: an agent (DPoP) signs and funds, a payee
 * signs evidence (failing, then passing), the predicate releases; confirm mode, refund, split,
 * dispute; approval-required funding; the deadline sweep; a capability draw on the escrow; the
 * signed reputation receipt verified with the tenant's public key; and the signature attacks, each
 * with its exact code and nothing written. Signatures are made by test/escrow-support.ts, which
 * follows docs/escrow.md without the server's code. After each flow the books are checked from
 * outside and the journal verified against a checkpoint.
 */
import { createPublicKey, verify } from "node:crypto";
import canonicalize from "canonicalize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { checkJournal, checkLedger, fetchVerifiedCheckpoint } from "./books.js";
import { createIntent, intentRequest, newEvidenceKey, payeeWithKey, signEvidence, signTerms, termsOf, type EvidenceKey } from "./escrow-support.js";
import { agentClient, balanceOf, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import type { Onboarded } from "./agents-support.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds, TestClock } from "./support.js";
import { eventCatalog } from "@bursar/core";

describe.each(storeKinds)("escrow intents over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;
  let anyone: ReturnType<typeof client>;
  let agent: AgentApi;
  let onboarded: Onboarded;
  let tenantId: string;
  let payee: any;
  let payeeKey: EvidenceKey;
  const clock = new TestClock(Date.now());

  async function booksHold(): Promise<void> {
    await checkLedger(owner);
    await checkJournal(owner, await fetchVerifiedCheckpoint(owner));
  }
  const now = () => new Date(clock.ms).toISOString();
  const evidenceFor = (intentId: string, payload: unknown, extra: Record<string, unknown> = {}, key = payeeKey) =>
    signEvidence(key.privateKey, tenantId, intentId, payee.id, { payload, artifacts: [{ sha256: "c2hhMjU2LW9mLXRoZS1yZXBvcnQ" }], submitted_at: now(), ...extra });
  const submit = (intentId: string, body: unknown) => anyone.post(`/v1/escrow-intents/${intentId}/evidence`, body);
  const create = (extra: Record<string, unknown> = {}, bodyExtra: Record<string, unknown> = {}) =>
    createIntent(agent, onboarded.key, tenantId, onboarded.agentId, intentRequest(payee, clock.ms, extra), bodyExtra);
  const accountBalance = async (id: string) => expectStatus(await owner.get(`/v1/accounts/${id}`), 200).balance as number;

  beforeAll(async () => {
    server = await startTestServer(kind, { clock, config: { logLevel: "error" } });
    const tenant = await createTestTenant(server.store);
    tenantId = tenant.tenantId;
    owner = client(server.url, tenant.token);
    anyone = client(server.url);
    onboarded = await fundedAgent(server.url, owner, 100_000);
    agent = await agentClient(server.url, onboarded);
    payeeKey = newEvidenceKey();
    payee = await payeeWithKey(owner, "Report Writer", payeeKey);
    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 50_000, approval_expiry_seconds: 600 });
  });
  afterAll(async () => server?.close());

  it("the payee's evidence key is registered with its RFC 7638 thumbprint", () => {
    expect(payee.evidence_public_key).toEqual({ kty: "OKP", crv: "Ed25519", x: payeeKey.publicJwk.x });
    expect(payee.evidence_key_thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("create → fund → failing evidence (recorded) → passing evidence: released to the payee; retries answer the first outcome", async () => {
    const created = expectStatus(await create(), 201);
    expect(created).toMatchObject({ object: "escrow_intent", status: "open", available_actions: ["fund"], amount: 5_000, payer_agent_id: onboarded.agentId });
    expect(created.signature).toMatchObject({ key_id: onboarded.clientId, algorithm: "ES256", public_key_jwk: { kty: "EC", crv: "P-256" } });
    // Anyone can re-verify the stored signature over the stored terms (docs/escrow.md).
    const digest = (await import("node:crypto")).createHash("sha256").update(canonicalize(created.terms)!).digest("base64url");
    const publicKey = createPublicKey({ key: created.signature.public_key_jwk, format: "jwk" });
    expect(verify("sha256", Buffer.from(`bursar-escrow-intent-v1.${digest}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(created.signature.value, "base64url"))).toBe(true);

    const early = await submit(created.id, evidenceFor(created.id, { status: 200, pages: 12 }));
    expect(expectStatus(early, 409)).toMatchObject({ code: "escrow_not_funded" });

    const funded = expectStatus(await agent.post(`/v1/escrow-intents/${created.id}/fund`), 200);
    expect(funded).toMatchObject({ status: "funded", decision: "allow", releasable_amount: 5_000 });
    expect(await balanceOf(agent)).toMatchObject({ balance: 95_000, available: 95_000 });
    expect(await accountBalance(funded.escrow_account_id)).toBe(5_000);
    expect(expectStatus(await owner.get(`/v1/accounts/${funded.escrow_account_id}`), 200).kind).toBe("escrow");

    const failing = expectStatus(await submit(created.id, evidenceFor(created.id, { status: 200, pages: 3 })), 200);
    expect(failing).toMatchObject({ status: "evidence_submitted", last_evaluation: { passed: false, failing_node: "/root/args/1" }, attempts_remaining: 9, settlement: null });
    const invalid = expectStatus(await submit(created.id, evidenceFor(created.id, { status: "ok" })), 422);
    expect(invalid.code).toBe("evidence_invalid");
    expect(invalid.errors.map((error: { path: string }) => error.path)).toEqual(expect.arrayContaining(["payload", "payload.status"]));

    const passingBody = evidenceFor(created.id, { status: 200, pages: 12 });
    const released = expectStatus(await submit(created.id, passingBody), 200);
    expect(released).toMatchObject({ status: "released", settlement: { outcome: "released", payee_amount: 5_000, refund_amount: 0 }, available_actions: [] });
    expect(await accountBalance(payee.account_id)).toBe(5_000);
    expect(await accountBalance(funded.escrow_account_id)).toBe(0);

    // The same signed body, a release and a fund again: the first outcome; a refund: a conflict.
    expect(expectStatus(await submit(created.id, passingBody), 200)).toMatchObject({ status: "released", attempts_remaining: 8 });
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${created.id}/release`), 200)).toMatchObject({ status: "released" });
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${created.id}/refund`), 409)).toMatchObject({ code: "escrow_already_settled" });
    expect(expectStatus(await submit(created.id, evidenceFor(created.id, { status: 200, pages: 13 })), 409)).toMatchObject({ code: "escrow_already_settled" });
    expect(await accountBalance(payee.account_id)).toBe(5_000);
    expect(await balanceOf(agent)).toMatchObject({ balance: 95_000 });

    // The same id with the same signed terms answers the intent; with other terms it is refused.
    const events = expectStatus(await owner.get(`/v1/events?type=escrow_intent.released`), 200);
    expect(events.data.map((event: any) => event.data.escrow_intent.id)).toContain(created.id);
    await booksHold();
  });

  it("every signed field changed alone is refused with its exact code, and nothing is written", async () => {
    const request = intentRequest(payee, clock.ms);
    const signature = signTerms(onboarded.key.privateKey, termsOf(tenantId, onboarded.agentId, request));
    const other = await payeeWithKey(owner, "Other Payee", newEvidenceKey());
    const changes: Array<[string, Record<string, unknown>, string]> = [
      ["id", { id: `${request.id}x` }, "principal_signature_invalid"],
      ["amount", { amount: 5_001 }, "principal_signature_invalid"],
      ["currency", { currency: "USD" }, "currency_mismatch"],
      ["deadline", { deadline: new Date(clock.ms + 7_200_000).toISOString() }, "principal_signature_invalid"],
      ["release_mode", { release_mode: "confirm" }, "principal_signature_invalid"],
      ["cost_path", { cost_path: "/payload/cost" }, "principal_signature_invalid"],
      ["evidence_schema", { evidence_schema: { type: "object" } }, "principal_signature_invalid"],
      ["predicate", { predicate: { version: 1, root: { op: "true" } } }, "principal_signature_invalid"],
      ["allowed_operations", { allowed_operations: ["openai.*"] }, "principal_signature_invalid"],
      ["payee_id", { payee_id: other.id }, "payee_key_mismatch"],
      ["payee_key_thumbprint", { payee_key_thumbprint: other.evidence_key_thumbprint }, "payee_key_mismatch"],
      ["payee (both)", { payee_id: other.id, payee_key_thumbprint: other.evidence_key_thumbprint }, "principal_signature_invalid"],
    ];
    for (const [field, change, code] of changes) {
      const response = await agent.post("/v1/escrow-intents", { ...request, signature, ...change });
      expect(response.body.code, field).toBe(code);
      expect(response.status, field).toBe(422);
    }
    // Terms signed for another tenant, or naming another payer, do not verify either.
    for (const terms of [{ ...termsOf(tenantId, onboarded.agentId, request), tenant_id: "ten_other" }, { ...termsOf(tenantId, onboarded.agentId, request), payer_agent_id: "agt_other" }]) {
      const response = await agent.post("/v1/escrow-intents", { ...request, signature: signTerms(onboarded.key.privateKey, terms) });
      expect(expectStatus(response, 422).code).toBe("principal_signature_invalid");
    }
    // Signed by a key that is not the caller's binding.
    const stranger = newEvidenceKey("p256");
    const forged = await agent.post("/v1/escrow-intents", { ...request, signature: signTerms(stranger.privateKey, termsOf(tenantId, onboarded.agentId, request)) });
    expect(expectStatus(forged, 422).code).toBe("principal_signature_invalid");
    expect(expectStatus(await agent.post("/v1/escrow-intents", { ...request, signature, signing_key_id: "cb_not_mine" }), 422).code).toBe("signing_key_not_found");
    for (const id of [request.id, `${request.id}x`]) expect((await agent.get(`/v1/escrow-intents/${id}`)).status).toBe(404);

    // The untouched request is accepted; the same id with other (signed) terms is refused.
    expectStatus(await agent.post("/v1/escrow-intents", { ...request, signature }), 201);
    expectStatus(await agent.post("/v1/escrow-intents", { ...request, signature }), 201);
    const changed = { ...request, amount: 6_000 };
    const reuse = await agent.post("/v1/escrow-intents", { ...changed, signature: signTerms(onboarded.key.privateKey, termsOf(tenantId, onboarded.agentId, changed)) });
    expect(expectStatus(reuse, 409).code).toBe("escrow_intent_exists");
  });

  it("an owner creates for the paying agent, signing with a registered signing key; agents cannot use owners' keys", async () => {
    const ownerKey = newEvidenceKey("p256");
    const registered = expectStatus(await owner.post("/v1/signing-keys", { public_key_jwk: ownerKey.publicJwk, name: "treasury" }), 201);
    expect(registered).toMatchObject({ object: "signing_key", algorithm: "ES256", status: "active" });
    expect(registered.id).toMatch(/^sk_/);
    expect(expectStatus(await agent.post("/v1/signing-keys", { public_key_jwk: ownerKey.publicJwk }), 403).code).toBe("insufficient_scope");

    const request = intentRequest(payee, clock.ms);
    const signature = signTerms(ownerKey.privateKey, termsOf(tenantId, onboarded.agentId, request));
    const byAgent = await agent.post("/v1/escrow-intents", { ...request, signature, signing_key_id: registered.id });
    expect(expectStatus(byAgent, 422).code).toBe("signing_key_not_found");
    const wrongKey = await owner.post("/v1/escrow-intents", { ...request, agent_id: onboarded.agentId, signature: signTerms(newEvidenceKey().privateKey, termsOf(tenantId, onboarded.agentId, request)), signing_key_id: registered.id });
    expect(expectStatus(wrongKey, 422).code).toBe("principal_signature_invalid");
    const created = expectStatus(await owner.post("/v1/escrow-intents", { ...request, agent_id: onboarded.agentId, signature, signing_key_id: registered.id, fund: true }), 201);
    expect(created).toMatchObject({ status: "funded", payer_agent_id: onboarded.agentId, signature: { key_id: registered.id, algorithm: "ES256" } });

    expectStatus(await owner.call("DELETE", `/v1/signing-keys/${registered.id}`), 200);
    const next = intentRequest(payee, clock.ms);
    const revoked = await owner.post("/v1/escrow-intents", { ...next, agent_id: onboarded.agentId, signature: signTerms(ownerKey.privateKey, termsOf(tenantId, onboarded.agentId, next)), signing_key_id: registered.id });
    expect(expectStatus(revoked, 422).code).toBe("signing_key_not_found");
    expectStatus(await owner.post(`/v1/escrow-intents/${created.id}/refund`), 200);
  });

  it("evidence attacks: another key, a body replayed for another intent, a stale or future submitted_at, the payee's key swapped", async () => {
    const first = expectStatus(await create({}, { fund: true }), 201);
    const second = expectStatus(await create({}, { fund: true }), 201);
    expect([first.status, second.status]).toEqual(["funded", "funded"]);
    const payload = { status: 200, pages: 12 };

    const byStranger = await submit(first.id, evidenceFor(first.id, payload, {}, newEvidenceKey()));
    expect(expectStatus(byStranger, 401).code).toBe("evidence_signature_invalid");
    const replayed = await submit(second.id, evidenceFor(first.id, payload));
    expect(expectStatus(replayed, 401).code).toBe("evidence_signature_invalid");
    const tampered = { ...evidenceFor(first.id, payload), payload: { status: 200, pages: 99 } };
    expect(expectStatus(await submit(first.id, tampered), 401).code).toBe("evidence_signature_invalid");
    const stale = await submit(first.id, evidenceFor(first.id, payload, { submitted_at: new Date(clock.ms - 301_000).toISOString() }));
    expect(expectStatus(stale, 422).code).toBe("evidence_stale");
    const future = await submit(first.id, evidenceFor(first.id, payload, { submitted_at: new Date(clock.ms + 301_000).toISOString() }));
    expect(expectStatus(future, 422).code).toBe("evidence_stale");
    const unknownTenant = await submit(first.id, { ...evidenceFor(first.id, payload), tenant_id: "ten_nobody" });
    expect(expectStatus(unknownTenant, 404).code).toBe("not_found");
    for (const intent of [first, second]) expect(expectStatus(await agent.get(`/v1/escrow-intents/${intent.id}`), 200)).toMatchObject({ status: "funded", attempts: [] });

    // The owner swaps the payee's key: open intents keep the key they were signed for; new terms
    // signed with the old thumbprint are refused.
    const newKey = newEvidenceKey("p256");
    const updated = expectStatus(await owner.call("PATCH", `/v1/payees/${payee.id}`, { evidence_public_key: newKey.publicJwk }), 200);
    expect(updated.evidence_key_thumbprint).not.toBe(payee.evidence_key_thumbprint);
    expect(expectStatus(await submit(first.id, evidenceFor(first.id, payload, {}, newKey)), 401).code).toBe("evidence_signature_invalid");
    expect(expectStatus(await create(), 422).code).toBe("payee_key_mismatch");
    expect(expectStatus(await submit(first.id, evidenceFor(first.id, payload)), 200).status).toBe("released");
    expectStatus(await owner.call("PATCH", `/v1/payees/${payee.id}`, { evidence_public_key: payeeKey.publicJwk }), 200);
    expectStatus(await owner.post(`/v1/escrow-intents/${second.id}/refund`), 200);
    await booksHold();
  });

  it("confirm mode waits for a release; owners refund, split and dispute; an agent may only release", async () => {
    const confirm = expectStatus(await create({ release_mode: "confirm" }, { fund: true }), 201);
    const accepted = expectStatus(await submit(confirm.id, evidenceFor(confirm.id, { status: 200, pages: 10 })), 200);
    expect(accepted).toMatchObject({ status: "evidence_submitted", accepted_evidence: { evaluation: { passed: true } }, settlement: null });
    expect(expectStatus(await submit(confirm.id, evidenceFor(confirm.id, { status: 200, pages: 11 })), 409).code).toBe("evidence_already_accepted");
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${confirm.id}/refund`), 403).code).toBe("escrow_owner_only");
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${confirm.id}/release`), 200)).toMatchObject({ status: "released", settlement: { payee_amount: 5_000 } });

    const before = await balanceOf(agent);
    const split = expectStatus(await create({}, { fund: true }), 201);
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${split.id}/split`, { payee_amount: 5_001 }), 422).code).toBe("split_amount_invalid");
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${split.id}/split`, { payee_amount: 2_000 }), 200)).toMatchObject({ status: "split", settlement: { payee_amount: 2_000, refund_amount: 3_000 } });
    expect((await balanceOf(agent)).balance).toBe(before.balance - 2_000);

    const disputed = expectStatus(await create({}, { fund: true }), 201);
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${disputed.id}/dispute`, { reason: "no" }), 403).code).toBe("escrow_owner_only");
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${disputed.id}/dispute`, { reason: "report missing a section" }), 200)).toMatchObject({ status: "disputed", was_disputed: true, available_actions: ["release", "refund", "split"] });
    expect(expectStatus(await submit(disputed.id, evidenceFor(disputed.id, { status: 200, pages: 12 })), 409).code).toBe("escrow_disputed");
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${disputed.id}/refund`), 200)).toMatchObject({ status: "refunded", settlement: { payee_amount: 0, refund_amount: 5_000 } });
    expect((await balanceOf(agent)).balance).toBe(before.balance - 2_000);
    await booksHold();
  });

  it("variable cost: release pays min(reported cost, amount) and refunds the rest", async () => {
    const before = await balanceOf(agent);
    const costly = expectStatus(await create({ cost_path: "/payload/cost", predicate: { version: 1, root: { op: "lte", left: { ptr: "/payload/cost" }, right: { field: "amount" } } } }, { fund: true }), 201);
    const released = expectStatus(await submit(costly.id, evidenceFor(costly.id, { status: 200, pages: 1, cost: 1_250 })), 200);
    expect(released).toMatchObject({ status: "released", settlement: { payee_amount: 1_250, refund_amount: 3_750 } });
    expect((await balanceOf(agent)).balance).toBe(before.balance - 1_250);
    await booksHold();
  });

  it("funding at the approval threshold holds and waits like a payment; approval funds it; a denial holds nothing", async () => {
    const big = expectStatus(await create({ amount: 60_000 }, { fund: true }), 201);
    expect(big).toMatchObject({ status: "open", decision: "approval_required", approval_status: "pending", available_actions: ["wait_for_approval"] });
    expect(await balanceOf(agent)).toMatchObject({ available: (await balanceOf(agent)).balance - 60_000 });
    const approval = expectStatus(await owner.get(`/v1/approvals/${big.approval_id}`), 200);
    expect(approval).toMatchObject({ subject_type: "escrow_intent", escrow_intent_id: big.id, amount: 60_000 });
    expectStatus(await owner.post(`/v1/approvals/${big.approval_id}/approve`), 200);
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${big.id}`), 200)).toMatchObject({ status: "funded", approval_status: "approved" });
    expectStatus(await owner.post(`/v1/escrow-intents/${big.id}/refund`), 200);

    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 50_000, approval_expiry_seconds: 600, per_transaction_max_minor: 1_000 });
    const denied = expectStatus(await create({}, { fund: true }), 201);
    expect(denied).toMatchObject({ status: "open", decision: "deny", reason_codes: ["amount_exceeds_transaction_max"], hold_transfer_id: null });
    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 50_000, approval_expiry_seconds: 600 });
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${denied.id}/fund`), 200)).toMatchObject({ status: "funded" });
    expectStatus(await owner.post(`/v1/escrow-intents/${denied.id}/refund`), 200);
    await booksHold();
  });

  it("the deadline sweep refunds; an action after the deadline expires the intent there and then", async () => {
    const before = await balanceOf(agent);
    const swept = expectStatus(await create({ deadline: new Date(clock.ms + 60_000).toISOString() }, { fund: true }), 201);
    const late = expectStatus(await create({ deadline: new Date(clock.ms + 60_000).toISOString() }, { fund: true }), 201);
    expect((await balanceOf(agent)).balance).toBe(before.balance - 10_000);
    const start = clock.ms;
    clock.advance(59_000);
    expect((await server.sweeper.sweepOnce()).expiredEscrowIntents).toBe(0);
    clock.advance(1_000);
    expect((await server.sweeper.sweepOnce()).expiredEscrowIntents).toBe(2);
    clock.ms = start;
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${swept.id}`), 200)).toMatchObject({ status: "expired", settlement: { outcome: "expired", refund_amount: 5_000 } });
    expect((await balanceOf(agent)).balance).toBe(before.balance);
    expect(late.status).toBe("funded");

    const racing = expectStatus(await create({ deadline: new Date(clock.ms + 1_000).toISOString() }, { fund: true }), 201);
    clock.advance(1_000);
    expect(expectStatus(await owner.post(`/v1/escrow-intents/${racing.id}/release`), 409).code).toBe("escrow_expired");
    clock.ms = start;
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${racing.id}`), 200).status).toBe("expired");
    expect((await balanceOf(agent)).balance).toBe(before.balance);
    await booksHold();
  });

  it("a rejected funding releases its hold; a funding still waiting at the deadline is cancelled; attempts are bounded", async () => {
    const before = await balanceOf(agent);
    const rejected = expectStatus(await create({ amount: 60_000 }, { fund: true }), 201);
    expectStatus(await owner.post(`/v1/approvals/${rejected.approval_id}/reject`, { note: "too much" }), 200);
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${rejected.id}`), 200)).toMatchObject({ status: "open", approval_status: "rejected", hold_transfer_id: null, available_actions: ["fund"] });
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance, available: before.balance });

    const waiting = expectStatus(await create({ amount: 60_000, deadline: new Date(clock.ms + 30_000).toISOString() }, { fund: true }), 201);
    expect(await balanceOf(agent)).toMatchObject({ available: before.balance - 60_000 });
    const start = clock.ms;
    clock.advance(30_000);
    expect((await server.sweeper.sweepOnce()).expiredEscrowIntents).toBe(1);
    clock.ms = start;
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${waiting.id}`), 200)).toMatchObject({ status: "expired", approval_status: "cancelled", settlement: { payee_amount: 0, refund_amount: 0 } });
    expect(expectStatus(await owner.get(`/v1/approvals/${waiting.approval_id}`), 200).status).toBe("cancelled");
    expect(await balanceOf(agent)).toMatchObject({ balance: before.balance, available: before.balance });

    const bounded = expectStatus(await create({}, { fund: true }), 201);
    for (let i = 0; i < 10; i++) expectStatus(await submit(bounded.id, evidenceFor(bounded.id, { status: 500, pages: i })), 200);
    const exhausted = await submit(bounded.id, evidenceFor(bounded.id, { status: 200, pages: 12 }));
    expect(expectStatus(exhausted, 409).code).toBe("evidence_attempts_exhausted");
    expectStatus(await owner.post(`/v1/escrow-intents/${bounded.id}/refund`), 200);
    await booksHold();
  });

  it("a capability draws on the escrow, never past it; release pays what remains; settlement releases live draws", async () => {
    const before = await balanceOf(agent);
    const intent = expectStatus(await create({ allowed_operations: ["tools.*"] }, { fund: true }), 201);
    const capability = expectStatus(await agent.post(`/v1/escrow-intents/${intent.id}/capability`), 200);
    expect(capability.token).toMatch(/^eyJ/);
    expect(expectStatus(await agent.post(`/v1/escrow-intents/${intent.id}/capability`), 200).token).toBe(capability.token);

    const draw = expectStatus(await agent.post("/v1/spend/authorizations", { operation: "tools.search", amount: 800, currency: "GBP", capability_token: capability.token }), 201);
    expect(draw).toMatchObject({ status: "authorized", escrow_intent_id: intent.id });
    expectStatus(await agent.post(`/v1/spend/authorizations/${draw.id}/complete`, { outcome: "consumed", amount: 500 }), 200);
    expect((await balanceOf(agent)).balance).toBe(before.balance - 5_000);
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${intent.id}`), 200)).toMatchObject({ drawn_amount: 500, releasable_amount: 4_500 });
    const outside = await agent.post("/v1/spend/authorizations", { operation: "other.op", amount: 100, currency: "GBP", capability_token: capability.token });
    expect(expectStatus(outside, 403).code).toBe("capability_operation_not_allowed");
    const tooMuch = await agent.post("/v1/spend/authorizations", { operation: "tools.search", amount: 4_501, currency: "GBP", capability_token: capability.token });
    expect(expectStatus(tooMuch, 403).code).toBe("capability_exhausted");

    const live = expectStatus(await agent.post("/v1/spend/authorizations", { operation: "tools.fetch", amount: 1_000, currency: "GBP", capability_token: capability.token }), 201);
    const released = expectStatus(await submit(intent.id, evidenceFor(intent.id, { status: 200, pages: 12 })), 200);
    expect(released).toMatchObject({ status: "released", settlement: { payee_amount: 4_500, drawn_amount: 500, refund_amount: 0 } });
    expect(expectStatus(await agent.get(`/v1/spend/authorizations/${live.id}`), 200)).toMatchObject({ status: "released" });
    expect(await accountBalance(intent.escrow_account_id)).toBe(0);
    expect((await balanceOf(agent)).balance).toBe(before.balance - 5_000);
    const afterSettle = await agent.post("/v1/spend/authorizations", { operation: "tools.search", amount: 10, currency: "GBP", capability_token: capability.token });
    expect(expectStatus(afterSettle, 409).code).toBe("escrow_already_settled");
    await booksHold();
  });

  it("the reputation receipt counts every outcome and verifies with the tenant's public key", async () => {
    const response = expectStatus(await owner.get(`/v1/payees/${payee.id}/reputation`), 200);
    const { receipt, signature, key_id } = response;
    expect(key_id).toBe(`bursar/${tenantId}`);
    expect(receipt.counts).toMatchObject({ released: expect.any(Number), refunded: expect.any(Number), split: 1, expired: 3, disputed: 1 });
    expect(receipt.counts.settled).toBe(receipt.counts.released + receipt.counts.refunded + receipt.counts.split + receipt.counts.expired);
    expect(receipt.rates_bps.split).toBe(Math.floor(10_000 / receipt.counts.settled));
    expect(receipt.time_to_release_seconds.samples).toBe(receipt.counts.released + receipt.counts.split);
    const published = expectStatus(await owner.get("/v1/journal/authority"), 200);
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(published.public_key, "base64").toString("base64url") }, format: "jwk" });
    const signed = Buffer.from(`bursar-reputation-receipt-v1.${canonicalize(receipt)}`);
    expect(verify(null, signed, key, Buffer.from(signature, "base64url"))).toBe(true);
    expect(verify(null, Buffer.from(`bursar-reputation-receipt-v1.${canonicalize({ ...receipt, counts: { ...receipt.counts, refunded: 0 } })}`), key, Buffer.from(signature, "base64url"))).toBe(false);
    expect(receipt.journal_seq).toBeLessThanOrEqual((await fetchVerifiedCheckpoint(owner)).tree_size);
  });

  it("predicates: preview a template, test evidence against a predicate and schema", async () => {
    const preview = expectStatus(await agent.post("/v1/predicates/preview", { template: "http_status", parameters: { status: 200 } }), 200);
    expect(preview).toEqual({ predicate: { version: 1, root: { op: "eq", left: { ptr: "/payload/status" }, right: { const: 200 } } }, cost_path: null, summary: "Passes when evidence /payload/status equals 200." });
    const tested = expectStatus(await agent.post("/v1/predicates/test", { predicate: preview.predicate, evidence: { payload: { status: 500 } }, evidence_schema: { type: "object" }, amount: 100 }), 200);
    expect(tested).toMatchObject({ valid: true, errors: [], evaluation: { passed: false, failing_node: "/root" } });
    const schemaFails = expectStatus(await agent.post("/v1/predicates/test", { predicate: preview.predicate, evidence: { payload: 3 }, evidence_schema: { type: "object" } }), 200);
    expect(schemaFails).toMatchObject({ valid: false, evaluation: null });
    expect(expectStatus(await agent.post("/v1/predicates/test", { predicate: { version: 1, root: { op: "regex" } }, evidence: { payload: {} } }), 422).code).toBe("predicate_invalid");
    expect(expectStatus(await agent.post("/v1/predicates/preview", { template: "nope" }), 400).code).toBe("validation_failed");
    expect(expectStatus(await create({ evidence_schema: { type: "object", properties: { a: { type: "strnig" } } } }), 422).code).toBe("evidence_schema_invalid");
  });

  it("every event these flows journaled is registered and matches its schema", async () => {
    const events = await listAll(owner, "/v1/events");
    const types = new Set(events.map((event: any) => event.type));
    for (const type of ["escrow_intent.created", "escrow_intent.funded", "escrow_intent.funding_pending_approval", "escrow_intent.funding_denied", "escrow_intent.evidence_submitted", "escrow_intent.disputed", "escrow_intent.released", "escrow_intent.refunded", "escrow_intent.split", "escrow_intent.expired", "signing_key.created", "signing_key.revoked"]) {
      expect(types.has(type), type).toBe(true);
    }
    for (const event of events) {
      const parsed = eventCatalog[event.type]!.safeParse(event.data);
      expect(parsed.success, `${event.type}: ${parsed.error?.message}`).toBe(true);
    }
  });
});
