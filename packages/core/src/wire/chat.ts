/** The payment agent's wire shapes: `POST /v1/chat`, `POST /v1/chat/stream`, `/v1/conversations`. */
import { z } from "zod";
import { timestamp } from "./common.js";

/**
 * A chat request. `message` has no length bound here on purpose: a message over
 * `chatMessageLengthMax` gets its own stable code, `message_too_long` (400), from the route
 * (the request body limit bounds what is read at all).
 */
export const chatBody = z.object({
  message: z.string().describe("What the user asks, in plain English"),
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
