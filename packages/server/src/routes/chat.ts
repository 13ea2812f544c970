/**
 * `POST /v1/chat` and `POST /v1/chat/stream`: one message to the payment agent (SPEC 3 "The
 * payment agent (chat)"; docs/chat.md). Scope `agents:execute`; an agent credential chats as
 * itself, an owner names the agent with `agent_id` (and needs `agents:config`).
 *
 * A turn is not one transaction: each tool call that changes something (a payment intent) is its
 * own durable write, committed as it happens and journaled like the same call over HTTP; the
 * conversation is appended in one more write at the end of the turn. With an Idempotency-Key the
 * answer is recorded in that last write, so a retry gets the first turn's answer (as JSON, for the
 * stream too) and never pays twice.
 */
import {
  appendToConversation,
  approvalView,
  decideApproval,
  chatMessageLengthMax,
  conversationsPerAgentMax,
  eventStreamBufferedBytesMax,
  loadRecord,
  newId,
  runTurn,
  wire,
  type ChatEvent,
  type ApprovalBody,
  type ConversationBody,
  type TurnContinuation,
  type TurnResult,
} from "@bursar/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ServerResponse } from "node:http";
import type { z } from "zod";
import { chatServices, createChatTools } from "../chat/tools.js";
import { recordedBody, returnIdempotencyClaim, takeIdempotencyClaim } from "../http/idempotency.js";
import { ProblemError, problemBody, problemTable } from "../http/problem.js";
import { openEventStream, sseMessage } from "../http/sse.js";
import type { RouteDeps, RouteModule } from "./context.js";
import { actingAgent, notFound } from "./context.js";

type ChatBody = z.infer<typeof wire.chatBody>;

/** Both chat routes carry one operation, a turn: an Idempotency-Key is scoped to this route for both. */
export const chatIdempotencyRoute = "/v1/chat";

/** Routes whose recorded answers may hold a conversation's text (the stream's, from before they shared a scope). */
export const chatAnswerRoutes = [chatIdempotencyRoute, "/v1/chat/stream"] as const;

/**
 * What a replay of a turn answers once its conversation is deleted: 410 `conversation_deleted`,
 * without the text. The turn's effects (a payment it made) stand, and are not made again.
 */
export function erasedTurnAnswer(requestId: string): string {
  const problem = new ProblemError("conversation_deleted", "This turn's conversation was deleted and its messages erased; what the turn did (a payment) stands and is not repeated.");
  return JSON.stringify(problemBody(problem, requestId));
}

/** The text a turn's recorded answer holds that names its conversation (see `redactIdempotencyAnswers`). */
export function conversationMarker(conversationId: string): string {
  return `"conversation_id":${JSON.stringify(conversationId)}`;
}

/** A turn ready to run: everything checked that could fail before any event is sent. */
interface PreparedTurn {
  conversationId: string;
  agentId: string;
  input: Omit<Parameters<typeof runTurn>[0], "emit" | "signal">;
}

