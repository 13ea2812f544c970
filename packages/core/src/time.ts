/**
 * RFC 3339 UTC timestamps (SPEC 3 "Time"). The last answer is kept: a write formats its own
 * `nowMs` again and again (a batch of 100 transfers, 400 times: created_at and updated_at in each
 * journal entry and in the answer), and a Date per call was 2 % of a batch's CPU.
 */
let lastMs = Number.NaN;
let lastText = "";

export function toRfc3339(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}
