/**
 * Idempotency-Key against failures between writes: the answer of a change is recorded in the
 * same transaction as the change, so a process that dies right after the change committed
 * cannot leave a key that would run the change again (or block it as "in use").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "@bursar/core";
import { loadConfig, openStore, startServer, type RunningServer } from "@bursar/server";
import { client, createTestTenant, dropSchema, freshStoreConfig, listAll, storeKinds } from "./support.js";

/** A store whose writes all fail once `writesLeft` reaches zero: a process dying between writes. */
function dyingStore(real: Store) {
  const control = { writesLeft: Infinity };
  const store: Store = Object.create(real);
  store.write = async (tenantId, fn) => {
    if (control.writesLeft <= 0) throw new Error("simulated crash: the process is gone");
    const value = await real.write(tenantId, fn);
    control.writesLeft--;
    return value;
  };
  return { store, control };
}

for (const kind of storeKinds) {
  describe(`idempotency across a crash between writes on ${kind}`, () => {
    let server: RunningServer;
    let real: Store;
    let control: { writesLeft: number };
    let api: ReturnType<typeof client>;
    const config = loadConfig({ ...freshStoreConfig(kind), host: "127.0.0.1", port: 0, logLevel: "silent", sweepIntervalMs: 3_600_000 });

    beforeAll(async () => {
      real = await openStore(config);
      const dying = dyingStore(real);
      control = dying.control;
      server = await startServer(config, { store: dying.store });
      api = client(server.url, (await createTestTenant(real)).token);
    });
    afterAll(async () => {
      await server.close();
      await real.close();
      await dropSchema(config.databaseSchema);
    });

    it("replays the first answer after the process died right after the change", async () => {
      const wallet = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      await api.post(`/v1/accounts/${wallet}/deposits`, { amount: 1_000 });
      const payee = (await api.post("/v1/accounts", { currency: "GBP" })).body.id;
      const body = { debit_account_id: wallet, credit_account_id: payee, amount: 400, currency: "GBP", reference: "key-only" };
      const headers = { "idempotency-key": "pay-bob-april" };

      // Two writes succeed — the key's claim and the transfer — then the "process" is gone.
      control.writesLeft = 2;
      const first = await api.post("/v1/transfers", body, headers);
      expect(first.status).toBe(201);
      control.writesLeft = Infinity;

      const retry = await api.post("/v1/transfers", body, headers);
      expect(retry.status).toBe(201);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(retry.body).toEqual(first.body);
      const applied = (await listAll(api, `/v1/transfers?account_id=${payee}`)).filter((t) => t.reference === "key-only");
      expect(applied).toHaveLength(1);
      expect((await api.get(`/v1/accounts/${wallet}`)).body.debits_posted).toBe(400);
    });

    it("never replays a shown-once secret", async () => {
      const created = await api.post("/v1/personal-access-tokens", { name: "ci" }, { "idempotency-key": "pat-1" });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^bpat_/);
      const replayed = await api.post("/v1/personal-access-tokens", { name: "ci" }, { "idempotency-key": "pat-1" });
      expect(replayed.headers.get("idempotent-replayed")).toBe("true");
      expect(replayed.body.id).toBe(created.body.id);
      expect(replayed.body.token).toBeNull();
      expect((await client(server.url, created.body.token).get("/v1/accounts")).status).toBe(200);
    });
  });
}
