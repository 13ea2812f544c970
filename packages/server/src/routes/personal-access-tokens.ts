/** `POST /v1/personal-access-tokens`: owner tokens for the CLI and SDK (`bpat_…`, shown once). */
import { allScopes, createPersonalAccessToken, ok, toRfc3339, wire, type Scope } from "@bursar/core";
import { z } from "zod";
import type { RouteModule } from "./context.js";
import { ProblemError } from "../http/problem.js";

const createBody = z.object({
  name: wire.text,
  scopes: z.array(z.enum(allScopes)).min(1).max(allScopes.length).optional().describe("Defaults to the caller's scopes"),
  expires_in: z.number().int().min(60).max(365 * 24 * 3600).optional().describe("Seconds; no expiry when absent"),
});

const createdToken = z.object({
  id: z.string(),
  object: z.literal("personal_access_token"),
  token: z.string().nullable().describe("Shown once; null when an idempotent replay answers"),
  name: z.string(),
  scopes: z.array(z.string()),
  expires_at: wire.timestamp.nullable(),
  created_at: wire.timestamp,
});

export const personalAccessTokenRoutes: RouteModule = (app, { mutate }) => {
  app.post(
    "/v1/personal-access-tokens",
    {
      schema: { tags: ["identity"], summary: "Create a personal access token", description: "Mints a personal access token (`bpat_…`) for the calling owner, for the CLI or the SDK. The token is shown once and stored only as a hash.", body: createBody, response: { 201: createdToken } },
      config: { example: {"body": {"name": "laptop CLI", "scopes": ["agents:config", "approvals:write", "transactions:read"], "expires_in": 2592000}}, scopes: ["tenant:admin"], secretFields: ["token"] },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal.principalType !== "user") throw new ProblemError("insufficient_scope", "only owners create personal access tokens");
      const scopes = (request.body.scopes ?? principal.scopes) as Scope[];
      const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
      if (missing.length > 0) throw new ProblemError("insufficient_scope", `a token cannot hold scopes its creator lacks: ${missing.join(", ")}`);
      return mutate(
        request,
        reply,
        async (context) => {
          const expiresAtMs = request.body.expires_in === undefined ? null : context.nowMs + request.body.expires_in * 1000;
          return ok(await createPersonalAccessToken(context, { userId: principal.principalId, name: request.body.name, scopes, expiresAtMs }));
        },
        ({ token, row }) => ({
          status: 201,
          body: {
            id: row.id,
            object: "personal_access_token" as const,
            token,
            name: row.name,
            scopes: row.scopes,
            expires_at: row.expiresAtMs === null ? null : toRfc3339(row.expiresAtMs),
            created_at: toRfc3339(row.createdAtMs),
          },
        }),
      );
    },
  );
};
