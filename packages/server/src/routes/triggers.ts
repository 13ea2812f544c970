/**
 * `/v1/triggers` (issue 15 item 5; docs/teams.md): owners (`agents:config`) bind an
 * external event to a governed action of one agent, and `POST /v1/triggers/{id}/fire` is how the
 * event arrives.
 *
 * A fire is authenticated by its Standard Webhooks signature alone (webhooks/signature.ts, the
 * code that verifies rail callbacks), keyed with the trigger's secret; the body is bounded
 * (`triggerFireBodyBytesMax`, 413 before it is parsed), the sender's address by the public-write
 * limit and the trigger by `triggerFiresPerMinuteMax` (counting only fires that pass every check). The rendered payload is validated by the
 * same wire schema as the API call and given to the same core operation (`createPaymentIntent`,
 * `createServiceRequest`) with the agent as it is now, so the decision — executed, approval
 * required, blocked — is the one that call would get. The fire, keyed by its `webhook-id`, is
 * recorded in the same write as the action: a repeat answers the first outcome and acts no more.
 */
import {
  createPaymentIntent,
  createServiceRequest,
  createTrigger,
  deleteTrigger,
  findTriggerFire,
  listRecordsOf,
  loadRecord,
  paymentIntentView,
  recordTriggerFire,
  renderTemplate,
  rotateTriggerSecret,
  serviceRequestView,
  triggerFireAgeSecondsMax,
  triggerFireBodyBytesMax,
  triggerFiresPerMinuteMax,
  triggerFireView,
  triggerView,
  updateTrigger,
  wire,
  type Failure,
  type TemplateValue,
  type TriggerBody,
  type TriggerFireBody,
  type TriggerOutcome,
  type TriggerRecord,
  type WriteContext,
} from "@bursar/core";
import type { FastifyRequest } from "fastify";
import { rateLimitHeaders } from "../identity/rate-limit.js";
import { rawJsonBody } from "../http/json.js";
import { ProblemError, failureToProblem } from "../http/problem.js";
import { validatePayload } from "../services/schemas.js";
import { verifyHmacSignature, type ReceivedSignature } from "../webhooks/signature.js";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";
import { paymentIntentInput } from "./payment-intents.js";
import { recordReadRoutes } from "./records.js";

const tags = ["triggers"];
const manage = { scopes: ["agents:config"] } as const;

/** The bodies the rendered payload must be: the API call's own, without `agent_id` (the trigger's agent is fixed). */
const renderedBodies = {
  "payment_intents.create": wire.createPaymentIntentBody,
  "service_requests.create": wire.createServiceRequestBody.omit({ agent_id: true }),
} as const;

const triggerReads = recordReadRoutes<TriggerBody>({
  path: "/v1/triggers",
  kind: "trigger",
  noun: "trigger",
  tag: "triggers",
  scope: "agents:config",
  view: triggerView,
  schema: wire.trigger,
  listDescription: "Triggers, newest first; filter by `agent_id` and `status` (`active`, `disabled`, `deleted`). Never their secrets.",
  getDescription: "One trigger: its agent, operation, payload template and status. Never its secret.",
  listExample: "status=active",
});

function receivedSignature(request: FastifyRequest): ReceivedSignature | null {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === "string" ? value : null;
  };
  const [id, timestamp, signature] = [header("webhook-id"), header("webhook-timestamp"), header("webhook-signature")];
  return id === null || timestamp === null || signature === null ? null : { id, timestamp, signature };
}

/** What a fire recorded about the governed operation. */
type FireOutcome = Omit<TriggerFireBody, "trigger_id" | "agent_id" | "webhook_id" | "operation">;

const refused = (failure: Failure): FireOutcome => ({
  outcome: "failed", result: null, payment_intent_id: null, service_request_id: null, approval_id: null, reason_codes: [],
  error: { code: failure.code, detail: failure.detail },
});

