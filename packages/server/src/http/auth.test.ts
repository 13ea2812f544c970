import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { credentialRateLimitPerMinuteDefault, delegationLifetimeMsMax, delegationsLentMax, type Scope, type Store } from "@bursar/core";
import type { Principal } from "./auth.js";
import { buildApp, type RouteModule } from "./app.js";
import { ManualClock, addToken, listen, openTestStore, seedOwner, send, type SeededOwner } from "./test-support.js";

/** Test-only routes: a read that needs one scope, a write that needs another. */
const authRoutes: RouteModule<null> = (app) => {
  app.get("/test/whoami", { config: { scopes: ["transactions:read"] } }, async (request) => request.principal);
  app.post("/test/admin", { config: { scopes: ["tenant:admin"] }, schema: { body: z.object({ name: z.string() }) } }, async () => ({ ok: true }));
  app.get("/test/signed-in", { config: { scopes: [] } }, async (request) => ({ principalId: request.principal.principalId }));
};

describe("owner authentication", () => {
  const clock = new ManualClock();
  let app: FastifyInstance;
  let baseUrl: string;
  let store: Store;
  let dispose: () => Promise<void>;
  let owner: SeededOwner;
  const token = (scopes: Scope[], extra: { expiresAtMs?: number; revokedAtMs?: number } = {}) => addToken(store, owner, clock.nowMs(), { scopes, ...extra });

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore());
    owner = await seedOwner(store, clock.nowMs(), { scopes: ["transactions:read", "tenant:admin"] });
    app = buildApp({ store, clock, routes: [authRoutes], routeDeps: null });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  it("resolves a valid token to the owner principal", async () => {
    const response = await send(baseUrl, "GET", "/test/whoami", { token: owner.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      tenantId: owner.tenantId,
      principalType: "user",
      principalId: owner.userId,
      agentId: null,
      credentialId: owner.tokenId,
      scopes: ["transactions:read", "tenant:admin"],
      // An owner's PAT reads with the same list it writes with (core console/roles.ts).
      readScopes: ["transactions:read", "tenant:admin"],
      rateLimitPerMinute: credentialRateLimitPerMinuteDefault,
    });
  });

  it("accepts the scheme in any case (RFC 9110 §11.1)", async () => {
    const response = await send(baseUrl, "GET", "/test/whoami", { headers: { authorization: `bearer ${owner.token}` } });
    expect(response.status).toBe(200);
  });

  it("answers a missing token with 401 unauthorized and a Bearer challenge", async () => {
    const response = await send(baseUrl, "GET", "/test/whoami");
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ code: "unauthorized" });
    // RFC 9449 §7.1: both schemes are offered, DPoP with the algorithms it accepts.
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="bursar", DPoP algs="ES256 EdDSA Ed25519"');
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it.each([["Basic dXNlcjpwYXNz"], ["Bearer"], ["Bearer a b"], ["Token bpat_x"]])("answers Authorization %j with 401 unauthorized", async (authorization) => {
    const response = await send(baseUrl, "GET", "/test/whoami", { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ code: "unauthorized" });
  });

  it("answers unknown, tampered and foreign tokens with 401 invalid_token", async () => {
    const tampered = owner.token.slice(0, -1) + (owner.token.endsWith("A") ? "B" : "A");
    for (const candidate of ["bpat_unknown", tampered, "eyJhbGciOiJFUzI1NiJ9.e30.sig", owner.token.slice(5)]) {
      const response = await send(baseUrl, "GET", "/test/whoami", { token: candidate });
      expect(response.status, candidate).toBe(401);
      expect(response.body, candidate).toMatchObject({ code: "invalid_token" });
      expect(response.headers.get("www-authenticate"), candidate).toContain('error="invalid_token"');
    }
  });

  it("answers a revoked token with 401 invalid_token", async () => {
    const revoked = await token(["transactions:read"], { revokedAtMs: clock.nowMs() });
    const response = await send(baseUrl, "GET", "/test/whoami", { token: revoked });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ code: "invalid_token" });
  });

  it("accepts a token until the millisecond it expires", async () => {
    const expiring = await token(["transactions:read"], { expiresAtMs: clock.nowMs() + 1000 });
    expect((await send(baseUrl, "GET", "/test/whoami", { token: expiring })).status).toBe(200);
    clock.timeMs += 999;
    expect((await send(baseUrl, "GET", "/test/whoami", { token: expiring })).status).toBe(200);
    clock.timeMs += 1;
    const expired = await send(baseUrl, "GET", "/test/whoami", { token: expiring });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: "invalid_token" });
  });

  it("answers a missing scope with 403 insufficient_scope", async () => {
    const readOnly = await token(["transactions:read"]);
    const response = await send(baseUrl, "POST", "/test/admin", { token: readOnly, json: { name: "x" } });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: "insufficient_scope" });
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope", scope="tenant:admin"');
    expect((await send(baseUrl, "POST", "/test/admin", { token: owner.token, json: { name: "x" } })).status).toBe(200);
  });

  it("grants nothing for scope strings it does not know", async () => {
    const odd = await token(["tenant:admin:all", "*"] as unknown as Scope[]);
    expect((await send(baseUrl, "POST", "/test/admin", { token: odd, json: { name: "x" } })).status).toBe(403);
    // An empty scope list still requires a valid token.
    expect((await send(baseUrl, "GET", "/test/signed-in", { token: odd })).status).toBe(200);
    expect((await send(baseUrl, "GET", "/test/signed-in")).status).toBe(401);
  });

  it("authenticates before reading the body: anonymous junk gets 401, not 400 or 413", async () => {
    const malformed = await send(baseUrl, "POST", "/test/admin", { body: "{nope", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(401);
    const invalid = await send(baseUrl, "POST", "/test/admin", { json: { name: 42 } });
    expect(invalid.status).toBe(401);
    const huge = await send(baseUrl, "POST", "/test/admin", { body: "x".repeat(1024 * 1024), headers: { "content-type": "application/json" } });
    expect(huge.status).toBe(401);
  });

  it("refuses at start-up a route that declares neither scopes nor public", async () => {
    const careless: RouteModule<null> = (routes) => {
      routes.get("/test/forgot", async () => ({ secret: true }));
    };
    const broken = buildApp({ store, routes: [careless], routeDeps: null });
    await expect(broken.ready()).rejects.toThrow(/declare config.scopes/);
    const confused: RouteModule<null> = (routes) => {
      routes.get("/test/both", { config: { public: true, scopes: ["tenant:admin"] } }, async () => ({}));
    };
    await expect(buildApp({ store, routes: [confused], routeDeps: null }).ready()).rejects.toThrow(/not both/);
  });
});

