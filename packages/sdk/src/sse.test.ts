/** The SSE reader on the tricky parts of WHATWG HTML §9.2.6: line endings split across chunks, comments, multi-line data, ids. */
import { describe, expect, it } from "vitest";
import { readSse, type SseMessage } from "./sse.ts";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function read(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const message of readSse(streamOf(chunks))) out.push(message);
  return out;
}

describe("readSse", () => {
  it("parses fields, comments, retry, multi-line data and keeps the last id", async () => {
    const messages = await read([": open\nretry: 1000\n\n", "id: 1\nevent: a.b\ndata: {\"x\":\ndata: 1}\n\n", ": heartbeat\n\n", "data:no-space\n\n"]);
    expect(messages).toEqual([
      { id: "1", event: "a.b", data: '{"x":\n1}', retryMs: undefined },
      { id: "1", event: "message", data: "no-space", retryMs: undefined },
    ]);
  });

  it("handles CRLF, CR, and CRLF split across chunks, and a multi-byte character split across chunks", async () => {
    const euro = new TextEncoder().encode("€");
    const messages = await read(["id: 7\r", "\ndata: a\r\n\r", "\ndata: b\r\rdata: £", "\n\n"]);
    expect(messages.map((m) => [m.id, m.data])).toEqual([["7", "a"], ["7", "b"], ["7", "£"]]);
    const split = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([...new TextEncoder().encode("data: "), euro[0]!]));
        controller.enqueue(new Uint8Array([euro[1]!, euro[2]!, 10, 10]));
        controller.close();
      },
    });
    const out: string[] = [];
    for await (const message of readSse(split)) out.push(message.data);
    expect(out).toEqual(["€"]);
  });

  it("drops an unfinished message at the end of the stream", async () => {
    expect(await read(["data: whole\n\n", "data: half"])).toHaveLength(1);
  });
});
