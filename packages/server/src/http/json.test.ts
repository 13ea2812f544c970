import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonDepthMax, requestBodyBytesMax } from "@bursar/core";
import { buildApp, type RouteModule } from "./app.js";
import { jsonNestsDeeperThan } from "./json.js";
import { listen, openTestStore, send } from "./test-support.js";

describe("jsonNestsDeeperThan", () => {
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  it.each([
    [nested(3), 3, false],
    [nested(4), 3, true],
    ['{"a":{"b":[1,{"c":2}]}}', 4, false],
    ['{"a":{"b":[1,{"c":2}]}}', 3, true],
    ['{"a":"[[[[[[[[["}', 1, false],
    ['{"a":"\\"[[[[[[[[["}', 1, false],
    ['{"a":"\\\\"}', 1, false],
    ['{"a":"\\\\",  "b":[[]]}', 2, true],
    ["1", 0, false],
  ])("%s with max %i → %s", (text, depthMax, expected) => {
    expect(jsonNestsDeeperThan(text, depthMax)).toBe(expected);
  });
});

/** Test-only routes: one with a body schema, one without. */
const jsonRoutes: RouteModule<null> = (app) => {
  app.post("/test/any", { config: { public: true }, schema: { body: z.unknown() } }, async (request) => ({ received: request.body ?? null }));
  app.post("/test/object", { config: { public: true }, schema: { body: z.object({ name: z.string().max(10) }) } }, async (request) => ({
    name: request.body.name,
    prototypeIntact: Object.getPrototypeOf(request.body) === Object.prototype,
  }));
  app.delete("/test/nobody", { config: { public: true } }, async (request) => ({ body: request.body ?? null }));
};

describe("JSON bodies over HTTP", () => {
  let app: FastifyInstance;
  let baseUrl: string;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore();
    dispose = opened.dispose;
    app = buildApp({ store: opened.store, routes: [jsonRoutes], routeDeps: null });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  const post = (pathname: string, body: string | Uint8Array, contentType = "application/json") =>
    send(baseUrl, "POST", pathname, { body, headers: { "content-type": contentType } });

  it("answers malformed JSON with 400 malformed_json, a problem body and the request id", async () => {
    const response = await post("/test/any", '{"a": 1,');
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ code: "malformed_json", status: 400, title: "Malformed JSON" });
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.body!.request_id).toBe(response.headers.get("x-request-id"));
    expect(response.text).not.toContain('{"a": 1,'); // the body is not reflected
  });

  it("parses valid JSON", async () => {
    const response = await post("/test/any", '{"a":[1,2,{"b":null}]}');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: { a: [1, 2, { b: null }] } });
  });

  it("answers a body over the limit with 413 body_too_large, by Content-Length and when streamed", async () => {
    const big = JSON.stringify({ pad: "x".repeat(requestBodyBytesMax) });
    const declared = await post("/test/any", big);
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: "body_too_large" });

    // No Content-Length (chunked): Fastify counts bytes as they arrive.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await fetch(`${baseUrl}/test/any`, { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe("body_too_large");
  });

  it("accepts a body exactly at the limit", async () => {
    const overhead = JSON.stringify({ pad: "" }).length;
    const response = await post("/test/any", JSON.stringify({ pad: "x".repeat(requestBodyBytesMax - overhead) }));
    expect(response.status).toBe(200);
  });

  it(`accepts ${jsonDepthMax} levels and refuses ${jsonDepthMax + 1} with 400 json_too_deep`, async () => {
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    expect((await post("/test/any", nested(jsonDepthMax))).status).toBe(200);
    const deep = await post("/test/any", nested(jsonDepthMax + 1));
    expect(deep.status).toBe(400);
    expect(deep.body).toMatchObject({ code: "json_too_deep" });
    // Deep enough to crash a recursive walker: still a clean 400.
    const abusive = await post("/test/any", '{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}");
    expect(abusive.status).toBe(400);
    expect(abusive.body).toMatchObject({ code: "json_too_deep" });
  });

  it.each([
    ['{"__proto__":{"admin":true}}'],
    ['{"name":"x","nested":{"__proto__":{"admin":true}}}'],
    ['{"\\u005f_proto__":{"admin":true}}'],
    ['{"constructor":{"prototype":{"admin":true}}}'],
    ['[{"a":{"constructor":{"prototype":{}}}}]'],
  ])("refuses prototype poisoning %s with 400 json_forbidden_key", async (body) => {
    const response = await post("/test/object", body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: "json_forbidden_key" });
  });

  it("allows a harmless `constructor` key", async () => {
    const response = await post("/test/any", '{"constructor":"x"}');
    expect(response.status).toBe(200);
  });

  it("answers other media types with 415 unsupported_media_type", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=iso-8859-1"]) {
      const response = await post("/test/any", '{"a":1}', contentType);
      expect(response.status, contentType).toBe(415);
      expect(response.body, contentType).toMatchObject({ code: "unsupported_media_type" });
    }
    expect((await post("/test/any", '{"a":1}', "application/json; charset=utf-8")).status).toBe(200);
  });

  it("refuses invalid UTF-8 rather than replacing it", async () => {
    const response = await post("/test/any", new Uint8Array([0x22, 0xff, 0xfe, 0x22]));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: "malformed_json" });
  });

  it("answers an empty JSON body with 400 malformed_json where the route takes a body", async () => {
    const response = await post("/test/object", "");
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: "malformed_json" });
  });

  it("accepts an empty JSON body where the route takes none", async () => {
    const withType = await send(baseUrl, "DELETE", "/test/nobody", { body: "", headers: { "content-type": "application/json" } });
    expect(withType.status).toBe(200);
    const without = await send(baseUrl, "DELETE", "/test/nobody");
    expect(without.status).toBe(200);
  });

  it("reports schema violations as 400 validation_failed with per-field errors", async () => {
    const response = await post("/test/object", '{"name":"far too long a name"}');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: "validation_failed", errors: [{ path: "body.name", code: "too_big" }] });
  });
});
