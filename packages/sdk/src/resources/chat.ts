/** The payment agent: `chat.send`, `chat.stream` (typed events), and the conversations it keeps. */
import { ConnectionError } from "../errors.ts";
import type { Page } from "../pagination.ts";
import { readSse } from "../sse.ts";
import type { ChatApprovalResolution, ChatApprovalResolveParams, ChatParams, ChatResponse, ChatStreamEvent, Conversation, ConversationSummary, PageParams } from "../types.ts";
import { Resource, segment, type CallOptions } from "./resource.ts";

export class Chat extends Resource {
  /**
   * One turn; the answer when it is done.
   * @example const { reply, conversation_id } = await bursar.chat.send({ message: "Pay £500 to Bob for the April invoice" });
   */
  send(params: ChatParams, options?: CallOptions): Promise<ChatResponse> {
    return this.postJson("/v1/chat", params, options);
  }

  /**
   * Owners: decide an approval a turn stopped on, then resume the turn with `continue_from` so its
   * reply reports the outcome. An agent credential is refused (403): it can never approve.
   * @example
   * const { continue_from } = await owner.chat.resolveApproval("apr_…", { decision: "approve" });
   * const { reply } = await owner.chat.send({ conversation_id, agent_id, continue_from });
   */
  resolveApproval(approvalId: string, params: ChatApprovalResolveParams, options?: CallOptions): Promise<ChatApprovalResolution> {
    return this.postJson(`/v1/chat/approvals/${segment(approvalId)}/resolve`, params, options);
  }

  /**
   * One turn as it happens: text, tool calls and results, approvals needed, the reply.
   * @example
   * for await (const event of bursar.chat.stream({ message: "What is my balance?" })) {
   *   if (event.type === "text_delta") process.stdout.write(event.text);
   * }
   */
  async *stream(params: ChatParams, options: CallOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const response = await this.client.stream("POST", "/v1/chat/stream", { ...options, body: params, headers: { accept: "text/event-stream" } });
    if (!response.body) throw new ConnectionError("chat stream without a body");
    for await (const message of readSse(response.body)) {
      if (message.data === "") continue;
      const event = { type: message.event, ...(JSON.parse(message.data) as object) } as ChatStreamEvent;
      yield event;
      if (event.type === "done") return;
    }
    throw new ConnectionError("the chat stream ended before `done`");
  }
}

export class Conversations extends Resource {
  list(params: PageParams = {}, options?: CallOptions): Promise<Page<ConversationSummary>> {
    return this.paginate("/v1/conversations", { ...params }, options);
  }
  get(id: string, options?: CallOptions): Promise<Conversation> {
    return this.getJson(`/v1/conversations/${segment(id)}`, undefined, options);
  }
  delete(id: string, options?: CallOptions): Promise<ConversationSummary> {
    return this.deleteJson(`/v1/conversations/${segment(id)}`, options);
  }
}