/** Runs the trigger's operation as the API call would, in this write; returns what to record and what to dispatch. */
async function act(context: WriteContext, trigger: TriggerRecord, payload: unknown): Promise<{ outcome: FireOutcome; rails: string[]; services: string[] }> {
  const agent = await context.tx.getAgent(context.tenantId, trigger.body.agent_id);
  if (!agent) return { outcome: refused({ ok: false, code: "not_found", detail: `agent ${trigger.body.agent_id} not found` }), rails: [], services: [] };
  if (trigger.body.operation === "payment_intents.create") {
    const body = renderedBodies["payment_intents.create"].parse(payload);
    const input = paymentIntentInput(body);
    if (!input.ok) return { outcome: refused(input), rails: [], services: [] };
    const created = await createPaymentIntent(context, agent, input.value);
    if (!created.ok) return { outcome: refused(created), rails: [], services: [] };
    const view = paymentIntentView(created.value.intent);
    const outcome: TriggerOutcome =
      view.decision === "deny" ? "blocked"
      : view.approval_status === "pending_approval" ? "approval_required"
      : view.execution_status === "completed" || view.execution_status === "partially_failed" ? "executed"
      : view.execution_status === "executing" ? "running"
      : "failed";
    return {
      outcome: { outcome, result: view, payment_intent_id: view.id, service_request_id: null, approval_id: view.approval_id, reason_codes: view.reason_codes, error: null },
      rails: created.value.dispatch,
      services: [],
    };
  }
  const body = renderedBodies["service_requests.create"].parse(payload);
  const created = await createServiceRequest(context, agent, { service: body.service, operation: body.operation, payload: body.payload === undefined ? {} : body.payload }, validatePayload);
  if (!created.ok) return { outcome: refused(created), rails: [], services: [] };
  const view = serviceRequestView(created.value.request);
  const approvalId = typeof view.approval_id === "string" ? view.approval_id : null;
  return {
    outcome: { outcome: view.status, result: view, payment_intent_id: null, service_request_id: view.id, approval_id: approvalId, reason_codes: view.reason_codes ?? [], error: null },
    rails: [],
    services: created.value.dispatch,
  };
}

