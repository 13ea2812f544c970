/**
 * The predicate limits decide over HTTP, not the JSON parser's (limits.ts
 * `predicateBodyJsonDepthMax`): a predicate at its documented maximum depth (12 levels, each
 * `and` costing two JSON levels) and with constants at their maximum nesting (4) is accepted by
 * `POST /v1/escrow-intents` and `POST /v1/predicates/test`; one level deeper is refused with
 * 422 `predicate_invalid` naming the node, not with a generic `json_too_deep`; a body deeper than
 * any predicate can be is still `json_too_deep`; other routes keep the general bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { jsonDepthMax, predicateBodyJsonDepthMax, predicateConstantDepthMax, predicateDepthMax } from "@bursar/core";
import type { Onboarded } from "./agents-support.js";
import { createIntent, intentRequest, newEvidenceKey, payeeWithKey } from "./escrow-support.js";
import { agentClient, expectStatus, fundedAgent, type AgentApi } from "./payments-support.js";
import { client, createTestTenant, startTestServer } from "./support.js";

/** `and` nested so the innermost node sits at `levels` (the root is level 1), ending in `leaf`. */
function nestedAnd(levels: number, leaf: Record<string, unknown>): Record<string, unknown> {
  let node = leaf;
  for (let level = levels - 1; level >= 1; level--) node = { op: "and", args: [node] };
  return node;
}
/** A constant nesting `depth` levels of arrays and objects. */
function nestedConstant(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { a: value };
  return value;
}
/** The deepest JSON a predicate of `levels` can reach: `and`s down to a comparison whose constant nests as far as allowed. */
const deepest = (levels: number, constantDepth = predicateConstantDepthMax) => ({
  version: 1,
  root: nestedAnd(levels - 1, { op: "eq", left: { ptr: "/payload/status" }, right: { const: nestedConstant(constantDepth) } }),
});
function jsonDepth(value: unknown): number {
  return typeof value === "object" && value !== null ? 1 + Math.max(0, ...Object.values(value).map(jsonDepth)) : 0;
}

describe("predicate depth over HTTP", () => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;
  let agent: AgentApi;
  let onboarded: Onboarded;
  let tenantId: string;
  let payee: any;

  beforeAll(async () => {
    server = await startTestServer("sqlite", { config: { logLevel: "error" } });
    const tenant = await createTestTenant(server.store);
    tenantId = tenant.tenantId;
    owner = client(server.url, tenant.token);
    onboarded = await fundedAgent(server.url, owner, 0);
    agent = await agentClient(server.url, onboarded);
    payee = await payeeWithKey(owner, "Deep payee", newEvidenceKey());
  });
  afterAll(async () => server?.close());

  const create = (predicate: unknown) => createIntent(agent, onboarded.key, tenantId, onboarded.agentId, intentRequest(payee, Date.now(), { predicate: predicate as Record<string, unknown> }));
  const dryRun = (predicate: unknown) => agent.post("/v1/predicates/test", { predicate, evidence: { payload: { status: 200 } } });

  it("the limits are coherent: the deepest valid predicate, and one level past it, fit the body bound", () => {
    const atMaximum = { predicate: deepest(predicateDepthMax) };
    const pastMaximum = { predicate: deepest(predicateDepthMax + 1) };
    expect(jsonDepth(atMaximum)).toBeGreaterThan(jsonDepthMax);
    expect(jsonDepth(pastMaximum)).toBeLessThanOrEqual(predicateBodyJsonDepthMax);
  });

  it(`a predicate at ${predicateDepthMax} levels with constants nested ${predicateConstantDepthMax} deep is accepted`, async () => {
    const predicate = deepest(predicateDepthMax);
    expect(expectStatus(await create(predicate), 201)).toMatchObject({ status: "open", predicate });
    expect(expectStatus(await dryRun(predicate), 200)).toMatchObject({ valid: true, evaluation: { passed: false } });
    const leafAtMaximum = { version: 1, root: nestedAnd(predicateDepthMax, { op: "true" }) };
    expect(expectStatus(await create(leafAtMaximum), 201).status).toBe("open");
    expect(expectStatus(await dryRun(leafAtMaximum), 200)).toMatchObject({ evaluation: { passed: true } });
  });

  it("one level deeper is predicate_invalid naming the node, on create and in a dry run", async () => {
    for (const predicate of [deepest(predicateDepthMax + 1), { version: 1, root: nestedAnd(predicateDepthMax + 1, { op: "true" }) }]) {
      for (const answer of [await create(predicate), await dryRun(predicate)]) {
        const refused = expectStatus(answer, 422);
        expect(refused.code).toBe("predicate_invalid");
        expect(refused.errors[0].detail).toContain(`at most ${predicateDepthMax} levels`);
        expect(refused.errors[0].path).toMatch(/^(predicate)?\/root(\/args\/0)+/);
      }
    }
    const deepConstant = deepest(2, predicateConstantDepthMax + 1);
    const refused = expectStatus(await dryRun(deepConstant), 422);
    expect(refused).toMatchObject({ code: "predicate_invalid", errors: [{ path: "predicate/root/right/const" }] });
  });

  it("deeper than any predicate can be is json_too_deep, and other routes keep the general bound", async () => {
    const absurd = { version: 1, root: nestedAnd(predicateDepthMax + 5, { op: "true" }) };
    expect(expectStatus(await dryRun(absurd), 400).code).toBe("json_too_deep");
    expect(expectStatus(await create(absurd), 400).code).toBe("json_too_deep");
    const nested = nestedConstant(jsonDepthMax);
    expect(expectStatus(await owner.post("/v1/payees", { name: "Deep metadata", currency: "GBP", metadata: { deep: nested } }), 400).code).toBe("json_too_deep");
  });
});
