/**
 * Errors raised before routing, sent over a raw socket (node:net), since fetch and every HTTP
 * client refuse to send such requests. Each answer must be like every other error of Bursar:
 * RFC 9457 problem+json with a stable `code` and an `X-Request-Id` that matches its `request_id`.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { createTestTenant, startTestServer } from "./support.js";

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** Every byte the server sent, for failure messages. */
  text: string;
}

/** Sends `request` as bytes and reads until the server closes the connection (or 5 s). */
function rawRequest(url: string, request: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", () => undefined); // a reset after the answer is fine; the answer is checked
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const status = Number(statusLine.split(" ")[1]);
      if (!Number.isInteger(status)) return reject(new Error(`no HTTP answer: ${JSON.stringify(text)}`));
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body: unknown = rest.join("\r\n\r\n");
      try {
        body = JSON.parse(body as string);
      } catch {
        // keep the text
      }
      resolve({ status, headers, body, text });
    });
    socket.write(request);
  });
}

function expectProblem(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers["content-type"], answer.text).toMatch(/^application\/problem\+json/);
  expect(answer.body, answer.text).toMatchObject({ status, code, type: `tag:bursar.dev,2025:problem:${code}` });
  expect(answer.headers["x-request-id"], answer.text).toMatch(/^req_/);
  expect(answer.body.request_id).toBe(answer.headers["x-request-id"]);
}

describe("errors before routing (raw sockets)", () => {
  let server: RunningServer;
  let token: string;
  let host: string;

  beforeAll(async () => {
    server = await startTestServer("sqlite");
    token = (await createTestTenant(server.store)).token;
    host = new URL(server.url).host;
  });
  afterAll(() => server.close());

  const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

  it("oversized headers answer 431 headers_too_large", async () => {
    const answer = await rawRequest(server.url, head(["GET /healthz HTTP/1.1", `Host: ${host}`, `X-Padding: ${"a".repeat(20_000)}`]));
    expectProblem(answer, 431, "headers_too_large");
  });

  it.each([
    ["a control character in a header value", "X-Test: a\x01b"],
    ["NUL in a header value", "X-Test: a\x00b"],
    ["a space in a header name", "X Test: a"],
    ["a header without a colon", "X-Test"],
    ["CR alone inside a value", "X-Test: a\rb"],
  ])("%s answers 400 malformed_request", async (_name, line) => {
    const answer = await rawRequest(server.url, head(["GET /healthz HTTP/1.1", `Host: ${host}`, line]));
    expectProblem(answer, 400, "malformed_request");
  });

  it.each([
    ["no target", "GET HTTP/1.1"],
    ["an unknown HTTP version", "GET /healthz HTTP/9.9"],
    ["a space in the target", "GET /health z HTTP/1.1"],
  ])("a malformed request line (%s) answers 400 malformed_request", async (_name, line) => {
    const answer = await rawRequest(server.url, head([line, `Host: ${host}`]));
    expectProblem(answer, 400, "malformed_request");
  });

  it("bad chunked encoding answers 400 malformed_request", async () => {
    const request = head(["POST /v1/agents HTTP/1.1", `Host: ${host}`, `Authorization: Bearer ${token}`, "Content-Type: application/json", "Transfer-Encoding: chunked"]) + "zz\r\n{}\r\n0\r\n\r\n";
    expectProblem(await rawRequest(server.url, request), 400, "malformed_request");
  });

  it("Content-Length with Transfer-Encoding answers 400 (request smuggling, RFC 9112 §6.3)", async () => {
    const request = head(["POST /v1/agents HTTP/1.1", `Host: ${host}`, "Content-Type: application/json", "Content-Length: 4", "Transfer-Encoding: chunked"]) + "0\r\n\r\n";
    expectProblem(await rawRequest(server.url, request), 400, "malformed_request");
  });

  it("two different Content-Lengths answer 400", async () => {
    const request = head(["POST /v1/agents HTTP/1.1", `Host: ${host}`, "Content-Type: application/json", "Content-Length: 2", "Content-Length: 3"]) + "{} ";
    expectProblem(await rawRequest(server.url, request), 400, "malformed_request");
  });

  it("a Content-Length that is not a number answers 400", async () => {
    const request = head(["POST /v1/agents HTTP/1.1", `Host: ${host}`, "Content-Type: application/json", "Content-Length: 2x"]) + "{}";
    expectProblem(await rawRequest(server.url, request), 400, "malformed_request");
  });

  it.each([
    ["an unknown token", "FROB /healthz HTTP/1.1"],
    ["a TLS ClientHello sent to the plain port", "\x16\x03\x01\x02\x00"],
  ])("a method HTTP does not know (%s) answers 501 method_not_implemented", async (_name, line) => {
    const answer = await rawRequest(server.url, head([line, `Host: ${host}`]));
    expectProblem(answer, 501, "method_not_implemented");
  });

  it("a known method that the path lacks answers 405 with Allow", async () => {
    for (const method of ["PROPFIND", "PUT", "TRACE"]) {
      const answer = await rawRequest(server.url, head([`${method} /v1/agents HTTP/1.1`, `Host: ${host}`, "Connection: close"]));
      expectProblem(answer, 405, "method_not_allowed");
      expect(answer.headers.allow).toBe("GET, HEAD, POST");
    }
  });

  it("an unknown path still answers 404 route_not_found", async () => {
    const answer = await rawRequest(server.url, head(["GET /v1/nothing-here HTTP/1.1", `Host: ${host}`, "Connection: close"]));
    expectProblem(answer, 404, "route_not_found");
  });

  it("the server keeps serving after every refusal", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
  });
});
