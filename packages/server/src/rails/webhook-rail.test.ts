/** What an executor's answer to `payment.execute` means, as a table (docs/rails.md "Answer"). */
import { describe, expect, it } from "vitest";
import { executorAnswerOutcome } from "./webhook-rail.js";

const answer = (statusCode: number | null, responseBody: string | null, extra: { timedOut?: boolean; error?: string } = {}) => ({
  statusCode, responseBody, durationMs: 1, error: extra.error ?? null, ...(extra.timedOut ? { timedOut: true } : {}),
});

describe("executorAnswerOutcome", () => {
  it.each([
    ["202, no body: accepted, the callback settles", answer(202, null), { status: "submitted" }],
    ["200, not JSON", answer(200, "ok"), { status: "submitted" }],
    ["200, JSON without a status", answer(200, '{"accepted":true}'), { status: "submitted" }],
    ["200, unknown status", answer(200, '{"status":"processing"}'), { status: "submitted" }],
    ["200 succeeded", answer(200, '{"status":"succeeded","rail_reference":"bank-1"}'), { status: "completed", railReference: "bank-1" }],
    ["200 succeeded, reference too long", answer(200, JSON.stringify({ status: "succeeded", rail_reference: "x".repeat(201) })), { status: "completed", railReference: null }],
    ["200 failed with a code", answer(200, '{"status":"failed","reason":"account_closed"}'), { status: "failed", reason: "account_closed" }],
    ["200 failed with free text", answer(200, '{"status":"failed","reason":"Account closed!"}'), { status: "failed", reason: "executor_failed" }],
    ["301: redirects are not followed", answer(301, null), { status: "failed", reason: "rail_error" }],
    ["400", answer(400, '{"status":"succeeded"}'), { status: "failed", reason: "rail_error" }],
    ["500", answer(500, null), { status: "failed", reason: "rail_error" }],
    ["connection refused", answer(null, null, { error: "network error: ECONNREFUSED" }), { status: "failed", reason: "rail_error" }],
    ["no answer in time: unknown, the deadline decides", answer(null, null, { timedOut: true, error: "timed out" }), { status: "submitted" }],
  ] as const)("%s", (_what, result, expected) => {
    expect(executorAnswerOutcome(result)).toEqual(expected);
  });
});
