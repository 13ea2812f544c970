import { describe, expect, it } from "vitest";
import { inputSchemaProblem, validatePayload } from "./schemas.js";

describe("service input schemas", () => {
  const usable: Array<[string, Record<string, unknown>]> = [
    ["an object with typed properties", { type: "object", required: ["city"], properties: { city: { type: "string", minLength: 1 } } }],
    ["properties without a type", { properties: { city: { type: "string" } } }],
    ["formats", { type: "object", properties: { at: { type: "string", format: "date-time" }, to: { type: "string", format: "email" } } }],
    ["a local $ref", { $defs: { city: { type: "string" } }, type: "object", properties: { city: { $ref: "#/$defs/city" } } }],
  ];
  it.each(usable)("accepts %s", (_name, schema) => expect(inputSchemaProblem(schema)).toBeNull());

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an unknown keyword", { type: "object", madeUp: true }, /unknown keyword/],
    ["a misspelt type", { type: "strin" }, /schema is invalid/],
    ["a remote $ref (never fetched)", { $ref: "https://example.com/schema.json" }, /can't resolve reference/],
    ["an unknown format", { type: "string", format: "shoe-size" }, /unknown format/],
    ["a schema over 16 KiB", { type: "object", description: "x".repeat(17 * 1024) }, /larger than/],
  ];
  it.each(refused)("refuses %s", (_name, schema, message) => expect(inputSchemaProblem(schema)).toMatch(message));

  it("reports payload errors with paths, every one up to the bound", () => {
    const schema = { type: "object", required: ["a"], properties: { a: { type: "integer" }, b: { type: "array", items: { type: "string" } } } };
    expect(validatePayload("test/1", schema, { a: 1, b: ["x"] })).toBeNull();
    expect(validatePayload("test/1", schema, { a: "1", b: ["x", 2] })).toEqual([
      { path: "payload.a", code: "payload_invalid", detail: "type: must be integer" },
      { path: "payload.b.1", code: "payload_invalid", detail: "type: must be string" },
    ]);
    const many = { type: "array", items: { type: "string" } };
    expect(validatePayload("test/2", many, Array.from({ length: 100 }, (_, i) => i))).toHaveLength(20);
  });

  it("one tenant's $id does not clash with another's", () => {
    const schema = { $id: "https://example.com/shared", type: "object" };
    expect(validatePayload("ten_a/svc_1/1/op", schema, {})).toBeNull();
    expect(validatePayload("ten_b/svc_2/1/op", { ...schema, type: "string" }, "ok")).toBeNull();
  });
});