export const triggerRoutes: RouteModule = (app, deps) => {
  const { mutate, store, clock, rails, services } = deps;

  app.post(
    "/v1/triggers",
    {
      schema: {
        tags,
        summary: "Bind an external event to a governed action of an agent; answers the signing secret, once",
        description:
          "Creates a trigger: events POSTed to `/v1/triggers/{id}/fire`, signed per Standard Webhooks with the returned `whsec_` secret (shown once), fill `payload_template` and run `operation` as the agent, under its policy, budgets and approvals. " +
          "Placeholders are `{{field}}` or dotted paths (`{{order.total}}`); `__proto__`, `prototype` and `constructor`, nested or unbalanced braces, and placeholders in keys answer 422 `template_invalid`.",
        body: wire.createTriggerBody,
        response: { 201: wire.triggerWithSecret },
      },
      config: {
        ...manage,
        secretFields: ["secret"],
        errors: ["agent_disabled", "limit_exceeded", "not_found", "template_invalid"],
        example: {
          body: {
            agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7", name: "Pay supplier invoices", operation: "payment_intents.create",
            payload_template: { payee: "{{supplier}}", amount: "{{amount_minor}}", currency: "GBP", reference: "Invoice {{invoice.number}}" },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const agent = await store.read.getAgent(request.principal.tenantId, body.agent_id);
      if (!agent) throw notFound("agent", body.agent_id);
      return mutate(
        request,
        reply,
        (context) => createTrigger(context, agent, { name: body.name, description: body.description, operation: body.operation, payload_template: body.payload_template as Record<string, TemplateValue> }),
        ({ trigger, secret }) => ({ status: 201, body: { ...triggerView(trigger), secret } }),
      );
    },
  );

  triggerReads(app, deps);

  app.patch(
    "/v1/triggers/:id",
    {
      schema: { tags, summary: "Rename, re-template, disable or re-enable a trigger", description: "Changes a trigger's name, description, payload template or status (`active` / `disabled`; a disabled trigger answers fires with 409 `trigger_disabled`).", params: wire.idParam, body: wire.updateTriggerBody, response: { 200: wire.trigger } },
      config: { ...manage, errors: ["not_found", "template_invalid"], example: { body: { status: "disabled" } } },
    },
    async (request, reply) =>
      mutate(
        request,
        reply,
        (context) => updateTrigger(context, request.params.id, { ...request.body, payload_template: request.body.payload_template as Record<string, TemplateValue> | undefined }),
        (trigger) => ({ status: 200, body: triggerView(trigger) }),
      ),
  );

  app.delete(
    "/v1/triggers/:id",
    { schema: { tags, summary: "Delete a trigger (its fires stay)", description: "Deletes the trigger: later fires answer 404. Its recorded fires stay.", params: wire.idParam, response: { 200: wire.trigger } }, config: { ...manage, errors: ["not_found"] } },
    async (request, reply) => mutate(request, reply, (context) => deleteTrigger(context, request.params.id), (trigger) => ({ status: 200, body: triggerView(trigger) })),
  );

  app.post(
    "/v1/triggers/:id/rotate-secret",
    {
      schema: { tags, summary: "Replace a trigger's signing secret; answers the new one, once", description: "Issues a new `whsec_` secret at once: fires signed with the old one answer 401 from now on.", params: wire.idParam, response: { 200: wire.triggerWithSecret } },
      config: { ...manage, secretFields: ["secret"], errors: ["not_found"] },
    },
    async (request, reply) =>
      mutate(request, reply, (context) => rotateTriggerSecret(context, request.params.id), ({ trigger, secret }) => ({ status: 200, body: { ...triggerView(trigger), secret } })),
  );

  app.get(
    "/v1/triggers/:id/fires",
    {
      schema: { tags, summary: "A trigger's fires, newest first", description: "Every fire the trigger accepted, with its `webhook-id` and the governed outcome.", params: wire.idParam, querystring: wire.pageQuery, response: { 200: wire.page(wire.triggerFire) } },
      config: { ...manage, errors: ["not_found"] },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const trigger = await loadRecord<TriggerBody>(store.read, tenantId, "trigger", request.params.id);
      if (!trigger) throw notFound("trigger", request.params.id);
      const { limit, cursor } = request.query;
      const rows = await listRecordsOf<TriggerFireBody>(store.read, tenantId, { kind: "trigger_fire", refId: trigger.id, limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, triggerFireView);
    },
  );

  app.post(
    "/v1/triggers/:id/fire",
    {
      schema: {
        tags,
        summary: "Fire a trigger: a Standard Webhooks signed event runs the trigger's governed action (202)",
        description:
          "Authenticated by the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (Standard Webhooks `v1,` HMAC-SHA256 with the trigger's secret over the raw body), not by a Bursar credential. " +
          "Answers 202 with the governed outcome: `executed`, `running`, `approval_required`, `blocked` (the policy refused it, see `reason_codes`) or `failed` (refused before a decision, see `error`). " +
          "A repeat with the same `webhook-id` answers the first fire again (`Idempotent-Replayed: true`) and acts no more. " +
          `Errors: invalid_signature and signature_timestamp_stale (401; the timestamp must be within ${triggerFireAgeSecondsMax} s), body_too_large (413, over ${triggerFireBodyBytesMax} bytes), ` +
          `trigger_disabled (409), template_field_missing and template_injection (422: an event value holding "{{" or "}}" is refused), validation_failed (400: the rendered body is not the operation's body), rate_limited (429, over ${triggerFiresPerMinuteMax} fires a minute; only fires that pass the checks above count, refused ones count against the sender address's limit).`,
        params: wire.idParam,
        body: wire.triggerFireBody,
        response: { 202: wire.triggerFire },
      },
      // Public: the sender is a system outside Bursar. The signature is the credential, so the raw body is kept to verify it.
      config: {
        public: true,
        rawBody: true,
        errors: ["invalid_signature", "not_found", "rate_limited", "signature_timestamp_stale", "template_field_missing", "template_injection", "trigger_disabled", "validation_failed"],
        example: { body: { supplier: "Bob", amount_minor: 12000, invoice: { number: "2026-117" } } },
      },
      bodyLimit: triggerFireBodyBytesMax,
    },
    async (request, reply) => {
      const nowMs = clock.nowMs();
      const triggerId = request.params.id;
      const tenantId = await store.read.findTriggerTenant(triggerId);
      const found = tenantId === null ? null : await loadRecord<TriggerBody>(store.read, tenantId, "trigger", triggerId);
      if (!found || tenantId === null || found.body.status === "deleted") throw notFound("trigger", triggerId);
      const raw = rawJsonBody(request);
      const received = receivedSignature(request);
      const problem = raw ? verifyHmacSignature([found.body.secret], received, raw, nowMs, triggerFireAgeSecondsMax) : "no_matching_signature";
      if (problem === "stale_timestamp") throw new ProblemError("signature_timestamp_stale", `webhook-timestamp is more than ${triggerFireAgeSecondsMax} seconds from now; sign each delivery with the current time.`);
      if (problem !== null || received === null) throw new ProblemError("invalid_signature", "The webhook-signature does not verify with this trigger's secret (Standard Webhooks v1, HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`).");
      if (found.body.status !== "active") throw new ProblemError("trigger_disabled", `trigger ${triggerId} is disabled; an owner re-enables it with PATCH /v1/triggers/${triggerId}`);
      const webhookId = received.id;

      const answer = (fire: Parameters<typeof triggerFireView>[0], replayed: boolean) => {
        if (replayed) reply.header("idempotent-replayed", "true");
        return reply.code(202).send(triggerFireView(fire));
      };
      const earlier = await findTriggerFire(store.read, tenantId, triggerId, webhookId);
      if (earlier) return answer(earlier, true);

      const rendered = renderTemplate(found.body.payload_template, request.body as TemplateValue);
      if (!rendered.ok) throw failureToProblem(rendered);
      const checked = renderedBodies[found.body.operation].safeParse(rendered.value);
      if (!checked.success) {
        throw new ProblemError("validation_failed", `The rendered payload is not a valid ${found.body.operation} body: ${checked.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ")}`);
      }

      // The trigger's own limit counts the fires that reach the governed action, after the
      // signature, the template and the body checks: a refused fire (401, 409, 413, 422, 400)
      // acts on nothing and writes nothing, so it spends only the sender address's limit
      // (source-limit.ts) — an unsigned flood cannot starve the trigger, and a sender fixing
      // its payloads is not locked out by its own mistakes.
      const decision = await request.server.identity.rateLimiter.hit(`trg:${triggerId}`, triggerFiresPerMinuteMax, nowMs);
      reply.headers(rateLimitHeaders(decision, "credential"));
      if (!decision.allowed) {
        throw new ProblemError("rate_limited", `A trigger fires at most ${triggerFiresPerMinuteMax} times a minute.`, { headers: { "retry-after": String(decision.resetSeconds) } });
      }

      let dispatch = { rails: [] as string[], services: [] as string[] };
      const outcome = await store.write(tenantId, async (tx) => {
        const context: WriteContext = { tx, tenantId, nowMs, actor: { type: "system", id: triggerId } };
        // Checked again under the tenant's write lock: of two copies racing, the second sees the first.
        const repeated = await findTriggerFire(tx, tenantId, triggerId, webhookId);
        if (repeated) return { fire: repeated, replayed: true };
        const trigger = await loadRecord<TriggerBody>(tx, tenantId, "trigger", triggerId);
        if (!trigger || trigger.body.status !== "active") return { fire: null, replayed: false };
        const done = await act(context, trigger, checked.data);
        dispatch = { rails: done.rails, services: done.services };
        return { fire: await recordTriggerFire(context, trigger, webhookId, done.outcome), replayed: false };
      });
      if (!outcome.fire) throw new ProblemError("trigger_disabled", `trigger ${triggerId} was disabled or deleted meanwhile`);
      rails?.dispatch(tenantId, dispatch.rails);
      services?.dispatch(tenantId, dispatch.services);
      return answer(outcome.fire, outcome.replayed);
    },
  );
};
