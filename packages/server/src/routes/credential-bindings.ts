/** `/v1/credential-bindings`: owners list agents' registered keys and revoke them. */
import { credentialBindingView, revokeCredentialBinding, wire } from "@bursar/core";
import { z } from "zod";
import type { RouteModule } from "./context.js";
import { pageOf } from "./context.js";

export const credentialBindingRoutes: RouteModule = (app, { mutate, store }) => {
  app.get(
    "/v1/credential-bindings",
    {
      schema: {
        tags: ["identity"],
        summary: "List credential bindings, newest first", description: "Registered agent keys (the OAuth `client_id`s), newest first, with their fingerprints and status.",
        querystring: wire.pageQuery.extend({ agent_id: z.string().max(64).optional() }),
        response: { 200: wire.page(wire.credentialBinding) },
      },
      config: { scopes: ["agents:config"] },
    },
    async (request) => {
      const { limit, cursor, agent_id } = request.query;
      const rows = await store.read.listCredentialBindings(request.principal.tenantId, { limit: limit + 1, beforeId: cursor, agentId: agent_id });
      return pageOf(rows, limit, credentialBindingView);
    },
  );

  app.delete(
    "/v1/credential-bindings/:id",
    {
      schema: {
        tags: ["identity"],
        summary: "Revoke a credential binding: its tokens stop working on the next request", description: "Revokes a credential binding: its access and refresh tokens stop working on the next request.",
        params: wire.idParam,
        response: { 200: wire.credentialBinding },
      },
      config: { scopes: ["agents:config"] },
    },
    async (request, reply) =>
      mutate(request, reply, (context) => revokeCredentialBinding(context, request.params.id), (binding) => ({ status: 200, body: credentialBindingView(binding) })),
  );
};
