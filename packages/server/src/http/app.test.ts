import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Store } from "@bursar/core";
import { buildApp, type RouteModule } from "./app.js";
import { listen, openTestStore, send } from "./test-support.js";

/** Test-only routes: a public create with a zod body, a parameterised read, an authenticated write, a crash. */
const appRoutes: RouteModule<null> = (app) => {
  app.post(
    "/test/widgets",
    {
      config: { public: true },
      schema: {
        summary: "Create a widget",
        body: z.object({ name: z.string().min(1).max(40), size: z.number().int().positive().optional() }),
        response: { 201: z.object({ id: z.string(), name: z.string() }) },
      },
    },
    async (request, reply) => reply.code(201).send({ id: "wid_1", name: request.body.name }),
  );
  app.get("/test/widgets/:id", { config: { public: true }, schema: { params: z.object({ id: z.string().max(64) }) } }, async (request) => ({ id: request.params.id }));
  app.delete("/test/widgets/:id", { config: { scopes: ["tenant:admin"] }, schema: { params: z.object({ id: z.string() }) } }, async () => ({ deleted: true }));
  app.get("/test/crash", { config: { public: true } }, async (request) => {
    request.log.info("about to crash");
    throw new Error("SQLITE_CORRUPT at /var/lib/bursar/bursar.sqlite, password=hunter2");
  });
};

