/**
 * Input JSON Schemas of service operations, with ajv. A tenant writes these schemas, so they are
 * untrusted code in waiting: ajv compiles a schema to a JavaScript function. Bounds: the schema's
 * size (limits.ts `serviceInputSchemaBytesMax`, checked at registration), strict schemas (unknown
 * keywords are refused rather than silently ignored), no remote `$ref` loading (ajv without
 * `loadSchema` never fetches), and one ajv instance per compiled schema, so one tenant's `$id`
 * can neither clash with nor be referenced by another's. Compiled validators are cached per
 * operation version (least recently used dropped first, `serviceSchemaCacheEntriesMax`).
 *
 * Known gap: a `pattern` keyword runs the tenant's regular expression on agents' payloads; a
 * catastrophic one (ReDoS) would stall the event loop. Payloads are bounded
 * (`servicePayloadBytesMax`), which bounds but does not remove the cost.
 */
import ajvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { jsonBytes, serviceInputSchemaBytesMax, servicePayloadErrorsMax, serviceSchemaCacheEntriesMax, type FieldError, type JsonSchema, type PayloadValidator } from "@bursar/core";

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
  const ajv = new Ajv({ strictSchema: true, strictNumbers: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: true, addUsedSchema: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Why a tenant's schema cannot be used, or null when it compiles within bounds. */
export function inputSchemaProblem(schema: JsonSchema): string | null {
  if (jsonBytes(schema) > serviceInputSchemaBytesMax) return `the schema is larger than ${serviceInputSchemaBytesMax} bytes`;
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
  const validate = validatorFor(schemaKey, schema);
  if (validate(payload)) return null;
  return (validate.errors ?? []).slice(0, servicePayloadErrorsMax).map(fieldError);
};
