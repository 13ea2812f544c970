/**
 * The SDK's typed events cover the server's event catalog exactly: `eventTypes` (the keys of
 * `EventDataMap`, which the compiler holds to the map) lists the same types as core's catalog,
 * so a new event type without its SDK type, or an SDK type for an event that no longer exists,
 * fails here.
 */
import { describe, expect, it } from "vitest";
import { knownEventTypes } from "@bursar/core";
import { eventTypes, isEventType, type BursarEvent } from "@bursar/sdk";

describe("SDK event types", () => {
  it("EventDataMap types every event type of the server's catalog, and no other", () => {
    expect([...eventTypes]).toEqual(knownEventTypes());
  });

  it("narrows an escrow payout event to its typed data", () => {
    const event = { type: "escrow_intent.payout_failed", data: { escrow_intent: { id: "int_x", failed_payouts: [{ failure_reason: "rail_error" }] } } } as unknown as BursarEvent;
    expect(isEventType(event, "escrow_intent.payout_failed") && event.data.escrow_intent.failed_payouts[0]!.failure_reason).toBe("rail_error");
    expect(isEventType(event, "escrow_intent.released")).toBe(false);
  });
});
