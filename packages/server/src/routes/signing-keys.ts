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
    { schema: { tags, summary: "Register an owner's public signing key", body: wire.createSigningKeyBody, response: { 201: wire.signingKey } }, config },
    async (request, reply) => {
      if (request.principal.agentId !== null) throw new ProblemError("escrow_owner_only", "signing keys belong to owners; an agent signs with its credential binding");
      return mutate(request, reply, (context) => registerSigningKey(context, { ownerId: request.principal.principalId, jwk: request.body.public_key_jwk, name: request.body.name ?? null }), (key) => ({ status: 201, body: signingKeyView(key) }));
    },
  );
  app.get(
    "/v1/signing-keys",
    { schema: { tags, summary: "List owners' signing keys, newest first", querystring: wire.recordListQuery, response: { 200: wire.page(wire.signingKey) } }, config },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const rows = await listRecordsOf<SigningKeyBody>(store.read, request.principal.tenantId, { kind: "signing_key", status, limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, signingKeyView);
    },
  );
  app.get(
    "/v1/signing-keys/:id",
    { schema: { tags, summary: "Get a signing key", params: wire.idParam, response: { 200: wire.signingKey } }, config },
    async (request) => {
      const key = await loadRecord<SigningKeyBody>(store.read, request.principal.tenantId, "signing_key", request.params.id);
      if (!key) throw notFound("signing key", request.params.id);
      return signingKeyView(key);
    },
  );
  app.delete(
    "/v1/signing-keys/:id",
    { schema: { tags, summary: "Revoke a signing key: it signs nothing new", params: wire.idParam, response: { 200: wire.signingKey } }, config },
    async (request, reply) => mutate(request, reply, (context) => revokeSigningKey(context, request.params.id), (key) => ({ status: 200, body: signingKeyView(key) })),
  );
};