/** Collects the app's pino lines. */
function logSink(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

describe("the app over HTTP", () => {
  let app: FastifyInstance;
  let baseUrl: string;
  let store: Store;
  let dispose: () => Promise<void>;
  const logs = logSink();

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore());
    app = buildApp({ store, logger: { level: "info", stream: logs.stream }, publicBaseUrl: "https://bursar.example", routes: [appRoutes], routeDeps: null });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  describe("request ids", () => {
    it("echoes a safe incoming X-Request-Id", async () => {
      const response = await send(baseUrl, "GET", "/healthz", { headers: { "x-request-id": "trace-42.A_b" } });
      expect(response.headers.get("x-request-id")).toBe("trace-42.A_b");
    });

    it.each([
      ["a space", "abc def"],
      ["a quote", 'abc"def'],
      ["a line-forging payload", "abc\\n{\"level\":60}"],
      ["129 characters", "a".repeat(129)],
      ["nothing", ""],
    ])("replaces an incoming id with %s by a fresh req_ id", async (_name, unsafe) => {
      const response = await send(baseUrl, "GET", "/healthz", { headers: { "x-request-id": unsafe } });
      expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9A-Z]{26}$/);
    });

    it("accepts 128 characters", async () => {
      const id = "b".repeat(128);
      expect((await send(baseUrl, "GET", "/healthz", { headers: { "x-request-id": id } })).headers.get("x-request-id")).toBe(id);
    });

    it("puts the id on every log line of the request", async () => {
      const id = "log-check-1";
      await send(baseUrl, "GET", "/test/crash", { headers: { "x-request-id": id } });
      const mine = logs.lines.filter((line) => line.request_id === id);
      const messages = mine.map((line) => line.msg);
      expect(messages).toEqual(expect.arrayContaining(["incoming request", "about to crash", "unexpected error", "request completed"]));
      const requestLines = logs.lines.filter((line) => JSON.stringify(line).includes("/test/crash") && line.request_id !== id);
      expect(requestLines.filter((line) => line.request_id === undefined)).toEqual([]);
    });
  });

  describe("errors", () => {
    it("answers an unknown route with a 404 route_not_found problem", async () => {
      const response = await send(baseUrl, "GET", "/v1/nothing-here?x=<script>");
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ type: "tag:bursar.dev,2025:problem:route_not_found", code: "route_not_found", status: 404, title: "Route not found" });
      expect(response.body!.request_id).toBe(response.headers.get("x-request-id"));
      expect(response.text).not.toContain("<script>");
    });

    it("answers an undecodable URL with a problem and a request id", async () => {
      const response = await send(baseUrl, "GET", "/test/widgets/%E0%A4%A");
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    });

    it("answers a crash with a bare 500 internal_error and logs the cause under the request id", async () => {
      const response = await send(baseUrl, "GET", "/test/crash", { headers: { "x-request-id": "crash-1" } });
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ code: "internal_error", request_id: "crash-1" });
      expect(response.text).not.toMatch(/SQLITE|hunter2|sqlite|stack/i);
      const logged = logs.lines.find((line) => line.request_id === "crash-1" && line.msg === "unexpected error");
      expect(JSON.stringify(logged)).toContain("SQLITE_CORRUPT");
    });

    it("answers a schema violation with 400 validation_failed and per-field errors", async () => {
      const response = await send(baseUrl, "POST", "/test/widgets", { json: { name: "", size: -1 } });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: "validation_failed" });
      const errors = response.body!.errors as Array<{ path: string; code: string; detail: string }>;
      expect(errors.map((error) => [error.path, error.code])).toEqual(
        expect.arrayContaining([
          ["body.name", "too_small"],
          ["body.size", "too_small"],
        ]),
      );
      for (const error of errors) expect(error.detail.length).toBeGreaterThan(0);
    });
  });

  describe("health", () => {
    it("answers /healthz and /readyz", async () => {
      expect(await send(baseUrl, "GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
      expect(await send(baseUrl, "GET", "/readyz")).toMatchObject({ status: 200, body: { status: "ok" } });
    });

    it("answers /readyz with 503 not_ready when the store does not answer", async () => {
      const opened = await openTestStore();
      const broken = buildApp({ store: opened.store });
      await opened.store.close();
      const response = await broken.inject({ method: "GET", url: "/readyz" });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: "not_ready" });
      expect((await broken.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
      await broken.close();
      await opened.dispose();
    });
  });

  describe("metrics", () => {
    it("counts requests by route pattern, never by raw URL", async () => {
      await send(baseUrl, "GET", "/test/widgets/wid_secret_1");
      await send(baseUrl, "GET", "/test/widgets/wid_secret_2");
      await send(baseUrl, "GET", "/no/such/route/at/all");
      const response = await fetch(`${baseUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toContain('http_requests_total{method="GET",route="/test/widgets/:id",status="200"} 2');
      expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
      expect(text).toMatch(/http_request_duration_seconds_bucket\{le="[0-9.]+",method="GET",route="\/test\/widgets\/:id"\} \d+/);
      expect(text).toContain("process_cpu_user_seconds_total");
      expect(text).not.toContain("wid_secret");
      expect(text).not.toContain("/no/such/route");
    });

    it("keeps one registry per app", async () => {
      const opened = await openTestStore();
      const fresh = buildApp({ store: opened.store });
      const text = (await fresh.inject({ method: "GET", url: "/metrics" })).body;
      expect(text).not.toContain("/test/widgets/:id");
      await fresh.close();
      await opened.dispose();
    });
  });

  describe("OpenAPI", () => {
    it("serves a 3.1 document generated from the zod schemas", async () => {
      const response = await send(baseUrl, "GET", "/openapi.json");
      expect(response.status).toBe(200);
      const document = response.body as unknown as OpenApiDocument;
      expect(openApiProblems(document)).toEqual([]);
      expect(document.openapi).toBe("3.1.0");
      expect(document.servers).toEqual([{ url: "https://bursar.example", description: "This server" }]);

      const create = document.paths["/test/widgets"]!.post!;
      expect(create.summary).toBe("Create a widget");
      expect(create.requestBody.content["application/json"]!.schema).toMatchObject({
        type: "object",
        properties: { name: { type: "string", minLength: 1, maxLength: 40 }, size: { type: "integer", exclusiveMinimum: 0 } },
        required: ["name"],
      });
      expect(create.responses["201"]!.content["application/json"]!.schema).toMatchObject({
        type: "object",
        properties: { id: { type: "string" }, name: { type: "string" } },
      });
      expect(create.security).toEqual([]);

      const read = document.paths["/test/widgets/{id}"]!.get!;
      expect(read.parameters).toEqual([expect.objectContaining({ in: "path", name: "id", required: true, schema: expect.objectContaining({ maxLength: 64 }) })]);

      const remove = document.paths["/test/widgets/{id}"]!.delete!;
      // tenant:admin is owner-only: agent tokens (DPoP) are not offered.
      expect(remove.security).toEqual([{ ownerToken: [] }, { apiKey: [] }]);
      expect(remove.responses["404"]!.content["application/problem+json"]!.schema).toMatchObject({ properties: { code: { enum: ["not_found"] } } });
      const unauthorized = Object.values(remove.responses["401"]!.content)[0]!.schema;
      expect(unauthorized).toMatchObject({ properties: { code: { type: "string" }, request_id: { type: "string" } } });
      expect(document.components.securitySchemes.ownerToken).toMatchObject({ type: "http", scheme: "bearer" });
      expect(document.components.securitySchemes.agentToken).toMatchObject({ type: "http", scheme: "DPoP" });

      for (const hidden of ["/openapi.json", "/docs", "/docs/json", "/docs/static/{wildcard}"]) expect(document.paths[hidden]).toBeUndefined();
    });

    it("serves the docs UI from local assets", async () => {
      const page = await fetch(`${baseUrl}/docs`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("swagger-ui");
      expect(html).toMatch(/<title>Bursar API reference<\/title>/);
      const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) expect(source, source).not.toMatch(/^(https?:)?\/\//);
      const script = await fetch(`${baseUrl}/docs/static/swagger-ui-bundle.js`);
      expect(script.status).toBe(200);
      expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
      const initializer = await (await fetch(`${baseUrl}/docs/static/swagger-initializer.js`)).text();
      expect(initializer).toContain("validatorUrl: null");
    });
  });
});

interface OpenApiOperation {
  summary?: string;
  security?: unknown;
  parameters?: Array<{ in: string; name: string; required?: boolean; schema: Record<string, unknown> }>;
  requestBody: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content: Record<string, { schema: Record<string, unknown> }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  servers?: Array<{ url: string }>;
  paths: Record<string, Partial<Record<"get" | "post" | "put" | "patch" | "delete", OpenApiOperation>>>;
  components: { securitySchemes: Record<string, Record<string, unknown>> };
}

/**
 * The structural rules of OpenAPI 3.1 that a generator can get wrong (no validator package is
 * installed): version, info, templated paths whose parameters are declared, responses with
 * descriptions, declared security schemes, and JSON Schema 2020-12 rather than 3.0's dialect.
 */
function openApiProblems(document: OpenApiDocument): string[] {
  const problems: string[] = [];
  if (!/^3\.1\.\d+$/.test(document.openapi)) problems.push(`openapi ${document.openapi}`);
  if (typeof document.info?.title !== "string" || typeof document.info?.version !== "string") problems.push("info");
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith("/")) problems.push(`path ${path}`);
    if (path.includes(":")) problems.push(`${path}: Fastify-style parameter`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method} ${path}`;
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === "path").map((parameter) => parameter.name);
      if (templated.join() !== declared.join()) problems.push(`${where}: path parameters ${declared} vs ${templated}`);
      for (const parameter of operation.parameters ?? []) if (parameter.in === "path" && parameter.required !== true) problems.push(`${where}: ${parameter.name} not required`);
      if (!operation.responses || Object.keys(operation.responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) problems.push(`${where}: status ${status}`);
        if (typeof response.description !== "string") problems.push(`${where} ${status}: no description`);
      }
      for (const requirement of (operation.security ?? []) as Array<Record<string, unknown>>) {
        for (const scheme of Object.keys(requirement)) if (!document.components.securitySchemes[scheme]) problems.push(`${where}: unknown scheme ${scheme}`);
      }
    }
  }
  const text = JSON.stringify(document);
  if (text.includes('"nullable"')) problems.push("OpenAPI 3.0 `nullable` in a 3.1 document");
  if (/"exclusiveMinimum":(true|false)/.test(text)) problems.push("draft-04 boolean exclusiveMinimum");
  return problems;
}
