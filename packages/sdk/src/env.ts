/** Environment access that also works where there is no `process` (browsers, workers). */

/** An environment variable, or undefined (also when the runtime has no environment). */
export function envVar(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

/** Where the API is when nothing says otherwise: `bursar serve`'s default address. */
export const defaultBaseUrl = "http://127.0.0.1:7420";
