import { describe, expect, it } from "vitest";
import { generateJournalKeyPair, journalKeyId, journalPublicKey, journalVerifierKey, signCheckpoint, signNote } from "./checkpoint.js";
import { concatBytes, decodeBase64, decodeHex, encodeBase64, encodeHex } from "./encoding.js";
import { noteSignaturesMax } from "../limits.js";
import { goNoteExample } from "./test-vectors.js";
import { computeKeyId, parseCheckpoint, parseVerifierKey, verifyCheckpoint, verifyNote, type JournalKey } from "./verify.js";

/** PKCS#8 DER of an Ed25519 private key from its 32-byte seed (RFC 8410 section 7 layout). */
const pkcs8FromSeed = (seed: Uint8Array) => concatBytes(decodeHex("302e020100300506032b657004220420") as Uint8Array, seed);

describe("signed notes against golang.org/x/mod/sumdb/note's published example", async () => {
  const trusted = (await parseVerifierKey(goNoteExample.verifierKey)) as JournalKey;
  const seed = (decodeBase64(goNoteExample.signerKey.split("+").slice(4).join("+")) as Uint8Array).slice(1);

  it("parses the verifier key and derives its key id both ways", async () => {
    expect(trusted.keyName).toBe(goNoteExample.keyName);
    expect(encodeHex(journalKeyId(trusted.keyName, trusted.publicKey))).toBe(goNoteExample.keyIdHex);
    expect(encodeHex(await computeKeyId(trusted.keyName, trusted.publicKey))).toBe(goNoteExample.keyIdHex);
    expect(journalVerifierKey(trusted.keyName, trusted.publicKey)).toBe(goNoteExample.verifierKey);
  });

  it("refuses verifier keys whose id does not match", async () => {
    expect(await parseVerifierKey(goNoteExample.verifierKey.replace("c74f20a3", "c74f20a4"))).toBeNull();
    expect(await parseVerifierKey(goNoteExample.verifierKey.replace("PeterNeumann", "PeterNeumanm"))).toBeNull();
    expect(await parseVerifierKey("PeterNeumann+c74f20a3")).toBeNull();
  });

  it("signs the example text to the published note, byte for byte (Ed25519 is deterministic)", () => {
    const privateKeyPkcs8 = pkcs8FromSeed(seed);
    expect(journalPublicKey(privateKeyPkcs8)).toEqual(trusted.publicKey);
    expect(signNote(goNoteExample.text, goNoteExample.keyName, privateKeyPkcs8)).toBe(goNoteExample.note);
  });

  it("verifies the published note with WebCrypto, and refuses it altered", async () => {
    expect(await verifyNote(goNoteExample.note, trusted)).toEqual({ ok: true, text: goNoteExample.text });
    const altered = await verifyNote(goNoteExample.note.replace("cryptography", "cryptographY"), trusted);
    expect(altered).toMatchObject({ ok: false, reason: "invalid_signature" });
  });
});