/** Checks the request and loads the conversation; throws problems (sent as problem+json). */
async function prepare(deps: RouteDeps, request: FastifyRequest, body: ChatBody): Promise<PreparedTurn> {
  const { tenantId, principalType, principalId, scopes } = request.principal;
  const { conversation_id, continue_from } = body;
  if (continue_from !== undefined && conversation_id === undefined) throw new ProblemError("validation_failed", "continue_from resumes a conversation: give its conversation_id too");
  if (continue_from !== undefined && body.message !== undefined && body.message.trim() !== "") {
    throw new ProblemError("validation_failed", "give either a message or continue_from, not both: a resumed turn reports the approval's outcome");
  }
  if (continue_from === undefined && body.message === undefined) throw new ProblemError("validation_failed", "message is required");
  let message = body.message ?? "";
  if (message.length > chatMessageLengthMax) throw new ProblemError("message_too_long", `Messages are limited to ${chatMessageLengthMax} characters; this one has ${message.length}.`);
  if (continue_from === undefined && message.trim() === "") throw new ProblemError("validation_failed", "message must not be empty");
  const agent = await actingAgent(deps.store, request, body.agent_id);
  const agentId = agent.id;
  let history: ConversationBody["messages"] = [];
  if (conversation_id !== undefined) {
    const conversation = await loadRecord<ConversationBody>(deps.store.read, tenantId, "conversation", conversation_id);
    // Another agent's conversation, or a deleted one, is "not found": its id tells nothing.
    if (!conversation || conversation.agentId !== agentId || conversation.body.status === "deleted") throw notFound("conversation", conversation_id);
    history = conversation.body.messages;
  } else {
    // Checked before the turn runs: refusing after it would leave a payment without its chat.
    const active = await deps.store.read.countRecords(tenantId, { kind: "conversation", agentId, status: "active" }, conversationsPerAgentMax);
    if (active >= conversationsPerAgentMax) {
      throw new ProblemError("conversations_limit_reached", `An agent keeps at most ${conversationsPerAgentMax} conversations; delete some, or continue one with conversation_id.`);
    }
  }
  let continueFrom: TurnContinuation | undefined;
  if (continue_from !== undefined) {
    continueFrom = await continuationOf(deps, tenantId, agentId, continue_from.approval_id, history);
    message =
      continueFrom.subjectType === "service_request"
        ? `An owner resolved approval ${continueFrom.approvalId} (${continueFrom.approvalStatus}) of service request ${continueFrom.subjectId}. Report what happened to that service request.`
        : `An owner resolved approval ${continueFrom.approvalId} (${continueFrom.approvalStatus}) of payment intent ${continueFrom.subjectId}. Report what happened to that payment.`;
  }
  const tools = createChatTools({
    store: deps.store, clock: deps.clock, rails: deps.rails, tenantId, agentId,
    actor: { type: principalType, id: principalId }, scopes, services: deps.services ? chatServices(deps.services) : null,
  });
  return {
    conversationId: conversation_id ?? newId("conv", deps.clock.nowMs()),
    agentId,
    input: { planner: deps.planner, tools, history, message, nowMs: deps.clock.nowMs(), ...(continueFrom ? { continueFrom } : {}) },
  };
}

/**
 * The approval a resumed turn continues from: an approval of one of this agent's payment intents
 * or service requests that this conversation's own tool results name (a turn cannot be "resumed"
 * from someone else's approval). Anything else is "not found". Those are the only approvals a
 * chat turn can raise: no chat tool creates spend authorizations or escrow intents, so their
 * approvals are never named by a conversation's tool results (and would be refused below).
 */
async function continuationOf(deps: RouteDeps, tenantId: string, agentId: string, approvalId: string, history: ConversationBody["messages"]): Promise<TurnContinuation> {
  const approval = await loadRecord<ApprovalBody>(deps.store.read, tenantId, "approval", approvalId);
  const named = history.some((entry) => entry.role === "tool" && entry.content.includes(JSON.stringify(approvalId)));
  if (!approval || approval.body.agent_id !== agentId || !named) throw notFound("approval in this conversation", approvalId);
  const subjectType = approval.body.subject_type;
  if (subjectType !== "payment_intent" && subjectType !== "service_request") {
    throw new ProblemError("validation_failed", `continue_from resumes turns that stopped on a payment or a service request; ${approvalId} is for a ${subjectType}`);
  }
  return { approvalId, approvalStatus: approval.body.status, subjectType, subjectId: approval.body.subject_id };
}

/** The body of `POST /v1/chat`. */
function chatAnswer(turn: PreparedTurn, result: TurnResult) {
  return {
    object: "chat.response" as const,
    conversation_id: turn.conversationId,
    reply: result.reply,
    new_messages: result.new_messages,
    payment_intents: result.payment_intents,
    ...(result.error ? { error: result.error } : {}),
  };
}

/**
 * Appends the turn to its conversation in one durable write, with the Idempotency-Key's answer
 * when the request has one. A conversation deleted while the turn ran stays deleted, and the
 * answer recorded for a replay is then the erasure's, not the text.
 */
