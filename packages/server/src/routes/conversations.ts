/**
 * `/v1/conversations`: chats with the payment agent (scope `agents:execute`). An agent credential
 * sees only its own; owners see every agent's (filter with `agent_id`). Deleting erases the text.
 */
import { conversationSummaryView, conversationView, deleteConversation, listRecordsOf, loadRecord, ok, wire, type ConversationBody, type ConversationRecord } from "@bursar/core";
import type { FastifyRequest } from "fastify";
import type { RouteModule } from "./context.js";
import { chatAnswerRoutes, conversationMarker, erasedTurnAnswer } from "./chat.js";
import { problemTable } from "../http/problem.js";
import { listedAgentId, notFound, pageOf, visible } from "./context.js";

/** The conversation if the caller may see it and it is not deleted, else "not found". */
function visibleConversation(request: FastifyRequest, conversation: ConversationRecord | null, id: string): ConversationRecord {
  const seen = visible(request, conversation, "conversation", id);
  if (seen.body.status === "deleted") throw notFound("conversation", id);
  return seen;
}

export const conversationRoutes: RouteModule = (app, { mutate, store }) => {
  app.get(
    "/v1/conversations",
    {
      schema: { tags: ["chat"], summary: "List conversations with the payment agent, newest first (without their messages)", description: "The caller's conversations with the payment agent, newest first, without their messages.", querystring: wire.recordListQuery.omit({ status: true }), response: { 200: wire.page(wire.conversationSummary) } },
      config: { errors: ["not_found"], scopes: ["agents:execute"] },
    },
    async (request) => {
      const { limit, cursor, agent_id } = request.query;
      const agentId = listedAgentId(request, agent_id);
      const rows = await listRecordsOf<ConversationBody>(store.read, request.principal.tenantId, { kind: "conversation", agentId, status: "active", limit: limit + 1, beforeId: cursor });
      return pageOf(rows, limit, conversationSummaryView);
    },
  );

  app.get(
    "/v1/conversations/:id",
    { schema: { tags: ["chat"], summary: "Get a conversation and its kept messages", description: "One conversation with the messages kept (the most recent turns).", params: wire.idParam, response: { 200: wire.conversation } }, config: { scopes: ["agents:execute"] } },
    async (request) => {
      const { id } = request.params;
      return conversationView(visibleConversation(request, await loadRecord<ConversationBody>(store.read, request.principal.tenantId, "conversation", id), id));
    },
  );

  app.delete(
    "/v1/conversations/:id",
    { schema: { tags: ["chat"], summary: "Delete a conversation: its messages are erased", description: "Deletes the conversation and erases its messages.", params: wire.idParam, response: { 200: wire.conversationSummary } }, config: { scopes: ["agents:execute"] } },
    async (request, reply) => {
      const { id } = request.params;
      return mutate(
        request,
        reply,
        async (context) => {
          const conversation = visibleConversation(request, await loadRecord<ConversationBody>(context.tx, context.tenantId, "conversation", id), id);
          const deleted = await deleteConversation(context, conversation);
          // Recorded answers of its turns hold the text too: a replay must not bring it back.
          await context.tx.redactIdempotencyAnswers(context.tenantId, chatAnswerRoutes, conversationMarker(id), problemTable.conversation_deleted.status, erasedTurnAnswer(request.id));
          return ok(deleted);
        },
        (deleted) => ({ status: 200, body: conversationSummaryView(deleted) }),
        // The old row versions may linger in the WAL or as dead tuples: purge them once committed.
        async () => {
          await store.purgeErased();
          return null;
        },
      );
    },
  );
};
