/**
 * Credentials are cached per process (identity/credential-cache.ts) under the tenant's config
 * version; these tests try to make a cache answer with a credential another process has just
 * killed. Two `bursar serve` processes share one database (the SQLite file, or PostgreSQL): every
 * credential is first used on B, so B holds it in memory, then revoked (or narrowed) through A,
 * and B's very next request must already refuse it. Each kind of change the cache can hold:
 * a DPoP binding revoked, an agent disabled (its token request refused), an API key revoked, a
 * member's role narrowed and the member removed (their personal access token).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPersonalAccessToken, newId, roleScopes, type Scope } from "@bursar/core";
import { openStore } from "@bursar/server";
import { client, createTestTenant, dropSchema, freshStoreConfig, killHard, spawnServer, storeKinds, type ChildServer } from "./support.js";
import { agentClient, expectStatus } from "./payments-support.js";
import { getToken, onboard } from "./agents-support.js";

describe.each(storeKinds)("cached credentials across two server processes (%s)", (kind) => {
  const config = freshStoreConfig(kind);
  const children: ChildServer[] = [];
  let tenant: { tenantId: string; ownerId: string; token: string };
  let adminToken: string;
  let adminId: string;

  beforeAll(async () => {
    const store = await openStore(config);
    tenant = await createTestTenant(store);
    // A second member with a token of their own, made the way the console would.
    adminId = newId("usr");
    adminToken = await store.write(tenant.tenantId, async (tx) => {
      await tx.insertUser({ id: adminId, tenantId: tenant.tenantId, email: null, name: "Ada Admin", role: "admin", createdAtMs: Date.now(), removedAtMs: null });
      const context = { tx, tenantId: tenant.tenantId, nowMs: Date.now(), actor: { type: "user", id: adminId } as const };
      return (await createPersonalAccessToken(context, { userId: adminId, name: "admin cli", scopes: roleScopes("admin") as Scope[] })).token;
    });
    await store.close();
    const env = { BURSAR_DATA_DIR: config.dataDir, ...(config.databaseUrl ? { BURSAR_DATABASE_URL: config.databaseUrl, BURSAR_DATABASE_SCHEMA: config.databaseSchema! } : {}) };
    // One after the other: the second opens a database the first has already migrated.
    children.push(await spawnServer(env));
    children.push(await spawnServer(env));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => killHard(child.process)));
    await dropSchema(config.databaseSchema);
  });

  const a = () => client(children[0]!.url, tenant.token);

  it("a binding revoked through A is refused by B on its next request", async () => {
    const agent = await onboard(children[0]!.url, a());
    const onB = await agentClient(children[1]!.url, agent);
    for (let i = 0; i < 3; i++) expectStatus(await onB.get("/v1/balance"), 200);
    const bindings = expectStatus(await a().get(`/v1/credential-bindings?agent_id=${agent.agentId}`), 200).data;
    expectStatus(await a().call("DELETE", `/v1/credential-bindings/${bindings[0].id}`), 200);
    const refused = await onB.get("/v1/balance");
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_token");
  });

  it("an agent disabled through A gets no token from B, and its token stops working there", async () => {
    const agent = await onboard(children[0]!.url, a());
    expectStatus(await getToken(children[1]!.url, agent), 200);
    const onB = await agentClient(children[1]!.url, agent);
    expectStatus(await onB.get("/v1/balance"), 200);
    expectStatus(await a().call("DELETE", `/v1/agents/${agent.agentId}`), 200);
    expect((await onB.get("/v1/balance")).status).toBe(401);
    const token = await getToken(children[1]!.url, agent);
    expect(token.status).toBe(401);
    expect(token.body.error).toBe("invalid_client");
  });

  it("an API key revoked through A is refused by B on its next request", async () => {
    const created = expectStatus(await a().post("/v1/api-keys", { name: "service", scopes: ["transactions:read"] }), 201);
    const onB = client(children[1]!.url, created.key);
    for (let i = 0; i < 3; i++) expectStatus(await onB.get("/v1/transactions"), 200);
    expectStatus(await a().call("DELETE", `/v1/api-keys/${created.id}`), 200);
    const refused = await onB.get("/v1/transactions");
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_token");
  });

  it("a member narrowed through A holds the narrower scopes on B at once; removed, their token dies on B", async () => {
    const onB = client(children[1]!.url, adminToken);
    for (let i = 0; i < 3; i++) expectStatus(await onB.get("/v1/agents"), 200);
    expectStatus(await a().call("PATCH", `/v1/members/${adminId}`, { role: "viewer" }), 200);
    // A viewer still reads everything (console roles), but its next write is refused on B.
    expectStatus(await onB.get("/v1/agents"), 200);
    const narrowed = await onB.post("/v1/agents", { name: "after-narrowing" });
    expect(narrowed.status).toBe(403);
    expect(narrowed.body.code).toBe("insufficient_scope");
    expectStatus(await onB.get("/v1/events"), 200);
    expectStatus(await a().call("DELETE", `/v1/members/${adminId}`), 200);
    const refused = await onB.get("/v1/events");
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_token");
  });
});
