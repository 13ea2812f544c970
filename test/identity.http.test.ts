/**
 * Identity end to end: agents and their wallets, tickets and registration, bindings, API keys,
 * the principal endpoint, discovery, journal events, and shown-once secrets under idempotency.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createAgent, dpopCall, getToken, mintTicket, newKeyPair, onboard, register, type Api } from "./agents-support.js";
import { client, createTestTenant, startTestServer, storeKinds, type TestTenant } from "./support.js";

for (const kind of storeKinds) {
  describe(`identity over HTTP on ${kind}`, () => {
    let server: RunningServer;
    let tenant: TestTenant;
    let owner: Api;

    beforeAll(async () => {
      server = await startTestServer(kind);
      tenant = await createTestTenant(server.store);
      owner = client(server.url, tenant.token);
    });
    afterAll(() => server.close());

    it("creates, lists, renames and disables agents, each with a wallet in its currency", async () => {
      const created = await owner.post("/v1/agents", { name: "Travel bot", currency: "EUR", metadata: { team: "ops" } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ object: "agent", name: "Travel bot", status: "active", metadata: { team: "ops" } });
      expect(created.body.id).toMatch(/^agt_/);
      const wallet = await owner.get(`/v1/accounts/${created.body.wallet_account_id}`);
      expect(wallet.body).toMatchObject({ kind: "wallet", currency: "EUR", balance: 0 });
      expect((await owner.post("/v1/agents", { name: "Default" })).body.wallet_account_id).toBeTruthy();

      const renamed = await owner.call("PATCH", `/v1/agents/${created.body.id}`, { name: "Trip bot", description: "books trains" });
      expect(renamed.body).toMatchObject({ name: "Trip bot", description: "books trains" });
      const listed = await owner.get("/v1/agents?limit=1");
      expect(listed.body).toMatchObject({ has_more: true });
      expect(listed.body.data).toHaveLength(1);

      const disabled = await owner.call("DELETE", `/v1/agents/${created.body.id}`);
      expect(disabled.body.status).toBe("disabled");
      const ticket = await owner.post("/v1/registration-tickets", { agent_id: created.body.id, scopes: ["agents:execute"] });
      expect({ status: ticket.status, code: ticket.body.code }).toEqual({ status: 409, code: "agent_disabled" });
    });

    it("disabling an agent revokes its bindings and keys at once", async () => {
      const agent = await onboard(server.url, owner);
      const token = (await getToken(server.url, agent)).body.access_token;
      const key = (await owner.post("/v1/api-keys", { name: "agent key", agent_id: agent.agentId, scopes: ["agents:execute"] })).body.key;
      expect((await client(server.url, key).get("/v1/balance")).status).toBe(200);
      expect((await owner.call("DELETE", `/v1/agents/${agent.agentId}`)).status).toBe(200);
      expect((await dpopCall(server.url, "GET", "/v1/balance", token, agent.key)).body.code).toBe("invalid_token");
      expect((await client(server.url, key).get("/v1/balance")).body.code).toBe("invalid_token");
    });

    it("mints a ticket once, registers a key, and journals both", async () => {
      const agent = await createAgent(owner);
      const minted = await owner.post("/v1/registration-tickets", { agent_id: agent.id, scopes: ["agents:execute", "events:read"] }, { "idempotency-key": "ticket-1" });
      expect(minted.status).toBe(201);
      expect(minted.body.ticket).toMatch(/^bursar-reg_/);
      expect(Date.parse(minted.body.expires_at) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
      // The replay of the same request never shows the ticket again.
      const replayed = await owner.post("/v1/registration-tickets", { agent_id: agent.id, scopes: ["agents:execute", "events:read"] }, { "idempotency-key": "ticket-1" });
      expect(replayed.headers.get("idempotent-replayed")).toBe("true");
      expect(replayed.body.ticket).toBeNull();

      const key = newKeyPair("EdDSA");
      const registered = await register(server.url, minted.body.ticket, key, { requested_scopes: ["agents:execute"], client_metadata: { host: "build-01" } });
      expect(registered.status).toBe(201);
      expect(registered.body).toMatchObject({ agent_id: agent.id, tenant_id: tenant.tenantId, scopes: ["agents:execute"], algorithm: "EdDSA", token_endpoint: `${server.url}/oauth/token` });
      expect(registered.body.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const bindings = await owner.get(`/v1/credential-bindings?agent_id=${agent.id}`);
      expect(bindings.body.data).toEqual([
        expect.objectContaining({ id: registered.body.client_id, fingerprint: registered.body.fingerprint, status: "active", client_metadata: { host: "build-01" }, public_key_jwk: { kty: "OKP", crv: "Ed25519", x: key.publicJwk.x } }),
      ]);
      const events = await owner.get(`/v1/events?agent_id=${agent.id}`);
      expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(["credential_binding.registered", "registration_ticket.created", "agent.created"]);
      expect(JSON.stringify(events.body)).not.toContain(minted.body.ticket);
    });

    it("answers the principal for owners, agents and API keys", async () => {
      const me = await owner.get("/v1/auth/principal");
      expect(me.body).toMatchObject({ tenant_id: tenant.tenantId, principal_type: "user", principal_id: tenant.ownerId });
      expect(me.body.agent_id).toBeUndefined();
      expect(me.headers.get("ratelimit-policy")).toMatch(/^"credential";q=\d+;w=60$/);

      const agent = await onboard(server.url, owner, { scopes: ["agents:execute"] });
      const key = await owner.post("/v1/api-keys", { name: "bot key", agent_id: agent.agentId, scopes: ["agents:execute"] });
      expect(key.status).toBe(201);
      expect(key.body).toMatchObject({ object: "api_key", agent_id: agent.agentId, status: "active", rate_limit_per_minute: 600 });
      expect(key.body.key).toMatch(/^bsk_/);
      expect(key.body.id).toMatch(/^key_/);
      const asKey = await client(server.url, key.body.key).get("/v1/auth/principal");
      expect(asKey.body).toEqual({ tenant_id: tenant.tenantId, principal_type: "api_key", principal_id: key.body.id, agent_id: agent.agentId, credential_id: key.body.id, scopes: ["agents:execute"] });
      // An agent's key sees only its agent, like the agent's own tokens.
      expect((await client(server.url, key.body.key).get("/v1/balance")).body.agent_id).toBe(agent.agentId);
      const forbidden = await client(server.url, key.body.key).get("/v1/credential-bindings");
      expect({ status: forbidden.status, code: forbidden.body.code }).toEqual({ status: 403, code: "insufficient_scope" });
      // A key never holds a scope its creator lacks.
      const pat = (await owner.post("/v1/personal-access-tokens", { name: "narrow", scopes: ["tenant:admin"] })).body.token;
      const wider = await client(server.url, pat).post("/v1/api-keys", { name: "wider", scopes: ["agents:config"] });
      expect({ status: wider.status, code: wider.body.code }).toEqual({ status: 403, code: "insufficient_scope" });
    });

    it("lets owners read any agent's balance with ?agent_id=, and requires it", async () => {
      const agent = await createAgent(owner);
      await owner.post(`/v1/accounts/${agent.wallet_account_id}/deposits`, { amount: 1234 });
      expect((await owner.get(`/v1/balance?agent_id=${agent.id}`)).body).toMatchObject({ agent_id: agent.id, balance: 1234, balance_display: "12.34", available: 1234 });
      expect((await owner.get("/v1/balance")).status).toBe(400);
    });

    it("publishes RFC 8414 metadata and the token-signing JWKS", async () => {
      const metadata = (await client(server.url).get("/.well-known/oauth-authorization-server")).body;
      expect(metadata).toMatchObject({
        issuer: server.url,
        token_endpoint: `${server.url}/oauth/token`,
        revocation_endpoint: `${server.url}/oauth/revoke`,
        jwks_uri: `${server.url}/.well-known/jwks.json`,
        grant_types_supported: ["client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
      });
      const jwks = (await client(server.url).get("/.well-known/jwks.json")).body;
      expect(jwks.keys).toEqual([expect.objectContaining({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" })]);
      const agent = await onboard(server.url, owner);
      const token: string = (await getToken(server.url, agent)).body.access_token;
      const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString());
      expect(header).toEqual({ alg: "EdDSA", typ: "at+jwt", kid: jwks.keys[0].kid });
      const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
      expect(claims).toMatchObject({ iss: server.url, sub: agent.agentId, client_id: agent.clientId, tenant_id: tenant.tenantId, cnf: { jkt: expect.any(String) } });
      expect(claims.exp - claims.iat).toBe(600);
    });

    it("revokes a refresh token family through /oauth/revoke (RFC 7009)", async () => {
      const agent = await onboard(server.url, owner);
      const granted = (await getToken(server.url, agent)).body;
      const { clientAssertion, postForm } = await import("./agents-support.js");
      const auth = () => ({ client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: clientAssertion(agent.key, agent.clientId, server.url) });
      expect((await postForm(`${server.url}/oauth/revoke`, { token: granted.refresh_token, ...auth() })).status).toBe(200);
      const refreshed = await postForm(`${server.url}/oauth/token`, { grant_type: "refresh_token", refresh_token: granted.refresh_token, ...auth() });
      expect({ status: refreshed.status, error: refreshed.body.error }).toEqual({ status: 400, error: "invalid_grant" });
      const access = await postForm(`${server.url}/oauth/revoke`, { token: granted.access_token, ...auth() });
      expect({ status: access.status, error: access.body.error }).toEqual({ status: 400, error: "unsupported_token_type" });
      expect((await postForm(`${server.url}/oauth/revoke`, { token: "unknown", ...auth() })).status).toBe(200);
    });

    it("keeps forms off every other route", async () => {
      const response = await fetch(`${server.url}/v1/agents`, { method: "POST", headers: { authorization: `Bearer ${tenant.token}`, "content-type": "application/x-www-form-urlencoded" }, body: "name=x" });
      expect(response.status).toBe(415);
      const repeated = await fetch(`${server.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=a&grant_type=b" });
      expect(repeated.status).toBe(400);
      expect(await mintTicket(owner, (await createAgent(owner)).id)).toMatch(/^bursar-reg_/);
    });
  });
}

describe("DPoP-Nonce (RFC 9449 §8), when the server requires it", () => {
  let server: RunningServer;
  afterAll(() => server.close());

  it("answers use_dpop_nonce with a DPoP-Nonce, then accepts proofs that carry it", async () => {
    server = await startTestServer("sqlite", { config: { dpopNonceRequired: true } });
    const owner = client(server.url, (await createTestTenant(server.store)).token);
    const agent = await onboard(server.url, owner);
    const { dpopProof } = await import("./agents-support.js");
    const tokenUrl = `${server.url}/oauth/token`;
    const first = await getToken(server.url, agent, {}, { dpop: dpopProof(agent.key, { htm: "POST", htu: tokenUrl }) });
    expect({ status: first.status, error: first.body.error }).toEqual({ status: 400, error: "use_dpop_nonce" });
    const nonce = first.headers.get("dpop-nonce")!;
    expect(nonce).toBeTruthy();
    const granted = await getToken(server.url, agent, {}, { dpop: dpopProof(agent.key, { htm: "POST", htu: tokenUrl, nonce }) });
    expect(granted.status).toBe(200);
    const token = granted.body.access_token;
    const htu = `${server.url}/v1/balance`;
    const without = await dpopCall(server.url, "GET", "/v1/balance", token, agent.key);
    expect({ status: without.status, code: without.body.code }).toEqual({ status: 401, code: "use_dpop_nonce" });
    expect(without.headers.get("www-authenticate")).toContain('error="use_dpop_nonce"');
    const withNonce = await dpopCall(server.url, "GET", "/v1/balance", token, agent.key, dpopProof(agent.key, { htm: "GET", htu, accessToken: token, nonce: without.headers.get("dpop-nonce") }));
    expect(withNonce.status).toBe(200);
  });
});

describe("a configured Redis that is down", () => {
  it("refuses authenticated requests with 503 not_ready rather than skip the checks", async () => {
    const server = await startTestServer("sqlite", { config: { redisUrl: "redis://127.0.0.1:1" } });
    try {
      const owner = client(server.url, (await createTestTenant(server.store)).token);
      const response = await owner.get("/v1/auth/principal");
      expect({ status: response.status, code: response.body.code }).toEqual({ status: 503, code: "not_ready" });
      expect(response.headers.get("retry-after")).toBe("1");
    } finally {
      await server.close();
    }
  });
});
