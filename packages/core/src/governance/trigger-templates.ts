/**
 * Payload templates of triggers (issue 15 item 5): a JSON value whose strings may hold
 * `{{field}}` placeholders, filled from the fired event. There is no code execution: a
 * placeholder is a dotted path of plain names or array indexes, looked up among the event's own
 * properties, and substituted once.
 *
 * The attacks this refuses, and where:
 * - prototype reach (`{{__proto__}}`, `{{constructor.prototype}}`): a path segment may not be
 *   `__proto__`, `prototype` or `constructor`, and lookups use `Object.hasOwn` only — refused
 *   when the template is saved, `template_invalid`;
 * - nested or unbalanced placeholders (`{{a{{b}}}}`, `{{a`): any `{{` or `}}` that is not part of
 *   one well-formed placeholder — `template_invalid`;
 * - second-order expansion: substitution is one pass over the template, never over the result,
 *   and an event value that itself carries `{{` or `}}` is refused — `template_injection` — so
 *   a sender can never make the template say something its owner did not write;
 * - size: bounded template bytes, depth, placeholder count and rendered bytes.
 */
import {
  jsonDepthMax,
  triggerPlaceholderPathSegmentsMax,
  triggerPlaceholdersMax,
  triggerRenderedBytesMax,
  triggerTemplateBytesMax,
} from "../limits.js";
import { fail, ok, type Result } from "../result.js";

/** A JSON value. */
export type TemplateValue = null | boolean | number | string | TemplateValue[] | { [key: string]: TemplateValue };

/** Path segments that reach an object's prototype chain instead of its data. */
const forbiddenSegments = new Set(["__proto__", "prototype", "constructor"]);

const placeholderPattern = /\{\{\s*([^{}]*?)\s*\}\}/g;
const segmentPattern = /^(?:[A-Za-z_][A-Za-z0-9_-]{0,63}|0|[1-9][0-9]{0,5})$/;

/** The dotted path of one placeholder's inner text, or why it is not one. */
function parsePath(inner: string): Result<string[]> {
  if (inner === "") return fail("template_invalid", "an empty placeholder {{}}");
  const segments = inner.split(".");
  if (segments.length > triggerPlaceholderPathSegmentsMax) return fail("template_invalid", `a placeholder path has at most ${triggerPlaceholderPathSegmentsMax} parts`);
  for (const segment of segments) {
    if (forbiddenSegments.has(segment)) return fail("template_invalid", `{{${inner}}} names "${segment}", which is not allowed (it would reach outside the event's data)`);
    if (!segmentPattern.test(segment)) return fail("template_invalid", `{{${inner}}} is not a field path: use names of letters, digits, _ or -, and array indexes, joined by "."`);
  }
  return ok(segments);
}

/** The placeholders of one template string, with their paths; fails on any stray brace pair. */
function placeholdersOf(text: string): Result<Array<{ raw: string; path: string[] }>> {
  const found: Array<{ raw: string; path: string[] }> = [];
  for (const match of text.matchAll(placeholderPattern)) {
    const path = parsePath(match[1]!);
    if (!path.ok) return path;
    found.push({ raw: match[0], path: path.value });
  }
  // Whatever is left once every well-formed placeholder is cut out must hold no brace pair:
  // `{{a{{b}}}}` leaves `{{a}}`, `{{a` leaves `{{a`.
  const rest = text.replace(placeholderPattern, "");
  if (rest.includes("{{") || rest.includes("}}")) return fail("template_invalid", `"${text.slice(0, 80)}" has a nested or unbalanced placeholder; write {{field}} only`);
  return ok(found);
}

/** Visits every string (and every object key) of a JSON value, with its depth. */
function walk(value: TemplateValue, depth: number, visit: (text: string, isKey: boolean, depth: number) => Result<void>): Result<void> {
  if (depth > jsonDepthMax) return fail("template_invalid", `the template nests deeper than ${jsonDepthMax} levels`);
  if (typeof value === "string") return visit(value, false, depth);
  if (Array.isArray(value)) {
    for (const item of value) {
      const visited = walk(item, depth + 1, visit);
      if (!visited.ok) return visited;
    }
    return ok(undefined);
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const keyVisited = visit(key, true, depth);
      if (!keyVisited.ok) return keyVisited;
      const visited = walk(item, depth + 1, visit);
      if (!visited.ok) return visited;
    }
  }
  return ok(undefined);
}

/**
 * Checks a template before it is saved: an object, within the size bounds, every placeholder
 * well formed and allowed, none in an object key.
 *
 * @example
 * checkTemplate({ payee: "Bob", amount: "{{amount}}", currency: "GBP", reference: "Order {{order.id}}" }) // ok
 * checkTemplate({ amount: "{{__proto__}}" }) // fail("template_invalid", …)
 */
