/**
 * `/v1/signing-keys` (owners, scope `agents:config`): owners' public keys for what they sign on
 * an agent's behalf (an escrow intent an owner creates for a paying agent). Agents' own keys are
 * their credential bindings; an agent's credential cannot register or use these.
 */
import { listRecordsOf, loadRecord, registerSigningKey, revokeSigningKey, signingKeyView, wire, type SigningKeyBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";
import { ProblemError } from "../http/problem.js";

const tags = ["signing keys"];
const config = { scopes: ["agents:config"] } as const;

export const signingKeyRoutes: RouteModule = (app, { mutate, store }) => {
  app.post(
    "/v1/signing-keys",
    {
      schema: {
        tags,
        summary: "Register an owner's public signing key",
        description:
          "Registers an owner's public JWK (Ed25519 or P-256, public members only) for signing escrow intents the owner creates for a paying agent (`signing_key_id: \"sk_…\"`). Owners only: an agent signs with its credential binding.",
        body: wire.createSigningKeyBody,
        response: { 201: wire.signingKey },
      },
      config: {
        ...config,
        errors: ["escrow_owner_only", "invalid_public_key"],
        example: { body: { public_key_jwk: { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }, name: "Finance team signing key" } },
      },
    },
    async (request, reply) => {
      if (request.principal.agentId !== null) throw new ProblemError("escrow_owner_only", "signing keys belong to owners; an agent signs with its credential binding");
      return mutate(request, reply, (context) => registerSigningKey(context, { ownerId: request.principal.principalId, jwk: request.body.public_key_jwk, name: request.body.name ?? null }), (key) => ({ status: 201, body: signingKeyView(key) }));
    },
  );
  app.get(
    "/v1/signing-keys",
    {
      schema: {
        tags,
        summary: "List owners' signing keys, newest first",
        description: "The tenant's owner signing keys, newest first, with their algorithm and RFC 7638 thumbprint; filter by `status` (`active`, `revoked`).",
        querystring: wire.recordListQuery,
        response: { 200: wire.page(wire.signingKey) },
      },
      config: { ...config, example: { query: "status=active" } },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const rows = await listRecordsOf<SigningKeyBody>(store.read, request.principal.tenantId, { kind: "signing_key", status, limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, signingKeyView);
    },
  );
  app.get(
    "/v1/signing-keys/:id",
    {
      schema: { tags, summary: "Get a signing key", description: "One owner signing key: its public JWK, algorithm, thumbprint and status.", params: wire.idParam, response: { 200: wire.signingKey } },
      config,
    },
    async (request) => {
      const key = await loadRecord<SigningKeyBody>(store.read, request.principal.tenantId, "signing_key", request.params.id);
      if (!key) throw notFound("signing key", request.params.id);
      return signingKeyView(key);
    },
  );
  app.delete(
    "/v1/signing-keys/:id",
    {
      schema: {
        tags,
        summary: "Revoke a signing key: it signs nothing new",
        description: "Revokes the key at once: new escrow intents naming it are refused (`signing_key_not_found`); what it signed stays verifiable from the stored public key. Revoking a revoked key answers it as it is.",
        params: wire.idParam,
        response: { 200: wire.signingKey },
      },
      config,
    },
    async (request, reply) => mutate(request, reply, (context) => revokeSigningKey(context, request.params.id), (key) => ({ status: 200, body: signingKeyView(key) })),
  );
};
