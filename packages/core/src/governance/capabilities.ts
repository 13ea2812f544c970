/**
 * Capabilities (SPEC 1 `cap_`): an owner's pre-approved allowance for one agent, like an AP2 open
 * mandate or an ACP allowance — these operations, up to this amount in this currency, until this
 * time, at most this many uses. The owner mints it; the agent presents its token with a spend
 * authorization, which then skips the approval threshold while the capability covers it. Hard
 * limits (per-transaction maximum, windows, budgets, the wallet) still apply: a capability waives
 * a human's approval, never a rule.
 *
 * The token is a compact JWS (RFC 7515) signed with the tenant's Ed25519 journal key, `typ`
 * `bursar-capability+jwt`, so anyone holding the tenant's public key (`GET /v1/journal/authority`)
 * can check who issued it and what it grants. A JWS signing input starts with its base64url
 * header (`eyJ…`) and a checkpoint note with its origin line (`bursar/…`): one key signs both
 * without a signature of one ever verifying as the other. The server keeps the terms and the
 * usage (amount and uses taken by live and consumed authorizations) in the capability record; the
 * token itself is shown once and never stored.
 *
 * Refusals, each with its own code (403): `capability_invalid` (not a token, or a signature that
 * does not verify: tampered), `capability_tenant_mismatch`, `capability_agent_mismatch`,
 * `capability_revoked`, `capability_expired`, `capability_operation_not_allowed`,
 * `capability_currency_mismatch`, `capability_exhausted` (the amount or uses left do not cover it).
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { matchesAnyDottedPattern } from "../dotted-names.js";
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { capabilityTokenLengthMax } from "../limits.js";
import { formatMinor } from "../money.js";
import type { StoreReader, TenantRow } from "../ports.js";
import { encodeBase64Url, parseCompactJws, signCompactJws, verifyJwsSignature } from "../identity/jose.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

/** The JWS `typ` of a capability token (RFC 8725 §3.11: explicit typing). */
export const capabilityTokenType = "bursar-capability+jwt";

export type CapabilityStatus = "active" | "revoked";

export interface CapabilityBody {
  agent_id: string;
  allowed_operations: string[];
  max_amount: number;
  currency: string;
  expires_at: string;
  max_uses: number | null;
  /** Amount taken by live and consumed authorizations. */
  used_amount: number;
  /** Authorizations that presented it and were not released. */
  uses: number;
  status: CapabilityStatus;
  revoked_at: string | null;
  description: string | null;
  /** Issued by a funded escrow intent: authorizations presenting it draw on the escrow, not the wallet. */
  escrow_intent_id?: string | null;
}
export type CapabilityRecord = StoredRecord<CapabilityBody>;

/** The claims a capability token carries: the terms, so a verifier needs nothing else. */
export interface CapabilityClaims {
  iss: string;
  tenant_id: string;
  sub: string;
  jti: string;
  allowed_operations: string[];
  max_amount: number;
  currency: string;
  max_uses: number | null;
  iat: number;
  exp: number;
  /** Present when an escrow intent issued it. */
  escrow_intent_id?: string;
}

export function capabilityView(capability: CapabilityRecord) {
  const body = capability.body;
  return {
    object: "capability" as const,
    ...recordStamp(capability, toRfc3339),
    ...body,
    max_amount_display: formatMinor(body.max_amount, body.currency),
    remaining_amount: body.max_amount - body.used_amount,
    remaining_uses: body.max_uses === null ? null : body.max_uses - body.uses,
  };
}

export interface MintCapabilityInput {
  agentId: string;
  allowedOperations: string[];
  maxAmountMinor: number;
  currency: string;
  expiresAtMs: number;
  maxUses: number | null;
  description: string | null;
  escrowIntentId?: string;
}

/** The tenant's journal key as a signing key, and its public half as a verifying key. */
function tenantKeys(tenant: TenantRow) {
  const privateKey = createPrivateKey({ key: Buffer.from(tenant.journalPrivateKeyPkcs8), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: encodeBase64Url(tenant.journalPublicKey) }, format: "jwk" }) };
}

