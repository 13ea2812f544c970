/**
 * The OpenAPI 3.1 document, generated from the zod route schemas plus what each route declares
 * (openapi-docs.ts: security, error codes, examples, streams), and the docs UI at `/docs`.
 */
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, RouteOptions } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { documentOperation, securitySchemes, type RouteInfo } from "./openapi-docs.js";
import { eventWebhooks } from "./event-webhooks.js";

/** The document's tags, in reading order. */
export const openApiTags = [
  { name: "health", description: "Liveness, readiness, metrics" },
  { name: "oauth", description: "Agent tokens: client credentials with private_key_jwt, DPoP-bound (RFC 7523, RFC 9449), refresh, revocation, discovery" },
  { name: "identity", description: "Registration tickets, agent registrations, credential bindings, API keys, personal access tokens, the caller's principal" },
  { name: "agents", description: "Agents and their wallets" },
  { name: "ledger", description: "Double-entry accounts, transfers, holds and deposits" },
  { name: "payees", description: "Beneficiaries agents may pay, with aliases" },
  { name: "governance", description: "Policies, budgets and the policy dry run" },
  { name: "teams", description: "Teams of agents with budget pools, allocations, budget requests, and agents that spawn agents (docs/teams.md)" },
  { name: "payments", description: "Payment intents and executed transactions" },
  { name: "approvals", description: "Human decisions that payments and service requests wait on" },
  { name: "services", description: "The catalog of priced service operations" },
  { name: "service requests", description: "Governed, priced calls of service operations" },
  { name: "spend authorizations", description: "Authorize → execute → complete: holds for what an agent pays for outside Bursar (docs/spend.md)" },
  { name: "capabilities", description: "Owners' signed pre-approvals for an agent: operations, amount, expiry, uses" },
  { name: "escrow intents", description: "Money held for a payee's work, released on payee-signed evidence that passes a predicate (docs/escrow.md)" },
  { name: "predicates", description: "Dry runs of the escrow predicate language: template expansion, and evaluation on sample evidence" },
  { name: "tasks", description: "Delegated work with a lifecycle, CI status, review and ship, and an optional bounty held in escrow (docs/tasks.md)" },
  { name: "signing keys", description: "Owners' public keys for what they sign on an agent's behalf (escrow intents)" },
  { name: "rails", description: "The webhook rail: the tenant's own payment executor" },
  { name: "triggers", description: "External events, signed per Standard Webhooks, bound to an agent's governed action (docs/teams.md)" },
  { name: "usage", description: "Spent, held and counts per day, agent, team, payee or operation, for charts (docs/teams.md)" },
  { name: "chat", description: "The payment agent: plain-English requests through the same governed operations" },
  { name: "mcp", description: "Bursar's tools over MCP Streamable HTTP, run as the caller (docs/integrations.md)" },
  { name: "events", description: "The tenant's events (the audit log) and their live stream" },
  { name: "webhooks", description: "Webhook endpoints and deliveries (Standard Webhooks 1.0)" },
  { name: "journal", description: "The tamper-evident journal: checkpoints, entries, inclusion and consistency proofs (RFC 9162)" },
  { name: "console", description: "The owner console's sessions and members: one-time login links, PAT exchange, invites, roles (docs/console.md)" },
];

const description = `Bursar lets AI agents spend money safely: every payment is checked against the agent's policy and budgets, held for an owner's approval where the rules say so, booked in a double-entry ledger and written to a signed, verifiable journal.

**Authentication.** Owners send a personal access token (\`Authorization: Bearer bpat_…\`); agents send a DPoP-bound access token with a fresh proof (\`Authorization: DPoP …\` and \`DPoP: …\`); API keys are bearer tokens (\`bsk_…\`). Each operation lists the schemes and scopes it accepts.

**Errors** are RFC 9457 \`application/problem+json\` with a stable \`code\`; each operation lists the codes it can answer with, under their statuses. **Idempotency:** every POST, PATCH and DELETE accepts \`Idempotency-Key\`. **Money** is an integer count of minor units (\`amount: 50000\` in GBP is £500.00). Lists take \`limit\` and \`cursor\` and answer \`{data, has_more, next_cursor}\`.

The examples assume \`BURSAR_API_URL=http://127.0.0.1:7420\` and \`BURSAR_TOKEN=$(cat .bursar/demo-owner-token)\` after \`npm start\`.`;

/** `/v1/agents/:id` → `/v1/agents/{id}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/**
 * Registers the document generator, `GET /openapi.json` and the UI at `/docs`. Must be
 * registered on the root instance before the routes, whose schemas it collects as they are
 * added (Fastify queues both in order).
 */
export function registerOpenApi(app: FastifyInstance, publicBaseUrl: string | null): void {
  const routes = new Map<string, RouteInfo>();
  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    if (schema.hide) return;
    for (const method of methods) {
      if (method === "HEAD") continue;
      const config = route.config ?? {};
      const path = openApiPath(route.url);
      routes.set(`${method} ${path}`, {
        method,
        path,
        scopes: config.public === true ? null : (config.scopes ?? null),
        hasBody: schema.body !== undefined,
        hasParams: schema.params !== undefined,
        hasQuery: schema.querystring !== undefined,
        config,
      });
    }
  });
  app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Bursar API", version: "1", description, license: { name: "Apache-2.0", identifier: "Apache-2.0" } },
      servers: [{ url: publicBaseUrl ?? "http://127.0.0.1:7420", description: publicBaseUrl ? "This server" : "A local `npm start`" }],
      tags: openApiTags,
      // Every event type's body, from core's event catalog (event-webhooks.ts).
      // (Plain JSON Schema objects; @fastify/swagger types them with its own nominal shapes.)
      webhooks: eventWebhooks() as never,
      components: { securitySchemes: securitySchemes as never },
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) => {
      const openapiObject = (documentObject as { openapiObject: { paths?: Record<string, unknown> } }).openapiObject;
      const seen = new Set<string>();
      for (const [path, operations] of Object.entries(openapiObject.paths ?? {})) {
        for (const [method, operation] of Object.entries(operations as Record<string, Record<string, unknown>>)) {
          const info = routes.get(`${method.toUpperCase()} ${path}`);
          if (!info) continue;
          documentOperation(operation, info);
          const id = operation.operationId as string;
          if (seen.has(id)) throw new Error(`two operations are named ${id}: give one config.operationId`);
          seen.add(id);
        }
      }
      return openapiObject as never;
    },
  });
  // The UI's assets are served from the package (no CDN: the server may have no internet, and a
  // third-party script on a page that holds tokens is a supply-chain risk).
  app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    // Swagger UI's CSP asks browsers to upgrade to HTTPS, which breaks the page on loopback HTTP.
    transformStaticCSP: (header) => header.replace(/upgrade-insecure-requests;?/, ""),
    uiConfig: { validatorUrl: null },
    theme: { title: "Bursar API reference" },
  });
  app.get("/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
