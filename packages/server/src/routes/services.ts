/**
 * `/v1/services`: the catalog. Agents (`agents:execute`) and owners read it: the built-in
 * `sandbox` service and the tenant's HTTP services, with prices and input schemas. Owners
 * (`agents:config`) register, change and delete HTTP services; every operation URL passes the
 * SSRF guard and every input schema must compile (ajv, strict) within its size bound.
 */
import { createService, deleteService, findService, listCatalog, serviceView, updateService, wire, type ServiceInput } from "@bursar/core";
import { z } from "zod";
import { ProblemError } from "../http/problem.js";
import { inputSchemaProblem, unsafeSchemaPattern } from "../services/schemas.js";
import { checkWebhookTarget, parseWebhookUrl } from "../webhooks/target-guard.js";
import type { RouteModule } from "./context.js";
import { notFound } from "./context.js";

const tags = ["services"];
const config = { scopes: ["agents:config"] } as const;
type OperationBody = z.infer<typeof wire.createServiceBody>["operations"][number];

export const serviceRoutes: RouteModule = (app, { mutate, store, allowPrivateWebhookTargets }) => {
  /** Checks every operation's URL and schema before anything is written. */
  async function checkedOperations(operations: OperationBody[]): Promise<ServiceInput["operations"]> {
    const checked: ServiceInput["operations"] = [];
    for (const [index, operation] of operations.entries()) {
      const url = parseWebhookUrl(operation.url);
      if (!url) throw new ProblemError("service_url_forbidden", `operations.${index}.url must be an absolute http or https URL without credentials.`);
      const target = await checkWebhookTarget(url, allowPrivateWebhookTargets);
      if (!target.ok) throw new ProblemError("service_url_forbidden", `operations.${index}.url is not allowed: ${target.reason}.`);
      // ReDoS: a pattern must run on the linear-time engine (services/schemas.ts).
      const unsafe = unsafeSchemaPattern(operation.input_schema);
      if (unsafe) {
        const path = `body.operations.${index}.input_schema.${unsafe.path}`;
        throw new ProblemError("schema_pattern_unsafe", `${path}: ${unsafe.detail}`, { errors: [{ path, code: "schema_pattern_unsafe", detail: unsafe.detail }] });
      }
      const problem = inputSchemaProblem(operation.input_schema);
      if (problem) {
        throw new ProblemError("service_schema_invalid", `operations.${index}.input_schema is not a usable JSON Schema.`, {
          errors: [{ path: `body.operations.${index}.input_schema`, code: "service_schema_invalid", detail: problem }],
        });
      }
      checked.push({ ...operation, url: url.toString() });
    }
    return checked;
  }

  app.get(
    "/v1/services",
    { schema: { tags, summary: "The catalog: built-in and registered services, their operations, prices and input schemas", description: "Every service the caller may use: the built-in `sandbox` and the tenant's registered HTTP services, with their operations, prices in minor units and input JSON Schemas.", response: { 200: wire.page(wire.service) } }, config: { scopes: ["agents:execute"] } },
    async (request) => ({ data: (await listCatalog(store.read, request.principal.tenantId)).map(serviceView), has_more: false, next_cursor: null }),
  );

  app.get(
    "/v1/services/:id",
    { schema: { tags, summary: "Get a service by id or name", description: "One service by id or name, with its operations.", params: wire.idParam, response: { 200: wire.service } }, config: { scopes: ["agents:execute"] } },
    async (request) => {
      const service = await findService(store.read, request.principal.tenantId, request.params.id);
      if (!service) throw notFound("service", request.params.id);
      return serviceView(service);
    },
  );

  app.post(
    "/v1/services",
    { schema: { tags, summary: "Register an HTTP service (and its ledger accounts)", description: "Registers an HTTP service: each operation has a price per call, a URL Bursar POSTs the payload to, and an input JSON Schema payloads must match (docs/services.md).", body: wire.createServiceBody, response: { 201: wire.service } }, config: { ...config, errors: ["schema_pattern_unsafe", "service_name_taken", "service_schema_invalid", "service_url_forbidden"], example: {"body": {"name": "geocoder", "description": "Addresses to coordinates", "operations": [{"name": "lookup", "url": "https://geo.example.com/lookup", "price": 5, "currency": "GBP", "input_schema": {"type": "object", "properties": {"address": {"type": "string"}}, "required": ["address"]}}]}} } },
    async (request, reply) => {
      const { name, description, operations, metadata } = request.body;
      const checked = await checkedOperations(operations);
      return mutate(request, reply, (context) => createService(context, { name, description, operations: checked, metadata }), (service) => ({ status: 201, body: serviceView(service) }));
    },
  );

  app.patch(
    "/v1/services/:id",
    { schema: { tags, summary: "Change a service: name, description, operations (prices, URLs, schemas), metadata", description: "Changes a service's name, description, operations or metadata. A changed operation gets a new version; running requests keep theirs.", params: wire.idParam, body: wire.updateServiceBody, response: { 200: wire.service } }, config: { ...config, errors: ["schema_pattern_unsafe", "service_name_taken", "service_schema_invalid", "service_url_forbidden"], example: {"body": {"description": "Addresses to coordinates (EU)"}} } },
    async (request, reply) => {
      const { name, description, operations, metadata } = request.body;
      const checked = operations === undefined ? undefined : await checkedOperations(operations);
      return mutate(request, reply, (context) => updateService(context, request.params.id, { name, description, operations: checked, metadata }), (service) => ({ status: 200, body: serviceView(service) }));
    },
  );

  app.delete(
    "/v1/services/:id",
    { schema: { tags, summary: "Remove a service from the catalog (its accounts and history stay)", description: "Removes the service from the catalog; new requests to it fail with `service_not_found`. Its accounts and history stay.", params: wire.idParam, response: { 200: wire.service } }, config },
    async (request, reply) => mutate(request, reply, (context) => deleteService(context, request.params.id), (service) => ({ status: 200, body: serviceView(service) })),
  );
};
