/** `POST /v1/registration-tickets`: owners mint one-time tickets (`bursar-reg-…`, shown once). */
import { createRegistrationTicket, toRfc3339, wire } from "@bursar/core";
import type { RouteModule } from "./context.js";

export const registrationTicketRoutes: RouteModule = (app, { mutate }) => {
  app.post(
    "/v1/registration-tickets",
    {
      schema: {
        tags: ["identity"],
        summary: "Mint a one-time registration ticket for an agent, with a scope ceiling",
        description: "The ceiling may hold agent scopes only; owner-only scopes answer 422 owner_only_scope. Default lifetime 15 minutes.",
        body: wire.createTicketBody,
        response: { 201: wire.registrationTicket },
      },
      config: { errors: ["agent_disabled", "not_found", "owner_only_scope"], example: {"body": {"agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "scopes": ["agents:execute", "transactions:read"], "expires_in": 900}}, scopes: ["agents:config"], secretFields: ["ticket"] },
    },
    async (request, reply) => {
      const { agent_id, scopes, expires_in } = request.body;
      return mutate(
        request,
        reply,
        (context) => createRegistrationTicket(context, { agentId: agent_id, scopes, expiresInSeconds: expires_in, createdByUserId: request.principal.principalId }),
        ({ ticket, row }) => ({
          status: 201,
          body: {
            id: row.id,
            object: "registration_ticket" as const,
            ticket,
            agent_id: row.agentId,
            scopes: row.scopeCeiling,
            expires_at: toRfc3339(row.expiresAtMs),
            created_at: toRfc3339(row.createdAtMs),
          },
        }),
      );
    },
  );
};
