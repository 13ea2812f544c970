/**
 * Events and the journal through the SDK, against a real server: lists, the SSE stream resuming
 * after a cut connection, and journal verification that refuses a forged checkpoint, a tampered
 * proof and a history that does not extend the trusted one (a real fork: two servers grown from
 * one copied database, so both sign with the tenant's real key).
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar, JournalVerificationError, canonicalJson, isEventType, type BursarEvent } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { createTestTenant, startTestServer, tempDir, type TestTenant } from "./support.js";
import { jsonResponse, onboardWithSdk, watchingFetch } from "./sdk-support.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer("sqlite");
});
afterAll(async () => {
  await server.close();
});

/** Passes a stream through up to the end of its `messages`-th event, then ends it (a dropped connection). */
function cutAfter(response: Response, messages: number): Response {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let text = "";
  let emitted = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) return controller.close();
      text += decoder.decode(value, { stream: true });
      let cut = -1;
      let count = 0;
      for (const match of text.matchAll(/\ndata: [^\n]*\n\n/g)) {
        if (++count === messages) cut = match.index + match[0].length;
      }
      if (cut < 0) {
        controller.enqueue(encoder.encode(text.slice(emitted)));
        emitted = text.length;
        return;
      }
      controller.enqueue(encoder.encode(text.slice(emitted, cut)));
      await reader.cancel();
      controller.close();
    },
    cancel: () => reader.cancel(),
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

describe("events", () => {
  it("lists with filters and pages, newest first or in journal order", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    for (const name of ["a", "b", "c"]) await owner.agents.create({ name });
    const page = await owner.events.list({ type: "agent.*", limit: 2 });
    expect(page.data.map((e) => e.type)).toEqual(["agent.created", "agent.created"]);
    expect(page.hasMore).toBe(true);
    const all: BursarEvent[] = [];
    for await (const event of await owner.events.list({ after_seq: 0, limit: 2 })) all.push(event);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.filter((e) => e.type === "agent.created")).toHaveLength(3);
  });

  it("streams, resumes after a dropped connection with Last-Event-ID, and goes live", async () => {
    const agent = await onboardWithSdk(server);
    const owner = agent.owner;
    let connections = 0;
    const watch = watchingFetch((request, response) => {
      if (!request.url.includes("/v1/events/stream") || response.status !== 200) return response;
      connections++;
      // The first connection drops after two events.
      return connections === 1 ? cutAfter(response, 2) : response;
    });
    const tenantView = new Bursar({ token: agent.ownerToken, baseUrl: server.url, fetch: watch });
    const before = (await owner.events.list({ after_seq: 0, limit: 100 })).data;
    expect(before.length).toBeGreaterThanOrEqual(4);

    const controller = new AbortController();
    const received: BursarEvent[] = [];
    let liveName: string | null = null;
    for await (const event of tenantView.events.stream({ after_seq: 0, signal: controller.signal })) {
      received.push(event);
      if (received.length === before.length && liveName === null) {
        liveName = "Live agent";
        await owner.agents.create({ name: liveName });
      }
      if (isEventType(event, "agent.created") && event.data.agent.name === liveName) controller.abort();
    }
    // Every event once, in journal order, across the cut.
    expect(received.map((e) => e.seq)).toEqual(received.map((_, i) => i + 1));
    expect(received.slice(0, before.length).map((e) => e.id)).toEqual(before.map((e) => e.id));
    const streams = watch.seen.filter((s) => s.url.includes("/v1/events/stream"));
    expect(streams).toHaveLength(2);
    expect(streams[0]!.headers["last-event-id"]).toBeUndefined();
    expect(streams[1]!.headers["last-event-id"]).toBe(received[1]!.id);
  });

  it("an agent's stream starts after the newest event it can see and carries DPoP", async () => {
    const agent = await onboardWithSdk(server);
    const watch = watchingFetch();
    const bursar = new Bursar({ configDir: agent.configDir, fetch: watch });
    const controller = new AbortController();
    const iterator = bursar.events.stream({ signal: controller.signal })[Symbol.asyncIterator]();
    const next = iterator.next();
    // Wait for the connection, then cause an event about this agent.
    while (!watch.seen.some((s) => s.url.includes("/v1/events/stream") && s.status === 200)) await new Promise((r) => setTimeout(r, 20));
    await agent.owner.agents.update(agent.agentId, { name: "Renamed" });
    const first = await next;
    expect(first.value).toMatchObject({ type: "agent.updated", agent_id: agent.agentId });
    controller.abort();
    await iterator.return?.(undefined);
    const stream = watch.seen.find((s) => s.url.includes("/v1/events/stream"))!;
    expect(stream.headers.authorization).toMatch(/^DPoP /);
    expect(stream.headers.dpop).toBeTruthy();
  });

  it("a cursor the server does not know is an error, not a reconnection loop", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    const iterator = owner.events.stream({ last_event_id: "evt_nope" })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ status: 410, code: "cursor_expired" });
  });
});

