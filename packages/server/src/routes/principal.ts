/** `GET /v1/auth/principal`: who the presented credential is, for any credential. */
import { wire } from "@bursar/core";
import type { RouteModule } from "./context.js";

export const principalRoutes: RouteModule = (app) => {
  app.get(
    "/v1/auth/principal",
    { schema: { tags: ["identity"], summary: "The caller: tenant, principal, agent and scopes", description: "Who the credential is: tenant, principal type and id, the agent it acts as, and its scopes. Useful to check a credential works.", response: { 200: wire.principal } }, config: { scopes: [] } },
    async (request) => {
      const { tenantId, principalType, principalId, agentId, credentialId, scopes } = request.principal;
      return {
        tenant_id: tenantId,
        principal_type: principalType,
        principal_id: principalId,
        ...(agentId === null ? {} : { agent_id: agentId }),
        credential_id: credentialId,
        scopes: [...scopes],
      };
    },
  );
};
