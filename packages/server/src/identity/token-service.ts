/**
 * The server's access tokens: the signing key (made once per store, shared by every process on
 * it), issuing, and verification with a cache — a token's signature is checked once, then its
 * decoded claims are kept until it expires (at most `accessTokenCacheEntriesMax`, oldest dropped).
 */
import type { KeyObject } from "node:crypto";
import {
  accessTokenCacheEntriesMax,
  generateServerSigningKey,
  importServerSigningKey,
  parseCompactJws,
  signAccessToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type Clock,
  type ServerSigningKey,
  type Store,
} from "@bursar/core";

export class TokenService {
  private key: Promise<ServerSigningKey> | null = null;
  private loaded: ServerSigningKey | null = null;
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The signing key: read from the store, or made and stored on first use. */
  signingKey(): Promise<ServerSigningKey> {
    this.key ??= (async () => {
      const row = (await this.store.read.getServerSigningKey()) ?? (await this.store.write(null, (tx) => tx.ensureServerSigningKey(generateServerSigningKey(this.clock.nowMs()))));
      this.loaded = importServerSigningKey(row);
      return this.loaded;
    })().catch((error: unknown) => {
      this.key = null;
      throw error;
    });
    return this.key;
  }

  /** Signs an access token. */
  async issue(claims: AccessTokenClaims): Promise<string> {
    return signAccessToken(await this.signingKey(), claims);
  }

  /**
   * The claims of a token we signed that has not expired, or null. Only tokens that verify are
   * cached, so garbage cannot evict good entries faster than real tokens would.
   */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    const nowSeconds = Math.floor(this.clock.nowMs() / 1000);
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp > nowSeconds) return cached;
      this.verified.delete(token);
      return null;
    }
    // Only something shaped like our token is worth loading the key for.
    const header = parseCompactJws(token)?.header;
    if (!header || header.alg !== "EdDSA" || header.typ !== "at+jwt") return null;
    const key = this.loaded ?? (await this.signingKey());
    const claims = verifyAccessToken(token, (kid): KeyObject | null => (kid === key.kid ? key.publicKey : null));
    if (!claims || claims.exp <= nowSeconds) return null;
    if (this.verified.size >= accessTokenCacheEntriesMax) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return claims;
  }
}
