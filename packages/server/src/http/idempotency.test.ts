import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { idempotencyRetentionMs, newId, type Store } from "@bursar/core";
import { buildApp, type RouteModule } from "./app.js";
import { sweepExpiredIdempotencyRecords, withoutSecrets } from "./idempotency.js";
import { ProblemError } from "./problem.js";
import { ManualClock, listen, openTestStore, seedOwner, send, type SeededOwner } from "./test-support.js";

/** How many times each test route's handler ran. */
const calls = { create: 0, slow: 0, flaky: 0, secret: 0, remove: 0, refuse: 0 };

/** Test-only routes: a create, a slow create, one that fails once, one with a shown-once secret. */
const idempotencyRoutes: RouteModule<null> = (app) => {
  const scoped = { config: { scopes: [] as [] } };
  app.post("/test/things", { ...scoped, schema: { body: z.object({ name: z.string(), tags: z.array(z.string()).optional() }) } }, async (request, reply) => {
    calls.create++;
    return reply.code(201).send({ id: newId("acc"), name: request.body.name, call: calls.create });
  });
  app.post("/test/slow", scoped, async (_request, reply) => {
    calls.slow++;
    await new Promise((resolve) => setTimeout(resolve, 300));
    return reply.code(201).send({ id: newId("tr"), call: calls.slow });
  });
  app.post("/test/flaky", scoped, async () => {
    calls.flaky++;
    if (calls.flaky === 1) throw new Error("database on fire");
    return { call: calls.flaky };
  });
  app.post("/test/secrets", { config: { scopes: [], secretFields: ["token", "nested.secret"] } }, async (_request, reply) => {
    calls.secret++;
    return reply.code(201).send({ id: "key_1", token: `sk_live_${newId("key").slice(4)}`, nested: { secret: "whsec_abc", label: "kept" } });
  });
  app.delete("/test/things/:id", { ...scoped, schema: { params: z.object({ id: z.string() }) } }, async (request) => {
    calls.remove++;
    return { deleted: request.params.id };
  });
  app.post("/test/refuse", scoped, async () => {
    calls.refuse++;
    throw new ProblemError("insufficient_funds", "balance too low");
  });
  app.get("/test/things", scoped, async () => ({ data: [] }));
};

