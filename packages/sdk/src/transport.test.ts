import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  APIError,
  ConnectionError,
  NotFoundError,
  Page,
  RateLimitError,
  TimeoutError,
  Transport,
  ValidationError,
  backoffDelay,
  limits,
} from "./index.ts";

type Step = (req: IncomingMessage, res: ServerResponse) => void;
interface Seen {
  method: string;
  url: string;
  key: string | undefined;
  auth: string | undefined;
  at: number;
}

let server: Server;
let base = "";
let steps: Step[] = [];
let seen: Seen[] = [];

function json(status: number, body: unknown, headers: Record<string, string> = {}): Step {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
}
const drop: Step = (req) => req.socket.destroy();
const ok = json(200, { ok: true });
function problem(status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Step {
  return json(
    status,
    { type: "about:blank", title: code, status, detail: `detail ${code}`, code, request_id: "req_body", ...extra },
    { "content-type": "application/problem+json", "x-request-id": "req_header", ...headers },
  );
}

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      key: req.headers["idempotency-key"] as string | undefined,
      auth: req.headers.authorization,
      at: performance.now(),
    });
    const step = steps.shift() ?? ok;
    req.resume();
    req.on("end", () => step(req, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  steps = [];
  seen = [];
});

describe("Transport retries", () => {
  it("retries 429 (honouring Retry-After), 503 and a dropped connection, with one idempotency key", async () => {
    steps = [problem(429, "rate_limited", {}, { "retry-after": "1" }), problem(503, "unavailable"), drop, ok];
    const t = new Transport({ baseUrl: base, auth: () => ({ authorization: "Bearer tok" }) });
    const out = await t.request<{ ok: boolean }>("POST", "/v1/things", { body: { a: 1 } });
    expect(out).toEqual({ ok: true });
    expect(seen).toHaveLength(4);
    const keys = new Set(seen.map((s) => s.key));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.every((s) => s.auth === "Bearer tok")).toBe(true);
    // Retry-After: 1 second, allow timer slack of a few ms.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(990);

    await t.request("POST", "/v1/things", { body: {} });
    expect(seen).toHaveLength(5);
    expect(seen[4]!.key).not.toBe(seen[0]!.key);
  });

  it("gives up after attemptsMax and throws the last error", async () => {
    steps = Array.from({ length: limits.attemptsMax + 1 }, () => problem(503, "unavailable"));
    const t = new Transport({ baseUrl: base });
    await expect(t.request("GET", "/v1/x")).rejects.toMatchObject({ status: 503, code: "unavailable" });
    expect(seen).toHaveLength(limits.attemptsMax);
    expect(seen[0]!.key).toBeUndefined();
  });

  it("retries 409 idempotency_key_in_use but not another 409", async () => {
    steps = [problem(409, "idempotency_key_in_use"), ok];
    const t = new Transport({ baseUrl: base });
    await t.request("POST", "/v1/x", { body: {} });
    expect(seen).toHaveLength(2);
    steps = [problem(409, "conflict")];
    await expect(t.request("POST", "/v1/x", { body: {} })).rejects.toMatchObject({ status: 409 });
    expect(seen).toHaveLength(3);
  });

  it.each([
    [400, ValidationError],
    [404, NotFoundError],
    [422, ValidationError],
  ])("does not retry %i", async (status, cls) => {
    steps = [problem(status, "nope"), ok];
    const t = new Transport({ baseUrl: base });
    await expect(t.request("POST", "/v1/x", { body: {} })).rejects.toBeInstanceOf(cls);
    expect(seen).toHaveLength(1);
  });

  it("full jitter stays within [0, min(max, base*2^n))", () => {
    expect(backoffDelay(0, () => 0)).toBe(0);
    expect(backoffDelay(1, () => 0.999)).toBeLessThan(limits.retryDelayBaseMs * 2);
    expect(backoffDelay(1, () => 0.999)).toBeGreaterThan(limits.retryDelayBaseMs);
    expect(backoffDelay(30, () => 0.999)).toBeLessThan(limits.retryDelayMaxMs);
  });

  it("refreshes and retries once on 401 when onUnauthorized says so", async () => {
    steps = [problem(401, "token_expired"), ok];
    let calls = 0;
    let token = "old";
    const t = new Transport({
      baseUrl: base,
      auth: () => ({ authorization: `Bearer ${token}` }),
      onUnauthorized: () => {
        calls++;
        token = "new";
        return true;
      },
    });
    await t.request("GET", "/v1/x");
    expect(seen.map((s) => s.auth)).toEqual(["Bearer old", "Bearer new"]);
    steps = [problem(401, "a"), problem(401, "b")];
    await expect(t.request("GET", "/v1/x")).rejects.toMatchObject({ status: 401, code: "b" });
    expect(calls).toBe(2);
    expect(seen).toHaveLength(4);
  });
});