/**
 * The token of a capability: its claims from the record (issued at its creation), signed with the
 * tenant's key. Ed25519 signatures are deterministic, so the same capability always has the same token.
 */
export function capabilityTokenOf(tenant: TenantRow, capability: CapabilityRecord): string {
  const body = capability.body;
  const claims: CapabilityClaims = {
    iss: `bursar/${tenant.id}`, tenant_id: tenant.id, sub: body.agent_id, jti: capability.id,
    allowed_operations: body.allowed_operations, max_amount: body.max_amount, currency: body.currency, max_uses: body.max_uses,
    iat: Math.floor(capability.createdAtMs / 1000), exp: Math.floor(Date.parse(body.expires_at) / 1000),
    ...(body.escrow_intent_id ? { escrow_intent_id: body.escrow_intent_id } : {}),
  };
  return signCompactJws({ alg: "EdDSA", typ: capabilityTokenType, kid: `bursar/${tenant.id}` }, { ...claims }, tenantKeys(tenant).privateKey);
}

/**
 * Mints a capability for an agent and returns it with its token (shown once). Fails when the
 * expiry is not in the future. Event: `capability.created` (the terms, never the token).
 */
export async function mintCapability(context: WriteContext, input: MintCapabilityInput): Promise<Result<{ capability: CapabilityRecord; token: string }>> {
  if (input.expiresAtMs <= context.nowMs) return fail("validation_failed", "expires_at must be in the future");
  const tenant = await context.tx.getTenant(context.tenantId);
  invariant(tenant, `tenant ${context.tenantId} exists`);
  const capability: CapabilityRecord = {
    tenantId: context.tenantId, kind: "capability", id: newId("cap", context.nowMs), agentId: input.agentId, status: "active", refId: null,
    dueAtMs: null, createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      agent_id: input.agentId, allowed_operations: input.allowedOperations, max_amount: input.maxAmountMinor, currency: input.currency,
      expires_at: toRfc3339(input.expiresAtMs), max_uses: input.maxUses, used_amount: 0, uses: 0, status: "active", revoked_at: null,
      description: input.description, ...(input.escrowIntentId ? { escrow_intent_id: input.escrowIntentId } : {}),
    },
  };
  const token = capabilityTokenOf(tenant, capability);
  await saveRecord(context.tx, capability, true);
  await appendEvent(context, "capability.created", { capability: capabilityView(capability) }, input.agentId);
  return ok({ capability, token });
}

/** Revokes a capability; revoking a revoked one answers it as it is. Event: `capability.revoked`. */
export async function revokeCapability(context: WriteContext, capabilityId: string): Promise<Result<CapabilityRecord>> {
  const capability = await loadRecord<CapabilityBody>(context.tx, context.tenantId, "capability", capabilityId);
  if (!capability) return fail("not_found", `capability ${capabilityId} not found`);
  if (capability.body.status === "revoked") return ok(capability);
  const revoked: CapabilityRecord = {
    ...capability, status: "revoked", updatedAtMs: context.nowMs,
    body: { ...capability.body, status: "revoked", revoked_at: toRfc3339(context.nowMs) },
  };
  await saveRecord(context.tx, revoked, false);
  await appendEvent(context, "capability.revoked", { capability: capabilityView(revoked) }, capability.agentId);
  return ok(revoked);
}

/** What an authorization asks a capability to cover. */
export interface CapabilityUse {
  agentId: string;
  operation: string;
  amountMinor: number;
  currency: string;
}

