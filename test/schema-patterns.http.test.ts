/**
 * ReDoS attacks on tenant-written JSON Schemas over HTTP (services/schemas.ts, docs/services.md
 * "Patterns"): a service input schema or an escrow evidence schema whose `pattern` needs
 * backtracking (a backreference, a lookaround, a large counted repetition) or is too long is
 * refused with 422 `schema_pattern_unsafe` naming the pattern's schema path, and nothing is
 * written; a classic catastrophic pattern (`^(a+)+$`) is accepted because it runs on the
 * linear-time engine, and a payload built to make a backtracking engine run for ever
 * (`aaaa…a!`) is answered at once with the schema error. With a backtracking engine these
 * requests would never be answered, and the test would fail by its timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import type { Onboarded } from "./agents-support.js";
import { createIntent, intentRequest, newEvidenceKey, payeeWithKey, signEvidence } from "./escrow-support.js";
import { agentClient, expectStatus, fundedAgent, putPolicy, type AgentApi } from "./payments-support.js";
import { startServiceStub, type ServiceStub } from "./service-stub.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

/** 2^n steps for a backtracking engine: `^(a+)+$` against n letters and a mismatch. */
const evil = "a".repeat(5_000) + "!";

describe.each(storeKinds)("JSON Schema patterns run in linear time (%s)", (kind) => {
  let server: RunningServer;
  let stub: ServiceStub;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  let onboarded: Onboarded;
  let tenantId: string;

  beforeAll(async () => {
    stub = await startServiceStub();
    server = await startTestServer(kind, { config: { allowPrivateWebhookTargets: true, logLevel: "error" } });
    const tenant = await createTestTenant(server.store);
    tenantId = tenant.tenantId;
    owner = client(server.url, tenant.token);
    onboarded = await fundedAgent(server.url, owner, 100_000);
    agent = await agentClient(server.url, onboarded);
    await putPolicy(owner, onboarded.agentId, {});
  });
  afterAll(async () => {
    await server?.close();
    await stub?.close();
  });

  const service = (name: string, inputSchema: Record<string, unknown>) => ({
    name, operations: [{ name: "lookup", url: `${stub.url}/ok`, price: 5, currency: "GBP", input_schema: inputSchema }],
  });

  it.each([
    ["a backreference", { type: "object", properties: { code: { type: "string", pattern: "^(\\w+)-\\1$" } } }, "properties.code.pattern"],
    ["a lookahead", { type: "object", properties: { code: { type: "string", pattern: "^(?=.*[0-9]).+$" } } }, "properties.code.pattern"],
    ["a lookbehind in patternProperties", { type: "object", patternProperties: { "(?<!x)y": { type: "string" } } }, "patternProperties.(?<!x)y"],
    ["a large counted repetition", { type: "object", properties: { code: { type: "string", pattern: "^[a-z]{1,64}$" } } }, "properties.code.pattern"],
    ["a nested one, deep in the schema", { type: "object", properties: { list: { type: "array", items: { type: "string", pattern: "(a)\\1" } } } }, "properties.list.items.pattern"],
    ["a pattern over 256 characters", { type: "string", pattern: "a".repeat(257) }, "pattern"],
  ])("a service schema with %s is refused with its path, and nothing is registered", async (_what, inputSchema, path) => {
    const refused = expectStatus(await owner.post("/v1/services", service("patterns", inputSchema)), 422);
    expect(refused).toMatchObject({ code: "schema_pattern_unsafe", errors: [{ path: `body.operations.0.input_schema.${path}`, code: "schema_pattern_unsafe" }] });
    expect(refused.detail).toContain(`body.operations.0.input_schema.${path}`);
    expect(expectStatus(await agent.get("/v1/services"), 200).data.map((entry: any) => entry.name)).not.toContain("patterns");
  });

  it("a catastrophic-backtracking pattern is accepted and evaluated in linear time on an agent's payload", async () => {
    expectStatus(await owner.post("/v1/services", service("letters", { type: "object", required: ["word"], properties: { word: { type: "string", pattern: "^(a+)+$" } } })), 201);
    const answered = expectStatus(await agent.post("/v1/service-requests", { service: "letters", operation: "lookup", payload: { word: evil } }), 422);
    expect(answered).toMatchObject({ code: "payload_invalid", errors: [{ path: "payload.word", code: "payload_invalid" }] });
    expect(expectStatus(await agent.post("/v1/service-requests", { service: "letters", operation: "lookup", payload: { word: "aaaa" } }), 200).status).toBe("executed");
  });

  it("escrow evidence schemas: an unsafe pattern is refused on create and in predicate tests; a catastrophic one runs on the payee's payload in linear time", async () => {
    const payeeKey = newEvidenceKey();
    const payee = await payeeWithKey(owner, "Pattern payee", payeeKey);
    const unsafe = { type: "object", properties: { status: { type: "integer" }, ref: { type: "string", pattern: "^(x+)\\1$" } } };
    const request = intentRequest(payee, Date.now(), { evidence_schema: unsafe });
    const refused = expectStatus(await createIntent(agent, onboarded.key, tenantId, onboarded.agentId, request), 422);
    expect(refused).toMatchObject({ code: "schema_pattern_unsafe", errors: [{ path: "evidence_schema.properties.ref.pattern" }] });
    expect(expectStatus(await agent.get(`/v1/escrow-intents/${request.id}`), 404).code).toBe("not_found");
    const tested = await agent.post("/v1/predicates/test", { predicate: { version: 1, root: { op: "true" } }, evidence: { payload: {} }, evidence_schema: unsafe });
    expect(expectStatus(tested, 422)).toMatchObject({ code: "schema_pattern_unsafe", errors: [{ path: "evidence_schema.properties.ref.pattern" }] });

    const catastrophic = { type: "object", required: ["status", "pages"], properties: { status: { type: "integer" }, pages: { type: "integer" }, word: { type: "string", pattern: "^(a+)+$" } } };
    const intent = expectStatus(await createIntent(agent, onboarded.key, tenantId, onboarded.agentId, intentRequest(payee, Date.now(), { evidence_schema: catastrophic }), { fund: true }), 201);
    const submit = (payload: unknown) =>
      client(server.url).post(`/v1/escrow-intents/${intent.id}/evidence`, signEvidence(payeeKey.privateKey, tenantId, intent.id, payee.id, { payload, artifacts: [], submitted_at: new Date().toISOString() }));
    expect(expectStatus(await submit({ status: 200, pages: 12, word: evil }), 422)).toMatchObject({ code: "evidence_invalid", errors: [{ path: "payload.word" }] });
    const dryRun = expectStatus(await agent.post("/v1/predicates/test", { predicate: { version: 1, root: { op: "true" } }, evidence: { payload: { status: 200, pages: 1, word: evil } }, evidence_schema: catastrophic }), 200);
    expect(dryRun).toMatchObject({ valid: false, errors: [{ path: "payload.word" }] });
    expect(expectStatus(await submit({ status: 200, pages: 12, word: "aaa" }), 200).status).toBe("released");
  });
});
