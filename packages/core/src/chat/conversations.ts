/**
 * Conversations (SPEC 1 `conv_`): a chat between a caller and the payment agent, stored as one
 * `conversation` record per chat with its messages in the body, for one agent.
 *
 * Bounds: the newest `chatHistoryMessagesMax` messages (whole turns) and at most
 * `conversationStoredBytesMax` bytes of them are kept; older turns are dropped. A planner sees
 * the same window, so nothing a planner could use is lost.
 *
 * Not journaled, on purpose: the journal is append-only forever, signed, and sent to webhooks,
 * while chat text is whatever a person typed (possibly personal or confidential) and must be
 * erasable with `DELETE /v1/conversations/{id}`. What a chat *does* is journaled as it happens:
 * a payment intent made by the agent's tool is `payment_intent.created`, like any other.
 */
import type { Actor } from "../journal/types.js";
import type { StoredRecord } from "../governance/records.js";
import { loadRecord, recordStamp, saveRecord } from "../governance/store.js";
import { chatHistoryMessagesMax, conversationStoredBytesMax } from "../limits.js";
import type { StoreTx } from "../ports.js";
import { toRfc3339 } from "../time.js";
import { keepRecent, type ChatMessage } from "./conversation.js";
import { utf8Bytes } from "./tools.js";

/** Characters of a conversation's title (its first message, shortened). */
const titleLengthMax = 80;

export interface ConversationBody {
  agent_id: string;
  /** The first user message, shortened: what the list shows. Erased on delete. */
  title: string;
  /** The newest messages (see the module comment), oldest first, in OpenAI's chat format. */
  messages: ChatMessage[];
  /** Every message ever added, including those no longer kept. */
  message_count: number;
  status: "active" | "deleted";
  created_by: Actor;
}
export type ConversationRecord = StoredRecord<ConversationBody>;

/** A conversation without its messages, as `GET /v1/conversations` lists it. */
export function conversationSummaryView(conversation: ConversationRecord) {
  const { messages: _messages, ...body } = conversation.body;
  return { object: "conversation" as const, ...recordStamp(conversation, toRfc3339), ...body, messages_kept: conversation.body.messages.length };
}

/** A conversation with its kept messages. */
export function conversationView(conversation: ConversationRecord) {
  return { ...conversationSummaryView(conversation), messages: conversation.body.messages };
}

/**
 * The messages a conversation keeps: the newest `chatHistoryMessagesMax`, then older whole turns
 * dropped while over `conversationStoredBytesMax` (the newest turn always stays; each of its
 * messages is bounded on its own).
 */
export function boundMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  let kept = keepRecent(messages, chatHistoryMessagesMax);
  while (utf8Bytes(JSON.stringify(kept)) > conversationStoredBytesMax) {
    const nextTurn = kept.findIndex((message, index) => index > 0 && message.role === "user");
    if (nextTurn <= 0) break;
    kept = kept.slice(nextTurn);
  }
  return kept;
}

/**
 * Appends one turn's messages to conversation `id` of `agentId`, creating it when it does not
 * exist yet. Reads the conversation inside the write, so two turns finishing at once both keep
 * their messages (in commit order). Returns null, saving nothing, when the conversation was
 * deleted while the turn ran, or belongs to another agent.
 */
export async function appendToConversation(
  context: { tx: StoreTx; tenantId: string; nowMs: number; actor: Actor },
  id: string,
  agentId: string,
  messages: ChatMessage[],
): Promise<ConversationRecord | null> {
  const existing = await loadRecord<ConversationBody>(context.tx, context.tenantId, "conversation", id);
  if (existing && (existing.body.status === "deleted" || existing.agentId !== agentId)) return null;
  const firstUser = messages.find((message) => message.role === "user");
  const conversation: ConversationRecord = existing ?? {
    tenantId: context.tenantId, kind: "conversation", id, agentId, status: "active", refId: null, dueAtMs: null,
    createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      agent_id: agentId, title: firstUser ? titleOf(firstUser.content) : "", messages: [], message_count: 0, status: "active", created_by: context.actor,
    },
  };
  const updated: ConversationRecord = {
    ...conversation,
    updatedAtMs: context.nowMs,
    body: { ...conversation.body, messages: boundMessages([...conversation.body.messages, ...messages]), message_count: conversation.body.message_count + messages.length },
  };
  await saveRecord(context.tx, updated, existing === null);
  return updated;
}

/** Deletes a conversation: its text is erased (title and messages), the record stays as `deleted`. */
export async function deleteConversation(context: { tx: StoreTx; tenantId: string; nowMs: number }, conversation: ConversationRecord): Promise<ConversationRecord> {
  const deleted: ConversationRecord = {
    ...conversation, status: "deleted", updatedAtMs: context.nowMs,
    body: { ...conversation.body, title: "", messages: [], status: "deleted" },
  };
  await saveRecord(context.tx, deleted, false);
  return deleted;
}

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= titleLengthMax ? line : `${line.slice(0, titleLengthMax - 1)}…`;
}
