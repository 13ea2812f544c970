/**
 * The authorization server: `POST /oauth/token` (client_credentials with private_key_jwt, and
 * refresh_token with single-use rotation; RFC 6749, RFC 7523) and `POST /oauth/revoke`
 * (RFC 7009). Access tokens are always DPoP-bound to the registered key (`cnf.jkt`, RFC 9449 §6);
 * a DPoP proof on the token request is optional, but when present it must be made with that key.
 */
import {
  accessTokenLifetimeSecondsMax,
  dpopProofAgeSecondsMax,
  issueRefreshToken,
  isOwnerOnlyScope,
  newId,
  refreshTokenPrefix,
  revokeRefreshToken,
  rotateRefreshToken,
  type CredentialBindingRow,
  type Result,
  type WriteContext,
} from "@bursar/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { authenticateClient } from "../identity/client-auth.js";
import { DpopProofError, verifyDpopProof } from "../identity/dpop.js";
import { OAuthError, sendOAuthError } from "../identity/oauth-errors.js";
import { baseUrlOf, requestTargetOf } from "../identity/urls.js";
import type { RouteModule } from "./context.js";

const formRoute = { public: true, acceptsForm: true, oauthErrors: true } as const;

/** The form of an OAuth request; JSON bodies are refused (RFC 6749 §3.2 says form encoding). */
function formOf(request: FastifyRequest): Record<string, string> {
  if (!request.headers["content-type"]?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    throw new OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded");
  }
  return (request.body ?? {}) as Record<string, string>;
}

/** Scopes a token request asks for: the space-separated `scope`, or everything `granted`. */
function requestedScopes(form: Record<string, string>, granted: readonly string[]): string[] {
  if (form.scope === undefined || form.scope.trim() === "") return [...granted];
  const scopes = [...new Set(form.scope.split(" ").filter(Boolean))];
  const outside = scopes.filter((scope) => !granted.includes(scope) || isOwnerOnlyScope(scope));
  if (outside.length > 0) throw new OAuthError("invalid_scope", `this client may not have ${outside.join(", ")}`);
  return scopes;
}

/** RFC 9449 §5: an optional proof on the token request, which must be by the registered key. */
async function checkTokenRequestProof(request: FastifyRequest, binding: CredentialBindingRow): Promise<void> {
  const { identity, clock } = request.server;
  const nonces = await identity.nonces();
  if (request.headers.dpop === undefined) return;
  const nowMs = clock.nowMs();
  try {
    const proof = verifyDpopProof(
      request.headers.dpop,
      { method: "POST", url: requestTargetOf(request), accessToken: null, nowMs, nonceIsValid: nonces ? (nonce) => nonces.isValid(nonce) : undefined },
      identity.proofKeys,
    );
    if (proof.jkt !== binding.thumbprint) throw new DpopProofError("invalid_dpop_proof", "the DPoP proof must be made with the registered key");
    if (!(await identity.replay.claim(`dpop:${proof.jkt}:${proof.jti}`, (proof.iat + dpopProofAgeSecondsMax) * 1000 + 1000, nowMs))) {
      throw new DpopProofError("invalid_dpop_proof", "this proof was used already");
    }
  } catch (error) {
    if (!(error instanceof DpopProofError)) throw error;
    throw new OAuthError(error.code, error.detail, nonces ? { "dpop-nonce": nonces.current() } : {});
  }
}

