import { describe, expect, it } from "vitest";
import type { EventQuery, JournalEvent, StoreReader } from "@bursar/core";
import { Subscription } from "./subscription.js";

/** A journal in memory: what a subscription reads (getTenant, listEvents) and nothing else. */
function journal(events: JournalEvent[]): StoreReader {
  const reader = {
    async getTenant() {
      return { journalSize: events.length };
    },
    async listEvents(_tenantId: string, query: EventQuery) {
      return events
        .filter((event) => event.seq > (query.afterSeq ?? 0))
        .filter((event) => query.agentId === undefined || event.agent_id === query.agentId)
        .filter((event) => !query.types || query.types.some((type) => type === "*" || type === event.type || (type.endsWith(".*") && event.type.startsWith(type.slice(0, -1)))))
        .slice(0, query.limit);
    },
  };
  return reader as unknown as StoreReader;
}

const event = (seq: number, type = "transfer.created", agentId: string | null = null): JournalEvent => ({
  id: `evt_${seq}`,
  seq,
  type,
  tenant_id: "ten_1",
  agent_id: agentId,
  created_at: "2026-01-01T00:00:00.000Z",
  actor: { type: "system", id: "test" },
  data: {},
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("stream subscription", () => {
  it("replays, then sends offered events once, in order, filling gaps from the store", async () => {
    const events = [1, 2, 3].map((seq) => event(seq));
    const sent: number[] = [];
    const subscription = new Subscription(journal(events), "ten_1", {}, 1, (e) => (sent.push(e.seq), true), () => undefined);
    await subscription.replay();
    expect(sent).toEqual([2, 3]);
    events.push(event(4), event(5), event(6));
    subscription.offer([events[5]!]); // 6 arrives first: 4 and 5 are read from the store
    subscription.offer([events[3]!, events[4]!]); // late duplicates are dropped
    await settle();
    expect(sent).toEqual([2, 3, 4, 5, 6]);
  });

  it("shows an agent only its own events, however they arrive", async () => {
    const events = [event(1, "transfer.created", "agt_a"), event(2, "transfer.created", "agt_b"), event(3, "account.created", "agt_a")];
    const sent: string[] = [];
    const subscription = new Subscription(journal(events), "ten_1", { agentId: "agt_a" }, 0, (e) => (sent.push(e.id), true), () => undefined);
    await subscription.replay();
    events.push(event(4, "transfer.posted", "agt_b"), event(5, "transfer.posted", "agt_a"));
    subscription.offer([events[3]!, events[4]!]);
    await settle();
    expect(sent).toEqual(["evt_1", "evt_3", "evt_5"]);
  });

  it("ends the stream when the client cannot keep up", async () => {
    let ended = false;
    const subscription = new Subscription(journal([event(1), event(2)]), "ten_1", {}, 0, () => false, () => (ended = true));
    await subscription.replay();
    expect(ended).toBe(true);
  });
});
