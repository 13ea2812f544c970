/** `/v1/webhook-endpoints`: subscriptions, their deliveries, secret rotation and manual retries. */
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  retryWebhookDelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  webhookDeliveryView,
  webhookEndpointView,
  wire,
} from "@bursar/core";
import { ProblemError } from "../http/problem.js";
import { checkWebhookTarget, parseWebhookUrl } from "../webhooks/target-guard.js";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

const admin = { scopes: ["tenant:admin"] } as const;
const tags = ["webhooks"];

export const webhookEndpointRoutes: RouteModule = (app, { mutate, store, allowPrivateWebhookTargets }) => {
  /** Refuses URLs that are not http(s) or that resolve to addresses we must not reach. */
  async function checkedUrl(text: string): Promise<string> {
    const url = parseWebhookUrl(text);
    if (!url) throw new ProblemError("webhook_url_forbidden", "The URL must be an absolute http or https URL without credentials.");
    const target = await checkWebhookTarget(url, allowPrivateWebhookTargets);
    if (!target.ok) throw new ProblemError("webhook_url_forbidden", `The URL is not allowed: ${target.reason}.`);
    return url.toString();
  }

  app.get(
    "/v1/webhook-endpoints",
    { schema: { tags, summary: "List webhook endpoints", description: "The tenant's webhook endpoints, newest first, with their event-type filters and status. Never their secrets.", querystring: wire.pageQuery, response: { 200: wire.page(wire.webhookEndpoint) } }, config: admin },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await store.read.listWebhookEndpoints(request.principal.tenantId, { limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, webhookEndpointView);
    },
  );

  app.post(
    "/v1/webhook-endpoints",
    {
      schema: {
        tags,
        summary: "Create a webhook endpoint; the signing secret is shown once", description: "Subscribes a URL to events (all, or those matching `event_types`, e.g. `payment_intent.*`). Deliveries are signed per Standard Webhooks; the `whsec_` secret is in this answer only. Private and loopback targets are refused unless the server allows them.",
        body: wire.createWebhookEndpointBody,
        response: { 201: wire.webhookEndpointWithSecret },
      },
      config: { errors: ["webhook_endpoints_limit_reached", "webhook_url_forbidden"], example: {"body": {"url": "https://example.com/bursar/webhooks", "event_types": ["payment_intent.*", "approval.*"], "description": "Accounting"}}, ...admin, secretFields: ["secret"] },
    },
    async (request, reply) => {
      const body = request.body;
      const url = await checkedUrl(body.url);
      return mutate(
        request,
        reply,
        (context) =>
          createWebhookEndpoint(context, {
            url,
            description: body.description,
            eventTypes: body.event_types,
            taskIds: body.task_ids ?? null,
            enabled: body.enabled,
            ed25519: body.signature_schemes?.includes("v1a") ?? false,
          }),
        (row) => ({ status: 201, body: { ...webhookEndpointView(row), secret: row.secret } }),
      );
    },
  );

  app.get(
    "/v1/webhook-endpoints/:id",
    { schema: { tags, summary: "Get a webhook endpoint", description: "One webhook endpoint with its filters and status.", params: wire.idParam, response: { 200: wire.webhookEndpoint } }, config: admin },
    async (request) => {
      const row = await store.read.getWebhookEndpoint(request.principal.tenantId, request.params.id);
      if (!row) throw notFound("webhook endpoint", request.params.id);
      return webhookEndpointView(row);
    },
  );

  app.patch(
    "/v1/webhook-endpoints/:id",
    {
      schema: { tags, summary: "Change a webhook endpoint (url, filters, description, enabled)", description: "Changes an endpoint's URL, filters, description, or enables/disables it. Absent fields stay.", params: wire.idParam, body: wire.updateWebhookEndpointBody, response: { 200: wire.webhookEndpoint } },
      config: { ...admin, errors: ["webhook_url_forbidden"], example: {"body": {"enabled": false}} },
    },
    async (request, reply) => {
      const body = request.body;
      const url = body.url === undefined ? undefined : await checkedUrl(body.url);
      return mutate(
        request,
        reply,
        (context) => updateWebhookEndpoint(context, request.params.id, { url, description: body.description, eventTypes: body.event_types, taskIds: body.task_ids, enabled: body.enabled }),
        (row) => ({ status: 200, body: webhookEndpointView(row) }),
      );
    },
  );

  app.delete(
    "/v1/webhook-endpoints/:id",
    { schema: { tags, summary: "Delete a webhook endpoint and its queued deliveries", description: "Deletes the endpoint; its queued deliveries are dropped.", params: wire.idParam, response: { 200: wire.webhookEndpoint } }, config: admin },
    async (request, reply) =>
      mutate(request, reply, (context) => deleteWebhookEndpoint(context, request.params.id), (row) => ({ status: 200, body: webhookEndpointView(row) })),
  );

  app.post(
    "/v1/webhook-endpoints/:id/rotate-secret",
    {
      schema: {
        tags,
        summary: "Rotate the signing secret; the old one keeps signing for overlap_seconds", description: "Issues a new signing secret (shown once); during `overlap_seconds` deliveries carry signatures with both.",
        params: wire.idParam,
        body: wire.rotateWebhookSecretBody,
        response: { 200: wire.webhookEndpointWithSecret },
      },
      config: { example: {"body": {"overlap_seconds": 86400}}, ...admin, secretFields: ["secret"] },
    },
    async (request, reply) =>
      mutate(
        request,
        reply,
        (context) => rotateWebhookSecret(context, request.params.id, request.body?.overlap_seconds ?? 24 * 3600),
        (row) => ({ status: 200, body: { ...webhookEndpointView(row), secret: row.secret } }),
      ),
  );

  app.get(
    "/v1/webhook-endpoints/:id/deliveries",
    {
      schema: { tags, summary: "List an endpoint's deliveries with every attempt, newest first", description: "The endpoint's deliveries, newest first, each with every attempt (status, time, response code).", params: wire.idParam, querystring: wire.pageQuery, response: { 200: wire.page(wire.webhookDelivery) } },
      config: admin,
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      if (!(await store.read.getWebhookEndpoint(tenantId, request.params.id))) throw notFound("webhook endpoint", request.params.id);
      const { limit, cursor } = request.query;
      const rows = await store.read.listWebhookDeliveries(tenantId, request.params.id, { limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, webhookDeliveryView);
    },
  );

  app.post(
    "/v1/webhook-endpoints/:id/deliveries/:delivery_id/retry",
    { schema: { tags, summary: "Retry a delivery now", description: "Schedules the delivery for an immediate attempt (same `webhook-id`), whatever its backoff.", params: wire.deliveryParams, response: { 200: wire.webhookDelivery } }, config: admin },
    async (request, reply) =>
      mutate(
        request,
        reply,
        (context) => retryWebhookDelivery(context, request.params.id, request.params.delivery_id),
        (row) => ({ status: 200, body: webhookDeliveryView(row) }),
      ),
  );
};
