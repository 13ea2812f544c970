/**
 * The must-show: an independent OAuth client, oauth4webapi, against a real server over real HTTP.
 * It discovers the metadata (RFC 8414), authenticates with private_key_jwt (RFC 7523), receives
 * a DPoP-bound token (RFC 9449), refreshes it, and calls protected routes with its own proofs.
 * Neither our SDK nor our test signer is involved.
 */
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

// Loopback HTTP only: oauth4webapi refuses http:// unless told otherwise, and this is the
// explicit, visible opt-in (STYLE habit 7).
const insecure = { [oauth.allowInsecureRequests]: true } as const;

for (const kind of storeKinds) {
  for (const alg of ["ES256", "EdDSA"] as const) {
    describe(`oauth4webapi end to end on ${kind} with ${alg}`, () => {
      let server: RunningServer;
      let owner: ReturnType<typeof client>;

      beforeAll(async () => {
        server = await startTestServer(kind);
        owner = client(server.url, (await createTestTenant(server.store)).token);
      });
      afterAll(() => server.close());

      it("discovers, authenticates with private_key_jwt, gets a DPoP-bound token, refreshes it and calls protected routes", async () => {
        // The owner creates an agent, funds its wallet and mints a ticket.
        const agent = (await owner.post("/v1/agents", { name: "Invoice bot", currency: "GBP" })).body;
        expect((await owner.post(`/v1/accounts/${agent.wallet_account_id}/deposits`, { amount: 50_000 })).status).toBe(201);
        const ticket = (await owner.post("/v1/registration-tickets", { agent_id: agent.id, scopes: ["agents:execute", "transactions:read"] })).body.ticket;

        // The agent host: a key pair made locally (the private key is not extractable).
        const keyPair = await oauth.generateKeyPair(alg);
        const publicJwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
        const registered = await client(server.url).post("/v1/registrations", { ticket, public_key_jwk: publicJwk });
        expect(registered.status).toBe(201);
        expect(registered.body).toMatchObject({ agent_id: agent.id, scopes: ["agents:execute", "transactions:read"] });
        expect(registered.body.client_id).toMatch(/^cb_/);

        const issuer = new URL(server.url);
        const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
        expect(as.token_endpoint_auth_methods_supported).toEqual(["private_key_jwt"]);
        expect(as.dpop_signing_alg_values_supported).toContain(alg);

        const oauthClient: oauth.Client = { client_id: registered.body.client_id };
        const clientAuth = oauth.PrivateKeyJwt(keyPair.privateKey);
        const DPoP = oauth.DPoP(oauthClient, keyPair);

        const granted = await oauth.processClientCredentialsResponse(
          as,
          oauthClient,
          await oauth.clientCredentialsGrantRequest(as, oauthClient, clientAuth, new URLSearchParams({ scope: "agents:execute transactions:read" }), { DPoP, ...insecure }),
        );
        expect(granted.token_type).toBe("dpop");
        expect(granted.scope).toBe("agents:execute transactions:read");
        expect(granted.refresh_token).toMatch(/^brt_/);

        const refreshed = await oauth.processRefreshTokenResponse(
          as,
          oauthClient,
          await oauth.refreshTokenGrantRequest(as, oauthClient, clientAuth, granted.refresh_token!, { DPoP, ...insecure }),
        );
        expect(refreshed.token_type).toBe("dpop");
        expect(refreshed.access_token).not.toBe(granted.access_token);
        expect(refreshed.refresh_token).not.toBe(granted.refresh_token);

        const balance = await oauth.protectedResourceRequest(refreshed.access_token, "GET", new URL(`${server.url}/v1/balance`), undefined, undefined, { DPoP, ...insecure });
        expect(balance.status).toBe(200);
        expect(await balance.json()).toMatchObject({ agent_id: agent.id, currency: "GBP", balance: 50_000, balance_display: "500.00" });

        const principal = await oauth.protectedResourceRequest(refreshed.access_token, "GET", new URL(`${server.url}/v1/auth/principal`), undefined, undefined, { DPoP, ...insecure });
        expect(principal.status).toBe(200);
        expect(await principal.json()).toEqual({
          tenant_id: registered.body.tenant_id,
          principal_type: "agent",
          principal_id: agent.id,
          agent_id: agent.id,
          credential_id: registered.body.client_id,
          scopes: ["agents:execute", "transactions:read"],
        });

        // The first refresh token was rotated away: using it again is refused.
        const reused = await oauth.refreshTokenGrantRequest(as, oauthClient, clientAuth, granted.refresh_token!, { DPoP, ...insecure });
        await expect(oauth.processRefreshTokenResponse(as, oauthClient, reused)).rejects.toMatchObject({ error: "invalid_grant" });
      });
    });
  }
}
