/**
 * Owners' signing keys (`sk_…`, `/v1/signing-keys`): public keys (Ed25519 or P-256 JWK) an owner
 * registers so that it can sign what an owner agrees to on an agent's behalf, such as an escrow
 * intent it creates for a paying agent (docs/escrow.md). The private key never reaches Bursar.
 * A revoked key signs nothing new; what it signed before stays verifiable from the record.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { importPublicJwk, type JwsAlgorithm, type PublicJwk } from "../identity/jose.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

export interface SigningKeyBody {
  /** Who registered it (`usr_…` or `key_…`). */
  owner_id: string;
  name: string | null;
  public_key_jwk: PublicJwk;
  algorithm: JwsAlgorithm;
  thumbprint: string;
  status: "active" | "revoked";
  revoked_at: string | null;
}
export type SigningKeyRecord = StoredRecord<SigningKeyBody>;

export function signingKeyView(key: SigningKeyRecord) {
  return { object: "signing_key" as const, ...recordStamp(key, toRfc3339), ...key.body };
}

/** Registers an owner's public key. Fails `invalid_public_key`. Event: `signing_key.created`. */
export async function registerSigningKey(context: WriteContext, input: { ownerId: string; jwk: unknown; name: string | null }): Promise<Result<SigningKeyRecord>> {
  const imported = importPublicJwk(input.jwk);
  if (!imported.ok) return imported;
  const key: SigningKeyRecord = {
    tenantId: context.tenantId, kind: "signing_key", id: newId("sk", context.nowMs), agentId: null, status: "active", refId: input.ownerId, dueAtMs: null,
    createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      owner_id: input.ownerId, name: input.name, public_key_jwk: imported.value.jwk, algorithm: imported.value.algorithm, thumbprint: imported.value.thumbprint,
      status: "active", revoked_at: null,
    },
  };
  await saveRecord(context.tx, key, true);
  await appendEvent(context, "signing_key.created", { signing_key: signingKeyView(key) });
  return ok(key);
}

/** Revokes a key; revoking a revoked one answers it as it is. Event: `signing_key.revoked`. */
export async function revokeSigningKey(context: WriteContext, keyId: string): Promise<Result<SigningKeyRecord>> {
  const key = await loadRecord<SigningKeyBody>(context.tx, context.tenantId, "signing_key", keyId);
  if (!key) return fail("not_found", `signing key ${keyId} not found`);
  if (key.body.status === "revoked") return ok(key);
  const revoked: SigningKeyRecord = { ...key, status: "revoked", updatedAtMs: context.nowMs, body: { ...key.body, status: "revoked", revoked_at: toRfc3339(context.nowMs) } };
  await saveRecord(context.tx, revoked, false);
  await appendEvent(context, "signing_key.revoked", { signing_key: signingKeyView(revoked) });
  return ok(revoked);
}
