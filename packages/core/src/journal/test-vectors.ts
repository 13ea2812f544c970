/**
 * TEST-ONLY published known answers (do not export from the package).
 *
 * Merkle vectors: the RFC 6962 test vectors of Google's certificate-transparency, as published
 * in github.com/transparency-dev/merkle, proof/verify_test.go (`leaves`, `roots`,
 * `inclusionProofs`, `consistencyProofs`) and rfc6962/rfc6962_test.go (hasher vectors). The Go
 * file numbers leaves from 1 in `inclusionProofs`; here `leafIndex` is 0-based.
 *
 * Signed-note vector: the example of golang.org/x/mod/sumdb/note (package documentation of
 * note.go, also in C2SP signed-note implementations' tests): the PeterNeumann key and note.
 */
import { decodeHex } from "./encoding.js";

const hex = (text: string): Uint8Array => {
  const bytes = decodeHex(text);
  if (bytes === null) throw new Error(`bad hex in test vector: ${text}`);
  return bytes;
};

/** The 8 leaf inputs (not hashes). */
export const rfc6962Leaves: Uint8Array[] = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
].map(hex);

/** Root hashes of the trees of sizes 1..8 over `rfc6962Leaves` (index i = size i + 1). */
export const rfc6962Roots: Uint8Array[] = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map(hex);

/** Published inclusion proofs (the Go vectors with 1-based leaf numbers, minus the trivial ones). */
export const rfc6962InclusionProofs: Array<{ leafIndex: number; treeSize: number; proof: Uint8Array[] }> = [
  {
    leafIndex: 0,
    treeSize: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ].map(hex),
  },
  {
    leafIndex: 5,
    treeSize: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ].map(hex),
  },
  { leafIndex: 2, treeSize: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"].map(hex) },
  {
    leafIndex: 1,
    treeSize: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ].map(hex),
  },
];

/** Published consistency proofs. */
export const rfc6962ConsistencyProofs: Array<{ fromSize: number; toSize: number; proof: Uint8Array[] }> = [
  { fromSize: 1, toSize: 1, proof: [] },
  {
    fromSize: 1,
    toSize: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ].map(hex),
  },
  {
    fromSize: 6,
    toSize: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ].map(hex),
  },
  {
    fromSize: 2,
    toSize: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ].map(hex),
  },
  {
    fromSize: 6,
    toSize: 7,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ].map(hex),
  },
];

/** transparency-dev/merkle rfc6962/rfc6962_test.go TestRFC6962Hasher. */
export const rfc6962HasherVectors = {
  emptyRoot: hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
  emptyLeaf: hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
  /** HashLeaf("L123456") */
  leafL123456: hex("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"),
  /** HashChildren("N123", "N456") */
  nodeN123N456: hex("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"),
};

/** golang.org/x/mod/sumdb/note: the documented example note, keys and signature. */
export const goNoteExample = {
  verifierKey: "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  /** `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || 32-byte Ed25519 seed)>` */
  signerKey: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
  keyName: "PeterNeumann",
  keyIdHex: "c74f20a3",
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  note:
    "If you think cryptography is the answer to your problem,\n" +
    "then you don't know what your problem is.\n" +
    "\n" +
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
};
