/**
 * Refresh tokens with single-use rotation (RFC 9700 §4.14.2, "refresh token rotation"): each
 * use returns a new token of the same family and marks the old one used. A used token presented
 * again means two parties hold it — the client and a thief — and we cannot tell which is which,
 * so the whole family is revoked and both must start over with client credentials.
 */
import { sha256Hex } from "../hash.js";
import { newId, newSecret } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { refreshTokenLifetimeSecondsMax } from "../limits.js";
import type { RefreshTokenRow, StoreTx } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { scopesOutside } from "./scopes.js";

/** The prefix of refresh tokens. */
export const refreshTokenPrefix = "brt";

/** Issues a refresh token, starting a family unless `familyId` continues one. */
export async function issueRefreshToken(
  tx: StoreTx,
  input: { tenantId: string; bindingId: string; scopes: string[]; nowMs: number; familyId?: string },
): Promise<{ token: string; row: RefreshTokenRow }> {
  const token = newSecret(refreshTokenPrefix);
  const row: RefreshTokenRow = {
    id: newId("rft", input.nowMs),
    tenantId: input.tenantId,
    bindingId: input.bindingId,
    familyId: input.familyId ?? newId("rff", input.nowMs),
    tokenHash: sha256Hex(token),
    scopes: input.scopes,
    createdAtMs: input.nowMs,
    expiresAtMs: input.nowMs + refreshTokenLifetimeSecondsMax * 1000,
    usedAtMs: null,
    revokedAtMs: null,
  };
  await tx.insertRefreshToken(row);
  return { token, row };
}

/**
 * Exchanges a refresh token of binding `bindingId` for a new one (same family), with `scopes`
 * narrowing the original when given. Every failure is `invalid_grant` (RFC 6749 §5.2): unknown,
 * another client's, expired, revoked, or reused — and reuse revokes the family (committed, with a
 * `refresh_token.reuse_detected` event), so the next use of any of its tokens fails too.
 */
export async function rotateRefreshToken(
  context: WriteContext,
  input: { token: string; bindingId: string; scopes?: string[] },
): Promise<Result<{ token: string; row: RefreshTokenRow }>> {
  const { tx, tenantId, nowMs } = context;
  const row = await tx.findRefreshTokenByHash(sha256Hex(input.token));
  const invalid = fail("invalid_grant", "the refresh token is invalid, expired or revoked");
  if (!row || row.tenantId !== tenantId || row.bindingId !== input.bindingId) return invalid;
  if (row.revokedAtMs !== null || row.expiresAtMs <= nowMs) return invalid;
  const scopes = input.scopes ?? row.scopes;
  const outside = scopesOutside(scopes, row.scopes);
  // Checked before the token is used, so a bad scope request does not burn the client's token.
  if (outside.length > 0 && row.usedAtMs === null) return fail("invalid_scope", `the refresh token was not granted ${outside.join(", ")}`);
  if (row.usedAtMs !== null || !(await tx.useRefreshToken(tenantId, row.id, nowMs))) {
    await tx.revokeRefreshTokenFamily(tenantId, row.familyId, nowMs);
    await appendEvent(context, "refresh_token.reuse_detected", { refresh_token: { id: row.id, family_id: row.familyId, credential_binding_id: row.bindingId } });
    return invalid;
  }
  return ok(await issueRefreshToken(tx, { tenantId, bindingId: row.bindingId, scopes, nowMs, familyId: row.familyId }));
}

/** Revokes the family of a refresh token of `bindingId` (RFC 7009); false when there is none. */
export async function revokeRefreshToken(context: WriteContext, input: { token: string; bindingId: string }): Promise<Result<boolean>> {
  const row = await context.tx.findRefreshTokenByHash(sha256Hex(input.token));
  if (!row || row.tenantId !== context.tenantId || row.bindingId !== input.bindingId) return ok(false);
  await context.tx.revokeRefreshTokenFamily(context.tenantId, row.familyId, context.nowMs);
  return ok(true);
}
