/**
 * Named predicate templates (`POST /v1/predicates/preview`): common rules by name, expanded to the
 * v1 AST so that what is stored and signed is always the AST itself. And `describePredicate`, a
 * plain-English summary of any AST (bounded by the AST's own limits).
 */
import { fail, ok, type Result } from "../result.js";
import { parsePredicate, pointerTokens, type JsonValue, type Operand, type Predicate, type PredicateNode } from "./predicate.js";

export const predicateTemplateNames = ["http_status", "webhook_event", "artifact_present", "cost_within_amount", "always"] as const;
export type PredicateTemplateName = (typeof predicateTemplateNames)[number];

export interface ExpandedTemplate {
  predicate: Predicate;
  /** Where the payee reports the work's cost (`cost_within_amount`): release pays min(cost, amount). */
  cost_path: string | null;
  summary: string;
}

const isPointer = (value: unknown): value is string => typeof value === "string" && pointerTokens(value) !== null;

function parameterError(name: string, detail: string) {
  return fail("validation_failed", `${name}: ${detail}`, [{ path: `parameters.${name}`, code: "validation_failed", detail }]);
}

/**
 * Expands a template with its parameters:
 * - `http_status {status = 200 | [200, 201], path = "/payload/status"}`
 * - `webhook_event {type, path = "/payload/type"}`
 * - `artifact_present {sha256?, media_type?}`: an artifact with that digest and/or media type, or any artifact
 * - `cost_within_amount {cost_path = "/payload/cost"}`: a reported cost between 0 and the amount
 * - `always {}`: passes on any evidence that validates against the schema
 */
export function expandTemplate(name: string, parameters: Record<string, unknown>): Result<ExpandedTemplate> {
  let root: PredicateNode;
  let costPath: string | null = null;
  switch (name) {
    case "http_status": {
      const path = parameters.path ?? "/payload/status";
      if (!isPointer(path)) return parameterError("path", "a JSON Pointer");
      const status = parameters.status ?? 200;
      const statuses = Array.isArray(status) ? status : [status];
      if (statuses.length === 0 || statuses.some((code) => !Number.isInteger(code) || (code as number) < 100 || (code as number) > 599)) {
        return parameterError("status", "an HTTP status code, or a list of them");
      }
      root = statuses.length === 1
        ? { op: "eq", left: { ptr: path }, right: { const: statuses[0] as number } }
        : { op: "in", value: { ptr: path }, options: statuses as JsonValue[] };
      break;
    }
    case "webhook_event": {
      const path = parameters.path ?? "/payload/type";
      if (!isPointer(path)) return parameterError("path", "a JSON Pointer");
      if (typeof parameters.type !== "string" || parameters.type.length === 0 || parameters.type.length > 200) return parameterError("type", "the event type, a string");
      root = { op: "eq", left: { ptr: path }, right: { const: parameters.type } };
      break;
    }
    case "artifact_present": {
      const conditions: PredicateNode[] = [];
      for (const key of ["sha256", "media_type"] as const) {
        const value = parameters[key];
        if (value === undefined) continue;
        if (typeof value !== "string" || value.length === 0 || value.length > 200) return parameterError(key, "a string");
        conditions.push({ op: "eq", left: { item: `/${key}` }, right: { const: value } });
      }
      root = conditions.length === 0
        ? { op: "gt", left: { len: { ptr: "/artifacts" } }, right: { const: 0 } }
        : { op: "any", over: { ptr: "/artifacts" }, where: conditions.length === 1 ? conditions[0]! : { op: "and", args: conditions } };
      break;
    }
    case "cost_within_amount": {
      const path = parameters.cost_path ?? "/payload/cost";
      if (!isPointer(path)) return parameterError("cost_path", "a JSON Pointer");
      costPath = path;
      root = {
        op: "and",
        args: [
          { op: "gte", left: { ptr: path }, right: { const: 0 } },
          { op: "lte", left: { ptr: path }, right: { field: "amount" } },
        ],
      };
      break;
    }
    case "always":
      root = { op: "true" };
      break;
    default:
      return fail("validation_failed", `unknown template ${JSON.stringify(name).slice(0, 60)}; templates are ${predicateTemplateNames.join(", ")}`);
  }
  const parsed = parsePredicate({ version: 1, root });
  if (!parsed.ok) return parsed;
  return ok({ predicate: parsed.value, cost_path: costPath, summary: describePredicate(parsed.value) });
}

function describeOperand(operand: Operand): string {
  if ("ptr" in operand) return `evidence ${operand.ptr || "(the whole document)"}`;
  if ("item" in operand) return `the element's ${operand.item || "value"}`;
  if ("field" in operand) return `the intent's ${operand.field}`;
  if ("len" in operand) return `the length of ${describeOperand(operand.len)}`;
  return JSON.stringify(operand.const).slice(0, 80);
}

const comparisonWords: Record<string, string> = {
  eq: "equals", ne: "does not equal", lt: "is less than", lte: "is at most", gt: "is greater than", gte: "is at least",
};

function describeNode(node: PredicateNode): string {
  switch (node.op) {
    case "true":
      return "always";
    case "false":
      return "never";
    case "and":
      return node.args.length === 1 ? describeNode(node.args[0]!) : `all of (${node.args.map(describeNode).join("; ")})`;
    case "or":
      return node.args.length === 1 ? describeNode(node.args[0]!) : `any of (${node.args.map(describeNode).join("; ")})`;
    case "not":
      return `not (${describeNode(node.arg)})`;
    case "in":
      return `${describeOperand(node.value)} is one of ${node.options.map((option) => JSON.stringify(option).slice(0, 40)).join(", ")}`;
    case "exists":
      return `${describeOperand(node.value)} is present`;
    case "all":
      return `every element of ${describeOperand(node.over)} satisfies: ${describeNode(node.where)}`;
    case "any":
      return `some element of ${describeOperand(node.over)} satisfies: ${describeNode(node.where)}`;
    default:
      return `${describeOperand(node.left)} ${comparisonWords[node.op]} ${describeOperand(node.right)}`;
  }
}

/** A plain-English summary: "Passes when evidence /payload/status equals 200." */
export function describePredicate(predicate: Predicate): string {
  return `Passes when ${describeNode(predicate.root)}.`;
}
