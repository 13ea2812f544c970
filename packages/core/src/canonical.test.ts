import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.js";

/** A deterministic pseudo-random JSON value generator (xorshift), so failures reproduce. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const strings = ["", "a", "é", "\u20ac", "\ud83d\ude00", "\u0000\u001f", 'q"uo\\te', "\n\t", "\u2028\u007f", "x\u001fy", "B", "aa", "\u00e9t\u00e9", "10", "1"];
  const value = (depth: number): unknown => {
    const pick = Math.floor(next() * (depth > 3 ? 5 : 8));
    switch (pick) {
      case 0: return null;
      case 1: return next() < 0.5;
      case 2: return [0, -0, 1, -1, 1e21, 1e-7, 123.456, 2 ** 53, -(2 ** 31), 0.1 + 0.2][Math.floor(next() * 10)];
      case 3: return strings[Math.floor(next() * strings.length)];
      case 4: return Math.floor(next() * 1e6) / 100;
      case 5: return Array.from({ length: Math.floor(next() * 4) }, () => (next() < 0.1 ? undefined : value(depth + 1)));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = Math.floor(next() * 5); i > 0; i--) object[strings[Math.floor(next() * strings.length)]!] = next() < 0.1 ? undefined : value(depth + 1);
        return object;
      }
    }
  };
  return value;
}

describe("canonicalJson (RFC 8785)", () => {
  it("matches the canonicalize package on 2,000 generated values", () => {
    const value = generator(0x9e3779b9);
    for (let i = 0; i < 2000; i++) {
      const input = value(0);
      expect(canonicalJson(input)).toBe(canonicalize(input));
    }
  });

  it("sorts keys by UTF-16 code units and serialises numbers as ECMAScript does (RFC 8785 §3.2)", () => {
    expect(canonicalJson({ "\u20ac": 1, "\ud83d\ude00": 2, "\r": 3, "1": 4, "\u0080": 5, "\u00f6": 6 })).toBe('{"\\r":3,"1":4,"\u0080":5,"\u00f6":6,"\u20ac":1,"\ud83d\ude00":2}');
    expect(canonicalJson([1e21, 1e-7, -0, 1 / 3, Number.MIN_VALUE])).toBe("[1e+21,1e-7,0,0.3333333333333333,5e-324]");
    expect(canonicalJson({ toJSON: () => ({ b: 1, a: [undefined] }) })).toBe('{"a":[null],"b":1}');
  });

  it("refuses what JSON cannot say exactly", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow("NaN");
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow("Infinity");
    expect(() => canonicalJson(["\ud800"])).toThrow("Lone surrogate");
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => canonicalJson(circular)).toThrow("Circular");
    expect(() => canonicalJson(undefined)).toThrow("no JSON representation");
  });
});
