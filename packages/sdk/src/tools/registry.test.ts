import { describe, expect, it } from "vitest";
import { bursarTools, forbiddenToolWords, runBursarTool, toolIdempotencyKey, toolResultSchema } from "./registry.ts";
import type { Bursar } from "../client.ts";

describe("the tool registry", () => {
  it("has no tool that approves, rejects, edits a policy or a budget, or reads a secret", () => {
    for (const tool of bursarTools) for (const word of forbiddenToolWords) expect(tool.name).not.toContain(word);
    // Every write is annotated as one, every read as read-only.
    for (const tool of bursarTools) expect(tool.annotations.readOnlyHint).toBe(!tool.writes);
  });

  it("answers an invented tool or invalid input as a failed result in the one shape, calling nothing", async () => {
    const bursar = new Proxy({}, { get: () => { throw new Error("must not be called"); } }) as unknown as Bursar;
    const invented = await runBursarTool("bursar_approve", { approval_id: "apr_1" }, { bursar });
    expect(toolResultSchema.parse(invented)).toMatchObject({ status: "failed", reason_codes: ["unknown_tool"] });
    const invalid = await runBursarTool("bursar_pay", { payee: "Bob", amount: 4.5, currency: "gbp" }, { bursar });
    expect(invalid).toMatchObject({ status: "failed", reason_codes: ["invalid_input"] });
  });

  it("derives one idempotency key per request and tool input, and keeps a caller's own key", async () => {
    const base = { scope: "s", requestId: 7, tool: "bursar_pay", input: { payee: "Bob", amount: 1, currency: "GBP" } };
    expect(await toolIdempotencyKey(base)).toBe(await toolIdempotencyKey({ ...base, input: { currency: "GBP", amount: 1, payee: "Bob" } }));
    expect(await toolIdempotencyKey(base)).not.toBe(await toolIdempotencyKey({ ...base, requestId: 8 }));
    expect(await toolIdempotencyKey(base)).not.toBe(await toolIdempotencyKey({ ...base, requestId: "7" }));
    expect(await toolIdempotencyKey(base)).not.toBe(await toolIdempotencyKey({ ...base, scope: "t" }));
    expect(await toolIdempotencyKey({ ...base, input: { ...base.input, idempotency_key: "invoice-42" } })).toBe("tool:bursar_pay:invoice-42");
    expect((await toolIdempotencyKey(base)).length).toBeLessThanOrEqual(255);
  });
});