describe("idempotency keys", () => {
  const clock = new ManualClock();
  let app: FastifyInstance;
  let baseUrl: string;
  let store: Store;
  let dispose: () => Promise<void>;
  let owner: SeededOwner;
  let other: SeededOwner;
  let key: string;

  beforeAll(async () => {
    ({ store, dispose } = await openTestStore());
    owner = await seedOwner(store, clock.nowMs(), { scopes: ["tenant:admin"] });
    other = await seedOwner(store, clock.nowMs(), { scopes: ["tenant:admin"] });
    app = buildApp({ store, clock, routes: [idempotencyRoutes], routeDeps: null });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });
  beforeEach(() => {
    key = `key-${newId("req")}`;
    for (const name of Object.keys(calls) as Array<keyof typeof calls>) calls[name] = 0;
  });

  const scopeOf = (route: string, method = "POST", who: SeededOwner = owner) => ({
    tenantId: who.tenantId,
    principalId: who.userId,
    method,
    route,
    key,
  });

  it("replays the first answer for the same body, whatever its key order and spacing", async () => {
    const first = await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a", tags: ["x"] } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const again = await send(baseUrl, "POST", "/test/things", {
      token: owner.token,
      idempotencyKey: key,
      body: '{ "tags" : ["x"],\n "name":"a" }',
      headers: { "content-type": "application/json" },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toMatch(/^application\/json/);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    expect(calls.create).toBe(1);
  });

  it("writes the record before the answer leaves", async () => {
    const first = await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a" } });
    const record = await store.read.getIdempotencyRecord(scopeOf("/test/things"));
    expect(record).toMatchObject({ state: "completed", responseStatus: 201, responseBody: first.text });
    expect(record!.expiresAtMs).toBe(clock.nowMs() + idempotencyRetentionMs);
  });

  it("answers a different body under the same key with 409 idempotency_key_payload_mismatch", async () => {
    await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a" } });
    const response = await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "b" } });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: "idempotency_key_payload_mismatch" });
    // A field the schema would strip still makes the request different.
    const extra = await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a", unknown: 1 } });
    expect(extra.body).toMatchObject({ code: "idempotency_key_payload_mismatch" });
    expect(calls.create).toBe(1);
  });

  it("includes path parameters: the same key on another resource is a mismatch, not a replay", async () => {
    expect((await send(baseUrl, "DELETE", "/test/things/acc_A", { token: owner.token, idempotencyKey: key })).body).toEqual({ deleted: "acc_A" });
    const response = await send(baseUrl, "DELETE", "/test/things/acc_B", { token: owner.token, idempotencyKey: key });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: "idempotency_key_payload_mismatch" });
    expect(calls.remove).toBe(1);
  });

  it("scopes keys by principal and by route", async () => {
    await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a" } });
    const otherPrincipal = await send(baseUrl, "POST", "/test/things", { token: other.token, idempotencyKey: key, json: { name: "a" } });
    expect(otherPrincipal.headers.get("idempotent-replayed")).toBeNull();
    const otherRoute = await send(baseUrl, "POST", "/test/slow", { token: owner.token, idempotencyKey: key });
    expect(otherRoute.headers.get("idempotent-replayed")).toBeNull();
    expect(calls.create).toBe(2);
    expect(calls.slow).toBe(1);
  });

  it("runs the handler once under 20 concurrent duplicates; the others get in_use or the replay", async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => send(baseUrl, "POST", "/test/slow", { token: owner.token, idempotencyKey: key })),
    );
    expect(calls.slow).toBe(1);
    const executed = responses.filter((response) => response.status === 201 && response.headers.get("idempotent-replayed") === null);
    const inUse = responses.filter((response) => response.status === 409);
    const replayed = responses.filter((response) => response.headers.get("idempotent-replayed") === "true");
    expect(executed).toHaveLength(1);
    expect(inUse.length + replayed.length).toBe(19);
    expect(inUse.length).toBeGreaterThan(0);
    for (const response of inUse) {
      expect(response.body).toMatchObject({ code: "idempotency_key_in_use" });
      expect(response.headers.get("retry-after")).toBe("1");
    }
    for (const response of replayed) expect(response.text).toBe(executed[0]!.text);
    const retry = await send(baseUrl, "POST", "/test/slow", { token: owner.token, idempotencyKey: key });
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.text).toBe(executed[0]!.text);
  });

  it("does not store a 5xx: a retry with the same key runs again", async () => {
    const failed = await send(baseUrl, "POST", "/test/flaky", { token: owner.token, idempotencyKey: key });
    expect(failed.status).toBe(500);
    expect(await store.read.getIdempotencyRecord(scopeOf("/test/flaky"))).toBeNull();
    const retry = await send(baseUrl, "POST", "/test/flaky", { token: owner.token, idempotencyKey: key });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(calls.flaky).toBe(2);
  });

  it("stores and replays a 4xx answer", async () => {
    const first = await send(baseUrl, "POST", "/test/refuse", { token: owner.token, idempotencyKey: key });
    expect(first.status).toBe(422);
    const again = await send(baseUrl, "POST", "/test/refuse", { token: owner.token, idempotencyKey: key });
    expect(again.status).toBe(422);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(again.body).toMatchObject({ code: "insufficient_funds" });
    expect(calls.refuse).toBe(1);
  });

  it("never stores a shown-once secret; the replay carries null instead", async () => {
    const first = await send(baseUrl, "POST", "/test/secrets", { token: owner.token, idempotencyKey: key });
    expect(first.status).toBe(201);
    const secret = first.body!.token as string;
    expect(secret).toMatch(/^sk_live_/);
    const record = await store.read.getIdempotencyRecord(scopeOf("/test/secrets"));
    expect(record!.responseBody).not.toContain(secret);
    expect(record!.responseBody).not.toContain("whsec_abc");
    expect(JSON.parse(record!.responseBody!)).toEqual({ id: "key_1", token: null, nested: { secret: null, label: "kept" } });
    const replay = await send(baseUrl, "POST", "/test/secrets", { token: owner.token, idempotencyKey: key });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual({ id: "key_1", token: null, nested: { secret: null, label: "kept" } });
    expect(calls.secret).toBe(1);
  });

  it.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["with a space", "a b"],
    ["non-ASCII", "clé"],
  ])("answers a key that is %s with 400 invalid_idempotency_key", async (_name, bad) => {
    const response = await fetch(`${baseUrl}/test/things`, {
      method: "POST",
      headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json", "idempotency-key": bad },
      body: JSON.stringify({ name: "a" }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("invalid_idempotency_key");
    expect(calls.create).toBe(0);
  });

  it("accepts a key of 255 visible characters", async () => {
    const response = await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: "~".repeat(255), json: { name: "a" } });
    expect(response.status).toBe(201);
  });

  it("runs every request without a key, and ignores the header on GET", async () => {
    await send(baseUrl, "POST", "/test/things", { token: owner.token, json: { name: "a" } });
    await send(baseUrl, "POST", "/test/things", { token: owner.token, json: { name: "a" } });
    expect(calls.create).toBe(2);
    const read = await send(baseUrl, "GET", "/test/things", { token: owner.token, idempotencyKey: "a b" });
    expect(read.status).toBe(200);
  });

  it("forgets records after the retention period, and the sweep deletes them", async () => {
    await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a" } });
    clock.timeMs += idempotencyRetentionMs;
    const later = await send(baseUrl, "POST", "/test/things", { token: owner.token, idempotencyKey: key, json: { name: "a" } });
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(calls.create).toBe(2);
    clock.timeMs += idempotencyRetentionMs;
    expect(await sweepExpiredIdempotencyRecords(store, clock)).toBeGreaterThanOrEqual(1);
    expect(await store.read.getIdempotencyRecord(scopeOf("/test/things"))).toBeNull();
  });
});

describe("withoutSecrets", () => {
  it("nulls the named fields, leaves missing ones alone, and stores nothing it cannot parse", () => {
    expect(withoutSecrets('{"a":"s","b":{"c":"t"}}', ["a", "b.c", "x.y"])).toBe('{"a":null,"b":{"c":null}}');
    expect(withoutSecrets('{"a":"s"}', [])).toBe('{"a":"s"}');
    expect(withoutSecrets("not json sk_live_1", ["a"])).toBe("");
  });
});
