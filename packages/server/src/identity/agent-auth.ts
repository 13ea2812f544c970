/**
 * The resource-server side of agent authentication (RFC 9449 §7): `Authorization: DPoP <token>`
 * plus a fresh `DPoP` proof on every request. Fast path: the token's signature is verified once
 * and cached; the proof key is imported once per key; the one per-request signature check (the
 * proof's) runs on node:crypto. The binding comes from the credential cache, checked against
 * its tenant's config version on every request, so a revocation takes effect on the next one,
 * in every process (credential-cache.ts).
 */
import type { FastifyRequest } from "fastify";
import { dpopProofAgeSecondsMax, isOwnerOnlyScope, isScope, acceptedJwsAlgorithmNames, sha256Base64Url } from "@bursar/core";
import type { Principal } from "../http/auth.js";
import { ProblemError } from "../http/problem.js";
import { DpopProofError, verifyDpopProof } from "./dpop.js";
import { requestTargetOf } from "./urls.js";

/** `WWW-Authenticate: DPoP …` (RFC 9449 §7.1), with an error when one applies. */
export function dpopChallenge(error?: "invalid_token" | "invalid_dpop_proof" | "use_dpop_nonce"): string {
  return `DPoP${error ? ` error="${error}",` : ""} algs="${acceptedJwsAlgorithmNames.join(" ")}"`;
}

function invalidDpopToken(): ProblemError {
  return new ProblemError("invalid_token", "The access token is invalid, expired or revoked.", { headers: { "www-authenticate": dpopChallenge("invalid_token") } });
}

/** The problem answer of a failed proof at the resource server (401, RFC 9449 §7.1 and §9). */
export function proofProblem(error: DpopProofError, nonce: string | null): ProblemError {
  const headers: Record<string, string> = { "www-authenticate": dpopChallenge(error.code) };
  if (nonce) headers["dpop-nonce"] = nonce;
  return new ProblemError(error.code, error.detail, { headers });
}

/**
 * The `ath` of each verified token (RFC 9449 §4.2: base64url SHA-256 of the token), by the claims
 * object the token service caches for it, so a token is hashed once, not on every request.
 */
const tokenHashes = new WeakMap<object, { token: string; hash: string }>();

function tokenHashOf(token: string, claims: object): string {
  const known = tokenHashes.get(claims);
  if (known !== undefined && known.token === token) return known.hash;
  const hash = sha256Base64Url(token);
  tokenHashes.set(claims, { token, hash });
  return hash;
}

/** Authenticates an agent request; throws a 401 problem with a DPoP challenge otherwise. */
export async function authenticateAgent(request: FastifyRequest, token: string): Promise<Principal> {
  const { identity, clock, store } = request.server;
  const claims = await identity.tokens.verify(token);
  if (!claims) throw invalidDpopToken();
  const nowMs = clock.nowMs();
  const nonces = await identity.nonces();
  let proof;
  try {
    proof = verifyDpopProof(
      request.headers.dpop,
      { method: request.method, url: requestTargetOf(request), accessToken: token, accessTokenHash: tokenHashOf(token, claims), nowMs, nonceIsValid: nonces ? (nonce) => nonces.isValid(nonce) : undefined },
      identity.proofKeys,
    );
    // RFC 9449 §7.1: the proof must be made with the key the token is bound to.
    if (proof.jkt !== claims.cnf.jkt) throw new DpopProofError("invalid_dpop_proof", "the proof's key is not the key this token is bound to");
  } catch (error) {
    if (error instanceof DpopProofError) throw proofProblem(error, nonces?.current() ?? null);
    throw error;
  }
  // Single use, last: a proof that failed another check must not use up a cache entry. It is
  // kept until it could no longer pass the iat check anyway.
  const fresh = await identity.replay.claim(`dpop:${proof.jkt}:${proof.jti}`, (proof.iat + dpopProofAgeSecondsMax) * 1000 + 1000, nowMs);
  if (!fresh) throw proofProblem(new DpopProofError("invalid_dpop_proof", "this proof was used already; sign a new one per request"), null);
  const binding = await identity.credentials.read(`binding:${claims.client_id}`, claims.tenant_id, () => store.read.findCredentialBinding(claims.client_id), (row) => row.tenantId);
  if (!binding || binding.revokedAtMs !== null || binding.tenantId !== claims.tenant_id || binding.thumbprint !== claims.cnf.jkt) throw invalidDpopToken();
  return {
    tenantId: claims.tenant_id,
    principalType: "agent",
    principalId: claims.sub,
    agentId: claims.sub,
    credentialId: binding.id,
    // Owner-only scopes are filtered again here: defence in depth against a mis-issued token.
    scopes: claims.scope.split(" ").filter(isScope).filter((scope) => !isOwnerOnlyScope(scope)),
    rateLimitPerMinute: identity.rateLimitPerMinute,
  };
}
