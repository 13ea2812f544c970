/**
 * Webhooks the real server sends, checked with the SDK: `v1` with the endpoint's secret, `v1a`
 * with its public key, both secrets during a rotation; and the delivered body proven to be the
 * journaled event (the journal and the webhook cannot tell two stories).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar, WebhookVerificationError, parseWebhookEvent, verifyWebhook } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { createTestTenant, startTestServer } from "./support.js";
import { startReceiver, waitFor, type Receiver } from "./webhook-receiver.js";

let server: RunningServer;
let receiver: Receiver;
beforeAll(async () => {
  server = await startTestServer("sqlite", { config: { allowPrivateWebhookTargets: true, webhookRetryBaseMs: 40, webhookAttemptTimeoutMs: 1000, webhookPollIntervalMs: 30 } });
  receiver = await startReceiver();
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

describe("webhooks from a real server", () => {
  it("verify with the secret (v1) and the public key (v1a), before and during a rotation", async () => {
    const tenant = await createTestTenant(server.store);
    const owner = new Bursar({ token: tenant.token, baseUrl: server.url });
    const endpoint = await owner.webhookEndpoints.create({ url: receiver.url, event_types: ["account.*"], signature_schemes: ["v1", "v1a"] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect(endpoint.public_key).toMatch(/^whpk_/);

    const account = await owner.accounts.create({ currency: "GBP", name: "hooked" });
    await waitFor(() => receiver.received.some((r) => r.answered === 200 && r.body.includes(account.id)), 20_000, "the account.created delivery");
    const delivery = receiver.received.find((r) => r.body.includes(account.id))!;
    const event = await parseWebhookEvent(delivery.body, delivery.headers, endpoint.secret!);
    expect(event).toMatchObject({ type: "account.created", tenant_id: tenant.tenantId, data: { account: { id: account.id } } });
    await verifyWebhook(delivery.body, delivery.headers, endpoint.public_key!);
    await expect(verifyWebhook(delivery.body.replace("hooked", "hacked"), delivery.headers, endpoint.secret!)).rejects.toBeInstanceOf(WebhookVerificationError);

    // The delivered body is exactly the journaled event.
    const proved = await owner.journal.verifyInclusion({ seq: event.seq, event });
    expect(proved.event.id).toBe(event.id);

    const rotated = await owner.webhookEndpoints.rotateSecret(endpoint.id, { overlap_seconds: 3600 });
    const second = await owner.accounts.create({ currency: "GBP", name: "after rotation" });
    await waitFor(() => receiver.received.some((r) => r.answered === 200 && r.body.includes(second.id)), 20_000, "the delivery after rotation");
    const during = receiver.received.find((r) => r.body.includes(second.id))!;
    await verifyWebhook(during.body, during.headers, rotated.secret!);
    await verifyWebhook(during.body, during.headers, endpoint.secret!);

    const deliveries = [];
    for await (const d of await owner.webhookEndpoints.deliveries(endpoint.id)) deliveries.push(d);
    expect(deliveries.map((d) => d.status)).toEqual(["delivered", "delivered"]);
  });
});