/** The claims of a token signed by `tenant`'s key, or the refusal. Pure but for the key import. */
export function verifyCapabilityToken(tenant: TenantRow, token: string): Result<CapabilityClaims> {
  const jws = token.length <= capabilityTokenLengthMax ? parseCompactJws(token) : null;
  if (!jws) return fail("capability_invalid", "the capability token is not a compact JWS");
  const { header, payload } = jws;
  // RFC 8725 §3.1 and §3.11: the algorithm and type are ours to demand, never the token's to choose.
  if (header.alg !== "EdDSA" || header.typ !== capabilityTokenType || header.crit !== undefined) {
    return fail("capability_invalid", `the token is not a ${capabilityTokenType} signed with EdDSA`);
  }
  if (typeof payload.tenant_id === "string" && payload.tenant_id !== tenant.id) {
    return fail("capability_tenant_mismatch", "the capability was issued by another tenant");
  }
  if (!verifyJwsSignature("EdDSA", tenantKeys(tenant).publicKey, jws.signingInput, jws.signature)) {
    return fail("capability_invalid", "the capability's signature does not verify: it was not issued by this tenant, or it was altered");
  }
  return ok(payload as unknown as CapabilityClaims);
}

/**
 * Checks that the capability behind `token` covers `use` now, reading its record for revocation
 * and usage. Writes nothing; `takeCapability` records the use inside the same write.
 */
export async function checkCapability(reader: StoreReader, tenant: TenantRow, token: string, use: CapabilityUse, nowMs: number): Promise<Result<CapabilityRecord>> {
  const verified = verifyCapabilityToken(tenant, token);
  if (!verified.ok) return verified;
  const claims = verified.value;
  const capability = await loadRecord<CapabilityBody>(reader, tenant.id, "capability", claims.jti);
  invariant(capability === null || capability.agentId === claims.sub, `capability ${claims.jti} names its agent`);
  if (!capability) return fail("capability_invalid", "the capability is unknown to this tenant");
  if (claims.sub !== use.agentId) return fail("capability_agent_mismatch", `the capability was issued to another agent`);
  const body = capability.body;
  if (body.status === "revoked") return fail("capability_revoked", `capability ${capability.id} was revoked at ${body.revoked_at}`);
  if (Date.parse(body.expires_at) <= nowMs) return fail("capability_expired", `capability ${capability.id} expired at ${body.expires_at}`);
  if (!matchesAnyDottedPattern(body.allowed_operations, use.operation)) {
    return fail("capability_operation_not_allowed", `capability ${capability.id} does not cover ${use.operation} (it covers ${body.allowed_operations.join(", ")})`);
  }
  if (body.currency !== use.currency) return fail("capability_currency_mismatch", `capability ${capability.id} is in ${body.currency}, not ${use.currency}`);
  const remaining = body.max_amount - body.used_amount;
  if (use.amountMinor > remaining) return fail("capability_exhausted", `capability ${capability.id} has ${formatMinor(remaining, body.currency)} ${body.currency} left`);
  if (body.max_uses !== null && body.uses >= body.max_uses) return fail("capability_exhausted", `capability ${capability.id} has no uses left`);
  return ok(capability);
}

/** Records that an authorization took `amountMinor` and one use of the capability. */
export async function takeCapability(context: WriteContext, capability: CapabilityRecord, amountMinor: number): Promise<void> {
  const body = { ...capability.body, used_amount: capability.body.used_amount + amountMinor, uses: capability.body.uses + 1 };
  invariant(body.used_amount <= body.max_amount, `capability ${capability.id} stays within its amount`);
  await saveRecord(context.tx, { ...capability, updatedAtMs: context.nowMs, body }, false);
}

/**
 * Gives back what an authorization did not spend: `amountMinor` of the amount it took, and its
 * use when it was released without spending anything (`returnUse`).
 */
export async function giveBackCapability(context: WriteContext, capabilityId: string, amountMinor: number, returnUse: boolean): Promise<void> {
  if (amountMinor === 0 && !returnUse) return;
  const capability = await loadRecord<CapabilityBody>(context.tx, context.tenantId, "capability", capabilityId);
  invariant(capability, `capability ${capabilityId} exists`);
  const body = { ...capability.body, used_amount: capability.body.used_amount - amountMinor, uses: capability.body.uses - (returnUse ? 1 : 0) };
  invariant(body.used_amount >= 0 && body.uses >= 0, `capability ${capabilityId} gives back no more than it took`);
  await saveRecord(context.tx, { ...capability, updatedAtMs: context.nowMs, body }, false);
}