async function saveTurn(deps: RouteDeps, request: FastifyRequest, turn: PreparedTurn, result: TurnResult, answer: unknown): Promise<void> {
  const { tenantId, principalType, principalId } = request.principal;
  const claim = takeIdempotencyClaim(request);
  try {
    await deps.store.write(tenantId, async (tx) => {
      const context = { tx, tenantId, nowMs: deps.clock.nowMs(), actor: { type: principalType, id: principalId } };
      const saved = await appendToConversation(context, turn.conversationId, turn.agentId, result.new_messages);
      if (!claim) return;
      if (saved) await tx.completeIdempotencyKey(claim, 200, recordedBody(request, answer));
      else await tx.completeIdempotencyKey(claim, problemTable.conversation_deleted.status, erasedTurnAnswer(request.id));
    });
  } catch (error) {
    if (claim) returnIdempotencyClaim(request, claim);
    throw error;
  }
}

/** Aborts the turn (an LLM request in flight) when the client goes away before the answer. */
function abortWhenGone(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}


/**
 * Writes to a stream, waiting while the client reads slower than the turn produces (the runner
 * awaits `emit`, so a slow reader slows the turn instead of growing a buffer). Returns false when
 * the client is gone.
 */
async function write(raw: ServerResponse, text: string): Promise<boolean> {
  if (raw.destroyed || raw.writableEnded) return false;
  if (raw.write(text) || raw.writableLength <= eventStreamBufferedBytesMax) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      raw.off("drain", done);
      raw.off("close", done);
      resolve();
    };
    raw.on("drain", done);
    raw.on("close", done);
  });
  return !raw.destroyed;
}

