import { createPrivateKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateJournalKeyPair } from "../journal/checkpoint.js";
import { signCompactJws } from "../identity/jose.js";
import type { StoreReader, TenantRow } from "../ports.js";
import { toRfc3339 } from "../time.js";
import { capabilityTokenType, checkCapability, verifyCapabilityToken, type CapabilityClaims, type CapabilityRecord } from "./capabilities.js";

const nowMs = Date.UTC(2026, 11, 2, 12, 0, 0);
const tenantOf = (id: string): TenantRow => {
  const keys = generateJournalKeyPair();
  return { id, name: id, journalPrivateKeyPkcs8: keys.privateKeyPkcs8, journalPublicKey: keys.publicKey, journalSize: 0, createdAtMs: 0 };
};
const tenant = tenantOf("ten_a");
const otherTenant = tenantOf("ten_b");

const claims: CapabilityClaims = {
  iss: "bursar/ten_a", tenant_id: "ten_a", sub: "agt_1", jti: "cap_1", allowed_operations: ["openai.*", "tools.search"], max_amount: 1000,
  currency: "GBP", max_uses: 3, iat: nowMs / 1000, exp: nowMs / 1000 + 3600,
};
const sign = (signer: TenantRow, payload: Record<string, unknown> = { ...claims }, header: Record<string, unknown> = { alg: "EdDSA", typ: capabilityTokenType }) =>
  signCompactJws(header, payload, createPrivateKey({ key: Buffer.from(signer.journalPrivateKeyPkcs8), format: "der", type: "pkcs8" }));

const record = (more: Partial<CapabilityRecord["body"]> = {}): CapabilityRecord => ({
  tenantId: "ten_a", kind: "capability", id: "cap_1", agentId: "agt_1", status: "active", refId: null, dueAtMs: null, createdAtMs: 0, updatedAtMs: 0,
  body: {
    agent_id: "agt_1", allowed_operations: claims.allowed_operations, max_amount: 1000, currency: "GBP", expires_at: toRfc3339(nowMs + 3_600_000),
    max_uses: 3, used_amount: 0, uses: 0, status: "active", revoked_at: null, description: null, ...more,
  },
});
const readerOf = (found: CapabilityRecord | null) => ({ getRecord: async () => found }) as unknown as StoreReader;
const use = { agentId: "agt_1", operation: "openai.chat", amountMinor: 400, currency: "GBP" };

const tampered = (() => {
  const [header, , signature] = sign(tenant).split(".");
  const payload = Buffer.from(JSON.stringify({ ...claims, max_amount: 10 ** 9 })).toString("base64url");
  return `${header}.${payload}.${signature}`;
})();

// prettier-ignore
const scenarios: Array<{ name: string; token: string; record?: CapabilityRecord | null; use?: Partial<typeof use>; code: string | null }> = [
  { name: "a token that covers the use",               token: sign(tenant), code: null },
  { name: "at exactly the remaining amount",           token: sign(tenant), record: record({ used_amount: 600 }), code: null },
  { name: "an exact operation on the list",            token: sign(tenant), use: { operation: "tools.search" }, code: null },
  { name: "not a JWS",                                 token: "hello", code: "capability_invalid" },
  { name: "terms altered after signing",               token: tampered, code: "capability_invalid" },
  { name: "signed by another tenant claiming this one", token: sign(otherTenant), code: "capability_invalid" },
  { name: "another tenant's token",                    token: sign(otherTenant, { ...claims, tenant_id: "ten_b" }), code: "capability_tenant_mismatch" },
  { name: "alg none",                                  token: sign(tenant, { ...claims }, { alg: "none", typ: capabilityTokenType }), code: "capability_invalid" },
  { name: "another type of JWT signed by the tenant",  token: sign(tenant, { ...claims }, { alg: "EdDSA", typ: "at+jwt" }), code: "capability_invalid" },
  { name: "a critical header",                         token: sign(tenant, { ...claims }, { alg: "EdDSA", typ: capabilityTokenType, crit: ["x"] }), code: "capability_invalid" },
  { name: "unknown to the store",                      token: sign(tenant), record: null, code: "capability_invalid" },
  { name: "presented by another agent",                token: sign(tenant), use: { agentId: "agt_2" }, code: "capability_agent_mismatch" },
  { name: "revoked",                                   token: sign(tenant), record: record({ status: "revoked", revoked_at: toRfc3339(nowMs) }), code: "capability_revoked" },
  { name: "expired at this very moment",               token: sign(tenant), record: record({ expires_at: toRfc3339(nowMs) }), code: "capability_expired" },
  { name: "an operation outside the allowance",        token: sign(tenant), use: { operation: "stripe.charges.create" }, code: "capability_operation_not_allowed" },
  { name: "the bare word of a prefix pattern",         token: sign(tenant), use: { operation: "openai" }, code: "capability_operation_not_allowed" },
  { name: "another currency",                          token: sign(tenant), use: { currency: "USD" }, code: "capability_currency_mismatch" },
  { name: "one minor unit more than what is left",     token: sign(tenant), record: record({ used_amount: 601 }), code: "capability_exhausted" },
  { name: "no uses left",                              token: sign(tenant), record: record({ uses: 3 }), code: "capability_exhausted" },
];

describe("capability checks", () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      const result = await checkCapability(readerOf(s.record === undefined ? record() : s.record), tenant, s.token, { ...use, ...s.use }, nowMs);
      expect(result.ok ? null : result.code).toBe(s.code);
    });
  }

  it("anyone with the tenant's public key can read and check a token's terms", () => {
    const verified = verifyCapabilityToken(tenant, sign(tenant));
    expect(verified.ok && verified.value).toMatchObject({ sub: "agt_1", jti: "cap_1", max_amount: 1000, allowed_operations: ["openai.*", "tools.search"] });
  });
});
