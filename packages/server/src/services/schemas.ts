/**
 * Input JSON Schemas of service operations, with ajv. A tenant writes these schemas, so they are
 * untrusted code in waiting: ajv compiles a schema to a JavaScript function. Bounds: the schema's
 * size (limits.ts `serviceInputSchemaBytesMax`, checked at registration), strict schemas (unknown
 * keywords are refused rather than silently ignored), no remote `$ref` loading (ajv without
 * `loadSchema` never fetches), and one ajv instance per compiled schema, so one tenant's `$id`
 * can neither clash with nor be referenced by another's. Compiled validators are cached per
 * operation version (least recently used dropped first, `serviceSchemaCacheEntriesMax`).
 *
 * Regular expressions (`pattern`, `patternProperties`): the tenant's (or, for escrow evidence
 * schemas, the payer's) regex runs on other parties' payloads, so a catastrophic one (ReDoS,
 * `^(a+)+$` against `aaaa…!`) would stall the event loop for every tenant. Every pattern is
 * therefore compiled by V8's **linear-time engine** (the `l` flag, an automaton without
 * backtracking: time linear in the input, whatever the pattern) and ajv evaluates it with that
 * RegExp (`code.regExp`). A pattern that engine cannot run (backreferences, lookahead and
 * lookbehind, large counted repetitions such as `{1,64}`, `\p{…}` classes, anything over
 * `schemaPatternLengthMax`) is refused when the schema is registered, with
 * `schema_pattern_unsafe` and the schema path of the pattern (`unsafeSchemaPattern`). Patterns run
 * without the `u` flag (on UTF-16 code units), which is the only mode of the linear engine.
 * If the running V8 lacks the engine, every pattern is refused: fail closed, never backtrack.
 */
import { setFlagsFromString } from "node:v8";
import ajvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import {
  jsonBytes, schemaPatternLengthMax, serviceInputSchemaBytesMax, servicePayloadErrorsMax, serviceSchemaCacheEntriesMax, type FieldError, type JsonSchema,
  type PayloadValidator,
} from "@bursar/core";

// V8's linear-time RegExp engine is behind a flag; it only adds the `l` flag, so turning it on at
// run time changes no other regex. Probed once: without it, `linearFlag` is null and every
// pattern is refused.
setFlagsFromString("--enable-experimental-regexp-engine");
const linearFlag = ((): string | null => {
  try {
    const flag = "l"; // a variable: eslint's no-invalid-regexp knows no engine flags
    return new RegExp("^(a+)+$", flag).test("aaaa!") === false ? flag : null;
  } catch {
    return null;
  }
})();

/** Whether the linear-time engine is available (it is on the Node versions Bursar supports). */
export const linearRegExpAvailable = linearFlag !== null;

/** Why `pattern` cannot be run in linear time, or null when it can. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > schemaPatternLengthMax) return `a pattern has at most ${schemaPatternLengthMax} characters`;
  if (linearFlag === null) return "this server's JavaScript engine has no linear-time regular expressions, so no pattern is accepted";
  try {
    new RegExp(pattern, linearFlag);
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : "";
    return reason.includes("linear time")
      ? "the pattern needs backtracking (a backreference, a lookaround, a large counted repetition or a Unicode property class): write it without, and bound lengths with maxLength"
      : "the pattern is not a valid regular expression";
  }
}

/** The RegExp ajv evaluates `pattern` and `patternProperties` with: always the linear-time engine. */
function linearRegExp(pattern: string): RegExp {
  const problem = patternProblem(pattern);
  if (problem) throw new Error(`pattern ${JSON.stringify(pattern.slice(0, 80))}: ${problem}`);
  return new RegExp(pattern, linearFlag!);
}
linearRegExp.code = "new RegExp"; // for ajv's standalone code generation, which Bursar does not use

/**
 * The first `pattern` / `patternProperties` key in `schema` the linear-time engine cannot run:
 * its path (`properties.name.pattern`) and why. Conservative: any member named `pattern` whose
 * value is a string is checked, wherever it sits.
 */
export function unsafeSchemaPattern(schema: unknown, path: string[] = []): { path: string; detail: string } | null {
  if (typeof schema !== "object" || schema === null) return null;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "pattern" && typeof value === "string") {
      const problem = patternProblem(value);
      if (problem) return { path: [...path, key].join("."), detail: problem };
    }
    if (key === "patternProperties" && typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const pattern of Object.keys(value)) {
        const problem = patternProblem(pattern);
        if (problem) return { path: [...path, key, pattern].join("."), detail: problem };
      }
    }
    const inner = unsafeSchemaPattern(value, [...path, key]);
    if (inner) return inner;
  }
  return null;
}

// ajv and ajv-formats are CommonJS: under Node's ESM loader their exports are the default
// export's properties (named imports work only under a bundler or tsx).
// Which one holds the class depends on the loader (Node, tsx or a bundler), so take either.
const ajvExports = ajvModule as unknown as { Ajv?: typeof import("ajv").Ajv; default?: typeof import("ajv").Ajv };
const Ajv = (ajvExports.Ajv ?? ajvExports.default ?? ajvModule) as typeof import("ajv").Ajv;
type Ajv = import("ajv").Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** Compiles a schema in an ajv instance of its own. Throws when the schema is invalid. */
function compile(schema: JsonSchema): ValidateFunction {
  // Unknown or ignored keywords are refused (a typo must not silently accept everything); loose
  // but valid schemas (`properties` without `type`, `required` of undeclared names) are accepted.
  const ajv = new Ajv({
    strictSchema: true, strictNumbers: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: true, addUsedSchema: false,
    code: { regExp: linearRegExp },
  });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Why a tenant's schema cannot be used, or null when it compiles within bounds. */
export function inputSchemaProblem(schema: JsonSchema): string | null {
  if (jsonBytes(schema) > serviceInputSchemaBytesMax) return `the schema is larger than ${serviceInputSchemaBytesMax} bytes`;
  const unsafe = unsafeSchemaPattern(schema);
  if (unsafe) return `${unsafe.path}: ${unsafe.detail}`;
  try {
    compile(schema);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.slice(0, 500) : "the schema does not compile";
  }
}

const cache = new Map<string, ValidateFunction>();

function validatorFor(schemaKey: string, schema: JsonSchema): ValidateFunction {
  let validate = cache.get(schemaKey);
  if (validate) {
    // Map order is insertion order: re-inserting marks it most recently used.
    cache.delete(schemaKey);
  } else {
    validate = compile(schema);
    if (cache.size >= serviceSchemaCacheEntriesMax) cache.delete(cache.keys().next().value!);
  }
  cache.set(schemaKey, validate);
  return validate;
}

function fieldError(error: ErrorObject): FieldError {
  const path = ["payload", ...error.instancePath.split("/").filter((segment) => segment !== "")].join(".");
  return { path, code: "payload_invalid", detail: `${error.keyword}: ${error.message ?? "invalid"}` };
}

/** The core's payload check, with compiled schemas cached under the operation's schema key. */
export const validatePayload: PayloadValidator = (schemaKey, schema, payload) => {
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schemaKey, schema);
  } catch (error) {
    // A schema stored before patterns were checked, with one the linear engine refuses: fail
    // closed (nothing validates against it), never run it by backtracking.
    return [{ path: "payload", code: "schema_pattern_unsafe", detail: error instanceof Error ? error.message.slice(0, 300) : "the schema does not compile" }];
  }
  if (validate(payload)) return null;
  return (validate.errors ?? []).slice(0, servicePayloadErrorsMax).map(fieldError);
};
