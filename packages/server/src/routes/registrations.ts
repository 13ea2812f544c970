/**
 * `POST /v1/registrations`: an agent host registers its public key with a ticket (the ticket is
 * the credential, so the route is public) and gets its client_id at once (SPEC 2.1).
 */
import { checkRegistration, completeRegistration, wire, type CredentialBindingRow } from "@bursar/core";
import { baseUrlOf } from "../identity/urls.js";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { orProblem } from "./context.js";

export const registrationRoutes: RouteModule = (app, { store, clock }) => {
  app.post(
    "/v1/registrations",
    {
      schema: {
        tags: ["identity"],
        summary: "Register an agent's public key with a registration ticket",
        description:
          "Errors: invalid_ticket, ticket_expired, ticket_already_consumed, public_key_already_in_use, invalid_public_key, scope_exceeds_ticket_ceiling.",
        body: wire.registrationBody,
        response: { 201: wire.registration },
      },
      config: { errors: ["invalid_public_key", "invalid_ticket", "public_key_already_in_use", "scope_exceeds_ticket_ceiling", "ticket_already_consumed", "ticket_expired"], example: {"body": {"ticket": "bursar-reg_Zm9vYmFy", "public_key_jwk": {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}, public: true },
    },
    async (request, reply) => {
      const body = request.body;
      const input = { ticket: body.ticket, publicKeyJwk: body.public_key_jwk, requestedScopes: body.requested_scopes, clientMetadata: body.client_metadata ?? null };
      const checked = orProblem(await checkRegistration(store.read, input, clock.nowMs()));
      const { tenantId, agentId } = checked.binding;
      let binding: CredentialBindingRow;
      try {
        binding = orProblem(
          await store.write(tenantId, (tx) => completeRegistration({ tx, tenantId, nowMs: clock.nowMs(), actor: { type: "agent", id: agentId } }, checked)),
        );
      } catch (error) {
        // Two registrations of one key racing: the unique index refused the second insert.
        if (!(error instanceof ProblemError) && (await store.read.findCredentialBindingByThumbprint(checked.binding.thumbprint))) {
          throw new ProblemError("public_key_already_in_use", "this public key is registered already; generate a new key pair");
        }
        throw error;
      }
      return reply.code(201).send({
        client_id: binding.id,
        fingerprint: binding.thumbprint,
        agent_id: binding.agentId,
        tenant_id: binding.tenantId,
        scopes: binding.scopes,
        algorithm: binding.algorithm,
        token_endpoint: `${baseUrlOf(request)}/oauth/token`,
      });
    },
  );
};
