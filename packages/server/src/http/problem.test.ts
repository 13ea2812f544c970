import { describe, expect, it } from "vitest";
import { fail, resultCodes } from "@bursar/core";
import { ProblemError, failureToProblem, httpCodes, problemBody, problemTable, toProblem } from "./problem.js";

describe("problem table", () => {
  it("maps every core result code", () => {
    const missing = resultCodes.filter((code) => !Object.hasOwn(problemTable, code));
    expect(missing).toEqual([]);
  });

  it("maps every HTTP-level code, and nothing else", () => {
    const expected = new Set<string>([...resultCodes, ...httpCodes]);
    expect(new Set(Object.keys(problemTable))).toEqual(expected);
  });

  it("gives every code an error status and a title", () => {
    for (const [code, kind] of Object.entries(problemTable)) {
      expect(kind.status, code).toBeGreaterThanOrEqual(400);
      expect(kind.status, code).toBeLessThan(600);
      expect(kind.title.length, code).toBeGreaterThan(0);
      expect(code).toMatch(/^[a-z][a-z_]*[a-z]$/);
    }
  });

  it.each([
    ["validation_failed", 400],
    ["not_found", 404],
    ["insufficient_funds", 422],
    ["transfer_exists_with_different_fields", 409],
    ["unauthorized", 401],
    ["invalid_token", 401],
    ["insufficient_scope", 403],
    ["body_too_large", 413],
    ["unsupported_media_type", 415],
    ["idempotency_key_payload_mismatch", 409],
    ["idempotency_key_in_use", 409],
    ["rate_limited", 429],
    ["internal_error", 500],
  ] as const)("%s is %i", (code, status) => {
    expect(problemTable[code].status).toBe(status);
  });
});

describe("ProblemError", () => {
  it("takes its status from the table and renders an RFC 9457 body", () => {
    const problem = new ProblemError("insufficient_scope", "needs tenant:admin", { availableActions: ["ask_owner"] });
    expect(problem.status).toBe(403);
    expect(problemBody(problem, "req_1")).toEqual({
      type: "tag:bursar.dev,2025:problem:insufficient_scope",
      title: "Insufficient scope",
      status: 403,
      detail: "needs tenant:admin",
      code: "insufficient_scope",
      request_id: "req_1",
      available_actions: ["ask_owner"],
    });
  });

  it("carries a domain failure's code, detail and field errors", () => {
    const errors = [{ path: "transfers.1.amount", code: "insufficient_funds" as const, detail: "balance 5 < 10" }];
    const problem = failureToProblem(fail("insufficient_funds", "not enough", errors));
    expect(problem.code).toBe("insufficient_funds");
    expect(problem.status).toBe(422);
    expect(problemBody(problem, "req_2").errors).toEqual(errors);
  });

  it("leaves unknown errors to the 500 path", () => {
    expect(toProblem(new Error("boom"))).toBeNull();
    expect(toProblem(Object.assign(new Error("x"), { statusCode: 500 }))).toBeNull();
    expect(toProblem(Object.assign(new Error("x"), { statusCode: 418, code: "FST_SOMETHING" }))?.code).toBe("bad_request");
  });
});
