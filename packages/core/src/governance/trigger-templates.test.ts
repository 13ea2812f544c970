/** Payload templates as tables of scenarios: what a template may hold, and what an event fills in. */
import { describe, expect, it } from "vitest";
import { checkTemplate, renderTemplate, type TemplateValue } from "./trigger-templates.js";

describe("checkTemplate", () => {
  const cases: Array<[string, unknown, string | null]> = [
    ["plain values", { payee: "Bob", amount: 100, currency: "GBP" }, null],
    ["a whole-string placeholder", { amount: "{{amount}}" }, null],
    ["placeholders inside text, dotted paths and indexes", { reference: "Order {{order.id}} line {{order.lines.0.sku}}" }, null],
    ["spaces inside braces", { amount: "{{ amount }}" }, null],
    ["__proto__", { amount: "{{__proto__}}" }, "template_invalid"],
    ["constructor.prototype", { amount: "{{constructor.prototype}}" }, "template_invalid"],
    ["__proto__ deeper in a path", { amount: "{{a.__proto__.polluted}}" }, "template_invalid"],
    ["nested placeholders", { amount: "{{a{{b}}}}" }, "template_invalid"],
    ["an unclosed placeholder", { amount: "{{amount" }, "template_invalid"],
    ["a stray closing pair", { amount: "amount}}" }, "template_invalid"],
    ["an empty placeholder", { amount: "{{}}" }, "template_invalid"],
    ["an expression", { amount: "{{amount * 2}}" }, "template_invalid"],
    ["a function call", { amount: "{{process.exit()}}" }, "template_invalid"],
    ["a placeholder in a key", { "{{key}}": "x" }, "template_invalid"],
    ["not an object", ["{{a}}"], "template_invalid"],
    ["too many path parts", { a: "{{a.b.c.d.e.f.g.h.i}}" }, "template_invalid"],
  ];
  it.each(cases)("%s", (_name, template, code) => {
    const checked = checkTemplate(template);
    if (code === null) expect(checked.ok).toBe(true);
    else expect(checked).toMatchObject({ ok: false, code });
  });

  it("bounds placeholders and size", () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, index) => [`k${index}`, "{{a}}"]));
    expect(checkTemplate(many)).toMatchObject({ ok: false, code: "template_invalid" });
    expect(checkTemplate({ text: "x".repeat(9000) })).toMatchObject({ ok: false, code: "template_invalid" });
  });
});

describe("renderTemplate", () => {
  const event = { amount: 1200, name: "Bob", order: { id: "A-1", lines: [{ sku: "X" }] }, flag: true, nothing: null, list: [1, 2] } as TemplateValue;
  const cases: Array<[string, TemplateValue, TemplateValue | string]> = [
    ["a whole placeholder keeps the JSON type", { amount: "{{amount}}" }, { amount: 1200 }],
    ["inside text becomes text", { reference: "Pay {{name}} {{amount}}" }, { reference: "Pay Bob 1200" }],
    ["dotted paths and indexes", { sku: "{{order.lines.0.sku}}", id: "{{order.id}}" }, { sku: "X", id: "A-1" }],
    ["a whole placeholder may take an object", { order: "{{order}}" }, { order: { id: "A-1", lines: [{ sku: "X" }] } }],
    ["booleans inside text", { text: "flag={{flag}}" }, { text: "flag=true" }],
    ["nested template values", { outer: { inner: ["{{name}}", 1] } }, { outer: { inner: ["Bob", 1] } }],
    ["a missing field", { amount: "{{missing}}" }, "template_field_missing"],
    ["an inherited property is not a field", { text: "{{name.length}}" }, "template_field_missing"],
    ["an object inside text", { text: "x {{order}}" }, "template_field_missing"],
    ["null inside text", { text: "x {{nothing}}" }, "template_field_missing"],
  ];
  it.each(cases)("%s", (_name, template, expected) => {
    const rendered = renderTemplate(template, event);
    if (typeof expected === "string") expect(rendered).toMatchObject({ ok: false, code: expected });
    else expect(rendered).toEqual({ ok: true, value: expected });
  });

  it("refuses event values that carry placeholder syntax instead of expanding them again", () => {
    for (const value of ["{{amount}}", "}}", "{{", "a {{b}} c"]) {
      expect(renderTemplate({ text: "{{value}}" }, { value, amount: 1 })).toMatchObject({ ok: false, code: "template_injection" });
      expect(renderTemplate({ text: "x {{value}}" }, { value, amount: 1 })).toMatchObject({ ok: false, code: "template_injection" });
      expect(renderTemplate({ text: "{{value}}" }, { value: { deep: [value] } })).toMatchObject({ ok: false, code: "template_injection" });
    }
  });

  it("never reaches the prototype, even for an event with an own __proto__ key", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": {}}') as TemplateValue;
    expect(renderTemplate({ x: "{{a.polluted}}" }, hostile)).toMatchObject({ ok: false, code: "template_field_missing" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
