import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.js";
import { validateToolCall } from "./chat/tools.js";
import { isWellFormedText, parseJsonWellFormed, toWellFormedText } from "./unicode.js";

describe("well-formed Unicode", () => {
  it.each([
    ["plain", "abc", true],
    ["a pair (emoji)", "\uD83D\uDE00", true],
    ["a lone high surrogate", "\uD800", false],
    ["a lone low surrogate", "\uDC00", false],
    ["a high one at the end", "ab\uD83D", false],
    ["two highs then a low", "\uD83D\uD83D\uDE00", false],
    ["a low then a high", "\uDE00\uD83D", false],
  ])("%s", (_name, text, expected) => {
    expect(isWellFormedText(text)).toBe(expected);
    expect(isWellFormedText(toWellFormedText(text))).toBe(true);
    if (expected) expect(toWellFormedText(text)).toBe(text);
  });

  it("canonicalisation refuses a lone surrogate (why the edge must)", () => {
    expect(() => canonicalJson({ name: "\uD800" })).toThrow();
  });

  it("outside JSON is repaired in keys and values, at any depth, and then canonicalises", () => {
    const value = parseJsonWellFormed('{"a\\ud800":["x\\udc00",{"b":"\\ud83d\\ude00"}]}');
    expect(value).toEqual({ "a\uFFFD": ["x\uFFFD", { b: "\uD83D\uDE00" }] });
    expect(() => canonicalJson(value)).not.toThrow();
  });

  it("a model's tool arguments with a lone surrogate reach the tool repaired", () => {
    const call = validateToolCall("find_payees", '{"query":"Bob\\ud800"}');
    expect(call.ok).toBe(true);
    if (call.ok) expect(() => canonicalJson(call.arguments)).not.toThrow();
  });
});
