/** The OpenAPI 3.1 document, generated from the zod route schemas, and the docs UI. */
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { eventWebhooks } from "./event-webhooks.js";

/** Name of the bearer security scheme that authenticated routes reference. */
export const bearerSecurityScheme = "bearer";

/**
 * Registers the document generator, `GET /openapi.json` and the UI at `/docs`. Must be
 * registered on the root instance before the routes, whose schemas it collects as they are
 * added (Fastify queues both in order).
 */
export function registerOpenApi(app: FastifyInstance, publicBaseUrl: string | null): void {
  app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Bursar API", version: "1" },
      ...(publicBaseUrl ? { servers: [{ url: publicBaseUrl }] } : {}),
      // Every event type's body, from core's event catalog (event-webhooks.ts).
      // (Plain JSON Schema objects; @fastify/swagger types them with its own nominal shapes.)
      webhooks: eventWebhooks() as never,
      components: {
        securitySchemes: { [bearerSecurityScheme]: { type: "http", scheme: "bearer", description: "Personal access token (`bpat_…`)" } },
      },
    },
    transform: jsonSchemaTransform,
  });
  // The UI's assets are served from the package (no CDN: the server may have no internet, and a
  // third-party script on a page that holds tokens is a supply-chain risk).
  app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    // Swagger UI's CSP asks browsers to upgrade to HTTPS, which breaks the page on loopback HTTP.
    transformStaticCSP: (header) => header.replace(/upgrade-insecure-requests;?/, ""),
    uiConfig: { validatorUrl: null },
  });
  app.get("/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
