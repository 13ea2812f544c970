/**
 * Signing checkpoints on the server (node:crypto Ed25519). The format is in note.ts; the
 * verifier, which the SDK runs in browsers, is in verify.ts.
 *
 * A checkpoint commits the log to its whole history at one size: a log that later shows anyone
 * a tree inconsistent with a checkpoint it signed is caught by a consistency proof
 * (C2SP tlog-checkpoint "Signatures"). The private key never leaves the server (ports.ts).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { invariant } from "../result.js";
import { concatBytes, encodeBase64, encodeHex, encodeUtf8 } from "./encoding.js";
import { formatCheckpointText, formatSignatureLine, isValidKeyName, parseNote, type Checkpoint } from "./note.js";

/** signed-note signature type byte for Ed25519 (C2SP signed-note "Signature types"). */
const ed25519SignatureType = 0x01;

/** A tenant's journal signing key. */
export interface JournalKeyPair {
  /** PKCS#8 DER. Never leaves the server. */
  privateKeyPkcs8: Uint8Array;
  /** Raw 32-byte Ed25519 public key (RFC 8032 encoding). */
  publicKey: Uint8Array;
}

/** A signed checkpoint: the note as served, and the fields it signs. */
export interface SignedCheckpoint extends Checkpoint {
  /** The C2SP signed note, byte for byte what the signature covers plus the signature line. */
  note: string;
  keyName: string;
  /** 4-byte signed-note key id of the signing key. */
  keyId: Uint8Array;
}

const toBytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

function importPrivateKey(privateKeyPkcs8: Uint8Array): KeyObject {
  const key = createPrivateKey({ key: Buffer.from(privateKeyPkcs8), format: "der", type: "pkcs8" });
  if (key.asymmetricKeyType !== "ed25519") throw new RangeError("journal keys are Ed25519");
  return key;
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  invariant(typeof jwk.x === "string", "an Ed25519 JWK has x");
  return toBytes(Buffer.from(jwk.x, "base64url"));
}

/** A fresh Ed25519 key pair for a tenant's journal. */
export function generateJournalKeyPair(): JournalKeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPkcs8: toBytes(privateKey.export({ format: "der", type: "pkcs8" })),
    publicKey: rawPublicKey(privateKey),
  };
}

/** The raw 32-byte public key of a PKCS#8 Ed25519 private key. */
export function journalPublicKey(privateKeyPkcs8: Uint8Array): Uint8Array {
  return rawPublicKey(importPrivateKey(privateKeyPkcs8));
}

/**
 * The signed-note key id: SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
 * (C2SP signed-note "Ed25519 signatures"). An identifier, not a security check: verifiers are
 * configured with the full public key.
 */
export function journalKeyId(keyName: string, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new RangeError("an Ed25519 public key is 32 bytes");
  const digest = createHash("sha256").update(encodeUtf8(keyName)).update(Uint8Array.of(0x0a, ed25519SignatureType)).update(publicKey).digest();
  return toBytes(digest).slice(0, 4);
}

/**
 * The verifier key string of the Go and C2SP tooling (golang.org/x/mod/sumdb/note):
 * `<key name>+<hex key id>+<base64(0x01 || public key)>`, for people who check checkpoints with
 * tools other than our SDK.
 */
export function journalVerifierKey(keyName: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(keyName)) throw new RangeError(`invalid key name: ${JSON.stringify(keyName)}`);
  const typedKey = concatBytes(Uint8Array.of(ed25519SignatureType), publicKey);
  return `${keyName}+${encodeHex(journalKeyId(keyName, publicKey))}+${encodeBase64(typedKey)}`;
}

/**
 * Signs a note text (ending in a newline) with Ed25519 and returns the signed note: the text, a
 * blank line, and one signature line (C2SP signed-note "Format").
 */
export function signNote(text: string, keyName: string, privateKeyPkcs8: Uint8Array): string {
  if (!text.endsWith("\n")) throw new RangeError("a note text ends with a newline");
  const key = importPrivateKey(privateKeyPkcs8);
  const signature = toBytes(sign(null, encodeUtf8(text), key));
  const note = `${text}\n${formatSignatureLine(keyName, journalKeyId(keyName, rawPublicKey(key)), signature)}`;
  // What we sign must read back as exactly what we signed, or verifiers would refuse it.
  const reparsed = parseNote(note);
  if (!reparsed.ok || reparsed.text !== text) throw new RangeError(`not a valid note text: ${reparsed.ok ? "text changed" : reparsed.detail}`);
  return note;
}

/**
 * Signs a checkpoint of a tenant's journal. `keyName` should equal `origin`
 * (tlog-checkpoint "Signatures"). Throws RangeError on invalid fields or a non-Ed25519 key.
 *
 * @example
 * const origin = journalOrigin(tenant.id);
 * const signed = signCheckpoint({ origin, keyName: origin, treeSize, rootHash, timeMs: clock.nowMs(),
 *   privateKeyPkcs8: tenant.journalPrivateKeyPkcs8 });
 */
export function signCheckpoint(input: Checkpoint & { keyName: string; privateKeyPkcs8: Uint8Array }): SignedCheckpoint {
  const checkpoint: Checkpoint = { origin: input.origin, treeSize: input.treeSize, rootHash: input.rootHash };
  if (input.timeMs !== undefined) checkpoint.timeMs = input.timeMs;
  const note = signNote(formatCheckpointText(checkpoint), input.keyName, input.privateKeyPkcs8);
  const keyId = journalKeyId(input.keyName, journalPublicKey(input.privateKeyPkcs8));
  return { ...checkpoint, note, keyName: input.keyName, keyId };
}
