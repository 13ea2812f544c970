/** RFC 3339 UTC timestamps (SPEC 3 "Time"). */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
