/**
 * `/v1/rails/webhook`: the tenant's payment executor for the webhook rail (URL, signing secret,
 * rotation), and the callback executors report outcomes to (docs/rails.md).
 *
 * Configuration needs `tenant:admin`, like webhook endpoints: the URL receives payment orders
 * and the secret authenticates callbacks that move money, which is more than agent configuration.
 */
import {
  configureWebhookRail,
  fail,
  loadRailConfig,
  loadRecord,
  railCallbackAgeSecondsMax,
  railCallbackBodyBytesMax,
  railConfigView,
  railSecrets,
  rotateRailSecret,
  settleTransaction,
  wire,
  type RailOutcome,
  type TransactionBody,
} from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { rawJsonBody } from "../http/json.js";
import { ProblemError } from "../http/problem.js";
import { verifyHmacSignature, type ReceivedSignature } from "../webhooks/signature.js";
import { checkWebhookTarget, parseWebhookUrl } from "../webhooks/target-guard.js";
import type { RouteModule } from "./context.js";
import { orProblem } from "./context.js";

const admin = { scopes: ["tenant:admin"] } as const;
const tags = ["rails"];

/** Who settles a transaction from an executor's callback (the journal's actor). */
export const railCallbackActor = { type: "system", id: "rail_callback" } as const;

function receivedSignature(request: FastifyRequest): ReceivedSignature | null {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === "string" ? value : null;
  };
  const [id, timestamp, signature] = [header("webhook-id"), header("webhook-timestamp"), header("webhook-signature")];
  return id === null || timestamp === null || signature === null ? null : { id, timestamp, signature };
}

export const railRoutes: RouteModule = (app, { mutate, store, clock, allowPrivateWebhookTargets }) => {
  app.get(
    "/v1/rails/webhook",
    { schema: { tags, summary: "The webhook rail's executor configuration (never its secret)", description: "The tenant's webhook-rail executor URL and secret status. Never the secret.", response: { 200: wire.railConfig } }, config: { ...admin, errors: ["not_found"] } },
    async (request) => {
      const config = await loadRailConfig(store.read, request.principal.tenantId, "webhook");
      if (!config) throw new ProblemError("not_found", "the webhook rail is not configured; PUT /v1/rails/webhook sets it up");
      return railConfigView(config);
    },
  );

  app.put(
    "/v1/rails/webhook",
    {
      schema: {
        tags,
        summary: "Set the executor URL; the first call returns the signing secret, once", description: "Sets the URL Bursar sends signed `payment.execute` requests to for payees on the webhook rail (docs/rails.md). The first call answers with the signing secret, once.",
        body: wire.webhookRailConfigBody,
        response: { 200: wire.railConfigWithSecret },
      },
      config: { errors: ["webhook_url_forbidden"], example: {"body": {"url": "https://payments.example.com/bursar/execute"}}, ...admin, secretFields: ["secret"] },
    },
    async (request, reply) => {
      // SSRF: the executor URL is chosen by the tenant and POSTed to by the server (target-guard.ts).
      const url = parseWebhookUrl(request.body.url);
      if (!url) throw new ProblemError("webhook_url_forbidden", "The URL must be an absolute http or https URL without credentials.");
      const target = await checkWebhookTarget(url, allowPrivateWebhookTargets);
      if (!target.ok) throw new ProblemError("webhook_url_forbidden", `The URL is not allowed: ${target.reason}.`);
      return mutate(
        request,
        reply,
        (context) => configureWebhookRail(context, url.toString()),
        ({ config, secret }) => ({ status: 200, body: { ...railConfigView(config), secret } }),
      );
    },
  );

  app.post(
    "/v1/rails/webhook/rotate-secret",
    {
      schema: {
        tags,
        summary: "Rotate the signing secret; the old one stays valid for overlap_seconds", description: "Issues a new rail signing secret (shown once); the old one stays valid for `overlap_seconds`.",
        body: wire.rotateRailSecretBody,
        response: { 200: wire.railConfigWithSecret },
      },
      config: { errors: ["rail_not_configured"], example: {"body": {"overlap_seconds": 3600}}, ...admin, secretFields: ["secret"] },
    },
    async (request, reply) =>
      mutate(
        request,
        reply,
        (context) => rotateRailSecret(context, "webhook", request.body?.overlap_seconds ?? 24 * 3600),
        ({ config, secret }) => ({ status: 200, body: { ...railConfigView(config), secret } }),
      ),
  );

  app.post(
    "/v1/rails/webhook/callbacks",
    {
      schema: {
        tags,
        summary: "An executor reports a payment's outcome (signed with the rail secret)",
        description:
          "Authenticated by its Standard Webhooks signature only. Errors: invalid_signature (401: bad or missing signature, stale timestamp, or no executor for that tenant), not_found (404: no such webhook-rail transaction in that tenant), transaction_not_pending (409: already settled otherwise). A repeat of the same outcome answers 200.",
        body: wire.railCallbackBody,
        response: { 200: wire.railCallbackReceipt, 401: wire.problem, 404: wire.problem, 409: wire.problem },
      },
      // Public: the caller is a machine outside Bursar, with no Bursar credential. The signature
      // is the credential, so the raw body is kept to verify it.
      config: { errors: ["invalid_signature", "not_found", "transaction_not_pending"], example: {"body": {"tenant_id": "ten_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "transaction_id": "txn_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", "status": "succeeded", "rail_reference": "bank-123"}}, public: true, rawBody: true },
      bodyLimit: railCallbackBodyBytesMax,
    },
    async (request) => {
      const body = request.body;
      const nowMs = clock.nowMs();
      const raw = rawJsonBody(request);
      const config = await loadRailConfig(store.read, body.tenant_id, "webhook");
      // An unknown tenant, a tenant without an executor and a bad signature answer alike: without
      // the secret, a caller learns nothing, not even which tenants exist.
      const problem = config && raw ? verifyHmacSignature(railSecrets(config, nowMs), receivedSignature(request), raw, nowMs, railCallbackAgeSecondsMax) : "no_matching_signature";
      if (problem !== null || !config) {
        request.log.warn({ tenant_id: body.tenant_id, problem }, "rail callback refused");
        throw new ProblemError("invalid_signature", "The callback's webhook-signature does not verify with this tenant's rail secret, or its webhook-timestamp is not within 5 minutes of now.");
      }
      const tenantId = config.tenantId;
      const outcome: RailOutcome =
        body.status === "succeeded" ? { status: "completed", railReference: body.rail_reference ?? null } : { status: "failed", reason: body.reason ?? "executor_failed" };
      const settled = await store.write(tenantId, async (tx) => {
        const transaction = await loadRecord<TransactionBody>(tx, tenantId, "transaction", body.transaction_id);
        // Only the webhook rail's payments: an executor never settles a sandbox payment.
        if (!transaction || transaction.body.rail !== "webhook") return fail("not_found", `no webhook-rail transaction ${body.transaction_id}`);
        // A replay of the same outcome is a no-op (settleTransaction), so no replay cache is needed.
        return settleTransaction({ tx, tenantId, nowMs, actor: railCallbackActor }, body.transaction_id, outcome);
      });
      const transaction = orProblem(settled);
      return { object: "rail_callback_receipt" as const, transaction_id: transaction.id, status: transaction.body.status };
    },
  );
};
