/**
 * Byte helpers shared by the server and the browser verifier: hex, base64 (RFC 4648 section 4,
 * the standard alphabet with padding), UTF-8 and byte comparison. No `Buffer`, no node imports,
 * so the SDK can run this file in a browser unchanged.
 */

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Character code -> 6-bit value, or -1 for characters outside the alphabet. */
const base64Values: Int8Array = (() => {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < base64Alphabet.length; i++) values[base64Alphabet.charCodeAt(i)] = i;
  return values;
})();

/**
 * Standard base64 with padding (RFC 4648 section 4).
 *
 * @example encodeBase64(new TextEncoder().encode("foo")) // "Zm9v"
 */
export function encodeBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] as number;
    const b1 = i + 1 < bytes.length ? (bytes[i + 1] as number) : 0;
    const b2 = i + 2 < bytes.length ? (bytes[i + 2] as number) : 0;
    text += base64Alphabet[b0 >> 2];
    text += base64Alphabet[((b0 & 0x03) << 4) | (b1 >> 4)];
    text += i + 1 < bytes.length ? base64Alphabet[((b1 & 0x0f) << 2) | (b2 >> 6)] : "=";
    text += i + 2 < bytes.length ? base64Alphabet[b2 & 0x3f] : "=";
  }
  return text;
}

/**
 * Decodes canonical standard base64, or returns null. Canonical means: padded to a multiple of
 * four characters, no whitespace, no URL-safe alphabet, and zero unused bits in the last
 * character. A signed note is authenticated byte for byte, so two spellings of one value (which
 * lenient decoders accept) would let an attacker change the text without changing its meaning;
 * we accept exactly one spelling.
 *
 * @example decodeBase64("Zm9v") // Uint8Array [0x66, 0x6f, 0x6f]; decodeBase64("Zm9") // null
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let byteIndex = 0;
  for (let i = 0; i < text.length; i += 4) {
    const isLastGroup = i + 4 === text.length;
    const values = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      const isPadding = isLastGroup && j >= 4 - padding;
      if (isPadding) continue;
      const value = code < 128 ? (base64Values[code] as number) : -1;
      if (value < 0) return null;
      values[j] = value;
    }
    const [v0, v1, v2, v3] = values as [number, number, number, number];
    const group = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
    const groupBytes = isLastGroup ? 3 - padding : 3;
    // Non-zero bits that padding discards make a second spelling of the same bytes.
    if (isLastGroup && padding > 0 && (group & (padding === 2 ? 0xffff : 0xff)) !== 0) return null;
    bytes[byteIndex++] = (group >> 16) & 0xff;
    if (groupBytes > 1) bytes[byteIndex++] = (group >> 8) & 0xff;
    if (groupBytes > 2) bytes[byteIndex++] = group & 0xff;
  }
  return bytes;
}

/** Lowercase hex. @example encodeHex(Uint8Array.of(0xab, 0x01)) // "ab01" */
export function encodeHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

/** Decodes hex (either case), or returns null when the length is odd or a digit is invalid. */
export function decodeHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** UTF-8 bytes of a string. */
export function encodeUtf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** True when both arrays hold the same bytes. Not constant-time: use it for public data only. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The concatenation of byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const result = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
