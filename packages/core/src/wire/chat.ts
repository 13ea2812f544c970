/** The payment agent's wire shapes: `POST /v1/chat`, `POST /v1/chat/stream`, `/v1/conversations`. */
import { z } from "zod";
import { text, timestamp } from "./common.js";
import { approval } from "./governance.js";

/**
 * A chat request. `message` has no length bound here on purpose: a message over
 * `chatMessageLengthMax` gets its own stable code, `message_too_long` (400), from the route
 * (the request body limit bounds what is read at all).
 */
export const chatBody = z.object({
  message: z.string().optional().describe("What the user asks, in plain English; required unless `continue_from` is given"),
  continue_from: z
    .object({ approval_id: z.string().min(1).max(64).describe("An approval this conversation's payment or service request waits (or waited) on") })
    .strict()
    .optional()
    .describe("Resume the turn that stopped on this approval (resolved with `POST /v1/chat/approvals/{id}/resolve`): the reply reports the payment's or service request's outcome. Needs `conversation_id`"),
  conversation_id: z.string().min(1).max(64).optional().describe("Continue this conversation; without it a new one starts"),
  agent_id: z.string().max(64).optional().describe("Owners: the agent to act for (agent credentials act for themselves)"),
});

const chatMessage = z.object({
  role: z.enum(["user", "assistant", "tool"]),
  content: z.string().nullable(),
  tool_calls: z.array(z.object({ id: z.string(), type: z.literal("function"), function: z.object({ name: z.string(), arguments: z.string() }) })).optional(),
  tool_call_id: z.string().optional(),
});

/** The answer of `POST /v1/chat` (and the replay of a stream retried with its Idempotency-Key). */
export const chatResponse = z.object({
  object: z.literal("chat.response"),
  conversation_id: z.string(),
  reply: z.string(),
  new_messages: z.array(chatMessage),
  payment_intents: z.array(z.unknown()).describe("Payment intents created in this turn, as the API shows them"),
  error: z.object({ code: z.string(), message: z.string() }).optional().describe("Set when the planner failed (e.g. the model was unreachable); `reply` explains"),
});

export const conversationSummary = z.object({
  object: z.literal("conversation"),
  id: z.string(),
  agent_id: z.string(),
  title: z.string(),
  message_count: z.number().int(),
  messages_kept: z.number().int(),
  status: z.enum(["active", "deleted"]),
  created_by: z.object({ type: z.string(), id: z.string() }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const conversation = conversationSummary.extend({ messages: z.array(chatMessage) });

/** `POST /v1/chat/approvals/{id}/resolve`: an owner decides an approval a chat turn stopped on. */
export const chatApprovalResolveBody = z
  .object({
    decision: z.enum(["approve", "reject"]),
    note: text.nullable().optional().describe("Why, for the journal"),
  })
  .strict();

export const chatApprovalResolution = z.object({
  object: z.literal("chat.approval_resolution"),
  approval: approval,
  continue_from: z.object({ approval_id: z.string() }).describe("Send as `continue_from` with the conversation's id to `POST /v1/chat` (or the stream) to resume the turn"),
});
