import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

describe("newId", () => {
  it("is strictly increasing within a millisecond and when the clock steps back", () => {
    const ids = [...Array.from({ length: 1000 }, () => newId("pol", 1_700_000_000_000)), newId("pol", 1_600_000_000_000), newId("pol", 1_700_000_000_001)];
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} < ${ids[i]}`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("carries the time in its first ten characters", () => {
    const id = newId("acc", 1_800_000_000_000);
    expect(id).toMatch(/^acc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newId("acc", 1_800_000_000_001).slice(4, 14) > id.slice(4, 14)).toBe(true);
  });
});
