/**
 * The SSE event stream end to end with the independent `eventsource` client: replay, live
 * events, a dropped connection resumed with Last-Event-ID (every event exactly once, in order),
 * filters, tenant isolation, the cursor errors and the per-credential connection bound.
 */
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventStreamsPerCredentialMax } from "@bursar/core";
import type { RunningServer } from "@bursar/server";
import { client, createTestTenant, freshStoreConfig, listAll, startTestServer, storeKinds } from "./support.js";
import { waitFor } from "./webhook-receiver.js";

const eventTypes = ["tenant.created", "user.created", "personal_access_token.created", "account.created", "transfer.created", "webhook_endpoint.created"];

interface Collected {
  source: EventSource;
  events: Array<{ id: string; seq: number; type: string; tenant_id: string }>;
  opens: number;
  lastEventIdsSent: string[];
}

/** Opens a stream with the `eventsource` package, adding the bearer token through its fetch option. */
function openStream(url: string, token: string): Collected {
  const collected: Collected = { source: undefined as unknown as EventSource, events: [], opens: 0, lastEventIdsSent: [] };
  const source = new EventSource(url, {
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      const lastEventId = headers.get("last-event-id");
      if (lastEventId) collected.lastEventIdsSent.push(lastEventId);
      headers.set("authorization", `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });
  source.addEventListener("open", () => collected.opens++);
  for (const type of eventTypes) {
    source.addEventListener(type, (message) => {
      const event = JSON.parse(message.data);
      expect(message.lastEventId).toBe(event.id);
      collected.events.push(event);
    });
  }
  collected.source = source;
  return collected;
}

for (const kind of storeKinds) {
  describe(`event stream on ${kind}`, () => {
    let server: RunningServer;
    let api: ReturnType<typeof client>;
    let apiB: ReturnType<typeof client>;
    let token: string;
    let tokenB: string;
    let tenantA: string;
    const streams: Collected[] = [];

    beforeAll(async () => {
      server = await startTestServer(kind);
      const a = await createTestTenant(server.store, "A");
      const b = await createTestTenant(server.store, "B");
      token = a.token;
      tokenB = b.token;
      tenantA = a.tenantId;
      api = client(server.url, token);
      apiB = client(server.url, tokenB);
    });
    afterAll(async () => {
      for (const stream of streams) stream.source.close();
      await server.close();
    });

    it("replays, goes live, survives a dropped connection with Last-Event-ID: every event once, in order", async () => {
      const stream = openStream(`${server.url}/v1/events/stream?after_seq=0`, token);
      streams.push(stream);
      const streamB = openStream(`${server.url}/v1/events/stream?after_seq=0`, tokenB);
      streams.push(streamB);
      await waitFor(() => stream.events.length >= 3, 10_000, "the replay of the bootstrap events");

      const wallet = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      await api.post(`/v1/accounts/${wallet}/deposits`, { amount: 1000 });
      await apiB.post("/v1/accounts", { currency: "EUR" });
      await waitFor(() => stream.events.some((e) => e.type === "transfer.created"), 10_000, "live events");

      // The server drops every stream: the client reconnects and resumes where it was.
      server.eventHub.disconnectAll();
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      for (let i = 0; i < 5; i++) {
        await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 10, currency: "GBP" });
      }
      const journal = await listAll(api, "/v1/events?after_seq=0");
      await waitFor(() => stream.events.length >= journal.length, 15_000, "every event after the reconnection");
      await new Promise((resolve) => setTimeout(resolve, 200));

      expect(stream.opens).toBeGreaterThanOrEqual(2);
      expect(stream.lastEventIdsSent.length).toBeGreaterThanOrEqual(1);
      expect(stream.events.map((e) => e.id)).toEqual(journal.map((e) => e.id));
      expect(stream.events.map((e) => e.seq)).toEqual(journal.map((_, index) => index + 1));
      // Tenant isolation: neither stream ever carried the other tenant's events.
      expect(stream.events.every((e) => e.tenant_id === tenantA)).toBe(true);
      expect(streamB.events.length).toBeGreaterThanOrEqual(4);
      expect(streamB.events.every((e) => e.tenant_id !== tenantA)).toBe(true);
      stream.source.close();
      streamB.source.close();
    }, 40_000);

    it("filters by type pattern and resumes from an event id", async () => {
      const all = await listAll(api, "/v1/events?after_seq=0");
      const stream = openStream(`${server.url}/v1/events/stream?after_seq=0&type=transfer.*`, token);
      streams.push(stream);
      const transfers = all.filter((e) => e.type.startsWith("transfer."));
      await waitFor(() => stream.events.length >= transfers.length, 10_000, "filtered replay");
      expect(stream.events.map((e) => e.id)).toEqual(transfers.map((e) => e.id));
      stream.source.close();

      // Resuming by Last-Event-ID (raw fetch, to check the headers and the first bytes).
      const controller = new AbortController();
      const response = await fetch(`${server.url}/v1/events/stream`, {
        headers: { authorization: `Bearer ${token}`, "last-event-id": all[all.length - 2].id },
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = response.body!.getReader();
      let text = "";
      while (!text.includes(`id: ${all[all.length - 1].id}`)) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain(`event: ${all[all.length - 1].type}`);
      expect(text).not.toContain(`id: ${all[all.length - 2].id}\n`);
      controller.abort();
    }, 30_000);

    it("answers cursor errors and bounds streams per credential", async () => {
      const stream = (headers: Record<string, string>, query = "") =>
        fetch(`${server.url}/v1/events/stream${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
      const unknown = await stream({ "last-event-id": "evt_01NOTANEVENT00000000000000" });
      expect(unknown.status).toBe(410);
      expect(((await unknown.json()) as { code: string }).code).toBe("cursor_expired");
      // Tenant B's event id is not a cursor for tenant A.
      const theirs = (await apiB.get("/v1/events?limit=1")).body.data[0].id;
      expect((await stream({ "last-event-id": theirs })).status).toBe(410);
      expect((await stream({}, "?after_seq=999999")).status).toBe(400);
      expect((await stream({}, "?type=Not%20A%20Type")).status).toBe(400);
      expect((await fetch(`${server.url}/v1/events/stream`)).status).toBe(401);

      const controllers: AbortController[] = [];
      for (let i = 0; i < eventStreamsPerCredentialMax; i++) {
        const controller = new AbortController();
        controllers.push(controller);
        expect((await fetch(`${server.url}/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal })).status).toBe(200);
      }
      const refused = await stream({});
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBeTruthy();
      // Another credential is not affected.
      const other = new AbortController();
      expect((await fetch(`${server.url}/v1/events/stream`, { headers: { authorization: `Bearer ${tokenB}` }, signal: other.signal })).status).toBe(200);
      other.abort();
      for (const controller of controllers) controller.abort();
      await waitFor(() => server.eventHub.subscriberCount === 0, 5000, "streams closed");
      expect((await stream({})).status).toBe(200);
    }, 30_000);
  });
}

describe.runIf(storeKinds.includes("postgres"))("event stream across server processes (PostgreSQL)", () => {
  it("streams events another server process wrote, via the hub's catch-up read", async () => {
    const { loadConfig, startServer } = await import("@bursar/server");
    const storeConfig = freshStoreConfig("postgres");
    const writer = await startTestServer("postgres", { config: storeConfig });
    // A second server process's view of the same schema: it never sees the writer's commits in memory.
    const reader = await startServer(loadConfig({ ...storeConfig, host: "127.0.0.1", port: 0, logLevel: "silent", sweepIntervalMs: 3_600_000 }));
    try {
      const tenant = await createTestTenant(writer.store);
      const stream = openStream(`${reader.url}/v1/events/stream?after_seq=0`, tenant.token);
      await waitFor(() => stream.events.length >= 3, 10_000, "replay on the reading server");
      const api = client(writer.url, tenant.token);
      const account = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      await waitFor(() => stream.events.some((event) => JSON.stringify(event).includes(account)), 10_000, "the other process's event");
      expect(stream.events.map((event) => event.seq)).toEqual(stream.events.map((_, index) => index + 1));
      stream.source.close();
    } finally {
      await reader.close();
      await writer.close();
    }
  }, 30_000);
});
