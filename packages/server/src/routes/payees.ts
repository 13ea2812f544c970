/** `/v1/payees`: beneficiaries with aliases. Agents read (`payees:read`); owners manage (`agents:config`). */
import { createPayee, deletePayee, findPayees, listRecordsOf, loadRecord, payeeView, updatePayee, wire, type PayeeBody } from "@bursar/core";
import type { RouteModule } from "./context.js";
import { notFound, pageOf } from "./context.js";

export const payeeRoutes: RouteModule = (app, { mutate, store }) => {
  app.get(
    "/v1/payees",
    { schema: { tags: ["payees"], summary: "List payees, or find them by name or alias (?q=)", description: "The tenant's payees, newest first; `q` finds them by name or alias, as an agent would name them (\"Bob\").", querystring: wire.payeeListQuery, response: { 200: wire.page(wire.payee) } }, config: { example: {"query": "q=Bob"}, scopes: ["payees:read"] } },
    async (request) => {
      const { tenantId } = request.principal;
      const { limit, cursor, q } = request.query;
      if (q !== undefined) return { data: (await findPayees(store.read, tenantId, q)).map(payeeView), has_more: false, next_cursor: null };
      const rows = await listRecordsOf<PayeeBody>(store.read, tenantId, { kind: "payee", status: "active", limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, payeeView);
    },
  );

  app.post(
    "/v1/payees",
    { schema: { tags: ["payees"], summary: "Create a payee (and its ledger account)", description: "Creates a beneficiary and its ledger account. Agents may name it by `name` or any of its `aliases`. The rail (default `sandbox`) decides how payments to it execute.", body: wire.createPayeeBody, response: { 201: wire.payee } }, config: { errors: ["invalid_public_key", "unknown_currency"], example: {"body": {"name": "Bob Smith", "aliases": ["Bob"], "currency": "GBP"}}, scopes: ["agents:config"] } },
    async (request, reply) => {
      const { name, aliases, currency, rail, rail_details, metadata, evidence_public_key } = request.body;
      return mutate(request, reply, (context) => createPayee(context, { name, aliases, currency, rail, railDetails: rail_details, metadata, evidencePublicKey: evidence_public_key }), (payee) => ({ status: 201, body: payeeView(payee) }));
    },
  );

  app.get(
    "/v1/payees/:id",
    { schema: { tags: ["payees"], summary: "Get a payee", description: "One payee with its aliases and rail.", params: wire.idParam, response: { 200: wire.payee } }, config: { scopes: ["payees:read"] } },
    async (request) => {
      const payee = await loadRecord<PayeeBody>(store.read, request.principal.tenantId, "payee", request.params.id);
      if (!payee) throw notFound("payee", request.params.id);
      return payeeView(payee);
    },
  );

  app.patch(
    "/v1/payees/:id",
    { schema: { tags: ["payees"], summary: "Rename a payee, change its aliases, rail or metadata", description: "Changes a payee's name, aliases, rail or metadata. Absent fields stay.", params: wire.idParam, body: wire.updatePayeeBody, response: { 200: wire.payee } }, config: { errors: ["invalid_public_key"], example: {"body": {"aliases": ["Bob", "Bobby"]}}, scopes: ["agents:config"] } },
    async (request, reply) => {
      const { name, aliases, rail, rail_details, metadata, evidence_public_key } = request.body;
      return mutate(request, reply, (context) => updatePayee(context, request.params.id, { name, aliases, rail, railDetails: rail_details, metadata, evidencePublicKey: evidence_public_key }), (payee) => ({ status: 200, body: payeeView(payee) }));
    },
  );

  app.delete(
    "/v1/payees/:id",
    { schema: { tags: ["payees"], summary: "Delete a payee (its account and history stay)", description: "Removes the payee from use: agents can no longer pay it. Its account and history stay.", params: wire.idParam, response: { 200: wire.payee } }, config: { scopes: ["agents:config"] } },
    async (request, reply) => mutate(request, reply, (context) => deletePayee(context, request.params.id), (payee) => ({ status: 200, body: payeeView(payee) })),
  );
};
