/**
 * The text of signed checkpoints, without any cryptography: formatting for the signer
 * (checkpoint.ts, node:crypto) and strict parsing for the verifier (verify.ts, WebCrypto).
 * No node imports: the SDK runs this file in browsers.
 *
 * A checkpoint is a C2SP signed note (https://c2sp.org/signed-note) whose text follows C2SP
 * tlog-checkpoint (https://c2sp.org/tlog-checkpoint), plus one Bursar extension line:
 *
 *     bursar/<tenant id>                 origin
 *     <tree size>                        canonical decimal, no leading zeros
 *     <base64 of the 32-byte root hash>  RFC 9162 Merkle Tree Hash
 *     time_ms <ms since the Unix epoch>  optional Bursar extension line: the signing time
 *                                        (blank line)
 *     — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>
 *
 * Parsing is strict: one spelling per checkpoint. Anything else (a missing or extra line, an
 * unknown extension, a size with leading zeros, non-canonical base64) is refused rather than
 * interpreted, because a verifier that reads a note differently from its signer can be shown
 * one thing while the signature covers another.
 */
import { keyNameLengthMax, noteLengthMax, noteSignaturesMax } from "../limits.js";
import { decodeBase64, encodeBase64 } from "./encoding.js";

/** The extension line that carries the signing time (tlog-checkpoint allows opaque extension lines). */
const timeLinePrefix = "time_ms ";

const canonicalDecimal = /^(0|[1-9][0-9]{0,15})$/;

/** The fields a checkpoint signs. */
export interface Checkpoint {
  /** Identifies the log: `bursar/<tenant id>` (see `journalOrigin` in log.ts). */
  origin: string;
  treeSize: number;
  /** RFC 9162 Merkle Tree Hash of the first `treeSize` entries, 32 bytes. */
  rootHash: Uint8Array;
  /** Signing time, ms since the Unix epoch; absent when the note has no `time_ms` line. */
  timeMs?: number;
}

/** One signature line of a note, not yet verified. */
export interface NoteSignature {
  keyName: string;
  /** 4 bytes: SHA-256(key name || 0x0A || 0x01 || public key)[:4] for Ed25519. */
  keyId: Uint8Array;
  signature: Uint8Array;
}

/** Stable codes for why a checkpoint was refused. */
export type CheckpointFailureReason =
  | "malformed_note"
  | "malformed_checkpoint"
  | "origin_mismatch"
  | "unknown_key"
  | "invalid_signature";

export interface CheckpointFailure {
  ok: false;
  reason: CheckpointFailureReason;
  /** For humans; not stable. */
  detail: string;
}

const failure = (reason: CheckpointFailureReason, detail: string): CheckpointFailure => ({ ok: false, reason, detail });

/** Signed notes must be well-formed UTF-8 without control characters other than newline. */
function hasForbiddenCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x0a) || code === 0x7f) return true;
  }
  return /\p{Surrogate}/u.test(text); // with the u flag, only unpaired surrogates match
}

/**
 * True for a valid key name or origin: non-empty, at most `keyNameLengthMax` characters, no
 * Unicode spaces, no `+` (signed-note reserves it for verifier keys), no control characters.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.length <= keyNameLengthMax && !/[\s+]/u.test(name) && !hasForbiddenCharacters(name);
}

/** The checkpoint's note text (body), ending in a newline. Throws RangeError on invalid fields. */
export function formatCheckpointText(checkpoint: Checkpoint): string {
  const { origin, treeSize, rootHash, timeMs } = checkpoint;
  if (!isValidKeyName(origin)) throw new RangeError(`invalid checkpoint origin: ${JSON.stringify(origin)}`);
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw new RangeError(`invalid tree size ${treeSize}`);
  if (rootHash.length !== 32) throw new RangeError("a root hash is 32 bytes");
  let text = `${origin}\n${treeSize}\n${encodeBase64(rootHash)}\n`;
  if (timeMs !== undefined) {
    if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new RangeError(`invalid time ${timeMs}`);
    text += `${timeLinePrefix}${timeMs}\n`;
  }
  return text;
}

