import { describe, expect, it } from "vitest";
import { encodeUtf8 } from "./encoding.js";
import { emptyTreeHash, leafHash, nodeHash } from "./merkle.js";
import { rfc6962HasherVectors } from "./test-vectors.js";

// Known answers from transparency-dev/merkle rfc6962/rfc6962_test.go (see test-vectors.ts).
describe("RFC 9162 hashing (node:crypto)", () => {
  it("hashes the empty tree as SHA-256 of the empty string", () => {
    expect(emptyTreeHash()).toEqual(rfc6962HasherVectors.emptyRoot);
  });

  it("prefixes leaves with 0x00", () => {
    expect(leafHash(new Uint8Array(0))).toEqual(rfc6962HasherVectors.emptyLeaf);
    expect(leafHash(encodeUtf8("L123456"))).toEqual(rfc6962HasherVectors.leafL123456);
  });

  it("prefixes interior nodes with 0x01 and keeps child order", () => {
    expect(nodeHash(encodeUtf8("N123"), encodeUtf8("N456"))).toEqual(rfc6962HasherVectors.nodeN123N456);
    expect(nodeHash(encodeUtf8("N456"), encodeUtf8("N123"))).not.toEqual(rfc6962HasherVectors.nodeN123N456);
  });

  it("does not let an interior node pass for a leaf (second preimage)", () => {
    const left = leafHash(encodeUtf8("Hello"));
    const right = leafHash(encodeUtf8("World"));
    const joined = new Uint8Array([...left, ...right]);
    expect(nodeHash(left, right)).not.toEqual(leafHash(joined));
  });
});
