/**
 * Client authentication at the token and revocation endpoints: `private_key_jwt` (RFC 7523 §2.2
 * and §3, OpenID Connect Core §9). The assertion is a JWT the client signs with its registered
 * key; every check failure is `invalid_client`, with a description for the developer.
 */
import type { KeyObject } from "node:crypto";
import type { FastifyRequest } from "fastify";
import {
  clientAssertionLifetimeSecondsMax,
  clockSkewSecondsMax,
  importPublicJwk,
  jwsAlgorithmOf,
  jtiLengthMax,
  parseCompactJws,
  publicKeyCacheEntriesMax,
  verifyJwsSignature,
  type CredentialBindingRow,
} from "@bursar/core";
import { OAuthError } from "./oauth-errors.js";
import { baseUrlOf, requestTargetOf } from "./urls.js";

/** RFC 7523 §2.2: the only client assertion type accepted. */
export const jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Imported binding keys, by thumbprint (a key never changes under its thumbprint). */
const bindingKeys = new Map<string, KeyObject>();

function bindingKey(binding: CredentialBindingRow): KeyObject | null {
  const cached = bindingKeys.get(binding.thumbprint);
  if (cached) return cached;
  const imported = importPublicJwk(binding.publicKeyJwk);
  if (!imported.ok) return null;
  if (bindingKeys.size >= publicKeyCacheEntriesMax) bindingKeys.delete(bindingKeys.keys().next().value!);
  bindingKeys.set(binding.thumbprint, imported.value.key);
  return imported.value.key;
}

/**
 * The normalised audiences accepted for an issuer and endpoint, by both: the same few pairs come
 * back on every token request, and parsing three URLs each time was a visible part of its cost.
 * Bounded, since the issuer follows the Host header when no public base URL is configured.
 */
const acceptedAudiences = new Map<string, ReadonlySet<string>>();
const acceptedAudiencesMax = 64;

/** True when `aud` names us: the issuer, the token endpoint, or the endpoint being called. */
function audienceMatches(aud: unknown, request: FastifyRequest): boolean {
  const issuer = baseUrlOf(request);
  const target = requestTargetOf(request);
  const cacheKey = `${issuer} ${target}`;
  let accepted = acceptedAudiences.get(cacheKey);
  if (accepted === undefined) {
    accepted = new Set([issuer, `${issuer}/oauth/token`, target].map((url) => new URL(url).href));
    if (acceptedAudiences.size >= acceptedAudiencesMax) acceptedAudiences.delete(acceptedAudiences.keys().next().value!);
    acceptedAudiences.set(cacheKey, accepted);
  }
  const audiences = Array.isArray(aud) ? aud : [aud];
  return audiences.some((value) => {
    if (typeof value !== "string") return false;
    // The common case: the client wrote one of our URLs exactly as we normalise it.
    if (accepted.has(value)) return true;
    try {
      return accepted.has(new URL(value).href);
    } catch {
      return false;
    }
  });
}

/**
 * Authenticates the client of a token or revocation request; returns its active binding.
 * Throws `OAuthError("invalid_client")` (or `invalid_request` for a malformed request).
 */
export async function authenticateClient(request: FastifyRequest, form: Record<string, string>): Promise<CredentialBindingRow> {
  const { store, clock, identity } = request.server;
  if (form.client_assertion_type !== jwtBearerAssertionType || !form.client_assertion) {
    throw new OAuthError("invalid_client", `authenticate with private_key_jwt: client_assertion_type=${jwtBearerAssertionType} and a client_assertion`);
  }
  const jws = parseCompactJws(form.client_assertion);
  if (!jws) throw new OAuthError("invalid_client", "client_assertion is not a compact JWS");
  const { header, payload } = jws;
  // RFC 8725 §3.1: the algorithm must be one we allow and the one the registered key uses.
  const algorithm = jwsAlgorithmOf(header.alg);
  if (!algorithm || header.crit !== undefined) throw new OAuthError("invalid_client", "client_assertion must be signed with ES256 or EdDSA (Ed25519)");
  // RFC 7523 §3 items 1-2: iss and sub are both the client_id.
  const clientId = payload.iss;
  if (typeof clientId !== "string" || payload.sub !== clientId) throw new OAuthError("invalid_client", "client_assertion needs iss and sub equal to the client_id");
  if (form.client_id !== undefined && form.client_id !== clientId) throw new OAuthError("invalid_client", "client_id does not match the assertion");
  const binding = await identity.credentials.read(`binding:${clientId}`, null, () => store.read.findCredentialBinding(clientId), (row) => row.tenantId);
  if (!binding || binding.revokedAtMs !== null) throw new OAuthError("invalid_client", "unknown or revoked client");
  const key = bindingKey(binding);
  if (algorithm !== binding.algorithm || !key || !verifyJwsSignature(binding.algorithm, key, jws.signingInput, jws.signature)) {
    throw new OAuthError("invalid_client", "client_assertion is not signed by the registered key");
  }
  // RFC 7523 §3 item 3: the audience is us.
  if (!audienceMatches(payload.aud, request)) throw new OAuthError("invalid_client", "client_assertion aud must be the issuer or the token endpoint URL");
  // Items 4-6: a short-lived assertion, already valid.
  const nowSeconds = clock.nowMs() / 1000;
  const { exp, nbf, iat, jti } = payload;
  if (typeof exp !== "number" || exp <= nowSeconds) throw new OAuthError("invalid_client", "client_assertion expired or has no exp");
  if (exp > nowSeconds + clientAssertionLifetimeSecondsMax + clockSkewSecondsMax) {
    throw new OAuthError("invalid_client", `client_assertion exp may be at most ${clientAssertionLifetimeSecondsMax} s ahead`);
  }
  if ((nbf !== undefined && (typeof nbf !== "number" || nbf > nowSeconds + clockSkewSecondsMax)) || (iat !== undefined && (typeof iat !== "number" || iat > nowSeconds + clockSkewSecondsMax))) {
    throw new OAuthError("invalid_client", "client_assertion is not valid yet");
  }
  // Item 7: single use. Remembered until it expires, after which the exp check refuses it.
  if (typeof jti !== "string" || jti.length === 0 || jti.length > jtiLengthMax) throw new OAuthError("invalid_client", "client_assertion needs a jti");
  if (!(await identity.replay.claim(`assertion:${binding.id}:${jti}`, exp * 1000, clock.nowMs()))) {
    throw new OAuthError("invalid_client", "client_assertion was used already; sign a new one per request");
  }
  const agent = await identity.credentials.read(`agent:${binding.tenantId}/${binding.agentId}`, binding.tenantId, () => store.read.getAgent(binding.tenantId, binding.agentId), (row) => row.tenantId);
  if (!agent || agent.status !== "active") throw new OAuthError("invalid_client", "the client's agent is disabled");
  return binding;
}