/** One signature line: `— <key name> <base64(key id || signature)>\n`. */
export function formatSignatureLine(keyName: string, keyId: Uint8Array, signature: Uint8Array): string {
  if (!isValidKeyName(keyName)) throw new RangeError(`invalid key name: ${JSON.stringify(keyName)}`);
  if (keyId.length !== 4) throw new RangeError("a key id is 4 bytes");
  const blob = new Uint8Array(4 + signature.length);
  blob.set(keyId);
  blob.set(signature, 4);
  return `\u2014 ${keyName} ${encodeBase64(blob)}\n`;
}

/**
 * Splits a signed note into its text (which the signatures cover, final newline included) and
 * its signature lines, without verifying anything.
 */
export function parseNote(note: string): { ok: true; text: string; signatures: NoteSignature[] } | CheckpointFailure {
  if (note.length > noteLengthMax) return failure("malformed_note", `note longer than ${noteLengthMax} characters`);
  if (hasForbiddenCharacters(note)) return failure("malformed_note", "control character or invalid UTF-16 in note");
  if (!note.endsWith("\n")) return failure("malformed_note", "note does not end with a newline");
  // The text ends at the last blank line (signed-note "Format"); signature lines are never empty.
  const separator = note.lastIndexOf("\n\n");
  if (separator < 0) return failure("malformed_note", "no blank line before the signatures");
  const text = note.slice(0, separator + 1);
  const lines = note.slice(separator + 2, -1).split("\n");
  if (lines.length > noteSignaturesMax) return failure("malformed_note", `more than ${noteSignaturesMax} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const parts = line.split(" ");
    if (parts.length !== 3 || parts[0] !== "\u2014") return failure("malformed_note", "malformed signature line");
    const [, keyName, encoded] = parts as [string, string, string];
    if (!isValidKeyName(keyName)) return failure("malformed_note", "invalid key name in a signature line");
    const blob = decodeBase64(encoded);
    if (blob === null || blob.length < 5) return failure("malformed_note", "signature is not canonical base64 of key id and signature");
    signatures.push({ keyName, keyId: blob.slice(0, 4), signature: blob.slice(4) });
  }
  return { ok: true, text, signatures };
}

function parseDecimal(text: string): number | null {
  if (!canonicalDecimal.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** Parses a checkpoint's note text (body) strictly. */
export function parseCheckpointText(text: string): { ok: true; checkpoint: Checkpoint } | CheckpointFailure {
  const malformed = (detail: string) => failure("malformed_checkpoint", detail);
  if (!text.endsWith("\n")) return malformed("checkpoint text does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || lines.length > 4) return malformed(`checkpoint text has ${lines.length} lines, expected 3 or 4`);
  const [origin, sizeLine, rootLine, timeLine] = lines as [string, string, string, string | undefined];
  if (!isValidKeyName(origin)) return malformed("invalid origin line");
  const treeSize = parseDecimal(sizeLine);
  if (treeSize === null) return malformed("tree size is not a canonical decimal");
  const rootHash = decodeBase64(rootLine);
  if (rootHash === null || rootHash.length !== 32) return malformed("root hash is not canonical base64 of 32 bytes");
  const checkpoint: Checkpoint = { origin, treeSize, rootHash };
  if (timeLine !== undefined) {
    const timeMs = timeLine.startsWith(timeLinePrefix) ? parseDecimal(timeLine.slice(timeLinePrefix.length)) : null;
    if (timeMs === null) return malformed("unknown extension line");
    checkpoint.timeMs = timeMs;
  }
  return { ok: true, checkpoint };
}

/**
 * Parses a signed checkpoint WITHOUT verifying its signatures: never trust the result before
 * `verifyCheckpoint` (verify.ts) accepted the same note.
 */
export function parseCheckpoint(
  note: string,
): ({ ok: true; text: string; signatures: NoteSignature[] } & Checkpoint) | CheckpointFailure {
  const parsedNote = parseNote(note);
  if (!parsedNote.ok) return parsedNote;
  const parsedText = parseCheckpointText(parsedNote.text);
  if (!parsedText.ok) return parsedText;
  return { ok: true, ...parsedText.checkpoint, text: parsedNote.text, signatures: parsedNote.signatures };
}
