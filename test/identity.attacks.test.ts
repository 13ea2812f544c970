/**
 * The attack suite: every identity rule, attacked over real HTTP, each asserting the exact status
 * and code. DPoP per RFC 9449 §4.3 and §7, client assertions per RFC 7523 §3, refresh-token
 * rotation, tickets, scopes, revocation, tenant isolation, API keys.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import {
  awayFromMinuteBoundary,
  clientAssertion,
  createAgent,
  dpopCall,
  dpopProof,
  getToken,
  mintTicket,
  newKeyPair,
  nowSeconds,
  onboard,
  postForm,
  register,
  type Api,
  type Onboarded,
} from "./agents-support.js";
import { TestClock, client, createTestTenant, startTestServer, storeKinds, type ApiResponse } from "./support.js";

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

function expectProblem(response: ApiResponse, status: number, code: string) {
  expect({ status: response.status, code: response.body?.code ?? response.body?.error }, JSON.stringify(response.body)).toEqual({ status, code });
}

for (const kind of storeKinds) {
  describe(`identity attacks on ${kind}`, () => {
    let server: RunningServer;
    let url: string;
    let owner: Api;
    let otherOwner: Api;
    let agent: Onboarded;
    let token: string;

    beforeAll(async () => {
      server = await startTestServer(kind);
      url = server.url;
      owner = client(url, (await createTestTenant(server.store, "A")).token);
      otherOwner = client(url, (await createTestTenant(server.store, "B")).token);
      agent = await onboard(url, owner);
      const granted = await getToken(url, agent);
      expect(granted.status, JSON.stringify(granted.body)).toBe(200);
      token = granted.body.access_token;
    });
    afterAll(() => server.close());

    const htu = (path: string) => url + path;
    const call = (proof: string, path = "/v1/auth/principal", method = "GET") => dpopCall(url, method, path, token, agent.key, proof);

    describe("DPoP proofs at the resource server (RFC 9449 §4.3, §7)", () => {
      it("accepts a fresh proof once, and refuses it replayed (same jti)", async () => {
        const proof = dpopProof(agent.key, { htm: "GET", htu: htu("/v1/auth/principal"), accessToken: token });
        expect((await call(proof)).status).toBe(200);
        const replayed = await call(proof);
        expectProblem(replayed, 401, "invalid_dpop_proof");
        expect(replayed.headers.get("www-authenticate")).toContain('DPoP error="invalid_dpop_proof"');
      });

      it.each([
        ["another method", { htm: "POST" }],
        ["another URL", { htu: "http://127.0.0.1:1/v1/auth/principal" }],
        ["another path", { htu: "/v1/agents" }],
        ["a stale iat", { iat: nowSeconds() - 120 }],
        ["a future iat", { iat: nowSeconds() + 120 }],
        ["a wrong ath", { ath: "x".repeat(43) }],
        ["no jti", { jti: undefined }],
      ])("refuses a proof with %s", async (_label, change) => {
        const claims: Record<string, unknown> = { htm: "GET", htu: htu("/v1/auth/principal"), accessToken: token, ...change };
        if (typeof claims.htu === "string" && claims.htu.startsWith("/")) claims.htu = htu(claims.htu);
        const response = await call(dpopProof(agent.key, claims as never));
        expectProblem(response, 401, "invalid_dpop_proof");
      });

      it("refuses a valid proof signed by another key than the token's cnf.jkt", async () => {
        const thief = newKeyPair();
        expectProblem(await call(dpopProof(thief, { htm: "GET", htu: htu("/v1/auth/principal"), accessToken: token })), 401, "invalid_dpop_proof");
      });

      it.each([["none"], ["HS256"], ["RS256"]])("refuses alg %s", async (alg) => {
        expectProblem(await call(dpopProof(agent.key, { htm: "GET", htu: htu("/v1/auth/principal"), accessToken: token }, { alg })), 401, "invalid_dpop_proof");
      });

      it("refuses a wrong typ, a private key in the header, and a missing proof", async () => {
        const claims = { htm: "GET", htu: htu("/v1/auth/principal"), accessToken: token };
        expectProblem(await call(dpopProof(agent.key, claims, { typ: "JWT" })), 401, "invalid_dpop_proof");
        const privateJwk = agent.key.privateKey.export({ format: "jwk" });
        expectProblem(await call(dpopProof(agent.key, claims, { jwk: privateJwk })), 401, "invalid_dpop_proof");
        const bare = await fetch(htu("/v1/auth/principal"), { headers: { authorization: `DPoP ${token}` } });
        expect(bare.status).toBe(401);
        expect(((await bare.json()) as { code: string }).code).toBe("invalid_dpop_proof");
      });

      it("refuses the DPoP-bound token used as a bearer token", async () => {
        const response = await client(url, token).get("/v1/auth/principal");
        expectProblem(response, 401, "invalid_token");
        expect(response.headers.get("www-authenticate")).toMatch(/^DPoP error="invalid_token"/);
      });

      it("refuses a forged or altered access token", async () => {
        const [header, payload, signature] = token.split(".");
        const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
        const altered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: "agents:execute tenant:admin" })).toString("base64url")}.${signature}`;
        const response = await dpopCall(url, "GET", "/v1/auth/principal", altered, agent.key);
        expectProblem(response, 401, "invalid_token");
      });
    });

    describe("client assertions at the token endpoint (RFC 7523 §3)", () => {
      const form = (assertion: string, extra: Record<string, string> = {}) => ({
        grant_type: "client_credentials",
        client_id: agent.clientId,
        client_assertion_type: assertionType,
        client_assertion: assertion,
        ...extra,
      });

      it("refuses a replayed client assertion", async () => {
        const assertion = clientAssertion(agent.key, agent.clientId, url);
        expect((await postForm(`${url}/oauth/token`, form(assertion))).status).toBe(200);
        expectProblem(await postForm(`${url}/oauth/token`, form(assertion)), 401, "invalid_client");
      });

      it.each([
        ["a wrong aud", { aud: "https://elsewhere.example" }],
        ["an expired exp", { exp: nowSeconds() - 5 }],
        ["an exp too far ahead", { exp: nowSeconds() + 3600 }],
        ["a sub other than iss", { sub: "cb_someone_else" }],
      ])("refuses an assertion with %s", async (_label, overrides) => {
        expectProblem(await postForm(`${url}/oauth/token`, form(clientAssertion(agent.key, agent.clientId, url, overrides))), 401, "invalid_client");
      });

      it("refuses an assertion signed by another key, or with alg none", async () => {
        expectProblem(await postForm(`${url}/oauth/token`, form(clientAssertion(newKeyPair(), agent.clientId, url))), 401, "invalid_client");
        const none = clientAssertion(agent.key, agent.clientId, url).split(".").slice(0, 2).join(".") + ".";
        expectProblem(await postForm(`${url}/oauth/token`, form(none)), 401, "invalid_client");
      });

      it("refuses a token-request proof by a key other than the registered one", async () => {
        const proof = dpopProof(newKeyPair(), { htm: "POST", htu: `${url}/oauth/token` });
        expectProblem(await postForm(`${url}/oauth/token`, form(clientAssertion(agent.key, agent.clientId, url)), { dpop: proof }), 400, "invalid_dpop_proof");
      });

      it("refuses scopes above the binding, and owner-only scopes", async () => {
        expectProblem(await getToken(url, agent, { scope: "events:read" }), 400, "invalid_scope");
        expectProblem(await getToken(url, agent, { scope: "agents:execute agents:config" }), 400, "invalid_scope");
        const narrowed = await getToken(url, agent, { scope: "agents:execute" });
        expect(narrowed.body.scope).toBe("agents:execute");
      });

      it("refuses unknown grant types and JSON bodies", async () => {
        expectProblem(await postForm(`${url}/oauth/token`, { grant_type: "password" }), 400, "unsupported_grant_type");
        const json = await client(url).post("/oauth/token", { grant_type: "client_credentials" });
        expectProblem(json, 400, "invalid_request");
      });
    });

    describe("refresh tokens (single-use rotation)", () => {
      const refresh = (refreshToken: string) =>
        postForm(`${url}/oauth/token`, {
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_assertion_type: assertionType,
          client_assertion: clientAssertion(agent.key, agent.clientId, url),
        });

      it("revokes the whole family when a rotated refresh token is reused", async () => {
        const first = (await getToken(url, agent)).body.refresh_token;
        const second = await refresh(first);
        expect(second.status).toBe(200);
        expectProblem(await refresh(first), 400, "invalid_grant");
        // The family is gone: the token the legitimate client holds no longer works either.
        expectProblem(await refresh(second.body.refresh_token), 400, "invalid_grant");
      });

      it("refuses another client's refresh token", async () => {
        const stolen = (await getToken(url, agent)).body.refresh_token;
        const thief = await onboard(url, owner);
        const response = await postForm(`${url}/oauth/token`, {
          grant_type: "refresh_token",
          refresh_token: stolen,
          client_assertion_type: assertionType,
          client_assertion: clientAssertion(thief.key, thief.clientId, url),
        });
        expectProblem(response, 400, "invalid_grant");
      });
    });

    describe("registration tickets", () => {
      it("refuses a reused ticket, an unknown ticket, and a scope above the ceiling", async () => {
        const target = await createAgent(owner);
        const ticket = await mintTicket(owner, target.id, ["agents:execute"]);
        expectProblem(await register(url, ticket, newKeyPair(), { requested_scopes: ["agents:execute", "events:read"] }), 422, "scope_exceeds_ticket_ceiling");
        expect((await register(url, ticket, newKeyPair())).status).toBe(201);
        expectProblem(await register(url, ticket, newKeyPair()), 409, "ticket_already_consumed");
        expectProblem(await register(url, `bursar-reg_${"A".repeat(43)}`, newKeyPair()), 401, "invalid_ticket");
      });

      it("lets exactly one of concurrent registrations with one ticket succeed", async () => {
        const target = await createAgent(owner);
        const ticket = await mintTicket(owner, target.id);
        const results = await Promise.all(Array.from({ length: 8 }, () => register(url, ticket, newKeyPair())));
        expect(results.filter((r) => r.status === 201)).toHaveLength(1);
        for (const loser of results.filter((r) => r.status !== 201)) expectProblem(loser, 409, "ticket_already_consumed");
      });

      it("refuses owner-only scopes in a ticket and in an agent's API key", async () => {
        const target = await createAgent(owner);
        expectProblem(await owner.post("/v1/registration-tickets", { agent_id: target.id, scopes: ["agents:execute", "agents:config"] }), 422, "owner_only_scope");
        expectProblem(await owner.post("/v1/api-keys", { name: "k", agent_id: target.id, scopes: ["tenant:admin"] }), 422, "owner_only_scope");
      });

      it("refuses a key already registered, a private JWK, and a key on another curve", async () => {
        const target = await createAgent(owner);
        expectProblem(await register(url, await mintTicket(owner, target.id), agent.key), 409, "public_key_already_in_use");
        const key = newKeyPair();
        const ticket = await mintTicket(owner, target.id);
        const privateJwk = key.privateKey.export({ format: "jwk" });
        expectProblem(await client(url).post("/v1/registrations", { ticket, public_key_jwk: privateJwk }), 400, "invalid_public_key");
        expectProblem(await client(url).post("/v1/registrations", { ticket, public_key_jwk: { ...key.publicJwk, crv: "P-384" } }), 400, "invalid_public_key");
        // The refused attempts did not use the ticket up.
        expect((await register(url, ticket, key)).status).toBe(201);
      });
    });

    describe("revocation", () => {
      it("stops a revoked binding's token on the next request, and its client authentication", async () => {
        const victim = await onboard(url, owner);
        const victimToken = (await getToken(url, victim)).body.access_token;
        expect((await dpopCall(url, "GET", "/v1/balance", victimToken, victim.key)).status).toBe(200);
        const revoked = await owner.call("DELETE", `/v1/credential-bindings/${victim.clientId}`);
        expect(revoked.status).toBe(200);
        expect(revoked.body.status).toBe("revoked");
        expectProblem(await dpopCall(url, "GET", "/v1/balance", victimToken, victim.key), 401, "invalid_token");
        expectProblem(await getToken(url, victim), 401, "invalid_client");
        const events = await owner.get("/v1/events?type=credential_binding.registered,credential_binding.revoked&limit=100");
        expect(events.body.data.filter((e: { data: { credential_binding: { id: string } } }) => e.data.credential_binding.id === victim.clientId).map((e: { type: string }) => e.type)).toEqual([
          "credential_binding.revoked",
          "credential_binding.registered",
        ]);
      });
    });

    describe("tenant isolation", () => {
      it("never lets tenant A's credentials read tenant B's resources by id", async () => {
        const theirs = await onboard(url, otherOwner);
        const theirKey = (await otherOwner.post("/v1/api-keys", { name: "theirs", scopes: ["transactions:read"] })).body.id;
        const theirAccount = (await otherOwner.post("/v1/accounts", { currency: "GBP" })).body.id;
        await otherOwner.post(`/v1/accounts/${theirAccount}/deposits`, { amount: 100 });
        const theirTransfer = (await otherOwner.get(`/v1/transfers?account_id=${theirAccount}`)).body.data[0].id;

        // The agent of A: another agent is "not found", whichever tenant it is in.
        expectProblem(await dpopCall(url, "GET", `/v1/agents/${theirs.agentId}`, token, agent.key), 404, "not_found");
        expectProblem(await dpopCall(url, "GET", `/v1/balance?agent_id=${theirs.agentId}`, token, agent.key), 404, "not_found");
        const sibling = await createAgent(owner);
        expectProblem(await dpopCall(url, "GET", `/v1/agents/${sibling.id}`, token, agent.key), 404, "not_found");
        expectProblem(await dpopCall(url, "GET", `/v1/accounts/${theirAccount}`, token, agent.key), 403, "insufficient_scope");
        const listed = await dpopCall(url, "GET", "/v1/agents", token, agent.key);
        expect(listed.body.data.map((a: { id: string }) => a.id)).toEqual([agent.agentId]);

        // An owner-level service key of A: B's ids are "not found" everywhere.
        const serviceKey = (await owner.post("/v1/api-keys", { name: "service", scopes: ["tenant:admin", "agents:config", "agents:execute"] })).body.key;
        const service = client(url, serviceKey);
        expectProblem(await service.get(`/v1/agents/${theirs.agentId}`), 404, "not_found");
        expectProblem(await service.get(`/v1/balance?agent_id=${theirs.agentId}`), 404, "not_found");
        expectProblem(await service.get(`/v1/accounts/${theirAccount}`), 404, "not_found");
        expectProblem(await service.get(`/v1/transfers/${theirTransfer}`), 404, "not_found");
        expectProblem(await service.get(`/v1/api-keys/${theirKey}/usage`), 404, "not_found");
        expectProblem(await service.call("DELETE", `/v1/credential-bindings/${theirs.clientId}`), 404, "not_found");
        expectProblem(await service.call("DELETE", `/v1/agents/${theirs.agentId}`), 404, "not_found");
        expectProblem(await service.post(`/v1/api-keys/${theirKey}/rotate`, {}), 404, "not_found");
        expect((await service.get("/v1/credential-bindings?limit=100")).body.data.map((b: { id: string }) => b.id)).not.toContain(theirs.clientId);
        // B's binding still works.
        const theirToken = (await getToken(url, theirs)).body.access_token;
        expect((await dpopCall(url, "GET", "/v1/balance", theirToken, theirs.key)).status).toBe(200);
      });
    });

    describe("API keys", () => {
      it("rate-limits a key with RateLimit headers, 429 and Retry-After, and counts usage", async () => {
        const created = await owner.post("/v1/api-keys", { name: "limited", agent_id: agent.agentId, scopes: ["agents:execute"], rate_limit_per_minute: 3 });
        expect(created.status).toBe(201);
        const limited = client(url, created.body.key);
        await awayFromMinuteBoundary();
        for (let i = 0; i < 3; i++) {
          const ok = await limited.get("/v1/balance");
          expect(ok.status).toBe(200);
          expect(ok.headers.get("ratelimit-policy")).toBe('"credential";q=3;w=60');
          expect(ok.headers.get("ratelimit")).toMatch(new RegExp(`^"credential";r=${2 - i};t=\\d+$`));
        }
        const refused = await limited.get("/v1/balance");
        expectProblem(refused, 429, "rate_limited");
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
        const usage = await owner.get(`/v1/api-keys/${created.body.id}/usage`);
        expect(usage.body).toMatchObject({ accepted: 3, denied: { rate_limited: 1 }, denied_total: 1 });
        expect(usage.body.last_used_at).not.toBeNull();
      });

      it("stops a key rotated without grace at once, and a revoked key", async () => {
        const created = (await owner.post("/v1/api-keys", { name: "rotating", scopes: ["agents:config"] })).body;
        const rotated = await owner.post(`/v1/api-keys/${created.id}/rotate`, {});
        expect(rotated.status).toBe(201);
        expectProblem(await client(url, created.key).get("/v1/agents"), 401, "invalid_token");
        expect((await client(url, rotated.body.key).get("/v1/agents")).status).toBe(200);
        expect((await owner.call("DELETE", `/v1/api-keys/${rotated.body.id}`)).status).toBe(200);
        expectProblem(await client(url, rotated.body.key).get("/v1/agents"), 401, "invalid_token");
      });
    });
  });
}

for (const kind of storeKinds) {
  describe(`identity expiry on ${kind}`, () => {
    // Moved by hand; these checks involve no DPoP proof, whose iat would follow real time.
    const clock = new TestClock(Date.now());
    let server: RunningServer;
    let owner: Api;

    beforeAll(async () => {
      server = await startTestServer(kind, { clock });
      owner = client(server.url, (await createTestTenant(server.store)).token);
    });
    afterAll(() => server.close());

    it("refuses an expired ticket", async () => {
      const target = await createAgent(owner);
      const ticket = await mintTicket(owner, target.id, ["agents:execute"], { expires_in: 60 });
      clock.advance(61_000);
      expectProblem(await register(server.url, ticket, newKeyPair()), 401, "ticket_expired");
    });

    it("keeps a rotated key working through its grace period, and refuses it after", async () => {
      const created = (await owner.post("/v1/api-keys", { name: "graceful", scopes: ["agents:config"] })).body;
      const rotated = (await owner.post(`/v1/api-keys/${created.id}/rotate`, { grace_period_seconds: 300 })).body;
      expect((await client(server.url, created.key).get("/v1/agents")).status).toBe(200);
      expect((await owner.get(`/v1/api-keys?limit=100`)).body.data.find((k: { id: string }) => k.id === created.id).status).toBe("expiring");
      clock.advance(301_000);
      const late = await client(server.url, created.key).get("/v1/agents");
      expectProblem(late, 401, "invalid_token");
      expect((await client(server.url, rotated.key).get("/v1/agents")).status).toBe(200);
      const usage = await owner.get(`/v1/api-keys/${created.id}/usage`);
      expect(usage.body).toMatchObject({ accepted: 1, denied: { expired: 1 } });
    });
  });
}
