/**
 * `/v1/service-requests` (SPEC 2.4): governed, priced calls of service operations. An agent
 * (scope `agents:execute`) asks; owners may act for an agent with `agent_id`. Answers:
 * 200 `executed` (with `result`), `blocked` or `failed`; 202 `approval_required` or `running`
 * (poll `GET /v1/service-requests/{id}`). An HTTP operation is waited for up to
 * `serviceRequestWaitMs` (none with `Prefer: respond-async`, RFC 7240) before answering `running`;
 * `sandbox.slow` always answers `running`.
 */
import {
  createServiceRequest,
  listRecordsOf,
  loadRecord,
  sandboxServiceId,
  serviceRequestView,
  wire,
  type ServiceRequestBody,
  type ServiceRequestRecord,
} from "@bursar/core";
import { validatePayload } from "../services/schemas.js";
import type { Answer, RouteModule } from "./context.js";
import { forActingAgent, journalPageOf, listedAgentId, visible } from "./context.js";

const tags = ["service requests"];
const config = { scopes: ["agents:execute"] } as const;

/** 202 while the outcome is still to come, 200 once it is known. */
function answerOf(request: ServiceRequestRecord): Answer {
  const pending = request.body.status === "running" || request.body.status === "approval_required";
  return { status: pending ? 202 : 200, body: serviceRequestView(request) };
}

export const serviceRequestRoutes: RouteModule = (app, { mutate, store, services, serviceRequestWaitMs }) => {
  app.post(
    "/v1/service-requests",
    {
      schema: {
        tags,
        summary: "Call a priced service operation under policy, budget and approval", description: "Runs a priced operation under the agent's policy, budget and approval rules, like a payment: `executed` (with the result), `blocked` (with reasons), `approval_required`, `failed`, or `running` (202: poll `GET /v1/service-requests/{id}`).",
        body: wire.createServiceRequestBody,
        response: { 200: wire.serviceRequest, 202: wire.serviceRequest },
      },
      config: { ...config, errors: ["agent_disabled", "limit_exceeded", "not_found", "payload_invalid", "service_not_found"], example: {"body": {"service": "sandbox", "operation": "echo", "payload": {"text": "hello"}, "agent_id": "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7"}} },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      const body = request.body;
      const prefer = request.headers.prefer;
      const respondAsync = /\brespond-async\b/i.test(Array.isArray(prefer) ? prefer.join(",") : (prefer ?? ""));
      return mutate(
        request,
        reply,
        forActingAgent(request, body.agent_id, (context, agent) => createServiceRequest(context, agent, { service: body.service, operation: body.operation, payload: body.payload === undefined ? {} : body.payload }, validatePayload)),
        (change) => answerOf(change.request),
        async (change) => {
          if (!services || change.dispatch.length === 0) return null;
          services.dispatch(tenantId, change.dispatch);
          const created = change.request;
          if (created.body.service_id === sandboxServiceId) return null;
          if (respondAsync) {
            reply.header("preference-applied", "respond-async");
            return null;
          }
          await services.waitFor(created.id, serviceRequestWaitMs);
          const now = await loadRecord<ServiceRequestBody>(store.read, tenantId, "service_request", created.id);
          return now ? answerOf(now) : null;
        },
      );
    },
  );

  app.get(
    "/v1/service-requests",
    { schema: { tags, summary: "List service requests, newest first (an agent sees its own)", description: "Service requests, newest first. An agent sees its own. `journal_seq` is the journal position the page was read at: a stream opened with `after_seq` set to it sees every later change.", querystring: wire.serviceRequestListQuery, response: { 200: wire.journalPage(wire.serviceRequest) } }, config: { ...config, errors: ["not_found"] } },
    async (request) => {
      const { limit, cursor, agent_id, status } = request.query;
      const { tenantId } = request.principal;
      const agentId = listedAgentId(request, agent_id);
      return journalPageOf(store, tenantId, limit, () => listRecordsOf<ServiceRequestBody>(store.read, tenantId, { kind: "service_request", agentId, status, limit: limit + 1, beforeId: cursor }), serviceRequestView);
    },
  );

  app.get(
    "/v1/service-requests/:id",
    { schema: { tags, summary: "Get a service request (poll a running one)", description: "One service request; poll a `running` one until it settles.", params: wire.idParam, response: { 200: wire.serviceRequest } }, config },
    async (request) => {
      const { id } = request.params;
      const found = await loadRecord<ServiceRequestBody>(store.read, request.principal.tenantId, "service_request", id);
      return serviceRequestView(visible(request, found, "service request", id));
    },
  );
};
