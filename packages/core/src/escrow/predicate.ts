/**
 * Predicate language v1: the rule an escrow intent's evidence must pass before money is released.
 * A JSON AST `{version: 1, root}`, checked by `parsePredicate` and evaluated by
 * `evaluatePredicate`. Pure and total: no I/O, no clock, no regular expressions, and no input
 * makes either function throw. Both are bounded (limits.ts `predicate*Max`): node count, depth,
 * list lengths and constant sizes at parse time; an evaluation step budget at run time, because
 * `all`/`any` nest and array work multiplies.
 *
 * Operators (nodes): `true`, `false`, `and {args}`, `or {args}`, `not {arg}`,
 * `eq|ne|lt|lte|gt|gte {left, right}`, `in {value, options}`, `exists {value}`,
 * `all|any {over, where}`.
 * Operands: `{ptr: "/payload/status"}` (RFC 6901 pointer into the evidence document
 * `{payload, artifacts, submitted_at}`), `{item: "/sha256"}` (pointer into the element of the
 * innermost `all`/`any`), `{const: <JSON>}`, `{field: "amount" | "currency" | "deadline" |
 * "submitted_at"}` (the intent's terms; the two times are epoch milliseconds), `{len: <operand>}`
 * (characters of a string in UTF-16 code units, elements of an array, members of an object).
 *
 * Semantics: a missing value makes every comparison false (`exists` is the one way to ask);
 * ordering (`lt` …) compares two finite numbers, or two strings by code unit, and is false for
 * anything else; `eq`/`ne` compare JSON values deeply (object member order ignored); `all` over
 * an empty array passes, `any` fails; over a non-array both fail.
 */
import {
  predicateArgsMax,
  predicateConstantBytesMax,
  predicateConstantDepthMax,
  predicateDepthMax,
  predicateInOptionsMax,
  predicateNodesMax,
  predicatePointerLengthMax,
  predicatePointerTokensMax,
  predicateStepsMax,
  predicateValueDepthMax,
} from "../limits.js";
import { fail, ok, type FieldError, type Result } from "../result.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const intentFieldNames = ["amount", "currency", "deadline", "submitted_at"] as const;
export type IntentFieldName = (typeof intentFieldNames)[number];

export type Operand = { ptr: string } | { item: string } | { const: JsonValue } | { field: IntentFieldName } | { len: Operand };

export const comparisonOperators = ["eq", "ne", "lt", "lte", "gt", "gte"] as const;
export type ComparisonOperator = (typeof comparisonOperators)[number];

export type PredicateNode =
  | { op: "true" }
  | { op: "false" }
  | { op: "and" | "or"; args: PredicateNode[] }
  | { op: "not"; arg: PredicateNode }
  | { op: ComparisonOperator; left: Operand; right: Operand }
  | { op: "in"; value: Operand; options: JsonValue[] }
  | { op: "exists"; value: Operand }
  | { op: "all" | "any"; over: Operand; where: PredicateNode };

export interface Predicate {
  version: 1;
  root: PredicateNode;
}

/** The intent's terms a predicate may read. */
export interface IntentFields {
  amount: number;
  currency: string;
  deadline: number;
  submitted_at: number;
}

export interface Evaluation {
  passed: boolean;
  /** JSON Pointer (into the predicate) of the node that decided a failure; null when it passed. */
  failing_node: string | null;
  /** Why that node failed, in words. */
  reason: string | null;
  /** Steps spent, at most `predicateStepsMax`. */
  steps: number;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Splits an RFC 6901 pointer into its tokens, or null when it is malformed or too long. */
export function pointerTokens(pointer: string): string[] | null {
  if (pointer.length > predicatePointerLengthMax) return null;
  if (pointer === "") return [];
  if (pointer[0] !== "/") return null;
  const tokens = pointer.slice(1).split("/");
  if (tokens.length > predicatePointerTokensMax) return null;
  const decoded: string[] = [];
  for (const token of tokens) {
    // `~` must be followed by 0 or 1 (§3); anything else is malformed, not silently kept.
    for (let i = 0; i < token.length; i++) {
      if (token[i] === "~" && token[i + 1] !== "0" && token[i + 1] !== "1") return null;
    }
    decoded.push(token.split("~1").join("/").split("~0").join("~"));
  }
  return decoded;
}

/** Whether an array or object nests deeper than `max` levels (a scalar is 0 levels). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (max === 0) return true;
  return Object.values(value).some((inner) => nestsDeeperThan(inner, max - 1));
}

/** Bytes of a JSON value as canonical JSON, or null when it is not JSON (or too deep to measure). */
function jsonSize(value: unknown, depth = 0): number | null {
  if (depth > predicateValueDepthMax) return null;
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value).length;
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value).length : null;
  if (Array.isArray(value)) {
    let total = 2;
    for (const item of value) {
      const size = jsonSize(item, depth + 1);
      if (size === null) return null;
      total += size + 1;
    }
    return total;
  }
  if (isObject(value)) {
    let total = 2;
    for (const key of Object.keys(value)) {
      const size = jsonSize(value[key], depth + 1);
      if (size === null) return null;
      total += JSON.stringify(key).length + size + 2;
    }
    return total;
  }
  return null;
}

