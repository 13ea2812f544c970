/**
 * SPEC §4: one verb set on every resource — `list`, `get`, `create`, `update`, `delete` — plus
 * actions named for what they do. Each `get` and `delete` is checked against the request it sends.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bursar } from "../index.ts";

let server: Server;
let bursar: Bursar;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.writeHead(200, { "content-type": "application/json" });
    response.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  bursar = new Bursar({ apiKey: "bsk_test", baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 1 });
});

afterAll(async () => {
  await bursar.close();
  await new Promise((resolve) => server.close(resolve));
});

/** Verbs some SDKs use that SPEC §4 does not: none may exist on any resource. */
const foreignVerbs = ["retrieve", "del", "remove", "destroy", "fetch", "read"];

function methodsOf(resource: object): string[] {
  return Object.getOwnPropertyNames(Object.getPrototypeOf(resource)).filter((name) => name !== "constructor");
}

describe("SDK verbs", () => {
  it("no resource has a verb outside the SPEC's set", () => {
    const resources = Object.entries(bursar).filter(([, value]) => typeof value === "object" && value !== null && "client" in value);
    expect(resources.length).toBeGreaterThan(15);
    for (const [name, resource] of resources) {
      for (const verb of foreignVerbs) expect(methodsOf(resource), `${name}.${verb}`).not.toContain(verb);
    }
  });

  const gets: Array<[string, (id: string) => Promise<unknown>, string]> = [
    ["transactions", (id) => bursar.transactions.get(id), "/v1/transactions/"],
    ["paymentIntents", (id) => bursar.paymentIntents.get(id), "/v1/payment-intents/"],
    ["serviceRequests", (id) => bursar.serviceRequests.get(id), "/v1/service-requests/"],
    ["approvals", (id) => bursar.approvals.get(id), "/v1/approvals/"],
    ["agents", (id) => bursar.agents.get(id), "/v1/agents/"],
    ["accounts", (id) => bursar.accounts.get(id), "/v1/accounts/"],
    ["transfers", (id) => bursar.transfers.get(id), "/v1/transfers/"],
    ["payees", (id) => bursar.payees.get(id), "/v1/payees/"],
    ["conversations", (id) => bursar.conversations.get(id), "/v1/conversations/"],
    ["services", (id) => bursar.services.get(id), "/v1/services/"],
    ["webhookEndpoints", (id) => bursar.webhookEndpoints.get(id), "/v1/webhook-endpoints/"],
    ["teams", (id) => bursar.teams.get(id), "/v1/teams/"],
    ["budgetRequests", (id) => bursar.budgetRequests.get(id), "/v1/budget-requests/"],
    ["triggers", (id) => bursar.triggers.get(id), "/v1/triggers/"],
  ];
  it.each(gets)("%s.get(id) sends GET on the item", async (_name, call, path) => {
    seen.length = 0;
    await call("x_1");
    expect(seen).toEqual([`GET ${path}x_1`]);
  });

  const deletes: Array<[string, (id: string) => Promise<unknown>, string]> = [
    ["agents", (id) => bursar.agents.delete(id), "/v1/agents/"],
    ["apiKeys", (id) => bursar.apiKeys.delete(id), "/v1/api-keys/"],
    ["credentialBindings", (id) => bursar.credentialBindings.delete(id), "/v1/credential-bindings/"],
    ["payees", (id) => bursar.payees.delete(id), "/v1/payees/"],
    ["conversations", (id) => bursar.conversations.delete(id), "/v1/conversations/"],
    ["webhookEndpoints", (id) => bursar.webhookEndpoints.delete(id), "/v1/webhook-endpoints/"],
    ["teams.members", (id) => bursar.teams.members.delete("team_1", id), "/v1/teams/team_1/members/"],
    ["triggers", (id) => bursar.triggers.delete(id), "/v1/triggers/"],
  ];
  it.each(deletes)("%s.delete(id) sends DELETE on the item", async (_name, call, path) => {
    seen.length = 0;
    await call("x_1");
    expect(seen).toEqual([`DELETE ${path}x_1`]);
  });
});
