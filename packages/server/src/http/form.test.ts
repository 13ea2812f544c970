import { describe, expect, it } from "vitest";
import { parseForm } from "./form.js";
import { ProblemError } from "./problem.js";

describe("OAuth form parsing", () => {
  it("parses a form into a null-prototype record", () => {
    const form = parseForm("grant_type=client_credentials&scope=a+b&__proto__=x");
    expect(form.grant_type).toBe("client_credentials");
    expect(form.scope).toBe("a b");
    expect(Object.getPrototypeOf(form)).toBeNull();
  });

  it.each([["a repeated parameter (RFC 6749 §3.2)", "a=1&a=2"], ["too many parameters", Array.from({ length: 17 }, (_, i) => `p${i}=1`).join("&")]])("refuses %s", (_label, text) => {
    expect(() => parseForm(text)).toThrow(ProblemError);
  });
});
