/** SHA-256 helpers for the server side (node:crypto). The browser-safe verifier has its own. */
import { createHash } from "node:crypto";

/** SHA-256 of a UTF-8 string, lowercase hex. Used for token hashes and fingerprints. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
