/**
 * Every event type has a schema (issue 17, item 8): the OpenAPI document's `webhooks` section has
 * one entry per type of core's event catalog, and every event a broad run of flows journals is
 * valid against the schema the document publishes for its type (checked with ajv, a validator
 * independent of the zod schemas it was generated from), with `data` keyed by object type.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { eventCatalog, knownEventTypes } from "@bursar/core";
import { mintTicket, onboard, register, newKeyPair, createAgent } from "./agents-support.js";
import { createPayee, expectStatus, fundedAgent, putPolicy } from "./payments-support.js";
import { client, createTestTenant, listAll, repoRoot, startTestServer } from "./support.js";

// ajv 8 (JSON Schema 2020-12, as OpenAPI 3.1 uses) is the server's dependency; the root has an old one.
const serverRequire = createRequire(path.join(repoRoot, "packages/server/package.json"));
const { Ajv2020 } = serverRequire("ajv/dist/2020") as { Ajv2020: new (options: object) => { validate(schema: unknown, data: unknown): boolean; errors: unknown; errorsText(errors: unknown): string } };
const addFormats = (serverRequire("ajv-formats") as { default: (ajv: unknown) => void }).default;

describe("event schemas", () => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer("sqlite", { config: { allowPrivateWebhookTargets: true } });
    owner = client(server.url, (await createTestTenant(server.store)).token);
  });
  afterAll(() => server.close());

  /** A broad run: identity, ledger, webhooks, payees, policy, payments with approvals, services. */
  async function exercise(): Promise<void> {
    const agent = await fundedAgent(server.url, owner, 1_000_000);
    expectStatus(await owner.call("PATCH", `/v1/agents/${agent.agentId}`, { name: "Renamed" }), 200);
    const key = expectStatus(await owner.post("/v1/api-keys", { name: "k", agent_id: agent.agentId, scopes: ["agents:execute"] }), 201);
    const rotated = expectStatus(await owner.post(`/v1/api-keys/${key.id}/rotate`, {}), 201);
    expectStatus(await owner.call("DELETE", `/v1/api-keys/${rotated.id}`), 200);
    const hook = expectStatus(await owner.post("/v1/webhook-endpoints", { url: "http://127.0.0.1:9/hook" }), 201);
    expectStatus(await owner.call("PATCH", `/v1/webhook-endpoints/${hook.id}`, { description: "d" }), 200);
    expectStatus(await owner.post(`/v1/webhook-endpoints/${hook.id}/rotate-secret`, {}), 200);
    expectStatus(await owner.call("DELETE", `/v1/webhook-endpoints/${hook.id}`), 200);
    const bob = await createPayee(owner, "Bob");
    expectStatus(await owner.call("PATCH", `/v1/payees/${bob.id}`, { aliases: ["Robert"] }), 200);
    const gone = await createPayee(owner, "Gone");
    expectStatus(await owner.call("DELETE", `/v1/payees/${gone.id}`), 200);
    await putPolicy(owner, agent.agentId, { approval_threshold_minor: 10_000 });
    expectStatus(await owner.call("PUT", `/v1/agents/${agent.agentId}/budgets`, { budgets: [{ period: "monthly", amount: 900_000, currency: "GBP" }] }), 200);
    const pay = (amount: number) => owner.post("/v1/payment-intents", { agent_id: agent.agentId, payee: "Bob", amount, currency: "GBP", reference: `r${amount}` });
    expectStatus(await pay(500), 201);
    const held = expectStatus(await pay(20_000), 201);
    expectStatus(await owner.post(`/v1/approvals/${held.approval_id}/approve`, {}), 200);
    const refused = expectStatus(await pay(30_000), 201);
    expectStatus(await owner.post(`/v1/approvals/${refused.approval_id}/reject`, {}), 200);
    expectStatus(await owner.post("/v1/service-requests", { agent_id: agent.agentId, service: "sandbox", operation: "echo", payload: { hello: "world" } }), 200);
    const accountA = expectStatus(await owner.post("/v1/accounts", { currency: "GBP" }), 201);
    const accountB = expectStatus(await owner.post("/v1/accounts", { currency: "GBP", debits_must_not_exceed_credits: false }), 201);
    const hold = expectStatus(await owner.post("/v1/transfers", { debit_account_id: accountB.id, credit_account_id: accountA.id, amount: 10, currency: "GBP", pending: true }), 201);
    expectStatus(await owner.post(`/v1/transfers/${hold.id}/post`, {}), 200);
    const voided = expectStatus(await owner.post("/v1/transfers", { debit_account_id: accountB.id, credit_account_id: accountA.id, amount: 10, currency: "GBP", pending: true }), 201);
    expectStatus(await owner.post(`/v1/transfers/${voided.id}/void`, {}), 200);
    const spend = (body: Record<string, unknown>) => owner.post("/v1/spend/authorizations", { agent_id: agent.agentId, currency: "GBP", ...body });
    const consumed = expectStatus(await spend({ operation: "openai.chat", amount: 300 }), 201);
    expectStatus(await owner.post(`/v1/spend/authorizations/${consumed.id}/complete`, { outcome: "consumed", amount: 100 }), 200);
    const released = expectStatus(await spend({ operation: "openai.chat", amount: 200 }), 201);
    expectStatus(await owner.post(`/v1/spend/authorizations/${released.id}/complete`, { outcome: "released" }), 200);
    const capability = expectStatus(
      await owner.post("/v1/capabilities", { agent_id: agent.agentId, allowed_operations: ["openai.*"], max_amount: 10_000, currency: "GBP", expires_at: new Date(Date.now() + 3_600_000).toISOString() }),
      201,
    );
    expectStatus(await owner.call("DELETE", `/v1/capabilities/${capability.id}`), 200);
    const other = await createAgent(owner, "Other");
    await register(server.url, await mintTicket(owner, other.id), newKeyPair());
    expectStatus(await owner.call("DELETE", `/v1/agents/${other.id}`), 200);
    await onboard(server.url, owner);
  }

  it("publishes one webhook schema per catalog type, and every journaled event validates against its own", async () => {
    await exercise();
    const document = expectStatus(await owner.get("/openapi.json"), 200);
    expect(Object.keys(document.webhooks).sort()).toEqual(knownEventTypes());
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);

    const events = await listAll(owner, "/v1/events");
    const seen = new Set<string>();
    for (const event of events) {
      seen.add(event.type);
      const schema = document.webhooks[event.type]?.post?.requestBody?.content?.["application/json"]?.schema;
      expect(schema, `a schema for ${event.type}`).toBeDefined();
      const valid = ajv.validate(schema, event);
      expect(valid, `${event.type}: ${ajv.errorsText(ajv.errors)} in ${JSON.stringify(event.data).slice(0, 400)}`).toBe(true);
      // The same check against the catalog's zod schema, which is strict about extra keys.
      const parsed = eventCatalog[event.type]!.safeParse(event.data);
      expect(parsed.success, `${event.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
    // The run covers the catalog broadly, or this test proves little.
    expect(seen.size).toBeGreaterThanOrEqual(30);
  });

  it("rejects an event whose data is not keyed by its object type (the check can fail)", () => {
    expect(eventCatalog["payee.created"]!.safeParse({ id: "pay_1", name: "Bob" }).success).toBe(false);
  });
});