export const oauthRoutes: RouteModule = (app, { store, clock }) => {
  async function inTenant<T>(binding: CredentialBindingRow, operation: (context: WriteContext) => Promise<Result<T>>): Promise<T> {
    const result = await store.write(binding.tenantId, (tx) => operation({ tx, tenantId: binding.tenantId, nowMs: clock.nowMs(), actor: { type: "agent", id: binding.agentId } }));
    if (!result.ok) throw new OAuthError(result.code === "invalid_scope" ? "invalid_scope" : "invalid_grant", result.detail);
    return result.value;
  }

  async function answer(request: FastifyRequest, reply: FastifyReply, binding: CredentialBindingRow, scopes: string[], refreshToken: string) {
    const nowSeconds = Math.floor(clock.nowMs() / 1000);
    const issuer = baseUrlOf(request);
    const accessToken = await request.server.identity.tokens.issue({
      iss: issuer,
      sub: binding.agentId,
      aud: issuer,
      client_id: binding.id,
      tenant_id: binding.tenantId,
      scope: scopes.join(" "),
      iat: nowSeconds,
      exp: nowSeconds + accessTokenLifetimeSecondsMax,
      jti: newId("req").slice(4),
      cnf: { jkt: binding.thumbprint },
    });
    const nonces = await request.server.identity.nonces();
    if (nonces) reply.header("dpop-nonce", nonces.current());
    // RFC 6749 §5.1: token responses must not be cached.
    return reply
      .header("cache-control", "no-store")
      .send({ access_token: accessToken, token_type: "DPoP", expires_in: accessTokenLifetimeSecondsMax, refresh_token: refreshToken, scope: scopes.join(" ") });
  }

  app.post(
    "/oauth/token",
    {
      schema: {
        tags: ["oauth"],
        summary: "Token endpoint: client_credentials with private_key_jwt, or refresh_token (form-encoded)",
        description: "RFC 6749 / RFC 7523 / RFC 9449. Errors follow RFC 6749 §5.2: `{error, error_description}`.",
      },
      config: { ...formRoute, errors: ["invalid_client", "invalid_dpop_proof", "invalid_grant", "invalid_request", "invalid_scope", "unsupported_grant_type", "use_dpop_nonce"], example: {"body": "grant_type=client_credentials&client_id=cb_01JD5Y4Q7X8ZK3M2N1P0R9S8T7&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ..."} },
    },
    async (request, reply) => {
      try {
        const form = formOf(request);
        if (form.grant_type !== "client_credentials" && form.grant_type !== "refresh_token") {
          throw new OAuthError("unsupported_grant_type", "grant_type must be client_credentials or refresh_token");
        }
        const binding = await authenticateClient(request, form);
        await checkTokenRequestProof(request, binding);
        if (form.grant_type === "client_credentials") {
          const scopes = requestedScopes(form, binding.scopes);
          const { token } = await inTenant(binding, async (context) => ({
            ok: true as const,
            value: await issueRefreshToken(context.tx, { tenantId: binding.tenantId, bindingId: binding.id, scopes, nowMs: context.nowMs }),
          }));
          return answer(request, reply, binding, scopes, token);
        }
        if (!form.refresh_token) throw new OAuthError("invalid_request", "refresh_token is required");
        const scopes = form.scope?.trim() ? requestedScopes(form, binding.scopes) : undefined;
        const rotated = await inTenant(binding, (context) => rotateRefreshToken(context, { token: form.refresh_token!, bindingId: binding.id, scopes }));
        return answer(request, reply, binding, rotated.row.scopes, rotated.token);
      } catch (error) {
        if (error instanceof OAuthError) return sendOAuthError(reply, error);
        throw error;
      }
    },
  );

  app.post(
    "/oauth/revoke",
    { schema: { tags: ["oauth"], summary: "Revoke a refresh token and its family (RFC 7009; form-encoded, private_key_jwt)", description: "Revokes a refresh token and every token of its rotation family (RFC 7009). Form-encoded, authenticated with a `private_key_jwt` client assertion. Answers 200 whether or not the token was known."}, config: { ...formRoute, errors: ["invalid_client", "invalid_request", "unsupported_token_type"], example: {"body": "token=rt_...&client_id=cb_01JD5Y4Q7X8ZK3M2N1P0R9S8T7&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ..."} } },
    async (request, reply) => {
      try {
        const form = formOf(request);
        const binding = await authenticateClient(request, form);
        const token = form.token;
        if (!token) throw new OAuthError("invalid_request", "token is required");
        if (token.startsWith(`${refreshTokenPrefix}_`)) {
          await inTenant(binding, (context) => revokeRefreshToken(context, { token, bindingId: binding.id }));
        } else if (await request.server.identity.tokens.verify(token)) {
          // RFC 7009 §2.2.1: access tokens are short-lived and not individually revocable here;
          // revoke the refresh token, or the credential binding to stop them at once.
          throw new OAuthError("unsupported_token_type", "access tokens cannot be revoked one by one; revoke the refresh token or the credential binding");
        }
        // RFC 7009 §2.2: an unknown token is answered 200 as well.
        return reply.code(200).header("cache-control", "no-store").send();
      } catch (error) {
        if (error instanceof OAuthError) return sendOAuthError(reply, error);
        throw error;
      }
    },
  );
};