describe("journal verification", () => {
  it("verifies checkpoints, consistency and inclusion, and keeps the trusted checkpoint in the store", async () => {
    const tenant = await createTestTenant(server.store);
    const configDir = tempDir("journal-trust");
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url, configDir });
    const first = await owner.journal.checkpoint();
    expect(first.origin).toBe(`bursar/${tenant.tenantId}`);
    expect(first.treeSize).toBeGreaterThan(0);
    for (const name of ["x", "y", "z"]) await owner.agents.create({ name });
    const second = await owner.journal.checkpoint();
    expect(second.treeSize).toBeGreaterThan(first.treeSize);
    expect(owner.journal.trustedCheckpoint).toEqual(second);

    for (let seq = 1; seq <= second.treeSize; seq++) {
      const proved = await owner.journal.verifyInclusion({ seq });
      expect(proved.event.seq).toBe(seq);
    }
    // An event body from elsewhere (a webhook, a list) proves itself against the journal...
    const listed = (await owner.events.list({ limit: 1 })).data[0]!;
    await owner.journal.verifyInclusion({ seq: listed.seq, event: listed });
    // ...and a doctored one does not.
    const doctored = { ...listed, data: { ...listed.data, extra: "1" } };
    await expect(owner.journal.verifyInclusion({ seq: listed.seq, event: doctored })).rejects.toMatchObject({ reason: "not_included" });

    const trust = JSON.parse(fs.readFileSync(path.join(configDir, "journal-trust.json"), "utf8"));
    expect(trust[second.origin].checkpoint.tree_size).toBe(second.treeSize);
    expect(fs.statSync(path.join(configDir, "journal-trust.json")).mode & 0o777).toBe(0o600);

    // A new client with the same store starts from the stored checkpoint.
    await owner.agents.create({ name: "w" });
    const watch = watchingFetch();
    const later = new Bursar({ token: tenant.token, baseUrl: server.url, configDir, fetch: watch });
    const third = await later.journal.checkpoint();
    expect(third.treeSize).toBeGreaterThan(second.treeSize);
    expect(watch.seen.some((s) => s.url.includes(`/v1/journal/proofs/consistency?from_size=${second.treeSize}&to_size=${third.treeSize}`))).toBe(true);
  });

  it("refuses a forged checkpoint and a checkpoint whose fields differ from its note", async () => {
    const tenant = await createTestTenant(server.store);
    const forge = (mutate: (body: any) => any) =>
      new Bursar({
        token: tenant.token,
        baseUrl: server.url,
        fetch: watchingFetch(async (request, response) => (request.url.endsWith("/v1/journal/checkpoint") ? jsonResponse(response, mutate(await response.json())) : response)),
      });
    // A note whose root line was changed: the signature no longer covers it.
    const forgedRoot = forge((body) => {
      const lines = body.note.split("\n");
      lines[2] = Buffer.alloc(32, 7).toString("base64");
      return { ...body, note: lines.join("\n"), root_hash: lines[2] };
    });
    await expect(forgedRoot.journal.checkpoint()).rejects.toMatchObject({ name: "JournalVerificationError", reason: "invalid_checkpoint" });
    // A larger size claimed next to an honest note.
    const mismatched = forge((body) => ({ ...body, tree_size: body.tree_size + 5 }));
    await expect(mismatched.journal.checkpoint()).rejects.toMatchObject({ reason: "checkpoint_mismatch" });
    // Another tenant's journal (someone else's valid note) is not this tenant's.
    const other = await createTestTenant(server.store);
    const otherCheckpoint = await new Bursar({ token: other.token, baseUrl: server.url }).journal.checkpoint();
    const swapped = forge(() => ({ origin: otherCheckpoint.origin, tree_size: otherCheckpoint.treeSize, root_hash: otherCheckpoint.rootHash, time: otherCheckpoint.time, note: otherCheckpoint.note }));
    await expect(swapped.journal.checkpoint()).rejects.toBeInstanceOf(JournalVerificationError);
  });

  it("refuses a tampered inclusion proof and a tampered consistency proof", async () => {
    const tenant = await createTestTenant(server.store);
    const flip = (hash: string) => {
      const bytes = Buffer.from(hash, "base64");
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString("base64");
    };
    const tampering = new Bursar({
      token: tenant.token,
      baseUrl: server.url,
      fetch: watchingFetch(async (request, response) => {
        if (!request.url.includes("/v1/journal/proofs/")) return response;
        const body: any = await response.json();
        return jsonResponse(response, { ...body, proof: body.proof.map((h: string, i: number) => (i === 0 ? flip(h) : h)) });
      }),
    });
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    await owner.agents.create({ name: "one" });
    await owner.agents.create({ name: "two" });
    await expect(tampering.journal.verifyInclusion({ seq: 1 })).rejects.toMatchObject({ reason: "not_included" });
    await owner.agents.create({ name: "three" });
    await expect(tampering.journal.checkpoint()).rejects.toMatchObject({ reason: "not_consistent" });
  });

  it("refuses a validly signed journal that does not extend the trusted one (a fork)", async () => {
    // One database, grown apart in two servers: both sign with the tenant's real key.
    const dirA = tempDir("fork-a");
    const first = await startTestServer("sqlite", { config: { dataDir: dirA } });
    const tenant: TestTenant = await createTestTenant(first.store);
    await new Bursar({ token: tenant.token, baseUrl: first.url }).agents.create({ name: "shared history" });
    await first.close();
    const dirB = tempDir("fork-b");
    fs.cpSync(dirA, dirB, { recursive: true });
    const a = await startTestServer("sqlite", { config: { dataDir: dirA } });
    const b = await startTestServer("sqlite", { config: { dataDir: dirB } });
    try {
      await new Bursar({ token: tenant.token, baseUrl: a.url }).agents.create({ name: "only on A" });
      const onB = new Bursar({ token: tenant.token, baseUrl: b.url });
      await onB.agents.create({ name: "only on B" });
      await onB.agents.create({ name: "also only on B" });

      let target = a.url;
      const client = new Bursar({
        token: tenant.token,
        baseUrl: a.url,
        fetch: (input, init) => fetch(input.replace(a.url, target), init),
      });
      const trusted = await client.journal.checkpoint();
      target = b.url;
      const error = await client.journal.checkpoint().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JournalVerificationError);
      expect(error).toMatchObject({ reason: "not_consistent" });
      expect(client.journal.trustedCheckpoint).toEqual(trusted);
      // B's history is fine on its own: a client that never saw A accepts it.
      expect((await onB.journal.checkpoint()).treeSize).toBeGreaterThan(trusted.treeSize);
      // Rolling back to an older size of the same history is accepted without losing trust.
      target = a.url;
      expect((await client.journal.checkpoint()).treeSize).toBe(trusted.treeSize);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("canonical JSON matches the server's leaf bytes", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    const entries = (await owner.journal.entries({ after_seq: 0, limit: 10 })).data;
    const { createHash } = await import("node:crypto");
    for (const entry of entries) {
      const leaf = createHash("sha256").update(Buffer.concat([Buffer.from([0]), Buffer.from(canonicalJson(entry.event))])).digest("base64");
      expect(leaf).toBe(entry.leaf_hash);
    }
  });
});

