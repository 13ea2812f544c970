/**
 * The SDK's bounds against the server's (`@bursar/core` limits.ts): each pair that must agree,
 * checked in one place (STYLE habit 1, "checked for consistency").
 */
import * as server from "@bursar/core";
import { describe, expect, it } from "vitest";
import * as sdk from "./limits.ts";

describe("SDK limits agree with the server's", () => {
  it.each([
    ["a token is renewed well before the server's lifetime ends", sdk.accessTokenRefreshMarginMs < (server.accessTokenLifetimeSecondsMax * 1000) / 2],
    ["client assertions live no longer than the server accepts", sdk.clientAssertionLifetimeSeconds <= server.clientAssertionLifetimeSecondsMax],
    ["an idle stream outlasts two missed heartbeats", sdk.eventStreamIdleTimeoutMs > 2 * server.eventStreamHeartbeatMs],
    ["the server's suggested reconnection delay is honoured", server.eventStreamRetryMs <= sdk.eventStreamRetryDelayMaxMs],
    ["journal pages ask no more than the server gives", sdk.journalEntriesPageLimit <= server.journalEntriesPageMax],
    ["webhook payloads as large as a request body verify", sdk.webhookBodyBytesMax >= server.requestBodyBytesMax],
    ["a rotation's signatures all fit", sdk.webhookSignaturesMax >= 3],
    ["backoff base below its cap", sdk.retryDelayBaseMs <= sdk.retryDelayMaxMs],
    ["a wait for approval lasts no longer than an approval can", sdk.spendApprovalWaitMaxMs === server.approvalExpirySecondsMax * 1000],
    ["approval polls: default between the shortest and the longest interval", sdk.spendApprovalPollIntervalMinMs <= sdk.spendApprovalPollIntervalDefaultMs && sdk.spendApprovalPollIntervalDefaultMs <= sdk.spendApprovalPollIntervalMaxMs],
    ["one nonce retry and one refresh", sdk.unauthorizedRetriesMax === 2],
  ])("%s", (_rule, holds) => {
    expect(holds).toBe(true);
  });
});
