import { describe, expect, it } from "vitest";
import { migrations, pendingMigrations } from "./migrations.js";

describe("migrations", () => {
  it("applies version 3 whether or not version 2 exists", () => {
    const versions = (applied: Array<{ version: number; name: string }>) => pendingMigrations(applied).map((m) => m.version);
    expect(versions([])).toEqual(migrations.map((m) => m.version));
    expect(versions([{ version: 1, name: "initial schema" }])).toContain(3);
    expect(versions([{ version: 1, name: "initial schema" }, { version: 3, name: "webhooks" }])).not.toContain(3);
  });

  it("refuses an unknown version or a renamed one", () => {
    expect(() => pendingMigrations([{ version: 99, name: "future" }])).toThrow(/newer/);
    expect(() => pendingMigrations([{ version: 3, name: "something else" }])).toThrow(/expects/);
  });
});