export const chatRoutes: RouteModule = (app, deps) => {
  app.post(
    "/v1/chat/approvals/:id/resolve",
    {
      schema: {
        tags: ["chat"],
        summary: "Decide, from the chat, an approval a turn stopped on (owners only); then resume the turn with continue_from",
        description:
          "The owner's side of an inline approval: approves or rejects it as `POST /v1/approvals/{id}/approve` or `/reject` would (the same decision, journal and dispatch), and answers `continue_from` to send with the conversation's id to `POST /v1/chat` so the reply reports the outcome. " +
          "Needs `approvals:write`, which an agent credential never holds: an agent — even in its own chat — gets 403.",
        params: wire.idParam,
        body: wire.chatApprovalResolveBody,
        response: { 200: wire.chatApprovalResolution },
      },
      config: { scopes: ["approvals:write"], errors: ["approval_not_pending", "approver_not_allowed", "not_found"], example: { body: { decision: "approve", note: "Invoice checked" } } },
    },
    async (request, reply) => {
      const { tenantId, agentId } = request.principal;
      const verdict = request.body.decision;
      let dispatch: string[] = [];
      const sent = await deps.mutate(
        request,
        reply,
        (context) => decideApproval(context, request.params.id, verdict, request.body.note ?? null, agentId),
        (change) => {
          dispatch = change.dispatch;
          return { status: 200, body: { object: "chat.approval_resolution" as const, approval: approvalView(change.approval), continue_from: { approval_id: change.approval.id } } };
        },
      );
      deps.rails?.dispatch(tenantId, dispatch.filter((id) => !id.startsWith("sr_")));
      deps.services?.dispatch(tenantId, dispatch.filter((id) => id.startsWith("sr_")));
      return sent;
    },
  );

  app.post(
    "/v1/chat",
    {
      schema: {
        tags: ["chat"],
        summary: "Send a message to the payment agent",
        description: `The agent acts through the same governed operations as the API and can never approve, change a policy or reveal a secret. Messages over ${chatMessageLengthMax} characters answer 400 message_too_long.`,
        body: wire.chatBody,
        response: { 200: wire.chatResponse },
      },
      config: {
        scopes: ["agents:execute"],
        idempotencyRoute: chatIdempotencyRoute,
        errors: ["message_too_long", "not_found", "conversation_deleted", "conversations_limit_reached"],
        example: { body: { message: "Pay £500 to Bob for the April invoice", agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7" } },
      },
    },
    async (request, reply) => {
      const turn = await prepare(deps, request, request.body);
      const controller = abortWhenGone(reply);
      const result = await runTurn({ ...turn.input, signal: controller.signal });
      const answer = chatAnswer(turn, result);
      await saveTurn(deps, request, turn, result, answer);
      return reply.code(200).send(answer);
    },
  );

  app.post(
    "/v1/chat/stream",
    {
      schema: {
        tags: ["chat"],
        summary: "Send a message to the payment agent and stream the turn (Server-Sent Events)",
        description:
          "Events: `conversation {conversation_id, agent_id}`, then `text_delta {text}`, `tool_started {tool_call_id, tool_name, arguments}`, " +
          "`tool_completed {tool_call_id, tool_name, result}`, `tool_failed {tool_call_id, tool_name, error}`, " +
          "`approval_required {approval_id, payment_intent_id, amount, currency, reason_codes}`, then `reply {text}` or `error {code, message}`, and last `done {conversation_id}`. " +
          "Problems found before the turn starts (auth, validation, message_too_long, an unknown conversation) answer problem+json instead.",
        body: wire.chatBody,
      },
      config: {
        scopes: ["agents:execute"],
        idempotencyRoute: chatIdempotencyRoute,
        errors: ["message_too_long", "not_found", "conversation_deleted", "conversations_limit_reached"],
        example: { body: { message: "What is my balance?", agent_id: "agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7" } },
        streamEvents: {
          events: [
            { event: "conversation", description: "first: `{conversation_id, agent_id}`" },
            { event: "text_delta", description: "part of the reply, `{text}`" },
            { event: "tool_started", description: "`{tool_call_id, tool_name, arguments}`" },
            { event: "tool_completed", description: "`{tool_call_id, tool_name, result}`" },
            { event: "tool_failed", description: "`{tool_call_id, tool_name, error}`" },
            { event: "approval_required", description: "a payment waits on an owner: `{approval_id, payment_intent_id, amount, currency, reason_codes}`" },
            { event: "reply", description: "the whole reply, `{text}`" },
            { event: "error", description: "the turn failed, `{code, message}`" },
            { event: "done", description: "last: `{conversation_id}`" },
          ],
          example:
            'event: conversation\ndata: {"conversation_id":"conv_01JD5Y4Q7X8ZK3M2N1P0R9S8T7","agent_id":"agt_01JD5Y4Q7X8ZK3M2N1P0R9S8T7"}\n\n' +
            'event: tool_started\ndata: {"tool_call_id":"call_1","tool_name":"get_balance","arguments":{}}\n\n' +
            'event: reply\ndata: {"text":"Your balance is 1000.00 GBP."}\n\n' +
            'event: done\ndata: {"conversation_id":"conv_01JD5Y4Q7X8ZK3M2N1P0R9S8T7"}\n\n',
        },
      },
    },
    async (request, reply) => {
      const turn = await prepare(deps, request, request.body);
      const raw = openEventStream(request, reply);
      const controller = abortWhenGone(reply);
      const send = async (type: string, data: unknown) => {
        await write(raw, sseMessage(type, data));
      };
      await send("conversation", { conversation_id: turn.conversationId, agent_id: turn.agentId });
      try {
        const result = await runTurn({
          ...turn.input,
          signal: controller.signal,
          emit: async (event: ChatEvent) => {
            const { type, ...data } = event;
            await send(type, data);
          },
        });
        await saveTurn(deps, request, turn, result, chatAnswer(turn, result));
      } catch (error) {
        // The stream is open: the failure can only be told as an event. Its message may hold
        // internals, so it is logged, not sent.
        request.log.error({ err: error }, "chat turn failed");
        await send("error", { code: "internal_error", message: "The turn failed; anything already done above stands." });
        const claim = takeIdempotencyClaim(request);
        if (claim) await deps.store.write(request.principal.tenantId, (tx) => tx.releaseIdempotencyKey(claim)).catch(() => undefined);
      }
      await send("done", { conversation_id: turn.conversationId });
      if (!raw.destroyed && !raw.writableEnded) raw.end();
    },
  );
};
