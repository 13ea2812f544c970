/**
 * Idempotency claims die with their process on PostgreSQL (issue 17, item 10). A `bursar serve`
 * child on PostgreSQL takes a burst of payment intents, each with an Idempotency-Key, and is
 * SIGKILLed mid-burst, several times. Right after each restart every request is retried with its
 * key: none may answer 409 `idempotency_key_in_use` (the claims of the dead process are dead
 * too), acknowledged ones replay their first answer, and each request runs once and only once.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@bursar/core";
import { openStore } from "@bursar/server";
import { onboard } from "./agents-support.js";
import { checkLedger } from "./books.js";
import { agentClient, createPayee, expectStatus } from "./payments-support.js";
import { client, createTestTenant, dropSchema, killHard, listAll, postgresUrl, spawnServer, type ChildServer } from "./support.js";

const requests = 150;
const cycles = 3;
const concurrency = 24;

describe.runIf(postgresUrl)("idempotency claims across SIGKILL on PostgreSQL", () => {
  const schema = `t_${newId("req").slice(4).toLowerCase()}`;
  const env = { BURSAR_DATABASE_URL: postgresUrl!, BURSAR_DATABASE_SCHEMA: schema };
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child.process);
    await dropSchema(schema);
  });

  async function inProgressClaims(): Promise<number> {
    const connection = new pg.Client({ connectionString: postgresUrl! });
    await connection.connect();
    try {
      const result = await connection.query(`SELECT count(*)::int AS n FROM "${schema}".idempotency_keys WHERE state = 'in_progress'`);
      return (result.rows[0] as { n: number }).n;
    } finally {
      await connection.end();
    }
  }

  it("a retry right after restart runs once, never 409 idempotency_key_in_use", async () => {
    const bootstrap = await openStore({ dataDir: "", databaseUrl: postgresUrl, databaseSchema: schema });
    const tenant = await createTestTenant(bootstrap);
    await bootstrap.close();

    let server = await spawnServer(env);
    children.push(server);
    let owner = client(server.url, tenant.token);
    const onboarded = await onboard(server.url, owner, { scopes: ["agents:execute", "transactions:read"] });
    expectStatus(await owner.post(`/v1/accounts/${onboarded.walletAccountId}/deposits`, { amount: 100_000_000 }), 201);
    await createPayee(owner, "Bob");

    const bodyOf = (i: number) => ({ payee: "Bob", amount: 100 + i, currency: "GBP", reference: `claim ${i}` });
    const keyOf = (i: number) => `claim-${i}`;
    const firstAnswer = new Map<number, string>();
    let deadClaimsSeen = 0;

    for (let cycle = 0; cycle < cycles; cycle++) {
      // A burst over the requests not yet answered, killed after a few answers.
      const agent = await agentClient(server.url, onboarded);
      const pending = Array.from({ length: requests }, (_, i) => i).filter((i) => !firstAnswer.has(i));
      const killAfter = firstAnswer.size + Math.max(5, Math.floor(pending.length / 4));
      const victim = server;
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < pending.length) {
            const i = pending[next++]!;
            try {
              const answer = await agent.post("/v1/payment-intents", bodyOf(i), { "idempotency-key": keyOf(i) });
              if (answer.status === 201) firstAnswer.set(i, answer.body.id);
            } catch {
              return; // the server died
            }
            if (firstAnswer.size >= killAfter) void killHard(victim.process);
          }
        }),
      );
      await killHard(victim.process);
      deadClaimsSeen += await inProgressClaims();

      // Restart and retry at once: no claim of the dead process may block its key.
      server = await spawnServer(env);
      children.push(server);
      const retrying = await agentClient(server.url, onboarded);
      for (let i = 0; i < requests; i++) {
        if (!firstAnswer.has(i) && cycle < cycles - 1 && i % 2 === 0) continue; // leave some for the next burst
        const answer = await retrying.post("/v1/payment-intents", bodyOf(i), { "idempotency-key": keyOf(i) });
        expect(answer.status, `request ${i} after restart ${cycle + 1}: ${JSON.stringify(answer.body)}`).toBe(201);
        if (firstAnswer.has(i)) expect(answer.body.id).toBe(firstAnswer.get(i));
        else firstAnswer.set(i, answer.body.id);
      }
    }
    // The test is only worth something if processes died holding claims.
    expect(deadClaimsSeen).toBeGreaterThan(0);

    owner = client(server.url, tenant.token);
    const intents = await listAll(owner, "/v1/payment-intents");
    expect(intents.length).toBe(requests);
    expect(new Set(intents.map((intent) => intent.reference)).size).toBe(requests);
    expect(new Set(intents.map((intent) => intent.id))).toEqual(new Set(firstAnswer.values()));
    await checkLedger(owner);
  }, 180_000);
});
