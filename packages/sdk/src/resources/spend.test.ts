/**
 * `spend.authorizeAndWait` against a scripted HTTP server, for what a real one cannot be made to
 * do on cue: the poll interval's lower bound holds however small the caller asks; a decision
 * that lands just as the wait gives up (the release answers 409) is reported as decided, not as
 * a timeout; a failed poll releases the hold before the error surfaces. The flows themselves run against a real server in test/sdk.spend.e2e.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Bursar } from "../index.ts";
import { spendApprovalPollIntervalMinMs } from "../limits.ts";

let server: Server;
let bursar: Bursar;
let seen: string[] = [];
let answer: (request: IncomingMessage) => { status: number; body: unknown };

const authorization = (status: string) => ({ object: "spend_authorization", id: "sa_1", status, approval_id: "apr_1", amount: 100, reason_codes: [], available_actions: [] });

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    seen.push(`${request.method} ${request.url}`);
    const { status, body } = answer(request);
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  bursar = new Bursar({ apiKey: "bsk_test", baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 1 });
});
beforeEach(() => {
  seen = [];
});
afterAll(async () => {
  await bursar.close();
  await new Promise((resolve) => server.close(resolve));
});

describe("spend.authorizeAndWait", () => {
  it("polls no faster than the lower bound, then releases at the deadline", async () => {
    answer = (request) => (request.url?.endsWith("/complete") ? { status: 200, body: authorization("released") } : { status: request.method === "POST" ? 201 : 200, body: authorization("pending_approval") });
    const startedMs = Date.now();
    const result = await bursar.spend.authorizeAndWait({ operation: "a.b", amount: 100, currency: "GBP" }, { timeoutMs: 350, pollIntervalMs: 1 });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(350);
    expect(result).toMatchObject({ status: "timed_out", authorization: { status: "released" } });
    const polls = seen.filter((line) => line === "GET /v1/spend/authorizations/sa_1").length;
    // 100 ms, then 150 ms, then the 100 ms left: three polls; an unbounded 1 ms would be hundreds.
    expect(polls).toBeLessThanOrEqual(Math.ceil(350 / spendApprovalPollIntervalMinMs));
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toBe("POST /v1/spend/authorizations");
    expect(seen.at(-1)).toBe("POST /v1/spend/authorizations/sa_1/complete");
  });

  it("a rejection that lands as the wait gives up is a decision, not a timeout", async () => {
    let released = false;
    answer = (request) => {
      if (request.url?.endsWith("/complete")) {
        released = true;
        return { status: 409, body: { code: "authorization_not_authorized", detail: "rejected" } };
      }
      return { status: request.method === "POST" ? 201 : 200, body: authorization(released ? "rejected" : "pending_approval") };
    };
    const result = await bursar.spend.authorizeAndWait({ operation: "a.b", amount: 100, currency: "GBP" }, { timeoutMs: 150 });
    expect(result).toMatchObject({ status: "decided", authorization: { status: "rejected" } });
  });

  it("a poll that fails releases the authorization before the error surfaces: no hold outlives a call that threw", async () => {
    answer = (request) =>
      request.method === "GET" ? { status: 500, body: { code: "internal_error" } } : { status: request.url?.endsWith("/complete") ? 200 : 201, body: authorization(request.url?.endsWith("/complete") ? "released" : "pending_approval") };
    await expect(bursar.spend.authorizeAndWait({ operation: "a.b", amount: 100, currency: "GBP" }, { timeoutMs: 5_000, pollIntervalMs: 100 })).rejects.toMatchObject({ status: 500 });
    expect(seen).toEqual(["POST /v1/spend/authorizations", "GET /v1/spend/authorizations/sa_1", "POST /v1/spend/authorizations/sa_1/complete"]);
  });
});