export function checkTemplate(template: unknown): Result<{ placeholders: number }> {
  if (template === null || typeof template !== "object" || Array.isArray(template)) return fail("template_invalid", "payload_template must be a JSON object");
  const bytes = Buffer.byteLength(JSON.stringify(template), "utf8");
  if (bytes > triggerTemplateBytesMax) return fail("template_invalid", `payload_template is ${bytes} bytes; at most ${triggerTemplateBytesMax}`);
  let placeholders = 0;
  const walked = walk(template as TemplateValue, 1, (text, isKey) => {
    const found = placeholdersOf(text);
    if (!found.ok) return found;
    if (isKey && (found.value.length > 0 || text.includes("{") || text.includes("}"))) return fail("template_invalid", `object keys may not hold placeholders ("${text.slice(0, 80)}")`);
    placeholders += found.value.length;
    return ok(undefined);
  });
  if (!walked.ok) return walked;
  if (placeholders > triggerPlaceholdersMax) return fail("template_invalid", `payload_template has ${placeholders} placeholders; at most ${triggerPlaceholdersMax}`);
  return ok({ placeholders });
}

/** The value at `path` among the event's own properties, or undefined. */
function lookup(event: TemplateValue, path: readonly string[]): TemplateValue | undefined {
  let current: TemplateValue | undefined = event;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!Object.hasOwn(current, segment)) return undefined;
      current = current[segment];
    }
  }
  return current;
}

/** Fails when any string inside `value` carries placeholder syntax (a second-order injection). */
function refuseInjected(value: TemplateValue, path: string): Result<void> {
  return walk(value, 1, (text) =>
    text.includes("{{") || text.includes("}}") ? fail("template_injection", `the event's ${path} holds "{{" or "}}"; event values are data and may not carry placeholders`) : ok(undefined),
  );
}

/**
 * Fills `template` from `event` in one pass. A string that is exactly one placeholder takes the
 * field's JSON value as it is (a number stays a number); a placeholder inside longer text takes
 * a string, number or boolean field as text. A missing field, or an object inside text, is
 * `template_field_missing`; an event value with placeholder syntax is `template_injection`.
 */
export function renderTemplate(template: TemplateValue, event: TemplateValue): Result<TemplateValue> {
  const renderString = (text: string): Result<TemplateValue> => {
    const found = placeholdersOf(text);
    if (!found.ok) return found;
    if (found.value.length === 0) return ok(text);
    const whole = found.value.length === 1 && found.value[0]!.raw === text;
    if (whole) {
      const { path } = found.value[0]!;
      const value = lookup(event, path);
      if (value === undefined) return fail("template_field_missing", `the event has no field ${path.join(".")}`);
      const clean = refuseInjected(value, path.join("."));
      return clean.ok ? ok(value) : clean;
    }
    let out = "";
    let last = 0;
    for (const match of text.matchAll(placeholderPattern)) {
      const path = parsePath(match[1]!);
      if (!path.ok) return path;
      const value = lookup(event, path.value);
      const name = path.value.join(".");
      if (value === undefined) return fail("template_field_missing", `the event has no field ${name}`);
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        return fail("template_field_missing", `the event's ${name} is ${value === null ? "null" : Array.isArray(value) ? "an array" : "an object"}; only a string, number or boolean fits inside text`);
      }
      const clean = refuseInjected(value, name);
      if (!clean.ok) return clean;
      out += text.slice(last, match.index) + String(value);
      last = match.index + match[0].length;
    }
    return ok(out + text.slice(last));
  };
  const render = (value: TemplateValue): Result<TemplateValue> => {
    if (typeof value === "string") return renderString(value);
    if (Array.isArray(value)) {
      const items: TemplateValue[] = [];
      for (const item of value) {
        const rendered = render(item);
        if (!rendered.ok) return rendered;
        items.push(rendered.value);
      }
      return ok(items);
    }
    if (value !== null && typeof value === "object") {
      // A null-prototype object: even a key named like a prototype property stays plain data.
      const out: Record<string, TemplateValue> = Object.create(null) as Record<string, TemplateValue>;
      for (const [key, item] of Object.entries(value)) {
        const rendered = render(item);
        if (!rendered.ok) return rendered;
        out[key] = rendered.value;
      }
      return ok({ ...out });
    }
    return ok(value);
  };
  const rendered = render(template);
  if (!rendered.ok) return rendered;
  const bytes = Buffer.byteLength(JSON.stringify(rendered.value), "utf8");
  if (bytes > triggerRenderedBytesMax) return fail("limit_exceeded", `the rendered payload is ${bytes} bytes; at most ${triggerRenderedBytesMax}`);
  return rendered;
}
