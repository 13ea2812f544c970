/**
 * Erasure erases (issue 17, item 6). After `DELETE /v1/conversations/{id}`, replaying a turn's
 * Idempotency-Key answers 410 `conversation_deleted` without the text (and pays nothing again),
 * and the text is gone from the store: from the SQLite file and its WAL, byte for byte, and from
 * every PostgreSQL table. One turn is one operation whichever chat route carries its key. An
 * agent keeps a bounded number of conversations.
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { conversationsPerAgentMax } from "@bursar/core";
import { createPayee, expectStatus, fundedAgent } from "./payments-support.js";
import { client, createTestTenant, dropSchema, freshStoreConfig, listAll, postgresUrl, startTestServer, storeKinds } from "./support.js";

/** Every byte of the SQLite database and its WAL (the -shm file holds no row content). */
function sqliteBytes(dataDir: string): Buffer {
  const file = path.join(dataDir, "bursar.sqlite");
  return Buffer.concat([file, `${file}-wal`].filter((name) => fs.existsSync(name)).map((name) => fs.readFileSync(name)));
}

/**
 * Whether `marker` is anywhere in the PostgreSQL tables that hold chats and replays: in any row a
 * query can see, or in any row version their heap pages and TOAST tables still store (dead ones
 * included), read with `pageinspect` (the test role is a superuser on the test database).
 */
async function postgresHolds(schema: string, marker: string): Promise<boolean> {
  const connection = new pg.Client({ connectionString: postgresUrl! });
  await connection.connect();
  try {
    const found = await connection.query(
      `SELECT (SELECT count(*) FROM "${schema}".records WHERE strpos(body::text, $1) > 0) + ` +
        `(SELECT count(*) FROM "${schema}".idempotency_keys WHERE strpos(coalesce(response_body, ''), $1) > 0) AS n`,
      [marker],
    );
    if (Number((found.rows[0] as { n: string }).n) > 0) return true;
    await connection.query("CREATE EXTENSION IF NOT EXISTS pageinspect");
    const relations = await connection.query(
      "SELECT c.oid::regclass::text AS name FROM pg_class c WHERE c.oid IN ($1::regclass, $2::regclass) " +
        "UNION SELECT t.reltoastrelid::regclass::text FROM pg_class t WHERE t.oid IN ($1::regclass, $2::regclass) AND t.reltoastrelid <> 0",
      [`"${schema}".records`, `"${schema}".idempotency_keys`],
    );
    for (const { name } of relations.rows as Array<{ name: string }>) {
      const pages = await connection.query("SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int AS n", [name]);
      for (let page = 0; page < (pages.rows[0] as { n: number }).n; page++) {
        // Every row version still stored on the page, live or dead (free space is not a version:
        // PostgreSQL does not zero it, see docs/operating.md "Erasure").
        const versions = await connection.query("SELECT t_data FROM heap_page_items(get_raw_page($1, $2)) WHERE t_data IS NOT NULL", [name, page]);
        if ((versions.rows as Array<{ t_data: Buffer }>).some((row) => row.t_data.includes(Buffer.from(marker)))) return true;
      }
    }
    return false;
  } finally {
    await connection.end();
  }
}

