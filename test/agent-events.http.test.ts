/**
 * An agent credential sees only the events that concern its agent, on the audit log and on the
 * stream, whatever filter it asks for; an owner sees them all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { dpopCall, getToken, onboard, type Onboarded } from "./agents-support.js";
import { client, createTestTenant, startTestServer, storeKinds } from "./support.js";

for (const kind of storeKinds) {
  describe(`agent-scoped events on ${kind}`, () => {
    let server: RunningServer;
    let owner: ReturnType<typeof client>;
    let alice: Onboarded;
    let bob: Onboarded;

    beforeAll(async () => {
      server = await startTestServer(kind);
      owner = client(server.url, (await createTestTenant(server.store)).token);
      alice = await onboard(server.url, owner, { scopes: ["agents:execute", "events:read"] });
      bob = await onboard(server.url, owner, { scopes: ["agents:execute", "events:read"] });
    });
    afterAll(() => server.close());

    it("shows an agent its own events only, even when it asks for another agent's", async () => {
      const token = (await getToken(server.url, alice)).body.access_token as string;
      for (const query of ["", `?agent_id=${bob.agentId}`, "?limit=100"]) {
        const listed = await dpopCall(server.url, "GET", `/v1/events${query}`, token, alice.key);
        expect(listed.status, JSON.stringify(listed.body)).toBe(200);
        expect(listed.body.data.length).toBeGreaterThan(0);
        expect(listed.body.data.every((event: { agent_id: string }) => event.agent_id === alice.agentId)).toBe(true);
      }
      const all = await owner.get("/v1/events?limit=100");
      const agents = new Set(all.body.data.map((event: { agent_id: string | null }) => event.agent_id));
      expect(agents.has(alice.agentId) && agents.has(bob.agentId)).toBe(true);
    });
  });
}
