import { describe, expect, it } from "vitest";
import { matchesEventType, parseEventTypeFilter } from "./event-types.js";

describe("event-type patterns", () => {
  it.each([
    [["*"], "transfer.posted", true],
    [["transfer.*"], "transfer.posted", true],
    [["transfer.*"], "transfer", false],
    [["transfer.*"], "transfers.posted", false],
    [["payment_intent.*"], "payment_intent.leg.failed", true],
    [["transfer.posted"], "transfer.posted", true],
    [["transfer.posted"], "transfer.post", false],
    [[], "transfer.posted", false],
    [["account.created", "transfer.*"], "transfer.voided", true],
  ])("%j matches %s: %s", (patterns, type, expected) => {
    expect(matchesEventType(patterns, type)).toBe(expected);
  });

  it("parses comma lists and refuses malformed or too many patterns", () => {
    expect(parseEventTypeFilter("transfer.*, account.created", 20)).toEqual(["transfer.*", "account.created"]);
    expect(parseEventTypeFilter("Transfer", 20)).toBeNull();
    expect(parseEventTypeFilter("transfer.*.posted", 20)).toBeNull();
    expect(parseEventTypeFilter("a%", 20)).toBeNull();
    expect(parseEventTypeFilter("a,b,c", 2)).toBeNull();
  });
});
