/**
 * Webhooks end to end: a real server, a real HTTP receiver on loopback (reachable only because
 * the server opts in to private targets), signatures checked with the independent
 * `standardwebhooks` package and `v1a` with node:crypto, failures and timeouts retried with the
 * same `webhook-id`, 410 disabling the endpoint, secret rotation, tenant isolation, and the SSRF
 * guard of a server that did not opt in.
 */
import { createPublicKey, verify } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { client, createTestTenant, listAll, startTestServer, storeKinds } from "./support.js";
import { startReceiver, waitFor, type Receiver } from "./webhook-receiver.js";

const fastRetries = { allowPrivateWebhookTargets: true, webhookRetryBaseMs: 40, webhookAttemptTimeoutMs: 400, webhookPollIntervalMs: 30 };

/** Verifies a `v1a` signature with node:crypto and a `whpk_` public key. */
function verifyEd25519(publicKey: string, received: { headers: Record<string, string>; body: string }): boolean {
  const raw = Buffer.from(publicKey.slice("whpk_".length), "base64");
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  const content = `${received.headers["webhook-id"]}.${received.headers["webhook-timestamp"]}.${received.body}`;
  const signatures = received.headers["webhook-signature"]!.split(" ").filter((part) => part.startsWith("v1a,"));
  return signatures.some((part) => verify(null, Buffer.from(content), key, Buffer.from(part.slice(4), "base64")));
}