describe("checkpoints: sign, then verify", async () => {
  const keys = generateJournalKeyPair();
  const origin = "bursar/ten_01J0000000000000000000000";
  const key = { keyName: origin, publicKey: keys.publicKey };
  const rootHash = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
  const signed = signCheckpoint({ origin, keyName: origin, treeSize: 1042, rootHash, timeMs: 1_718_000_000_000, privateKeyPkcs8: keys.privateKeyPkcs8 });
  const [text, signatureLine] = signed.note.split("\n\n") as [string, string];

  it("generates a raw 32-byte public key matching the private key", () => {
    expect(keys.publicKey).toHaveLength(32);
    expect(journalPublicKey(keys.privateKeyPkcs8)).toEqual(keys.publicKey);
  });

  it("writes the C2SP tlog-checkpoint format", () => {
    expect(signed.note).toBe(
      `${origin}\n1042\n${encodeBase64(rootHash)}\ntime_ms 1718000000000\n\n\u2014 ${origin} ${signatureLine.slice(origin.length + 3)}`,
    );
    expect(decodeBase64(signatureLine.slice(origin.length + 3, -1))).toHaveLength(68);
    expect(signed).toMatchObject({ origin, keyName: origin, treeSize: 1042, rootHash, timeMs: 1_718_000_000_000, keyId: journalKeyId(origin, keys.publicKey) });
  });

  it("verifies, returning the signed fields", async () => {
    expect(await verifyCheckpoint(signed.note, key)).toEqual({ ok: true, origin, treeSize: 1042, rootHash, timeMs: 1_718_000_000_000 });
    expect(await verifyCheckpoint(signed.note, { ...key, origin })).toMatchObject({ ok: true });
  });

  it("verifies a checkpoint without a time line, and of the empty tree", async () => {
    const plain = signCheckpoint({ origin, keyName: origin, treeSize: 0, rootHash, privateKeyPkcs8: keys.privateKeyPkcs8 });
    expect(plain.note.split("\n")).toHaveLength(6);
    expect(await verifyCheckpoint(plain.note, key)).toEqual({ ok: true, origin, treeSize: 0, rootHash });
  });

  const other = generateJournalKeyPair();
  const tampered: Array<[string, string, string]> = [
    ["tree size", signed.note.replace("\n1042\n", "\n1043\n"), "invalid_signature"],
    ["root hash", signed.note.replace(encodeBase64(rootHash), encodeBase64(rootHash.map((b) => b ^ 1))), "invalid_signature"],
    ["origin", signed.note.replace(`${origin}\n1042`, `${origin}x\n1042`), "invalid_signature"],
    ["time", signed.note.replace("time_ms 1718000000000", "time_ms 1718000000001"), "invalid_signature"],
    ["key name in the signature line", `${text}\n\n${signatureLine.replace(origin, "bursar/other")}`, "unknown_key"],
    ["key id", `${text}\n\n\u2014 ${origin} ${encodeBase64(concatBytes(Uint8Array.of(0, 0, 0, 0), (decodeBase64(signatureLine.slice(origin.length + 3, -1)) as Uint8Array).slice(4)))}\n`, "unknown_key"],
    ["signature", `${text}\n\n\u2014 ${origin} ${encodeBase64((decodeBase64(signatureLine.slice(origin.length + 3, -1)) as Uint8Array).map((b, i) => (i === 10 ? b ^ 1 : b)))}\n`, "invalid_signature"],
    ["truncated signature", `${text}\n\n\u2014 ${origin} ${encodeBase64((decodeBase64(signatureLine.slice(origin.length + 3, -1)) as Uint8Array).slice(0, 67))}\n`, "invalid_signature"],
  ];
  it.each(tampered)("refuses a tampered %s", async (_name, note, reason) => {
    expect(await verifyCheckpoint(note, key)).toMatchObject({ ok: false, reason });
  });

  it("refuses a checkpoint signed by another key, even under the same name and key id", async () => {
    const forged = signCheckpoint({ origin, keyName: origin, treeSize: 1042, rootHash, privateKeyPkcs8: other.privateKeyPkcs8 });
    expect(await verifyCheckpoint(forged.note, key)).toMatchObject({ ok: false, reason: "unknown_key" });
    // The attacker copies our key id into the line: the signature itself must then fail.
    const [forgedText, forgedLine] = forged.note.split("\n\n") as [string, string];
    const forgedSignature = (decodeBase64(forgedLine.slice(origin.length + 3, -1)) as Uint8Array).slice(4);
    const withOurId = `${forgedText}\n\n\u2014 ${origin} ${encodeBase64(concatBytes(signed.keyId, forgedSignature))}\n`;
    expect(await verifyCheckpoint(withOurId, key)).toMatchObject({ ok: false, reason: "invalid_signature" });
  });

  it("refuses the right checkpoint for the wrong log", async () => {
    expect(await verifyCheckpoint(signed.note, { ...key, origin: "bursar/ten_other" })).toMatchObject({ ok: false, reason: "origin_mismatch" });
  });

  it("ignores signatures by other keys (witness cosignatures), but not a second one by ours", async () => {
    const cosigned = `${signed.note}\u2014 witness.example/w1 ${encodeBase64(new Uint8Array(72))}\n`;
    expect(await verifyCheckpoint(cosigned, key)).toMatchObject({ ok: true, treeSize: 1042 });
    const cosignedFirst = `${text}\n\n\u2014 witness.example/w1 ${encodeBase64(new Uint8Array(72))}\n${signatureLine}`;
    expect(await verifyCheckpoint(cosignedFirst, key)).toMatchObject({ ok: true, treeSize: 1042 });
    expect(await verifyCheckpoint(`${signed.note}${signatureLine}`, key)).toMatchObject({ ok: false, reason: "malformed_note" });
    const tooMany = `${signed.note}${`\u2014 witness.example/w1 ${encodeBase64(new Uint8Array(72))}\n`.repeat(noteSignaturesMax)}`;
    expect(await verifyCheckpoint(tooMany, key)).toMatchObject({ ok: false, reason: "malformed_note" });
  });

  it("throws on a misconfigured trusted key (the caller's bug, not the server's)", async () => {
    await expect(verifyCheckpoint(signed.note, { keyName: origin, publicKey: new Uint8Array(31) })).rejects.toThrow(RangeError);
    await expect(verifyCheckpoint(signed.note, { keyName: "has space", publicKey: keys.publicKey })).rejects.toThrow(RangeError);
  });
});

