/**
 * `/v1/api-keys`: owners create scoped, rate-limited keys (`bsk_…`, shown once) for an agent or a
 * service account, rotate them with an optional grace period, read their usage, revoke them.
 */
import { apiKeyView, createApiKey, revokeApiKey, rotateApiKey, toRfc3339, wire, type ApiKeyRow, type Scope } from "@bursar/core";
import { ProblemError } from "../http/problem.js";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

const manage = { scopes: ["tenant:admin"] } as const;

export const apiKeyRoutes: RouteModule = (app, { mutate, store, clock }) => {
  const withKey = (row: ApiKeyRow, key: string | null) => ({ ...apiKeyView(row, clock.nowMs()), key });

  app.get(
    "/v1/api-keys",
    { schema: { tags: ["identity"], summary: "List API keys (never their secrets)", description: "The tenant's API keys, newest first: name, scopes, agent, rate limit, status. Never the secret.", querystring: wire.pageQuery, response: { 200: wire.page(wire.apiKey) } }, config: manage },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await store.read.listApiKeys(request.principal.tenantId, { limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, (row) => apiKeyView(row, clock.nowMs()));
    },
  );

  app.post(
    "/v1/api-keys",
    {
      schema: {
        tags: ["identity"],
        summary: "Create an API key (shown once)",
        description: "A key for an agent acts as that agent and can never hold an owner-only scope (422 owner_only_scope).",
        body: wire.createApiKeyBody,
        response: { 201: wire.apiKey },
      },
      config: { errors: ["not_found", "owner_only_scope"], example: {"body": {"name": "invoice-bot key", "agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "scopes": ["agents:execute", "transactions:read"], "rate_limit_per_minute": 600}}, ...manage, secretFields: ["key"] },
    },
    async (request, reply) => {
      const { name, agent_id, scopes, rate_limit_per_minute } = request.body;
      const missing = scopes.filter((scope) => !request.principal.scopes.includes(scope));
      if (missing.length > 0) throw new ProblemError("insufficient_scope", `a key cannot hold scopes its creator lacks: ${missing.join(", ")}`);
      return mutate(
        request,
        reply,
        (context) => createApiKey(context, { name, agentId: agent_id ?? null, scopes: scopes as Scope[], rateLimitPerMinute: rate_limit_per_minute }),
        ({ key, row }) => ({ status: 201, body: withKey(row, key) }),
      );
    },
  );

  app.post(
    "/v1/api-keys/:id/rotate",
    {
      schema: {
        tags: ["identity"],
        summary: "Rotate an API key: a new key now, the old one stops after the grace period (default 0)", description: "Issues a new secret for the key (shown once). The old secret keeps working for `grace_period_seconds` (default 0: it stops at once).",
        params: wire.idParam,
        body: wire.rotateApiKeyBody,
        response: { 201: wire.apiKey },
      },
      config: { example: {"body": {"grace_period_seconds": 3600}}, ...manage, secretFields: ["key"] },
    },
    async (request, reply) => {
      const grace = request.body?.grace_period_seconds ?? 0;
      return mutate(request, reply, (context) => rotateApiKey(context, request.params.id, grace), ({ key, row }) => ({ status: 201, body: withKey(row, key) }));
    },
  );

  app.get(
    "/v1/api-keys/:id/usage",
    { schema: { tags: ["identity"], summary: "Accepted and denied requests of an API key", description: "Counts of accepted and denied requests of the key (by reason: revoked, expired, rate limited, insufficient scope), per day.", params: wire.idParam, response: { 200: wire.apiKeyUsage } }, config: manage },
    async (request) => {
      // Counters are batched in memory; flush ours first so the answer includes them.
      await request.server.identity.usage.flush();
      const row = await store.read.getApiKey(request.principal.tenantId, request.params.id);
      if (!row) throw notFound("API key", request.params.id);
      return {
        id: row.id,
        object: "api_key_usage" as const,
        accepted: row.acceptedCount,
        denied: row.deniedCounts,
        denied_total: Object.values(row.deniedCounts).reduce((sum, count) => sum + count, 0),
        last_used_at: row.lastUsedAtMs === null ? null : toRfc3339(row.lastUsedAtMs),
      };
    },
  );

  app.delete(
    "/v1/api-keys/:id",
    { schema: { tags: ["identity"], summary: "Revoke an API key at once", description: "Revokes the key at once; later requests with it answer 401 `invalid_token`.", params: wire.idParam, response: { 200: wire.apiKey } }, config: manage },
    async (request, reply) =>
      mutate(request, reply, (context) => revokeApiKey(context, request.params.id), (row) => ({ status: 200, body: apiKeyView(row, clock.nowMs()) })),
  );
};
