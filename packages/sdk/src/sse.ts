/**
 * A Server-Sent Events reader (WHATWG HTML §9.2.6 "Interpreting an event stream") over a fetch
 * body, for runtimes without EventSource and because EventSource cannot send the DPoP headers.
 */
import { ConnectionError } from "./errors.ts";
import { eventStreamMessageBytesMax } from "./limits.ts";

/** One dispatched message. */
export interface SseMessage {
  /** The `id:` field, when the message had one. */
  id: string | undefined;
  event: string;
  data: string;
  /** The `retry:` field, when the message had one (ms). */
  retryMs: number | undefined;
}

/**
 * Reads messages until the stream ends. `onBytes` is called for every chunk (heartbeats included)
 * so the caller can run an idle timer. Messages over `eventStreamMessageBytesMax` end the stream
 * with an error rather than grow memory without bound.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, onBytes: () => void = () => undefined): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  let dataLength = 0;
  let event = "";
  let id: string | undefined;
  let retryMs: number | undefined;
  let lastWasCr = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      onBytes();
      let text = decoder.decode(value, { stream: true });
      // A CRLF split across chunks: the LF belongs to the CR already handled.
      if (lastWasCr && text.startsWith("\n")) text = text.slice(1);
      buffer += text;
      lastWasCr = buffer.endsWith("\r");
      let match: RegExpExecArray | null;
      const lineEnd = /\r\n|\n|\r/g;
      let consumed = 0;
      while ((match = lineEnd.exec(buffer)) !== null) {
        // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
        const line = buffer.slice(consumed, match.index);
        consumed = match.index + match[0].length;
        if (line === "") {
          if (data.length > 0) yield { id, event: event || "message", data: data.join("\n"), retryMs };
          data = [];
          dataLength = 0;
          event = "";
          retryMs = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let fieldValue = colon < 0 ? "" : line.slice(colon + 1);
        if (fieldValue.startsWith(" ")) fieldValue = fieldValue.slice(1);
        if (field === "data") {
          dataLength += fieldValue.length;
          if (dataLength > eventStreamMessageBytesMax) throw new ConnectionError(`an event stream message exceeded ${eventStreamMessageBytesMax} bytes`);
          data.push(fieldValue);
        } else if (field === "event") event = fieldValue;
        else if (field === "id" && !fieldValue.includes("\0")) id = fieldValue;
        else if (field === "retry" && /^\d+$/.test(fieldValue)) retryMs = Number(fieldValue);
      }
      buffer = buffer.slice(consumed);
      if (buffer.length > eventStreamMessageBytesMax) throw new ConnectionError(`an event stream line exceeded ${eventStreamMessageBytesMax} bytes`);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
