/**
 * Predicate language v1 as scenario tables (parse refusals, evaluations with their failing node),
 * the templates, and a property test: random ASTs over random evidence never throw, and stay
 * within the step budget; random JSON is either refused by the parser or evaluates.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { predicateStepsMax } from "../limits.js";
import { evaluatePredicate, parsePredicate, resolveJsonPointer } from "./predicate.js";
import { describePredicate, expandTemplate } from "./templates.js";

const intent = { amount: 5_000, currency: "GBP", deadline: 2_000_000, submitted_at: 1_000_000 };
const evidence = {
  payload: { status: 200, report: { pages: 12, title: "Q2" }, cost: 4_500, tags: ["draft", "final"], "a/b": 1, "m~n": 2, nested: [{ ok: true }, { ok: false }] },
  artifacts: [{ sha256: "abc", media_type: "application/pdf" }, { sha256: "def" }],
  submitted_at: "2026-12-01T00:00:00Z",
};
const ptr = (p: string) => ({ ptr: p });
const num = (n: unknown) => ({ const: n as number });
const run = (root: unknown, doc: unknown = evidence) => {
  const parsed = parsePredicate({ version: 1, root });
  if (!parsed.ok) throw new Error(`did not parse: ${parsed.detail}`);
  return evaluatePredicate(parsed.value, doc, intent);
};

describe("predicate evaluation", () => {
  const scenarios: Array<[string, unknown, boolean, string | null]> = [
    ["true passes", { op: "true" }, true, null],
    ["false fails at itself", { op: "false" }, false, "/root"],
    ["eq on a number", { op: "eq", left: ptr("/payload/status"), right: num(200) }, true, null],
    ["eq with the wrong value", { op: "eq", left: ptr("/payload/status"), right: num(500) }, false, "/root"],
    ["eq compares objects deeply, member order ignored", { op: "eq", left: ptr("/payload/report"), right: { const: { title: "Q2", pages: 12 } } }, true, null],
    ["eq does not coerce types", { op: "eq", left: ptr("/payload/status"), right: { const: "200" } }, false, "/root"],
    ["ne", { op: "ne", left: ptr("/payload/status"), right: num(500) }, true, null],
    ["ne with a missing value is false", { op: "ne", left: ptr("/payload/nothing"), right: num(500) }, false, "/root"],
    ["lt numbers", { op: "lt", left: ptr("/payload/cost"), right: { field: "amount" } }, true, null],
    ["lte at equality", { op: "lte", left: num(5_000), right: { field: "amount" } }, true, null],
    ["gt fails", { op: "gt", left: ptr("/payload/cost"), right: { field: "amount" } }, false, "/root"],
    ["gte strings by code unit", { op: "gte", left: { const: "b" }, right: { const: "a" } }, true, null],
    ["ordering a number against a string is false", { op: "lt", left: num(1), right: { const: "2" } }, false, "/root"],
    ["field submitted_at is epoch ms", { op: "lt", left: { field: "submitted_at" }, right: { field: "deadline" } }, true, null],
    ["in", { op: "in", value: ptr("/payload/status"), options: [200, 201] }, true, null],
    ["in fails", { op: "in", value: ptr("/payload/status"), options: [201, 204] }, false, "/root"],
    ["exists", { op: "exists", value: ptr("/payload/report/title") }, true, null],
    ["exists on a missing member", { op: "exists", value: ptr("/payload/report/author") }, false, "/root"],
    ["escaped pointer ~1", { op: "eq", left: ptr("/payload/a~1b"), right: num(1) }, true, null],
    ["escaped pointer ~0", { op: "eq", left: ptr("/payload/m~0n"), right: num(2) }, true, null],
    ["array index", { op: "eq", left: ptr("/payload/tags/1"), right: { const: "final" } }, true, null],
    ["leading-zero index names nothing", { op: "exists", value: ptr("/payload/tags/01") }, false, "/root"],
    ["`-` names nothing", { op: "exists", value: ptr("/payload/tags/-") }, false, "/root"],
    ["len of an array", { op: "eq", left: { len: ptr("/artifacts") }, right: num(2) }, true, null],
    ["len of a string", { op: "eq", left: { len: ptr("/payload/report/title") }, right: num(2) }, true, null],
    ["len of a number is missing", { op: "eq", left: { len: ptr("/payload/status") }, right: num(0) }, false, "/root"],
    ["and: the first failing child is the failing node", { op: "and", args: [{ op: "true" }, { op: "eq", left: ptr("/payload/status"), right: num(1) }] }, false, "/root/args/1"],
    ["or: one passing child passes", { op: "or", args: [{ op: "false" }, { op: "true" }] }, true, null],
    ["or: none passing fails at the or", { op: "or", args: [{ op: "false" }, { op: "false" }] }, false, "/root"],
    ["not", { op: "not", arg: { op: "false" } }, true, null],
    ["not of a passing rule fails at the not", { op: "not", arg: { op: "true" } }, false, "/root"],
    ["any over artifacts", { op: "any", over: ptr("/artifacts"), where: { op: "eq", left: { item: "/sha256" }, right: { const: "def" } } }, true, null],
    ["all fails at the where", { op: "all", over: ptr("/payload/nested"), where: { op: "eq", left: { item: "/ok" }, right: { const: true } } }, false, "/root/where"],
    ["all over an empty array passes", { op: "all", over: { const: [] }, where: { op: "false" } }, true, null],
    ["any over an empty array fails", { op: "any", over: { const: [] }, where: { op: "true" } }, false, "/root"],
    ["all over a non-array fails", { op: "all", over: ptr("/payload/status"), where: { op: "true" } }, false, "/root"],
    ["pointer into a missing payload", { op: "exists", value: ptr("/payload/x/y/z") }, false, "/root"],
    ["own members only: __proto__ is not found", { op: "exists", value: ptr("/payload/__proto__") }, false, "/root"],
    ["own members only: constructor is not found", { op: "exists", value: ptr("/payload/constructor") }, false, "/root"],
  ];
  it.each(scenarios)("%s", (_name, root, passed, failingNode) => {
    const result = run(root);
    expect(result.passed).toBe(passed);
    expect(result.failing_node).toBe(failingNode);
    expect(result.steps).toBeLessThanOrEqual(predicateStepsMax);
  });

  it("stops past the step budget and fails with work_limit_exceeded", () => {
    const big = Array.from({ length: 1000 }, (_, i) => i);
    const inner = { op: "any", over: { item: "/b" }, where: { op: "any", over: { item: "/c" }, where: { op: "eq", left: { item: "" }, right: num(-1) } } };
    const doc = { payload: { rows: Array.from({ length: 100 }, () => ({ b: Array.from({ length: 30 }, () => ({ c: big })) })) }, artifacts: [], submitted_at: "" };
    const result = run({ op: "any", over: ptr("/payload/rows"), where: inner }, doc);
    expect(result).toMatchObject({ passed: false, failing_node: "/root", reason: "work_limit_exceeded", steps: predicateStepsMax });
  });

  it("resolves pointers as RFC 6901 says", () => {
    expect(resolveJsonPointer(evidence, "")).toBe(evidence);
    expect(resolveJsonPointer(evidence, "/payload/a~1b")).toBe(1);
    expect(resolveJsonPointer(evidence, "payload")).toBeUndefined();
    expect(resolveJsonPointer(evidence, "/payload/tags/2")).toBeUndefined();
  });
});

describe("predicate parsing", () => {
  const refusals: Array<[string, unknown, string]> = [
    ["not an object", "true", ""],
    ["another version", { version: 2, root: { op: "true" } }, "predicate/version"],
    ["an unknown member", { version: 1, root: { op: "true" }, extra: 1 }, "predicate"],
    ["an unknown operator", { version: 1, root: { op: "regex", left: ptr("/a"), right: { const: ".*" } } }, "predicate/root/op"],
    ["an empty and", { version: 1, root: { op: "and", args: [] } }, "predicate/root/args"],
    ["a pointer without a leading slash", { version: 1, root: { op: "exists", value: { ptr: "payload" } } }, "predicate/root/value/ptr"],
    ["a bad escape", { version: 1, root: { op: "exists", value: { ptr: "/a~2" } } }, "predicate/root/value/ptr"],
    ["item outside all/any", { version: 1, root: { op: "exists", value: { item: "/a" } } }, "predicate/root/value"],
    ["an unknown field", { version: 1, root: { op: "eq", left: { field: "payee" }, right: num(1) } }, "predicate/root/left/field"],
    ["an operand with two members", { version: 1, root: { op: "eq", left: { ptr: "/a", const: 1 }, right: num(1) } }, "predicate/root/left"],
    ["exists on a constant", { version: 1, root: { op: "exists", value: { const: 1 } } }, "predicate/root/value"],
    ["a non-JSON constant", { version: 1, root: { op: "eq", left: ptr("/a"), right: { const: Number.NaN } } }, "predicate/root/right/const"],
    ["a huge constant", { version: 1, root: { op: "eq", left: ptr("/a"), right: { const: "x".repeat(2000) } } }, "predicate/root/right/const"],
  ];
  it.each(refusals)("refuses %s", (_name, input, path) => {
    const parsed = parsePredicate(input);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.code).toBe("predicate_invalid");
    if (path) expect(parsed.errors?.[0]?.path).toBe(path);
  });

  it("refuses too many nodes and too deep nesting", () => {
    const wide = { version: 1, root: { op: "and", args: Array.from({ length: 32 }, () => ({ op: "and", args: Array.from({ length: 10 }, () => ({ op: "true" })) })) } };
    expect(parsePredicate(wide)).toMatchObject({ ok: false, code: "predicate_invalid" });
    let deep: unknown = { op: "true" };
    for (let i = 0; i < 20; i++) deep = { op: "not", arg: deep };
    expect(parsePredicate({ version: 1, root: deep })).toMatchObject({ ok: false, detail: expect.stringContaining("nests at most") });
  });
});

describe("predicate templates", () => {
  it.each([
    ["http_status", {}, { op: "eq", left: ptr("/payload/status"), right: num(200) }, "Passes when evidence /payload/status equals 200."],
    ["http_status", { status: [200, 204] }, { op: "in", value: ptr("/payload/status"), options: [200, 204] }, "Passes when evidence /payload/status is one of 200, 204."],
    ["webhook_event", { type: "report.done" }, { op: "eq", left: ptr("/payload/type"), right: { const: "report.done" } }, 'Passes when evidence /payload/type equals "report.done".'],
    ["artifact_present", {}, { op: "gt", left: { len: ptr("/artifacts") }, right: num(0) }, "Passes when the length of evidence /artifacts is greater than 0."],
    ["always", {}, { op: "true" }, "Passes when always."],
  ] as const)("%s %o", (name, parameters, root, summary) => {
    const expanded = expandTemplate(name, parameters);
    expect(expanded).toMatchObject({ ok: true, value: { predicate: { version: 1, root }, summary } });
  });

  it("cost_within_amount names its cost path and passes between 0 and the amount", () => {
    const expanded = expandTemplate("cost_within_amount", { cost_path: "/payload/cost" });
    if (!expanded.ok) throw new Error(expanded.detail);
    expect(expanded.value.cost_path).toBe("/payload/cost");
    expect(evaluatePredicate(expanded.value.predicate, evidence, intent).passed).toBe(true);
    expect(evaluatePredicate(expanded.value.predicate, { ...evidence, payload: { cost: 5_001 } }, intent)).toMatchObject({ passed: false, failing_node: "/root/args/1" });
    expect(describePredicate(expanded.value.predicate)).toBe("Passes when all of (evidence /payload/cost is at least 0; evidence /payload/cost is at most the intent's amount).");
  });

  it("refuses unknown templates and bad parameters", () => {
    expect(expandTemplate("regex", {})).toMatchObject({ ok: false, code: "validation_failed" });
    expect(expandTemplate("http_status", { status: 700 })).toMatchObject({ ok: false, code: "validation_failed" });
    expect(expandTemplate("webhook_event", {})).toMatchObject({ ok: false, code: "validation_failed" });
  });
});

describe("predicate properties", () => {
  const pointer = fc.array(fc.oneof(fc.constantFrom("payload", "artifacts", "a", "b", "0", "1", "sha256", "~0", "~1", "-"), fc.string({ maxLength: 4 })), { maxLength: 5 }).map((tokens) => tokens.map((t) => `/${t}`).join(""));
  const json = fc.jsonValue({ maxDepth: 4 });
  const operand: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    operand: fc.oneof(
      { depthSize: "small" },
      pointer.map((p) => ({ ptr: p })),
      pointer.map((p) => ({ item: p })),
      json.map((value) => ({ const: value })),
      fc.constantFrom("amount", "currency", "deadline", "submitted_at").map((field) => ({ field })),
      tie("operand").map((inner) => ({ len: inner })),
    ),
  })).operand;
  const node: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small", maxDepth: 6 },
      fc.constantFrom({ op: "true" }, { op: "false" }),
      fc.record({ op: fc.constantFrom("and", "or"), args: fc.array(tie("node"), { minLength: 1, maxLength: 4 }) }),
      fc.record({ op: fc.constant("not"), arg: tie("node") }),
      fc.record({ op: fc.constantFrom("eq", "ne", "lt", "lte", "gt", "gte"), left: operand, right: operand }),
      fc.record({ op: fc.constant("in"), value: operand, options: fc.array(json, { minLength: 1, maxLength: 4 }) }),
      fc.record({ op: fc.constant("exists"), value: pointer.map((p) => ({ ptr: p })) }),
      fc.record({ op: fc.constantFrom("all", "any"), over: operand, where: tie("node") }),
    ),
  })).node;
  const evidenceDocument = fc.record({ payload: json, artifacts: fc.array(fc.record({ sha256: fc.string({ maxLength: 8 }) }), { maxLength: 5 }), submitted_at: fc.string() });

  it("random ASTs over random evidence never throw and stay within the limits", () => {
    fc.assert(
      fc.property(node, evidenceDocument, (root, doc) => {
        const parsed = parsePredicate({ version: 1, root });
        if (!parsed.ok) {
          expect(parsed.code).toBe("predicate_invalid");
          return;
        }
        const result = evaluatePredicate(parsed.value, doc, intent);
        expect(typeof result.passed).toBe("boolean");
        expect(result.steps).toBeLessThanOrEqual(predicateStepsMax);
        expect(result.passed ? result.failing_node : typeof result.failing_node).toBe(result.passed ? null : "string");
        expect(describePredicate(parsed.value).length).toBeGreaterThan(0);
      }),
      { numRuns: 2_000 },
    );
  });

  it("any JSON is either refused by the parser or evaluates", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.jsonValue({ maxDepth: 6 }), (input, doc) => {
        const parsed = parsePredicate({ version: 1, root: input });
        if (parsed.ok) expect(evaluatePredicate(parsed.value, doc, intent).steps).toBeLessThanOrEqual(predicateStepsMax);
        else expect(parsed.code).toBe("predicate_invalid");
      }),
      { numRuns: 2_000 },
    );
  });
});