describe("per-request delegation tokens (bdlg_, lent to /v1/mcp's inner calls)", () => {
  const clock = new ManualClock();
  let app: FastifyInstance;
  let baseUrl: string;
  let store: Store;
  let dispose: () => Promise<void>;
  let owner: SeededOwner;
  let principal: Principal;

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore());
    owner = await seedOwner(store, clock.nowMs(), { scopes: ["transactions:read", "tenant:admin"] });
    app = buildApp({ store, clock, routes: [authRoutes], routeDeps: null });
    baseUrl = await listen(app);
    principal = (await send(baseUrl, "GET", "/test/whoami", { token: owner.token })).body as unknown as Principal;
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  const injected = async (method: "GET" | "POST", url: string, token: string) => {
    const answer = await app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(method === "POST" ? { "content-type": "application/json" } : {}) }, payload: method === "POST" ? JSON.stringify({ name: "x" }) : undefined });
    return { status: answer.statusCode, body: answer.json() as { code?: string; scopes?: string[]; principalId?: string } };
  };

  it("authenticates in-process calls as the lent principal, without its owner-only scopes", async () => {
    const lent = app.delegations.lend(principal);
    try {
      const whoami = await injected("GET", "/test/whoami", lent.token);
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ principalId: principal.principalId, tenantId: principal.tenantId, credentialId: principal.credentialId, scopes: ["transactions:read"] });
      // The owner's own token may; the token lent for it may not (tenant:admin is owner-only).
      expect((await send(baseUrl, "POST", "/test/admin", { token: owner.token, json: { name: "x" } })).status).toBe(200);
      expect(await injected("POST", "/test/admin", lent.token)).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });
    } finally {
      lent.release();
    }
  });

  it("a live token replayed over the network is refused", async () => {
    const lent = app.delegations.lend(principal);
    try {
      expect((await injected("GET", "/test/whoami", lent.token)).status).toBe(200);
      const replay = await send(baseUrl, "GET", "/test/whoami", { token: lent.token });
      expect(replay.status).toBe(401);
      expect(replay.body?.code).toBe("invalid_token");
    } finally {
      lent.release();
    }
  });

  it("dies when released, and after its lifetime bound when never released", async () => {
    const released = app.delegations.lend(principal);
    released.release();
    expect(await injected("GET", "/test/whoami", released.token)).toMatchObject({ status: 401, body: { code: "invalid_token" } });
    const forgotten = app.delegations.lend(principal);
    clock.timeMs += delegationLifetimeMsMax - 1;
    expect((await injected("GET", "/test/whoami", forgotten.token)).status).toBe(200);
    clock.timeMs += 1;
    expect(await injected("GET", "/test/whoami", forgotten.token)).toMatchObject({ status: 401, body: { code: "invalid_token" } });
    expect(app.delegations.size).toBe(0);
  });

  it("a guessed or altered token is refused like any dead credential", async () => {
    const lent = app.delegations.lend(principal);
    try {
      const altered = lent.token.slice(0, -1) + (lent.token.endsWith("A") ? "B" : "A");
      expect(await injected("GET", "/test/whoami", altered)).toMatchObject({ status: 401, body: { code: "invalid_token" } });
      expect((await injected("GET", "/test/whoami", "bdlg_guessed")).status).toBe(401);
    } finally {
      lent.release();
    }
  });

  it("lends at most delegationsLentMax at once (429), and expired ones make room", async () => {
    const lent = Array.from({ length: delegationsLentMax }, () => app.delegations.lend(principal));
    expect(() => app.delegations.lend(principal)).toThrow(expect.objectContaining({ code: "rate_limited" }));
    clock.timeMs += delegationLifetimeMsMax;
    const fresh = app.delegations.lend(principal);
    expect(app.delegations.size).toBe(1);
    fresh.release();
    for (const one of lent) one.release();
  });
});
