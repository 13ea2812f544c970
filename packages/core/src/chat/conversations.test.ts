import { describe, expect, it } from "vitest";
import { chatHistoryMessagesMax, conversationStoredBytesMax } from "../limits.js";
import type { ChatMessage } from "./conversation.js";
import { boundMessages } from "./conversations.js";

/** One turn: a user message, a tool call and its result of `resultBytes`, a reply. */
function turn(index: number, resultBytes = 10): ChatMessage[] {
  return [
    { role: "user", content: `message ${index}` },
    { role: "assistant", content: null, tool_calls: [{ id: `call_${index}`, type: "function", function: { name: "get_balance", arguments: "{}" } }] },
    { role: "tool", tool_call_id: `call_${index}`, content: "x".repeat(resultBytes) },
    { role: "assistant", content: `reply ${index}` },
  ];
}

describe("boundMessages", () => {
  it("keeps everything while within both bounds", () => {
    const messages = [...turn(1), ...turn(2)];
    expect(boundMessages(messages)).toEqual(messages);
  });

  it("keeps the newest chatHistoryMessagesMax messages, whole turns, starting at a user message", () => {
    const messages = Array.from({ length: 40 }, (_, index) => turn(index)).flat();
    const kept = boundMessages(messages);
    expect(kept.length).toBeLessThanOrEqual(chatHistoryMessagesMax);
    expect(kept[0]).toMatchObject({ role: "user" });
    expect(kept.at(-1)).toEqual(messages.at(-1));
    expect(kept.length).toBe(chatHistoryMessagesMax);
  });

  it("drops older whole turns past conversationStoredBytesMax, but always keeps the newest turn", () => {
    const big = Math.floor(conversationStoredBytesMax / 3);
    const messages = [...turn(1, big), ...turn(2, big), ...turn(3, big), ...turn(4, big)];
    const kept = boundMessages(messages);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(conversationStoredBytesMax);
    expect(kept[0]).toEqual({ role: "user", content: "message 3" });
    const huge = [...turn(1), ...turn(2, conversationStoredBytesMax + 1)];
    expect(boundMessages(huge)).toEqual(turn(2, conversationStoredBytesMax + 1));
  });
});
