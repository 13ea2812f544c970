import { describe, expect, it } from "vitest";
import { resolvedOperation, runSandboxOperation, sandboxExecution, sandboxService } from "./services.js";

describe("sandbox operations", () => {
  // amount (minor units of from) → quoted amount (minor units of to), rounded half up.
  const quotes: Array<[number, string, string, number, string]> = [
    [10_000, "GBP", "USD", 12_700, "1.270000"],
    [10_000, "GBP", "GBP", 10_000, "1.000000"],
    [10_000, "USD", "JPY", 14_961, "149.606299"],
    [500, "EUR", "GBP", 427, "0.854700"],
    [1, "GBP", "JPY", 2, "190.000000"],
    [1, "JPY", "GBP", 1, "0.005263"],
    [1, "JPY", "EUR", 1, "0.006157"],
    [1_000_000_000_000, "JPY", "USD", 668_421_052_632, "0.006684"],
  ];
  it.each(quotes)("quote %d %s in %s is %d at %s", (amount, from, to, quoted, rate) => {
    expect(runSandboxOperation("quote", { amount, from, to })).toEqual({ from, to, amount, quoted_amount: quoted, rate });
  });

  it("echo returns the payload; slow completes with the message", () => {
    expect(runSandboxOperation("echo", { a: [1, { b: null }] })).toEqual({ echo: { a: [1, { b: null }] } });
    expect(runSandboxOperation("slow", {})).toEqual({ message: null, completed: true });
    expect(runSandboxOperation("slow", { message: "hi" })).toEqual({ message: "hi", completed: true });
  });

  it("only slow runs after the write; schema keys change with the service version", () => {
    expect(sandboxService.body.operations.map((operation) => sandboxExecution(operation.name))).toEqual(["inline", "inline", "async"]);
    expect(resolvedOperation("ten_1", sandboxService, "echo")?.schemaKey).toBe("/svc_sandbox/1/echo");
    const http = { ...sandboxService, id: "svc_x", body: { ...sandboxService.body, kind: "http" as const, version: 3 } };
    expect(resolvedOperation("ten_1", http, "echo")).toMatchObject({ execution: "http", schemaKey: "ten_1/svc_x/3/echo" });
    expect(resolvedOperation("ten_1", sandboxService, "nope")).toBeNull();
  });
});
