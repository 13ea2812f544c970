/**
 * Durable deliveries: a real `bursar serve` child (opted in to loopback targets, fast retries)
 * queues deliveries to a receiver that keeps failing, is killed with SIGKILL while they are
 * pending, and is restarted on the same store. Every event is then delivered at least once,
 * with its own event id as `webhook-id`.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "@bursar/server";
import { client, createTestTenant, freshStoreConfig, killHard, listAll, spawnServer, storeKinds, type ChildServer } from "./support.js";
import { startReceiver, waitFor } from "./webhook-receiver.js";

for (const kind of storeKinds) {
  describe(`webhook deliveries survive SIGKILL on ${kind}`, () => {
    const children: ChildServer[] = [];
    afterAll(async () => {
      for (const child of children) await killHard(child.process);
    });

    it("delivers every event at least once after a crash and restart", async () => {
      const storeConfig = freshStoreConfig(kind);
      const bootstrap = await openStore(storeConfig);
      const tenant = await createTestTenant(bootstrap);
      await bootstrap.close();
      const env: Record<string, string> = {
        BURSAR_DATA_DIR: storeConfig.dataDir,
        ...(storeConfig.databaseUrl ? { BURSAR_DATABASE_URL: storeConfig.databaseUrl, BURSAR_DATABASE_SCHEMA: storeConfig.databaseSchema! } : {}),
        BURSAR_ALLOW_PRIVATE_WEBHOOK_TARGETS: "1",
        BURSAR_WEBHOOK_RETRY_BASE_MS: "100",
        BURSAR_WEBHOOK_ATTEMPT_TIMEOUT_MS: "300",
      };
      const receiver = await startReceiver();
      try {
        receiver.fail(1_000_000);
        let server = await spawnServer(env);
        children.push(server);
        let api = client(server.url, tenant.token);
        const endpoint = await api.post("/v1/webhook-endpoints", { url: receiver.url, event_types: ["*"] });
        expect(endpoint.status).toBe(201);

        const accounts = await Promise.all(Array.from({ length: 8 }, (_, i) => api.post("/v1/accounts", { currency: "GBP", name: `a${i}` })));
        await Promise.all(accounts.map((account) => api.post(`/v1/accounts/${account.body.id}/deposits`, { amount: 100 })));
        await waitFor(() => receiver.received.length >= 10, 10_000, "failing attempts before the crash");
        await killHard(server.process);

        receiver.fail(0);
        server = await spawnServer(env);
        children.push(server);
        api = client(server.url, tenant.token);
        // The endpoint hears every event journaled after its creation (not the creation itself).
        const events = await listAll(api, "/v1/events?after_seq=0");
        const created = events.find((event) => event.type === "webhook_endpoint.created" && event.data.webhook_endpoint.id === endpoint.body.id);
        const afterEndpoint = events.filter((event) => event.seq > created.seq);
        expect(afterEndpoint.length).toBeGreaterThanOrEqual(16);
        await waitFor(() => afterEndpoint.every((event) => receiver.deliveredIds().has(event.id)), 30_000, "every event delivered after the restart");
        const deliveries = await listAll(api, `/v1/webhook-endpoints/${endpoint.body.id}/deliveries`);
        expect(deliveries.map((d) => d.event_id).sort()).toEqual(afterEndpoint.map((e) => e.id).sort());
        await waitFor(async () => (await listAll(api, `/v1/webhook-endpoints/${endpoint.body.id}/deliveries`)).every((d) => d.status === "delivered"), 10_000, "every delivery marked delivered");
        await killHard(server.process);
      } finally {
        await receiver.close();
      }
    }, 90_000);
  });
}

