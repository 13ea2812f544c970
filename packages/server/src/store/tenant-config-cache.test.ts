import { describe, expect, it } from "vitest";
import { TenantConfigCache } from "./tenant-config-cache.js";

describe("TenantConfigCache", () => {
  it("hands out a frozen copy: neither the caller's original nor a reader can change what is cached", () => {
    const cache = new TenantConfigCache();
    const policy = { limits: { daily: 100 }, payees: ["a"], key: Buffer.from([1, 2]) };
    cache.remember("ten_1", 3, "policy", policy);
    policy.limits.daily = 1;
    policy.payees.push("b");

    const cached = cache.lookup<typeof policy>("ten_1", 3, "policy")!;
    expect({ ...cached, key: [...cached.key] }).toEqual({ limits: { daily: 100 }, payees: ["a"], key: [1, 2] });
    expect(() => {
      cached.limits.daily = 5;
    }).toThrow(TypeError);
    expect(() => cached.payees.push("c")).toThrow(TypeError);
    expect(cache.lookup<typeof policy>("ten_1", 3, "policy")!.limits.daily).toBe(100);
  });

  it("answers nothing for another config version or tenant", () => {
    const cache = new TenantConfigCache();
    cache.remember("ten_1", 3, "policy", { a: 1 });
    expect(cache.lookup("ten_1", 4, "policy")).toBeUndefined();
    expect(cache.lookup("ten_2", 3, "policy")).toBeUndefined();
  });
});
