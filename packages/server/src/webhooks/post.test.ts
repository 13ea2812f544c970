import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookResponseBodyBytesMax } from "@bursar/core";
import { postWebhook } from "./post.js";

describe("webhook POST", () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      request.resume();
      if (request.url === "/huge") {
        // An endless body: the sender must stop reading at the limit.
        response.writeHead(200);
        const chunk = "x".repeat(64 * 1024);
        const pump = () => {
          while (response.write(chunk)) if (response.destroyed) return;
          response.once("drain", pump);
        };
        pump();
      } else if (request.url === "/slow") {
        // never answers
      } else {
        response.writeHead(302, { location: "http://127.0.0.1:1/" }).end("moved");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const target = { address: "127.0.0.1", family: 4 };

  it("reads at most the response-body limit of an endless body", async () => {
    const result = await postWebhook(new URL(`http://127.0.0.1:${port}/huge`), target, {}, "{}", 5000);
    expect(result.statusCode).toBe(200);
    expect(result.responseBody!.length).toBe(webhookResponseBodyBytesMax);
  });

  it("times out a receiver that never answers", async () => {
    const result = await postWebhook(new URL(`http://127.0.0.1:${port}/slow`), target, {}, "{}", 200);
    expect(result).toMatchObject({ statusCode: null, error: "timed out after 200 ms" });
  });

  it("reports a redirect as it is, without following it", async () => {
    const result = await postWebhook(new URL(`http://127.0.0.1:${port}/moved`), target, {}, "{}", 2000);
    expect(result).toMatchObject({ statusCode: 302, error: null, responseBody: "moved" });
  });

  it("connects to the pinned address, not to what the host name resolves to", async () => {
    // The URL names a host that does not resolve; the pinned loopback address is used anyway.
    const result = await postWebhook(new URL(`http://pinned.invalid:${port}/moved`), target, {}, "{}", 2000);
    expect(result.statusCode).toBe(302);
  });
});
