/**
 * The SDK against a real server: registration into a credential store, zero-config agent
 * clients, DPoP token minting, refresh and single flight, the forced refresh on 401, DPoP-Nonce,
 * API keys and personal access tokens.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthenticationError, Bursar, ConfigError, RegistrationError, generateAgentKey, register } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { createTestTenant, startTestServer, tempDir } from "./support.js";
import { grantType, jsonResponse, onboardWithSdk, tokenRequests, watchingFetch } from "./sdk-support.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer("sqlite");
});
afterAll(async () => {
  await server.close();
});

describe("register() and the credential store", () => {
  it("registers with a ticket from the environment, writes the store privately, and a zero-config client works", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    const agent = await owner.agents.create({ name: "Zero config" });
    await owner.accounts.deposit(agent.wallet_account_id, { amount: 50_000 });
    const { ticket } = await owner.registrationTickets.create({ agent_id: agent.id, scopes: ["agents:execute", "transactions:read"] });
    const configDir = path.join(tempDir("sdk-home"), "nested", ".bursar");

    const saved = { ...process.env };
    process.env.BURSAR_REGISTRATION_TICKET = ticket!;
    process.env.BURSAR_API_URL = server.url;
    process.env.BURSAR_CONFIG_DIR = configDir;
    try {
      const registered = await register();
      expect(registered).toMatchObject({ agentId: agent.id, tenantId: tenant.tenantId, clientId: expect.stringMatching(/^cb_/), algorithm: "ES256" });

      // The layout documented in credential-store.ts, private to the user.
      expect(fs.statSync(configDir).mode & 0o777).toBe(0o700);
      const credentials = JSON.parse(fs.readFileSync(path.join(configDir, "credentials.json"), "utf8"));
      expect(credentials).toMatchObject({ version: 1, client_id: registered.clientId, base_url: server.url, algorithm: "ES256", agent_id: agent.id, key_path: `${registered.clientId}.key.pem` });
      expect(credentials.scopes).toEqual(["agents:execute", "transactions:read"]);
      expect(fs.statSync(path.join(configDir, "credentials.json")).mode & 0o777).toBe(0o600);
      const keyFile = path.join(configDir, credentials.key_path);
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(keyFile, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
      // No temporary files left behind by the atomic writes.
      expect(fs.readdirSync(configDir).sort()).toEqual(["credentials.json", keyFile.split("/").pop()].sort());

      delete process.env.BURSAR_API_URL;
      const bursar = new Bursar();
      const balance = await bursar.balance.get();
      expect(balance).toMatchObject({ object: "balance", agent_id: agent.id, balance: 50_000, currency: "GBP", balance_display: "500.00" });
      expect(await bursar.authMode()).toBe("agent");
      await bursar.close();

      // The ticket is single use.
      await expect(register({ baseUrl: server.url, configDir: tempDir("sdk-again") })).rejects.toMatchObject({ name: "RegistrationError", code: "ticket_already_consumed" });
    } finally {
      process.env = saved;
    }
  });

  it("registers an Ed25519 key, and explicit { clientId, privateKeyPath } works like the store", async () => {
    const agent = await onboardWithSdk(server, { algorithm: "EdDSA", fundMinor: 700 });
    const credentials = JSON.parse(fs.readFileSync(path.join(agent.configDir, "credentials.json"), "utf8"));
    expect(credentials.algorithm).toBe("EdDSA");
    const explicit = new Bursar({ clientId: agent.clientId, privateKeyPath: path.join(agent.configDir, credentials.key_path), baseUrl: server.url });
    expect((await explicit.balance.get()).balance).toBe(700);
  });

  it("writes the key where keyPath says, and finds it again from credentials.json", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    const agent = await owner.agents.create({ name: "Key elsewhere" });
    const { ticket } = await owner.registrationTickets.create({ agent_id: agent.id, scopes: ["agents:execute"] });
    const configDir = tempDir("sdk-conf");
    const keyPath = path.join(tempDir("sdk-keys"), "agent.pem");
    await register({ ticket: ticket!, baseUrl: server.url, configDir, keyPath });
    expect(fs.statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(path.join(configDir, "credentials.json"), "utf8")).key_path).toBe(keyPath);
    expect((await new Bursar({ configDir }).balance.get()).agent_id).toBe(agent.id);
  });

  it("accepts a non-extractable CryptoKey with its public key, and refuses a key the server does not know", async () => {
    const agent = await onboardWithSdk(server);
    const pem = fs.readFileSync(path.join(agent.configDir, `${agent.clientId}.key.pem`), "utf8");
    const { importPrivateKeyPem } = await import("@bursar/sdk");
    const key = await importPrivateKeyPem(pem);
    expect(key.privateKey.extractable).toBe(false);
    const viaKey = new Bursar({ clientId: agent.clientId, privateKey: key, baseUrl: server.url });
    expect((await viaKey.principal.get()).agent_id).toBe(agent.agentId);

    const stranger = await generateAgentKey("ES256");
    const wrong = new Bursar({ clientId: agent.clientId, privateKey: stranger, baseUrl: server.url });
    await expect(wrong.principal.get()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("explains what is missing", async () => {
    await expect(register({ ticket: undefined, baseUrl: server.url, configDir: tempDir("none") })).rejects.toBeInstanceOf(RegistrationError);
    const empty = new Bursar({ configDir: tempDir("empty"), baseUrl: server.url });
    await expect(empty.balance.get()).rejects.toBeInstanceOf(ConfigError);
    await expect(register({ ticket: "bursar-reg-nope", baseUrl: server.url, configDir: tempDir("bad") })).rejects.toMatchObject({ code: "invalid_ticket" });
  });
});

describe("DPoP tokens", () => {
  it("signs a proof per request, and many concurrent calls share one token request", async () => {
    const agent = await onboardWithSdk(server);
    const watch = watchingFetch();
    const bursar = new Bursar({ configDir: agent.configDir, fetch: watch });
    const answers = await Promise.all(Array.from({ length: 25 }, () => bursar.principal.get()));
    expect(answers.every((a) => a.agent_id === agent.agentId && a.principal_type === "agent")).toBe(true);
    expect(tokenRequests(watch.seen).map(grantType)).toEqual(["client_credentials"]);
    const resource = watch.seen.filter((s) => s.url.endsWith("/v1/auth/principal"));
    expect(resource).toHaveLength(25);
    expect(new Set(resource.map((s) => s.headers.dpop)).size).toBe(25);
    expect(resource.every((s) => s.headers.authorization?.startsWith("DPoP "))).toBe(true);
    // The token request carried a proof too, and a client assertion.
    expect(tokenRequests(watch.seen)[0]!.headers.dpop).toBeTruthy();
    expect(new URLSearchParams(tokenRequests(watch.seen)[0]!.body!).get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  });

  it("refreshes ahead of expiry with the rotating refresh token, once for many concurrent calls", async () => {
    const agent = await onboardWithSdk(server);
    // The server's tokens last 10 minutes; pretending they expire at once makes every call renew.
    const watch = watchingFetch(async (request, response) => {
      if (!request.url.endsWith("/oauth/token") || response.status !== 200) return response;
      return jsonResponse(response, { ...((await response.json()) as any), expires_in: 0 });
    });
    const bursar = new Bursar({ configDir: agent.configDir, fetch: watch });
    await bursar.principal.get();
    await bursar.principal.get();
    await bursar.principal.get();
    const grants = tokenRequests(watch.seen);
    expect(grants.map(grantType)).toEqual(["client_credentials", "refresh_token", "refresh_token"]);
    const used = grants.slice(1).map((g) => new URLSearchParams(g.body!).get("refresh_token"));
    expect(new Set(used).size).toBe(2);
    expect(grants.every((g) => g.status === 200)).toBe(true);

    await Promise.all(Array.from({ length: 10 }, () => bursar.principal.get()));
    expect(tokenRequests(watch.seen)).toHaveLength(4);
  });

  it("forces one refresh and retries when the server refuses the token (401 invalid_token)", async () => {
    const agent = await onboardWithSdk(server);
    let corrupt = true;
    const watch = watchingFetch(async (request, response) => {
      if (!request.url.endsWith("/oauth/token") || response.status !== 200 || !corrupt) return response;
      corrupt = false;
      const body: any = await response.json();
      // A token the server will not accept (as after a restart on another signing key).
      return jsonResponse(response, { ...body, access_token: body.access_token.slice(0, -4) + "AAAA" });
    });
    const bursar = new Bursar({ configDir: agent.configDir, fetch: watch });
    const results = await Promise.all(Array.from({ length: 5 }, () => bursar.principal.get()));
    expect(results.every((r) => r.agent_id === agent.agentId)).toBe(true);
    // One bad token, then exactly one renewal shared by all five refused calls.
    expect(tokenRequests(watch.seen).map(grantType)).toEqual(["client_credentials", "refresh_token"]);
    const resource = watch.seen.filter((s) => s.url.endsWith("/v1/auth/principal"));
    expect(resource.map((s) => s.status).sort()).toEqual([200, 200, 200, 200, 200, 401, 401, 401, 401, 401]);
  });

  it("fails fast once the binding is revoked: one renewal attempt, then AuthenticationError", async () => {
    const agent = await onboardWithSdk(server);
    const watch = watchingFetch();
    const bursar = new Bursar({ configDir: agent.configDir, fetch: watch });
    await bursar.principal.get();
    const binding = (await agent.owner.credentialBindings.list({ agent_id: agent.agentId })).data[0]!;
    await agent.owner.credentialBindings.revoke(binding.id);
    const error = await bursar.principal.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe("invalid_client");
    expect(watch.seen.filter((s) => s.url.endsWith("/v1/auth/principal")).map((s) => s.status)).toEqual([200, 401]);
    expect(tokenRequests(watch.seen).map((s) => s.status)).toEqual([200, 401]);
  });
});

describe("DPoP-Nonce (server requires nonces)", () => {
  let nonceServer: RunningServer;
  beforeAll(async () => {
    nonceServer = await startTestServer("sqlite", { config: { dpopNonceRequired: true } });
  });
  afterAll(async () => {
    await nonceServer.close();
  });

  it("retries the token request with the nonce the server sent (use_dpop_nonce)", async () => {
    const agent = await onboardWithSdk(nonceServer);
    const watch = watchingFetch();
    const bursar = new Bursar({ configDir: agent.configDir, fetch: watch });
    expect((await bursar.principal.get()).agent_id).toBe(agent.agentId);
    expect(tokenRequests(watch.seen).map((s) => s.status)).toEqual([400, 200]);
    expect(watch.seen.filter((s) => s.url.endsWith("/v1/auth/principal")).map((s) => s.status)).toEqual([200]);
  });

  it("retries a resource request that the server answered 401 use_dpop_nonce", async () => {
    const agent = await onboardWithSdk(nonceServer);
    // A proxy that strips the token request's proof (it is optional there) and the nonce of the
    // answer: the client reaches the resource server knowing no nonce.
    const watch = watchingFetch((_request, response) => {
      if (!_request.url.endsWith("/oauth/token")) return response;
      const headers = new Headers(response.headers);
      headers.delete("dpop-nonce");
      return new Response(response.body, { status: response.status, headers });
    });
    const stripping = (async (input: string, init: RequestInit) => {
      if (input.endsWith("/oauth/token")) {
        const headers = new Headers(init.headers);
        headers.delete("dpop");
        return watch(input, { ...init, headers });
      }
      return watch(input, init);
    }) as typeof watch;
    const bursar = new Bursar({ configDir: agent.configDir, fetch: stripping });
    expect((await bursar.balance.get()).agent_id).toBe(agent.agentId);
    const resource = watch.seen.filter((s) => s.url.includes("/v1/balance"));
    expect(resource.map((s) => s.status)).toEqual([401, 200]);
    // The next call carries the nonce at once.
    await bursar.balance.get();
    expect(watch.seen.filter((s) => s.url.includes("/v1/balance")).map((s) => s.status)).toEqual([401, 200, 200]);
  });
});

describe("bearer modes", () => {
  it("API keys and personal access tokens; a dead key is a 401 without retries", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    expect(await owner.authMode()).toBe("bearer");
    const agent = await owner.agents.create({ name: "Keyed" });
    await owner.accounts.deposit(agent.wallet_account_id, { amount: 1234 });
    const created = await owner.apiKeys.create({ name: "worker", agent_id: agent.id, scopes: ["agents:execute"] });
    expect(created.key).toMatch(/^bsk_/);

    const watch = watchingFetch();
    const keyed = new Bursar({ apiKey: created.key!, baseUrl: server.url, fetch: watch });
    expect(await keyed.balance.get()).toMatchObject({ agent_id: agent.id, balance: 1234 });
    expect(watch.seen[0]!.headers.authorization).toBe(`Bearer ${created.key}`);

    const saved = { ...process.env };
    process.env.BURSAR_API_KEY = created.key!;
    process.env.BURSAR_API_URL = server.url;
    try {
      expect((await new Bursar().balance.get()).balance).toBe(1234);
    } finally {
      process.env = saved;
    }

    await owner.apiKeys.revoke(created.id);
    await expect(keyed.balance.get()).rejects.toBeInstanceOf(AuthenticationError);
    expect(watch.seen).toHaveLength(2);

    const keys = [];
    for await (const key of await owner.apiKeys.list({ limit: 1 })) keys.push(key.id);
    expect(keys).toEqual([created.id]);
  });
});
