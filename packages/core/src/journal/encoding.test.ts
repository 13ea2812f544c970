import { describe, expect, it } from "vitest";
import { bytesEqual, concatBytes, decodeBase64, decodeHex, encodeBase64, encodeHex, encodeUtf8 } from "./encoding.js";

// RFC 4648 section 10 test vectors (BASE64 and BASE16).
const rfc4648 = [
  ["", "", ""],
  ["f", "Zg==", "66"],
  ["fo", "Zm8=", "666f"],
  ["foo", "Zm9v", "666f6f"],
  ["foob", "Zm9vYg==", "666f6f62"],
  ["fooba", "Zm9vYmE=", "666f6f6261"],
  ["foobar", "Zm9vYmFy", "666f6f626172"],
] as const;

describe("base64 and hex (RFC 4648 section 10)", () => {
  it.each(rfc4648)("%j <-> %s <-> %s", (text, base64, hex) => {
    const bytes = encodeUtf8(text);
    expect(encodeBase64(bytes)).toBe(base64);
    expect(decodeBase64(base64)).toEqual(bytes);
    expect(encodeHex(bytes)).toBe(hex);
    expect(decodeHex(hex)).toEqual(bytes);
    expect(decodeHex(hex.toUpperCase())).toEqual(bytes);
  });

  it("round-trips every byte value and every length", () => {
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) % 256);
      expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase64(encodeBase64(all))).toEqual(all);
    expect(decodeHex(encodeHex(all))).toEqual(all);
  });

  it.each([
    ["Zg", "missing padding"],
    ["Zg=", "short padding"],
    ["Zh==", "non-zero bits under padding"],
    ["Zm9=", "non-zero bits under padding"],
    ["Zg==Zg==", "padding inside"],
    ["====", "padding only"],
    ["Z===", "three padding characters"],
    ["Zm9v\n", "newline"],
    [" Zm9v", "space"],
    ["Zm-v", "URL-safe alphabet"],
    ["Zm_v", "URL-safe alphabet"],
    ["Zm9\u00e9", "non-ASCII"],
  ])("refuses non-canonical base64 %j (%s)", (text) => {
    expect(decodeBase64(text)).toBeNull();
  });

  it.each(["0", "abc", "zz", "0x00", " 00"])("refuses bad hex %j", (text) => {
    expect(decodeHex(text)).toBeNull();
  });

  it("compares and concatenates bytes", () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
  });
});