for (const kind of storeKinds) {
  describe(`webhooks on ${kind}`, () => {
    let server: RunningServer;
    let receiver: Receiver;
    let receiverB: Receiver;
    let api: ReturnType<typeof client>;
    let apiB: ReturnType<typeof client>;
    let tenantA: string;
    let tenantB: string;

    beforeAll(async () => {
      server = await startTestServer(kind, { config: fastRetries });
      receiver = await startReceiver();
      receiverB = await startReceiver();
      const a = await createTestTenant(server.store, "A");
      const b = await createTestTenant(server.store, "B");
      tenantA = a.tenantId;
      tenantB = b.tenantId;
      api = client(server.url, a.token);
      apiB = client(server.url, b.token);
    });
    afterAll(async () => {
      await server.close();
      await receiver.close();
      await receiverB.close();
    });

    it("delivers a ledger flow, signed (v1 and v1a), through 500s and a timeout, same webhook-id on every attempt", async () => {
      const created = await api.post("/v1/webhook-endpoints", {
        url: receiver.url,
        event_types: ["account.*", "transfer.*"],
        description: "books",
        signature_schemes: ["v1", "v1a"],
      });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_/);
      expect(created.body.public_key).toMatch(/^whpk_/);
      const endpointId = created.body.id as string;
      // Shown once: never listed, journaled, or replayed again.
      expect(JSON.stringify((await api.get(`/v1/webhook-endpoints/${endpointId}`)).body)).not.toContain("whsec_");
      expect(JSON.stringify((await api.get("/v1/webhook-endpoints")).body)).not.toContain("whsec_");
      expect(JSON.stringify(await listAll(api, "/v1/events"))).not.toContain("whsec_");
      const keyed = { url: receiver.url, event_types: ["nothing.here"] };
      const first = await api.post("/v1/webhook-endpoints", keyed, { "idempotency-key": "create-once" });
      const replay = await api.post("/v1/webhook-endpoints", keyed, { "idempotency-key": "create-once" });
      expect(first.body.secret).toMatch(/^whsec_/);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.body).toMatchObject({ id: first.body.id, secret: null });
      await api.call("DELETE", `/v1/webhook-endpoints/${first.body.id}`);
      // Tenant B listens too, on its own receiver.
      expect((await apiB.post("/v1/webhook-endpoints", { url: receiverB.url, event_types: ["*"] })).status).toBe(201);

      // The receiver fails for a while: three 500s, then one request that never answers.
      receiver.fail(3);
      receiver.hang(0);
      const wallet = (await api.post("/v1/accounts", { currency: "GBP", name: "wallet" })).body.id;
      const payee = (await api.post("/v1/accounts", { currency: "GBP", name: "Bob" })).body.id;
      expect((await api.post(`/v1/accounts/${wallet}/deposits`, { amount: 50_000 })).status).toBe(201);
      receiver.hang(1);
      expect((await api.post("/v1/transfers", { debit_account_id: wallet, credit_account_id: payee, amount: 12_345, currency: "GBP" })).status).toBe(201);
      await apiB.post("/v1/accounts", { currency: "EUR", name: "B's own" });

      const expected = (await listAll(api, "/v1/events?type=account.*,transfer.*")).filter((e) => e.seq > 0);
      const expectedIds = new Set(expected.map((e) => e.id as string));
      expect(expected.map((e) => e.type).sort()).toEqual(["account.created", "account.created", "account.created", "transfer.created", "transfer.created"].sort());
      await waitFor(() => [...expectedIds].every((id) => receiver.deliveredIds().has(id)), 20_000, "every event delivered");

      const verifier = new Webhook(created.body.secret);
      const succeeded = receiver.received.filter((r) => r.answered === 200);
      for (const received of succeeded) {
        const payload = verifier.verify(received.body, received.headers) as { id: string; tenant_id: string };
        expect(payload.id).toBe(received.headers["webhook-id"]);
        expect(payload.tenant_id).toBe(tenantA);
        expect(verifyEd25519(created.body.public_key, received), "v1a verifies").toBe(true);
      }
      // A wrong secret or a changed body does not verify.
      expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(succeeded[0]!.body, succeeded[0]!.headers)).toThrow();
      expect(() => verifier.verify(succeeded[0]!.body.replace("GBP", "EUR"), succeeded[0]!.headers)).toThrow();

      // Failed attempts carried the same id as the successful one, and every attempt is on record.
      const failed = receiver.received.filter((r) => r.answered !== 200);
      expect(failed.length).toBe(4);
      for (const attempt of failed) expect(expectedIds.has(attempt.headers["webhook-id"]!)).toBe(true);
      // The receiver answers before the worker records the attempt: wait for the records.
      const delivered = async () => (await listAll(api, `/v1/webhook-endpoints/${endpointId}/deliveries`)).every((d) => d.status === "delivered");
      await waitFor(delivered, 20_000, "every delivery recorded as delivered");
      const deliveries = await listAll(api, `/v1/webhook-endpoints/${endpointId}/deliveries`);
      expect(deliveries.every((d) => d.status === "delivered")).toBe(true);
      const attempts = deliveries.flatMap((d) => d.attempts);
      expect(attempts.length).toBe(expected.length + 4);
      expect(attempts.filter((a) => a.status_code === 500)).toHaveLength(3);
      expect(attempts.filter((a) => a.status_code === null && /timed out/.test(a.error))).toHaveLength(1);

      // Tenant isolation: B's receiver never saw an event of A, and A's never one of B.
      await waitFor(() => receiverB.received.some((r) => r.body.includes("B's own")), 10_000, "B's event");
      for (const r of receiverB.received) expect(JSON.parse(r.body).tenant_id).toBe(tenantB);
      for (const r of receiver.received) expect(JSON.parse(r.body).tenant_id).toBe(tenantA);
      expect((await apiB.get(`/v1/webhook-endpoints/${endpointId}`)).status).toBe(404);
      expect((await apiB.get(`/v1/webhook-endpoints/${endpointId}/deliveries`)).status).toBe(404);
    }, 60_000);

    it("signs with both secrets during a rotation's overlap, then retries a delivery by hand", async () => {
      const created = (await api.post("/v1/webhook-endpoints", { url: receiver.url, event_types: ["account.created"] })).body;
      const rotated = await api.post(`/v1/webhook-endpoints/${created.id}/rotate-secret`, { overlap_seconds: 3600 });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(created.secret);
      const before = receiver.received.length;
      const account = (await api.post("/v1/accounts", { currency: "USD", name: "rotation" })).body.id;
      // The first endpoint (which also signs v1a) gets the same event: pick this endpoint's copy.
      const mine = () => receiver.received.slice(before).find((r) => r.body.includes(account) && !r.headers["webhook-signature"]!.includes("v1a,"));
      await waitFor(() => mine() !== undefined, 10_000, "the rotation event");
      const received = mine()!;
      expect(received.headers["webhook-signature"]!.split(" ").filter((s) => s.startsWith("v1,"))).toHaveLength(2);
      new Webhook(created.secret).verify(received.body, received.headers);
      new Webhook(rotated.body.secret).verify(received.body, received.headers);

      const deliveries = (await api.get(`/v1/webhook-endpoints/${created.id}/deliveries`)).body.data;
      const retried = await api.post(`/v1/webhook-endpoints/${created.id}/deliveries/${deliveries[0].id}/retry`);
      expect(retried.status).toBe(200);
      expect(retried.body.status).toBe("pending");
      await waitFor(async () => (await api.get(`/v1/webhook-endpoints/${created.id}/deliveries`)).body.data[0].attempt_count === 2, 10_000, "manual retry");
      expect((await apiB.post(`/v1/webhook-endpoints/${created.id}/deliveries/${deliveries[0].id}/retry`)).status).toBe(404);
      await api.call("DELETE", `/v1/webhook-endpoints/${created.id}`);
    }, 30_000);

    it("disables an endpoint whose receiver answers 410", async () => {
      const gone = await startReceiver();
      gone.gone(true);
      try {
        const created = (await api.post("/v1/webhook-endpoints", { url: gone.url, event_types: ["account.created"] })).body;
        await api.post("/v1/accounts", { currency: "USD" });
        await waitFor(async () => (await api.get(`/v1/webhook-endpoints/${created.id}`)).body.enabled === false, 10_000, "endpoint disabled");
        const endpoint = (await api.get(`/v1/webhook-endpoints/${created.id}`)).body;
        expect(endpoint.disabled_reason).toMatch(/410/);
        const deliveries = (await api.get(`/v1/webhook-endpoints/${created.id}/deliveries`)).body.data;
        expect(deliveries[0]).toMatchObject({ status: "failed", attempt_count: 1 });
        // Nothing more is queued for a disabled endpoint.
        const count = gone.received.length;
        await api.post("/v1/accounts", { currency: "USD" });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(gone.received.length).toBe(count);
        expect((await api.get(`/v1/webhook-endpoints/${created.id}/deliveries`)).body.data).toHaveLength(1);
      } finally {
        await gone.close();
      }
    }, 30_000);

    it("never follows a redirect: a 3xx is a failed attempt, retried at the same URL", async () => {
      const bouncer = await startReceiver();
      const target = await startReceiver();
      bouncer.redirect(target.url);
      try {
        const created = (await api.post("/v1/webhook-endpoints", { url: bouncer.url, event_types: ["account.created"] })).body;
        await api.post("/v1/accounts", { currency: "JPY" });
        await waitFor(() => bouncer.received.length >= 2, 10_000, "two attempts at the redirecting URL");
        const delivery = (await api.get(`/v1/webhook-endpoints/${created.id}/deliveries`)).body.data[0];
        expect(delivery.status).toBe("pending");
        expect(delivery.attempts[0].status_code).toBe(307);
        expect(target.received).toHaveLength(0);
        await api.call("DELETE", `/v1/webhook-endpoints/${created.id}`);
      } finally {
        await bouncer.close();
        await target.close();
      }
    }, 30_000);

    it("validates endpoints: schemes, filters, scopes", async () => {
      for (const body of [
        { url: "ftp://example.com/hook" },
        { url: "http://user:pass@example.com/hook" },
        { url: "not a url" },
      ]) {
        const response = await api.post("/v1/webhook-endpoints", body);
        expect(response.status, JSON.stringify(body)).toBe(422);
        expect(response.body.code).toBe("webhook_url_forbidden");
      }
      expect((await api.post("/v1/webhook-endpoints", { url: receiver.url, event_types: ["Bad Type"] })).status).toBe(400);
      expect((await api.post("/v1/webhook-endpoints", { url: receiver.url, event_types: [] })).status).toBe(400);
      expect((await client(server.url).get("/v1/webhook-endpoints")).status).toBe(401);
    });
  });
}