describe("SDK journal verification with an agent credential (redacted entries)", () => {
  it("verifies every entry and its own inclusion, while other agents' entries come as leaf hashes", async () => {
    const alice = await onboardWithSdk(server, { scopes: ["agents:execute", "events:read"], fundMinor: 10_000 });
    // Another agent's activity in the same tenant: its events are outside Alice's view.
    const bob = await alice.owner.agents.create({ name: "Bob's agent" });
    await alice.owner.agents.update(bob.id, { name: "Bob's agent, renamed" });
    const agent = new Bursar({ configDir: alice.configDir });
    try {
      const page = await agent.journal.entries({ limit: 1000 });
      expect(page.data.some((entry) => entry.event === null)).toBe(true);
      expect(JSON.stringify(page.data)).not.toContain(bob.id);
      const verified = await agent.journal.verifyEntries();
      expect(verified.treeSize).toBe(page.data.length);
      const own = page.data.find((entry) => entry.event !== null)!;
      expect((await agent.journal.verifyInclusion({ seq: own.seq })).event.agent_id).toBe(alice.agentId);
      const hidden = page.data.find((entry) => entry.event === null)!;
      await expect(agent.journal.verifyInclusion({ seq: hidden.seq })).rejects.toBeInstanceOf(JournalVerificationError);
    } finally {
      await agent.close();
    }
  });
});
