/**
 * The two read routes every governance record kind has: a keyset list (newest first, filtered by
 * agent and status; an agent credential sees only its own records) and a get by id.
 */
import { listRecordsOf, loadRecord, wire, type RecordKind, type Scope, type StoredRecord } from "@bursar/core";
import type { z } from "zod";
import type { RouteModule } from "./context.js";
import { journalPageOf, listedAgentId, visible } from "./context.js";

export interface RecordReadRoutes<Body> {
  /** Collection path, e.g. `/v1/transactions`. */
  path: string;
  kind: RecordKind;
  /** What "not found" calls it, e.g. `payment intent`. */
  noun: string;
  tag: string;
  scope: Scope;
  view: (record: StoredRecord<Body>) => unknown;
  schema: z.ZodTypeAny;
  /** What the list and get operations return, for the API reference. */
  listDescription: string;
  getDescription: string;
  /** The list's example query string, e.g. `status=pending`. */
  listExample?: string;
}

export function recordReadRoutes<Body>(spec: RecordReadRoutes<Body>): RouteModule {
  return (app, { store }) => {
    app.get(
      spec.path,
      {
        schema: {
          tags: [spec.tag],
          summary: `List ${spec.noun}s, newest first`,
          description: `${spec.listDescription} \`journal_seq\` is the journal position the page was read at: a stream opened with \`after_seq\` set to it sees every later change.`,
          querystring: wire.recordListQuery,
          response: { 200: wire.journalPage(spec.schema) },
        },
        // An agent naming another agent's id in agent_id: not found.
        config: { scopes: [spec.scope], errors: ["not_found"], ...(spec.listExample ? { example: { query: spec.listExample } } : {}) },
      },
      async (request) => {
        const { limit, cursor, agent_id, status } = request.query;
        const { tenantId } = request.principal;
        const agentId = listedAgentId(request, agent_id);
        return journalPageOf(store, tenantId, limit, () => listRecordsOf<Body>(store.read, tenantId, { kind: spec.kind, agentId, status, limit: limit + 1, beforeId: cursor }), spec.view);
      },
    );

    app.get(
      `${spec.path}/:id`,
      { schema: { tags: [spec.tag], summary: `Get ${/^[aeiou]/.test(spec.noun) ? "an" : "a"} ${spec.noun}`, description: spec.getDescription, params: wire.idParam, response: { 200: spec.schema } }, config: { scopes: [spec.scope] } },
      async (request) => {
        const { id } = request.params;
        return spec.view(visible(request, await loadRecord<Body>(store.read, request.principal.tenantId, spec.kind, id), spec.noun, id));
      },
    );
  };
}