class Checker {
  nodes = 0;
  errors: FieldError[] = [];

  problem(path: string, detail: string): false {
    if (this.errors.length < 10) this.errors.push({ path: `predicate${path}`, code: "predicate_invalid", detail });
    return false;
  }

  hasKeys(value: Record<string, unknown>, path: string, keys: string[]): boolean {
    const extra = Object.keys(value).filter((key) => !keys.includes(key));
    if (extra.length > 0) return this.problem(path, `unknown member ${JSON.stringify(extra[0])}`);
    for (const key of keys) if (!(key in value)) return this.problem(path, `missing member ${JSON.stringify(key)}`);
    return true;
  }

  constant(value: unknown, path: string): boolean {
    if (nestsDeeperThan(value, predicateConstantDepthMax)) return this.problem(path, `constants nest at most ${predicateConstantDepthMax} levels`);
    const size = jsonSize(value);
    if (size === null) return this.problem(path, "not a JSON value");
    if (size > predicateConstantBytesMax) return this.problem(path, `constants are at most ${predicateConstantBytesMax} bytes`);
    return true;
  }

  operand(value: unknown, path: string, depth: number, inItem: boolean): boolean {
    if (++this.nodes > predicateNodesMax) return this.problem(path, `a predicate has at most ${predicateNodesMax} nodes`);
    if (depth > predicateDepthMax) return this.problem(path, `a predicate nests at most ${predicateDepthMax} levels`);
    if (!isObject(value)) return this.problem(path, "an operand is an object: {ptr}, {item}, {const}, {field} or {len}");
    const keys = Object.keys(value);
    if (keys.length !== 1) return this.problem(path, "an operand has exactly one member: ptr, item, const, field or len");
    const key = keys[0]!;
    const inner = value[key];
    switch (key) {
      case "ptr":
      case "item":
        if (key === "item" && !inItem) return this.problem(path, "{item} is only meaningful inside all/any");
        if (typeof inner !== "string" || pointerTokens(inner) === null) {
          return this.problem(`${path}/${key}`, `a JSON Pointer (RFC 6901) of at most ${predicatePointerLengthMax} characters and ${predicatePointerTokensMax} tokens`);
        }
        return true;
      case "const":
        return this.constant(inner, `${path}/const`);
      case "field":
        if (typeof inner !== "string" || !(intentFieldNames as readonly string[]).includes(inner)) {
          return this.problem(`${path}/field`, `one of ${intentFieldNames.join(", ")}`);
        }
        return true;
      case "len":
        return this.operand(inner, `${path}/len`, depth + 1, inItem);
      default:
        return this.problem(path, `unknown operand ${JSON.stringify(key)}`);
    }
  }

  node(value: unknown, path: string, depth: number, inItem: boolean): boolean {
    if (++this.nodes > predicateNodesMax) return this.problem(path, `a predicate has at most ${predicateNodesMax} nodes`);
    if (depth > predicateDepthMax) return this.problem(path, `a predicate nests at most ${predicateDepthMax} levels`);
    if (!isObject(value) || typeof value.op !== "string") return this.problem(path, "a node is an object with an `op`");
    const op = value.op;
    switch (op) {
      case "true":
      case "false":
        return this.hasKeys(value, path, ["op"]);
      case "and":
      case "or": {
        if (!this.hasKeys(value, path, ["op", "args"])) return false;
        const args = value.args;
        if (!Array.isArray(args) || args.length === 0 || args.length > predicateArgsMax) {
          return this.problem(`${path}/args`, `1 to ${predicateArgsMax} nodes`);
        }
        let good = true;
        for (const [index, arg] of args.entries()) {
          good = this.node(arg, `${path}/args/${index}`, depth + 1, inItem) && good;
          if (this.nodes > predicateNodesMax) return false;
        }
        return good;
      }
      case "not":
        return this.hasKeys(value, path, ["op", "arg"]) && this.node(value.arg, `${path}/arg`, depth + 1, inItem);
      case "in": {
        if (!this.hasKeys(value, path, ["op", "value", "options"])) return false;
        if (!this.operand(value.value, `${path}/value`, depth + 1, inItem)) return false;
        const options = value.options;
        if (!Array.isArray(options) || options.length === 0 || options.length > predicateInOptionsMax) {
          return this.problem(`${path}/options`, `1 to ${predicateInOptionsMax} constants`);
        }
        return options.every((option, index) => this.constant(option, `${path}/options/${index}`));
      }
      case "exists":
        if (!this.hasKeys(value, path, ["op", "value"])) return false;
        if (!isObject(value.value) || !("ptr" in value.value || "item" in value.value)) return this.problem(`${path}/value`, "exists takes {ptr} or {item}");
        return this.operand(value.value, `${path}/value`, depth + 1, inItem);
      case "all":
      case "any":
        return (
          this.hasKeys(value, path, ["op", "over", "where"]) &&
          this.operand(value.over, `${path}/over`, depth + 1, inItem) &&
          this.node(value.where, `${path}/where`, depth + 1, true)
        );
      default:
        if ((comparisonOperators as readonly string[]).includes(op)) {
          return (
            this.hasKeys(value, path, ["op", "left", "right"]) &&
            this.operand(value.left, `${path}/left`, depth + 1, inItem) &&
            this.operand(value.right, `${path}/right`, depth + 1, inItem)
          );
        }
        return this.problem(`${path}/op`, `unknown operator ${JSON.stringify(op).slice(0, 40)}`);
    }
  }
}

