/**
 * Issue 17's classes of defect, each tried over real HTTP: strings that are not well-formed
 * Unicode (1), out-of-range and garbage cursors and numbers (2), HEAD on a stream (3), headers of
 * stream answers (5), and rate limits on unauthenticated writes (11).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { eventStreamsPerCredentialMax } from "@bursar/core";
import { awayFromMinuteBoundary } from "./agents-support.js";
import { createPayee, expectStatus, fundedAgent } from "./payments-support.js";
import { client, createTestTenant, startTestServer } from "./support.js";

describe("hardening", () => {
  let server: RunningServer;
  let owner: ReturnType<typeof client>;
  let token: string;
  let tenantId: string;
  let agentId: string;

  beforeAll(async () => {
    server = await startTestServer("sqlite", { config: { sourceRateLimitPerMinute: 20 } });
    const tenant = await createTestTenant(server.store);
    token = tenant.token;
    tenantId = tenant.tenantId;
    owner = client(server.url, token);
    agentId = (await fundedAgent(server.url, owner, 10_000)).agentId;
    await createPayee(owner, "Bob");
  });
  afterAll(() => server.close());

  const journalSize = async () => (await server.store.read.getTenant(tenantId))!.journalSize;

  describe("lone surrogates (item 1)", () => {
    // Sent as JSON escapes: the bytes are valid UTF-8, the decoded string is not valid Unicode.
    const lone = "\\ud800";
    const cases: Array<[string, string, string]> = [
      ["an agent name", "/v1/agents", `{"name":"a${lone}"}`],
      ["a payee alias", "/v1/payees", `{"name":"Carol","currency":"GBP","aliases":["c${lone}"]}`],
      ["a payment reference", "/v1/payment-intents", `{"agent_id":"AGENT","payee":"Bob","amount":100,"currency":"GBP","reference":"x${lone}"}`],
      ["a payee named in a payment", "/v1/payment-intents", `{"agent_id":"AGENT","payee":"B${lone}","amount":100,"currency":"GBP"}`],
      ["an API key name", "/v1/api-keys", `{"name":"k${lone}","scopes":["agents:execute"]}`],
      ["a token name", "/v1/personal-access-tokens", `{"name":"t${lone}"}`],
      ["a metadata key", "/v1/accounts", `{"currency":"GBP","metadata":{"k${lone}":"v"}}`],
      ["a low surrogate alone", "/v1/agents", `{"name":"\\udc00x"}`],
      ["a chat message", "/v1/chat", `{"agent_id":"AGENT","message":"Pay ${lone} to Bob"}`],
      ["an id in a body", "/v1/transfers", `{"id":"tr_${lone}","debit_account_id":"a","credit_account_id":"b","amount":1,"currency":"GBP"}`],
    ];
    it.each(cases)("in %s answers 400 invalid_unicode and writes nothing", async (_name, path, body) => {
      const before = await journalSize();
      const response = await fetch(server.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": `k-${Math.random()}` },
        body: body.replace("AGENT", agentId),
      });
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(response.headers.get("x-request-id")).toMatch(/^req_/);
      expect(((await response.json()) as { code: string }).code).toBe("invalid_unicode");
      expect(await journalSize()).toBe(before);
    });

    it("a well-formed pair (an emoji) is fine", async () => {
      expectStatus(await owner.post("/v1/agents", { name: "Robot \u{1F916}" }), 201);
    });

    it("in a rail callback or a registration (public routes) answers 400 too", async () => {
      for (const path of ["/v1/rails/webhook/callbacks", "/v1/registrations"]) {
        const response = await fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: `{"ticket":"${lone}","transaction_id":"${lone}"}` });
        expect(response.status, path).toBe(400);
        expect(((await response.json()) as { code: string }).code).toBe("invalid_unicode");
      }
    });
  });

  describe("cursors and numbers (item 2)", () => {
    it.each([
      ["/v1/events?cursor=9007199254740993"],
      ["/v1/events?cursor=-1"],
      ["/v1/events?cursor=abc"],
      ["/v1/events?after_seq=1e3"],
      ["/v1/events?after_seq=0x10"],
      ["/v1/events?after_seq="],
      ["/v1/events?limit=%2010"],
      ["/v1/events?limit=101"],
      ["/v1/journal/entries?after_seq=99999999999999999"],
      ["/v1/journal/entries?limit=0"],
      ["/v1/journal/proofs/inclusion?seq=9007199254740993&tree_size=9007199254740993"],
      ["/v1/journal/proofs/consistency?from_size=1&to_size=281474976710657"],
      ["/v1/events/stream?after_seq=9007199254740993"],
      ["/v1/payees?cursor=zzz"],
      ["/v1/payees?cursor=%27%20OR%201%3D1"],
      ["/v1/agents?cursor=agt_"],
      ["/v1/payment-intents?cursor=" + "a".repeat(80)],
      ["/v1/transfers?cursor=tr_%00"],
      ["/v1/conversations?limit=1.5"],
      ["/v1/service-requests?limit=-3"],
      ["/v1/webhook-endpoints?cursor=%F0%9F%98%80"],
    ])("%s answers 400 validation_failed", async (path) => {
      const response = await owner.get(path);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.code).toBe("validation_failed");
    });

    it("a cursor from a page still works", async () => {
      const first = expectStatus(await owner.get("/v1/events?limit=1"), 200);
      expect(first.next_cursor).toMatch(/^\d+$/);
      expectStatus(await owner.get(`/v1/events?limit=1&cursor=${first.next_cursor}`), 200);
      const agents = expectStatus(await owner.get("/v1/agents?limit=1"), 200);
      expectStatus(await owner.get(`/v1/agents?limit=1&cursor=${agents.data[0].id}`), 200);
    });
  });

  describe("streams (items 3 and 5)", () => {
    it("HEAD on the event stream answers its head at once and never holds a stream slot", async () => {
      for (let i = 0; i < eventStreamsPerCredentialMax * 2; i++) {
        const head = await fetch(`${server.url}/v1/events/stream`, { method: "HEAD", headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) });
        expect(head.status).toBe(200);
        expect(head.headers.get("content-type")).toMatch(/^text\/event-stream/);
        expect(head.headers.get("x-request-id")).toMatch(/^req_/);
        expect(head.headers.get("ratelimit")).toMatch(/^"credential";r=\d+;t=\d+$/);
        expect(await head.text()).toBe("");
      }
      // The credential can still open a stream.
      const controller = new AbortController();
      const stream = await fetch(`${server.url}/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
      expect(stream.status).toBe(200);
      controller.abort();
    });

    it("HEAD without a credential is refused like GET", async () => {
      const head = await fetch(`${server.url}/v1/events/stream`, { method: "HEAD" });
      expect(head.status).toBe(401);
    });

    it("HEAD on an ordinary GET route answers its headers without a body", async () => {
      const head = await fetch(`${server.url}/v1/agents`, { method: "HEAD", headers: { authorization: `Bearer ${token}` } });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
    });

    it("stream answers carry RateLimit and RateLimit-Policy like every authenticated answer", async () => {
      const controller = new AbortController();
      const events = await fetch(`${server.url}/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
      expect(events.headers.get("ratelimit-policy")).toMatch(/^"credential";q=\d+;w=60$/);
      expect(events.headers.get("ratelimit")).toMatch(/^"credential";r=\d+;t=\d+$/);
      expect(events.headers.get("x-request-id")).toMatch(/^req_/);
      controller.abort();
      const chat = await fetch(`${server.url}/v1/chat/stream`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ agent_id: agentId, message: "What is my balance?" }),
      });
      expect(chat.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(chat.headers.get("ratelimit-policy")).toMatch(/^"credential";q=\d+;w=60$/);
      expect(chat.headers.get("ratelimit")).toMatch(/^"credential";r=\d+;t=\d+$/);
      await chat.text();
    });
  });

  describe("unauthenticated writes (item 11)", () => {
    it.each([["/v1/rails/webhook/callbacks"], ["/v1/registrations"], ["/oauth/token"]])("%s is limited per source address", async (path) => {
      const send = () =>
        fetch(server.url + path, {
          method: "POST",
          headers: path.startsWith("/oauth") ? { "content-type": "application/x-www-form-urlencoded" } : { "content-type": "application/json" },
          body: path.startsWith("/oauth") ? "grant_type=client_credentials" : "{}",
        });
      // The windows are fixed minutes: start well inside one, so 25 requests cannot straddle two.
      await awayFromMinuteBoundary(20_000);
      const statuses: number[] = [];
      let last: Response | null = null;
      for (let i = 0; i < 25; i++) {
        last = await send();
        statuses.push(last.status);
        if (last.status !== 429) expect(last.headers.get("ratelimit-policy")).toBe('"source";q=20;w=60');
        await last.arrayBuffer();
      }
      // 20 per minute per address, the earlier tests' requests included.
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(5);
      const refused = await send();
      if (refused.status === 429) {
        expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
      }
    });

    it("authenticated routes are not counted by address", async () => {
      for (let i = 0; i < 25; i++) expect((await owner.get("/v1/agents?limit=1")).status).toBe(200);
    });
  });
});
