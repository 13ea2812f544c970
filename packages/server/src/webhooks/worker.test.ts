import { describe, expect, it } from "vitest";
import { webhookAttemptsMax, webhookRetryBaseMs, webhookRetryDelayMaxMs } from "@bursar/core";
import { retryDelayMs } from "./worker.js";

describe("webhook retry schedule", () => {
  it("doubles from the base with jitter, capped at the maximum", () => {
    for (let failures = 1; failures < webhookAttemptsMax; failures++) {
      const full = Math.min(webhookRetryBaseMs * 2 ** (failures - 1), webhookRetryDelayMaxMs);
      for (let sample = 0; sample < 50; sample++) {
        const delay = retryDelayMs(failures, webhookRetryBaseMs);
        expect(delay).toBeGreaterThanOrEqual(full / 2 - 1);
        expect(delay).toBeLessThanOrEqual(full + 1);
      }
    }
  });

  it("spans about three days over every attempt (SPEC: about three days)", () => {
    let longestMs = 0;
    let shortestMs = 0;
    for (let failures = 1; failures < webhookAttemptsMax; failures++) {
      const full = Math.min(webhookRetryBaseMs * 2 ** (failures - 1), webhookRetryDelayMaxMs);
      longestMs += full;
      shortestMs += full / 2;
    }
    const day = 24 * 3600 * 1000;
    expect(longestMs).toBeGreaterThan(2.5 * day);
    expect(longestMs).toBeLessThan(4 * day);
    expect(shortestMs).toBeGreaterThan(1.5 * day);
  });
});