/**
 * Checks that `input` is a v1 predicate within the limits. Fails with `predicate_invalid` and
 * per-node `errors` (paths like `predicate/root/args/1/left`). Never throws.
 * @example parsePredicate({ version: 1, root: { op: "eq", left: { ptr: "/payload/status" }, right: { const: 200 } } })
 */
export function parsePredicate(input: unknown): Result<Predicate> {
  const checker = new Checker();
  if (!isObject(input)) return fail("predicate_invalid", "a predicate is an object {version: 1, root}");
  if (input.version !== 1) return fail("predicate_invalid", "only predicate version 1 exists", [{ path: "predicate/version", code: "predicate_invalid", detail: "must be 1" }]);
  if (checker.hasKeys(input, "", ["version", "root"]) && checker.node(input.root, "/root", 1, false)) return ok(input as unknown as Predicate);
  return fail("predicate_invalid", checker.errors[0]?.detail ?? "invalid predicate", checker.errors);
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** A value that is not there (a pointer that leads nowhere). */
const missing = Symbol("missing");
type Resolved = JsonValue | typeof missing;

class OutOfSteps {}

/** An RFC 6901 array index: `0`, or up to 9 digits without a leading zero (no regular expression). */
function arrayIndex(token: string): number | null {
  if (token.length === 0 || token.length > 9 || (token.length > 1 && token[0] === "0")) return null;
  let index = 0;
  for (const char of token) {
    const digit = char.charCodeAt(0) - 48;
    if (digit < 0 || digit > 9) return null;
    index = index * 10 + digit;
  }
  return index;
}

interface Scope {
  evidence: unknown;
  intent: IntentFields;
  item: unknown;
}

class Evaluator {
  steps = 0;
  failingNode: string | null = null;
  reason: string | null = null;

  step(count = 1): void {
    this.steps += count;
    if (this.steps > predicateStepsMax) throw new OutOfSteps();
  }

  failAt(path: string, reason: string): false {
    this.failingNode = path;
    this.reason = reason;
    return false;
  }

  resolvePointer(root: unknown, pointer: string): Resolved {
    const tokens = pointerTokens(pointer);
    if (tokens === null) return missing;
    let current: unknown = root;
    for (const token of tokens) {
      this.step();
      if (Array.isArray(current)) {
        // RFC 6901 §4: an array index is `0` or digits without a leading zero; `-` names nothing.
        const index = arrayIndex(token);
        if (index === null) return missing;
        if (index >= current.length) return missing;
        current = current[index];
      } else if (isObject(current)) {
        if (!Object.prototype.hasOwnProperty.call(current, token)) return missing;
        current = current[token];
      } else {
        return missing;
      }
    }
    return current === undefined ? missing : (current as JsonValue);
  }

  operand(operand: Operand, scope: Scope): Resolved {
    this.step();
    if ("ptr" in operand) return this.resolvePointer(scope.evidence, operand.ptr);
    if ("item" in operand) return this.resolvePointer(scope.item, operand.item);
    if ("const" in operand) return operand.const;
    if ("field" in operand) return scope.intent[operand.field];
    const inner = this.operand(operand.len, scope);
    if (typeof inner === "string") return inner.length;
    if (Array.isArray(inner)) return inner.length;
    if (isObject(inner)) return Object.keys(inner).length;
    return missing;
  }

  equal(a: unknown, b: unknown, depth: number): boolean {
    this.step();
    if (depth > predicateValueDepthMax) return false;
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!this.equal(a[i], b[i], depth + 1)) return false;
      return true;
    }
    if (isObject(a) && isObject(b)) {
      const keys = Object.keys(a);
      if (keys.length !== Object.keys(b).length) return false;
      for (const key of keys) {
        if (!Object.prototype.hasOwnProperty.call(b, key) || !this.equal(a[key], b[key], depth + 1)) return false;
      }
      return true;
    }
    return false;
  }

  compare(op: ComparisonOperator, left: Resolved, right: Resolved): boolean | string {
    if (left === missing || right === missing) return "a value is missing";
    if (op === "eq") return this.equal(left, right, 0) || "the values differ";
    if (op === "ne") return !this.equal(left, right, 0) || "the values are equal";
    const bothNumbers = typeof left === "number" && typeof right === "number" && Number.isFinite(left) && Number.isFinite(right);
    const bothStrings = typeof left === "string" && typeof right === "string";
    if (!bothNumbers && !bothStrings) return "ordering needs two numbers or two strings";
    const l = left as number | string;
    const r = right as number | string;
    const holds = op === "lt" ? l < r : op === "lte" ? l <= r : op === "gt" ? l > r : l >= r;
    return holds || `${JSON.stringify(l).slice(0, 60)} ${op} ${JSON.stringify(r).slice(0, 60)} does not hold`;
  }

  node(node: PredicateNode, path: string, scope: Scope): boolean {
    this.step();
    switch (node.op) {
      case "true":
        return true;
      case "false":
        return this.failAt(path, "false never passes");
      case "and":
        for (const [index, arg] of node.args.entries()) if (!this.node(arg, `${path}/args/${index}`, scope)) return false;
        return true;
      case "or":
        for (const [index, arg] of node.args.entries()) if (this.node(arg, `${path}/args/${index}`, scope)) return true;
        return this.failAt(path, "no alternative passed");
      case "not":
        if (this.node(node.arg, `${path}/arg`, scope)) return this.failAt(path, "the negated rule passed");
        this.failingNode = null;
        this.reason = null;
        return true;
      case "in": {
        const value = this.operand(node.value, scope);
        if (value === missing) return this.failAt(path, "the value is missing");
        for (const option of node.options) if (this.equal(value, option, 0)) return true;
        return this.failAt(path, "the value is none of the options");
      }
      case "exists":
        return this.operand(node.value, scope) !== missing || this.failAt(path, "the value is missing");
      case "all":
      case "any": {
        const over = this.operand(node.over, scope);
        if (!Array.isArray(over)) return this.failAt(path, `${node.op} needs an array`);
        for (const [index, item] of over.entries()) {
          const passed = this.node(node.where, `${path}/where`, { ...scope, item });
          if (node.op === "all" && !passed) {
            this.reason = `element ${index}: ${this.reason ?? "failed"}`;
            return false;
          }
          if (node.op === "any" && passed) return true;
        }
        if (node.op === "all") return true;
        return this.failAt(path, over.length === 0 ? "the array is empty" : "no element passed");
      }
      default: {
        const outcome = this.compare(node.op, this.operand(node.left, scope), this.operand(node.right, scope));
        return outcome === true || this.failAt(path, outcome === false ? "does not hold" : outcome);
      }
    }
  }
}

/** The value `pointer` names in `document`, or undefined when it names nothing (or is malformed). */
export function resolveJsonPointer(document: unknown, pointer: string): JsonValue | undefined {
  const resolved = new Evaluator().resolvePointer(document, pointer);
  return resolved === missing ? undefined : resolved;
}

/**
 * Evaluates a parsed predicate against an evidence document. Total: any evidence gives an
 * answer; past `predicateStepsMax` steps the answer is a failure at the root with reason
 * `work_limit_exceeded`.
 */
export function evaluatePredicate(predicate: Predicate, evidence: unknown, intent: IntentFields): Evaluation {
  const evaluator = new Evaluator();
  try {
    const passed = evaluator.node(predicate.root, "/root", { evidence, intent, item: undefined });
    return passed
      ? { passed: true, failing_node: null, reason: null, steps: evaluator.steps }
      : { passed: false, failing_node: evaluator.failingNode ?? "/root", reason: evaluator.reason ?? "failed", steps: evaluator.steps };
  } catch (error) {
    if (!(error instanceof OutOfSteps)) throw error;
    return { passed: false, failing_node: "/root", reason: "work_limit_exceeded", steps: predicateStepsMax };
  }
}
