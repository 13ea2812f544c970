/** @bursar/sdk — the TypeScript client. Built in the SDK issue; this package only reserves its place in the workspace. */
export {};