describe("SSRF guard without the opt-in", () => {
  let server: RunningServer;
  let receiver: Receiver;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { config: { webhookPollIntervalMs: 30, webhookRetryBaseMs: 40, webhookAttemptTimeoutMs: 400 } });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  it("refuses loopback, private, link-local, metadata, CGNAT, multicast and unspecified targets", async () => {
    const api = client(server.url, (await createTestTenant(server.store)).token);
    const port = new URL(receiver.url).port;
    for (const url of [
      receiver.url,
      `http://localhost:${port}/hook`,
      "http://127.1.2.3/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://10.0.0.8/",
      "http://172.20.1.1/",
      "http://192.168.1.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://100.64.0.1/",
      "http://0.0.0.0/",
      "http://[::]/",
      "http://224.0.0.1/",
      "http://[fd00::1]/",
      "http://[fe80::1]/",
    ]) {
      const response = await api.post("/v1/webhook-endpoints", { url });
      expect({ url, status: response.status, code: response.body.code }).toEqual({ url, status: 422, code: "webhook_url_forbidden" });
    }
    expect(receiver.received).toHaveLength(0);
  });

  it("refuses at delivery time too (the address changed after registration)", async () => {
    const tenant = await createTestTenant(server.store);
    const api = client(server.url, tenant.token);
    // Registered while it pointed elsewhere: written straight into the store, as a rebinding
    // DNS answer would leave it.
    const { createWebhookEndpoint } = await import("@bursar/core");
    const row = await server.store.write(tenant.tenantId, (tx) =>
      createWebhookEndpoint({ tx, tenantId: tenant.tenantId, nowMs: Date.now(), actor: { type: "system", id: "test" } }, { url: receiver.url, eventTypes: ["*"] }),
    );
    if (!row.ok) throw new Error(row.detail);
    await api.post("/v1/accounts", { currency: "GBP" });
    await waitFor(async () => (await api.get(`/v1/webhook-endpoints/${row.value.id}/deliveries`)).body.data[0]?.attempt_count >= 1, 10_000, "an attempt");
    const delivery = (await api.get(`/v1/webhook-endpoints/${row.value.id}/deliveries`)).body.data[0];
    expect(delivery.attempts[0].error).toMatch(/target refused/);
    expect(receiver.received).toHaveLength(0);
  });
});