describe("Transport timeouts and aborts", () => {
  const hang: Step = () => undefined;

  it("times out with TimeoutError", async () => {
    steps = [hang];
    const t = new Transport({ baseUrl: base, timeoutMs: 100 });
    await expect(t.request("GET", "/v1/slow")).rejects.toBeInstanceOf(TimeoutError);
    expect(seen).toHaveLength(1);
  });

  it("a caller abort rejects with a ConnectionError and is not retried", async () => {
    steps = [hang, ok];
    const t = new Transport({ baseUrl: base });
    const ac = new AbortController();
    const p = t.request("GET", "/v1/slow", { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).not.toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/aborted/);
    expect(seen).toHaveLength(1);
  });

  it("close() aborts in-flight requests", async () => {
    steps = [hang];
    const t = new Transport({ baseUrl: base });
    const p = t.request("GET", "/v1/slow");
    setTimeout(() => void t.close(), 50);
    await expect(p).rejects.toThrow(/aborted/);
  });
});

describe("errors", () => {
  it("carry code, detail, requestId, availableActions, errors and retryAfter", async () => {
    steps = [
      problem(422, "invalid_body", {
        available_actions: ["fix_body"],
        errors: [{ path: "amount", code: "too_small", detail: "must be > 0" }],
      }),
    ];
    const t = new Transport({ baseUrl: base });
    const err = (await t.request("POST", "/v1/x", { body: {} }).catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({
      status: 422,
      code: "invalid_body",
      detail: "detail invalid_body",
      requestId: "req_body",
      availableActions: ["fix_body"],
      errors: [{ path: "amount", code: "too_small", detail: "must be > 0" }],
      retryAfter: null,
    });
  });

  it("from() picks the subclass; request id falls back to the header; Retry-After parses as date", () => {
    const h = new Headers({ "x-request-id": "req_h", "retry-after": new Date(Date.now() + 5000).toUTCString() });
    const e = APIError.from(429, "not json", h);
    expect(e).toBeInstanceOf(RateLimitError);
    expect(e.requestId).toBe("req_h");
    expect(e.retryAfter).toBeGreaterThan(2);
    expect(e.retryAfter).toBeLessThanOrEqual(5);
    expect(APIError.from(500, null, new Headers()).name).toBe("InternalServerError");
    expect(APIError.from(401, null, new Headers()).name).toBe("AuthenticationError");
    expect(APIError.from(403, null, new Headers()).name).toBe("PermissionDeniedError");
  });
});

describe("pagination", () => {
  it("iterates every item across pages with for await", async () => {
    steps = [
      json(200, { data: [1, 2], has_more: true, next_cursor: "c1" }),
      json(200, { data: [3, 4], has_more: true, next_cursor: "c2" }),
      json(200, { data: [5], has_more: false, next_cursor: null }),
    ];
    const t = new Transport({ baseUrl: base });
    type Body = { data: number[]; has_more: boolean; next_cursor: string | null };
    const list = async (cursor?: string): Promise<Page<number>> =>
      new Page(await t.request<Body>("GET", "/v1/items", { query: { cursor, limit: 2 } }), list);
    const first = await list();
    expect(first.data).toEqual([1, 2]);
    const all: number[] = [];
    for await (const n of first) all.push(n);
    expect(all).toEqual([1, 2, 3, 4, 5]);
    expect(seen.map((s) => s.url)).toEqual(["/v1/items?limit=2", "/v1/items?cursor=c1&limit=2", "/v1/items?cursor=c2&limit=2"]);
  });
});