for (const kind of storeKinds) {
  describe(`chat erasure and one turn per key on ${kind}`, () => {
    let server: RunningServer;
    let owner: ReturnType<typeof client>;
    let agentId: string;
    const location = freshStoreConfig(kind);

    beforeAll(async () => {
      server = await startTestServer(kind, { config: location });
      owner = client(server.url, (await createTestTenant(server.store)).token);
      agentId = (await fundedAgent(server.url, owner, 100_000)).agentId;
      await createPayee(owner, "Bob");
    });
    afterAll(async () => {
      await server.close();
      await dropSchema(location.databaseSchema);
    });

    async function holds(marker: string): Promise<boolean> {
      if (kind === "sqlite") return sqliteBytes(location.dataDir).includes(Buffer.from(marker));
      return postgresHolds(location.databaseSchema!, marker);
    }

    const intentsCount = async () => (await listAll(owner, `/v1/payment-intents?agent_id=${agentId}`)).length;

    it("a replay after the conversation is deleted answers 410 without the text, pays nothing again, and the text is gone from the store", async () => {
      const marker = `zebra${Date.now().toString(36)}quokka`;
      const key = `erase-${marker}`;
      const body = { agent_id: agentId, message: `Pay £5 to Bob for the ${marker} invoice` };
      const paid = expectStatus(await owner.post("/v1/chat", body, { "idempotency-key": key }), 200);
      expect(JSON.stringify(paid.new_messages)).toContain(marker);
      expect(paid.payment_intents.length).toBe(1);
      const intents = await intentsCount();
      // A second turn in the same conversation, whose text is only in the chat.
      const second = `${marker}second`;
      expectStatus(await owner.post("/v1/chat", { agent_id: agentId, conversation_id: paid.conversation_id, message: `What is my balance? ${second}` }, { "idempotency-key": `${key}-2` }), 200);
      expect(await holds(second)).toBe(true); // the check below can fail

      expectStatus(await owner.call("DELETE", `/v1/conversations/${paid.conversation_id}`), 200);

      for (const route of ["/v1/chat", "/v1/chat/stream"]) {
        const replay = await owner.post(route, body, { "idempotency-key": key });
        expect(replay.status, JSON.stringify(replay.body)).toBe(410);
        expect(replay.body.code).toBe("conversation_deleted");
        expect(replay.headers.get("idempotent-replayed")).toBe("true");
        expect(JSON.stringify(replay.body)).not.toContain(marker);
      }
      expect(await intentsCount()).toBe(intents);
      // SQLite purges before the DELETE answers; PostgreSQL's VACUUM must wait out transactions
      // begun before the erasure, so it runs again a moment later (postgres-store.ts).
      if (kind === "sqlite") expect(await holds(second)).toBe(false);
      else await expect.poll(() => holds(second), { timeout: 20_000, interval: 500 }).toBe(false);
      // The payment's own reference is journaled, and stays: the books never forget.
      expect((await owner.get(`/v1/payment-intents/${paid.payment_intents[0].id}`)).status).toBe(200);
    });

    it("one Idempotency-Key runs one turn, whichever chat route carries it", async () => {
      const key = `cross-${Date.now()}`;
      const body = { agent_id: agentId, message: "Pay £3 to Bob for the cross-route invoice" };
      const before = await intentsCount();
      const first = await owner.call("POST", "/v1/chat/stream", body, { "idempotency-key": key });
      expect(first.status).toBe(200);
      expect(String(first.body)).toContain("event: done");
      expect(await intentsCount()).toBe(before + 1);

      const again = await owner.post("/v1/chat", body, { "idempotency-key": key });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body.payment_intents.length).toBe(1);
      const streamAgain = await owner.call("POST", "/v1/chat/stream", body, { "idempotency-key": key });
      expect(streamAgain.headers.get("idempotent-replayed")).toBe("true");
      expect(await intentsCount()).toBe(before + 1);
    });

    it("a new conversation past the per-agent cap answers 422 conversations_limit_reached before the turn runs", async () => {
      const other = (await fundedAgent(server.url, owner, 0)).agentId;
      // Fill the cap straight in the store (a thousand turns over HTTP would be slow).
      const { appendToConversation, newId } = await import("@bursar/core");
      const tenantId = (await owner.get("/v1/auth/principal")).body.tenant_id as string;
      for (let batch = 0; batch < conversationsPerAgentMax; batch += 100) {
        await server.store.write(tenantId, async (tx) => {
          for (let i = batch; i < Math.min(batch + 100, conversationsPerAgentMax); i++) {
            await appendToConversation({ tx, tenantId, nowMs: Date.now(), actor: { type: "system", id: "test" } }, newId("conv"), other, [{ role: "user", content: `hello ${i}` }]);
          }
        });
      }
      const before = await intentsCount();
      const refused = await owner.post("/v1/chat", { agent_id: other, message: "Pay £1 to Bob" });
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      expect(refused.body.code).toBe("conversations_limit_reached");
      expect(await intentsCount()).toBe(before);
      // Deleting one makes room.
      const page = expectStatus(await owner.get(`/v1/conversations?agent_id=${other}&limit=1`), 200);
      expectStatus(await owner.call("DELETE", `/v1/conversations/${page.data[0].id}`), 200);
      expectStatus(await owner.post("/v1/chat", { agent_id: other, message: "What is my balance?" }), 200);
    });
  });
}