describe("checkpoint parsing is strict", async () => {
  const keys = generateJournalKeyPair();
  const origin = "bursar/ten_strict";
  const rootHash = new Uint8Array(32).fill(7);
  const root = encodeBase64(rootHash);
  /** Signs any text with the real key, so only the parser can refuse it. */
  const signedText = (text: string) => signNote(text, origin, keys.privateKeyPkcs8);
  const verify = (note: string) => verifyCheckpoint(note, { keyName: origin, publicKey: keys.publicKey });

  it("accepts the canonical form", async () => {
    expect(await verify(signedText(`${origin}\n5\n${root}\n`))).toMatchObject({ ok: true, treeSize: 5 });
    expect(parseCheckpoint(signedText(`${origin}\n5\n${root}\n`))).toMatchObject({ ok: true, origin, treeSize: 5, rootHash });
  });

  it.each([
    ["a missing line", `${origin}\n5\n`],
    ["an extra line", `${origin}\n5\n${root}\ntime_ms 1\nmore\n`],
    ["an unknown extension line", `${origin}\n5\n${root}\nTimestamp: 1\n`],
    ["a time with a leading zero", `${origin}\n5\n${root}\ntime_ms 01\n`],
    ["an empty origin", `\n5\n${root}\n`],
    ["an origin with a space", `bursar/a b\n5\n${root}\n`],
    ["an origin with a plus", `bursar/a+b\n5\n${root}\n`],
    ["a size with a leading zero", `${origin}\n05\n${root}\n`],
    ["a signed size", `${origin}\n+5\n${root}\n`],
    ["a negative size", `${origin}\n-5\n${root}\n`],
    ["an exponent size", `${origin}\n5e0\n${root}\n`],
    ["a hex size", `${origin}\n0x5\n${root}\n`],
    ["an unsafe size", `${origin}\n9007199254740993\n${root}\n`],
    ["a size with a space", `${origin}\n 5\n${root}\n`],
    ["a short root", `${origin}\n5\n${encodeBase64(new Uint8Array(31))}\n`],
    ["a long root", `${origin}\n5\n${encodeBase64(new Uint8Array(33))}\n`],
    ["an unpadded root", `${origin}\n5\n${root.replace(/=+$/, "")}\n`],
    ["a URL-safe root", `${origin}\n5\n${encodeBase64(new Uint8Array(32).fill(0xfb)).replace(/\//g, "_")}\n`],
  ])("refuses %s", async (_name, text) => {
    const note = signedText(text);
    expect(await verify(note)).toMatchObject({ ok: false, reason: "malformed_checkpoint" });
    expect(parseCheckpoint(note)).toMatchObject({ ok: false });
  });

  const good = `${origin}\n5\n${root}\n`;
  it.each([
    ["no blank line", () => signedText(good).replace("\n\n", "\n")],
    ["no final newline", () => signedText(good).slice(0, -1)],
    ["a carriage return", () => signedText(good).replace("\n5\n", "\r\n5\n")],
    ["a NUL", () => `${good}\u0000\n\n${signedText(good).split("\n\n")[1]}`],
    ["a hyphen instead of the em dash", () => signedText(good).replace("\u2014", "-")],
    ["a signature line without a key name", () => signedText(good).replace(`\u2014 ${origin} `, "\u2014 ")],
    ["a signature of four bytes", () => `${good}\n\u2014 ${origin} ${encodeBase64(new Uint8Array(4))}\n`],
    ["an empty signature block", () => `${good}\n\n`],
    ["a note above the size bound", () => `${good}\n\u2014 ${origin} ${"A".repeat(200_000)}\n`],
  ])("refuses a note with %s", async (_name, makeNote) => {
    expect(await verify(makeNote())).toMatchObject({ ok: false, reason: "malformed_note" });
  });
});

describe("signing refuses invalid fields", () => {
  const keys = generateJournalKeyPair();
  const base = { origin: "bursar/ten_x", keyName: "bursar/ten_x", treeSize: 1, rootHash: new Uint8Array(32), privateKeyPkcs8: keys.privateKeyPkcs8 };

  it.each([
    ["an origin with a newline", { origin: "bursar/a\n2" }],
    ["an origin with a space", { origin: "bursar/a b" }],
    ["an empty key name", { keyName: "" }],
    ["a negative size", { treeSize: -1 }],
    ["a fractional size", { treeSize: 1.5 }],
    ["a short root", { rootHash: new Uint8Array(31) }],
    ["a negative time", { timeMs: -1 }],
    ["a non-Ed25519 key", { privateKeyPkcs8: new Uint8Array(10) }],
  ])("throws on %s", (_name, change) => {
    expect(() => signCheckpoint({ ...base, ...change })).toThrow();
  });

  it("throws RangeError on a text the note format cannot carry", () => {
    expect(() => signNote("no newline", "k", keys.privateKeyPkcs8)).toThrow(RangeError);
    expect(() => signNote("a control character \u0007\n", "k", keys.privateKeyPkcs8)).toThrow(RangeError);
    expect(() => signNote("fine\n", "a key name", keys.privateKeyPkcs8)).toThrow(RangeError);
  });
});
