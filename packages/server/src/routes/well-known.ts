/** Discovery: RFC 8414 authorization-server metadata and the JWKS of the token-signing key. */
import { agentScopes, acceptedJwsAlgorithmNames } from "@bursar/core";
import { baseUrlOf } from "../identity/urls.js";
import type { RouteModule } from "./context.js";

export const wellKnownRoutes: RouteModule = (app) => {
  app.get(
    "/.well-known/oauth-authorization-server",
    { schema: { tags: ["oauth"], summary: "Authorization server metadata (RFC 8414)", description: "RFC 8414 metadata: the token and revocation endpoints, supported grants, client authentication and DPoP algorithms."}, config: { public: true } },
    async (request) => {
      const issuer = baseUrlOf(request);
      const algorithms = [...acceptedJwsAlgorithmNames];
      return {
        issuer,
        token_endpoint: `${issuer}/oauth/token`,
        revocation_endpoint: `${issuer}/oauth/revoke`,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        registration_endpoint: `${issuer}/v1/registrations`,
        scopes_supported: [...agentScopes],
        // No authorization endpoint: agents use client_credentials only.
        response_types_supported: [],
        grant_types_supported: ["client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: algorithms,
        revocation_endpoint_auth_methods_supported: ["private_key_jwt"],
        revocation_endpoint_auth_signing_alg_values_supported: algorithms,
        dpop_signing_alg_values_supported: algorithms,
      };
    },
  );

  app.get(
    "/.well-known/jwks.json",
    { schema: { tags: ["oauth"], summary: "The public key that signs access tokens (JWKS)", description: "The public key (JWKS) that signs Bursar's access tokens."}, config: { public: true } },
    async (request) => ({ keys: [(await request.server.identity.tokens.signingKey()).publicJwk] }),
  );
};
