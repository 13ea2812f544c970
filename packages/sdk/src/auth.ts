/**
 * How the client proves who it is. Three modes, one interface:
 * - `BearerAuth`: API keys (`bsk_…`) and personal access tokens (`bpat_…`), `Authorization: Bearer`.
 * - `DpopAuth`: agents. Access tokens from `POST /oauth/token` (client_credentials with a
 *   private_key_jwt assertion, RFC 7523; refresh_token with rotation), bound to the agent's key,
 *   and a fresh DPoP proof on every request (RFC 9449).
 */
import { APIError, AuthenticationError, ConnectionError } from "./errors.ts";
import { signJws, sha256Base64Url, type AgentKey } from "./jose.ts";
import { accessTokenLifetimeSecondsMax, accessTokenRefreshMarginMs, attemptsMax, clientAssertionLifetimeSeconds, requestTimeoutDefaultMs } from "./limits.ts";
import { backoffDelay, type FetchLike, type UnauthorizedContext } from "./transport.ts";

/** What the transport needs from an auth mode. */
export interface Authenticator {
  /** Headers for one attempt of one request (a DPoP proof is per attempt). */
  headers(request: { method: string; url: string }): Promise<Record<string, string>>;
  /** A 401 came back: resolve true when a retry can succeed (new nonce, refreshed token). */
  onUnauthorized(error: APIError, context: UnauthorizedContext & { url: string }): Promise<boolean>;
}

/** `Authorization: Bearer <token>`: API keys and personal access tokens. A 401 is final. */
export class BearerAuth implements Authenticator {
  constructor(private readonly token: string) {}
  async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${this.token}` };
  }
  async onUnauthorized(): Promise<boolean> {
    return false;
  }
}

/** RFC 7523 §2.2. */
const jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  /** Local clock, ms. */
  expiresAtMs: number;
  scope: string;
}

export interface DpopAuthOptions {
  clientId: string;
  key: AgentKey;
  /** The server's base URL: the token endpoint is `<baseUrl>/oauth/token`. */
  baseUrl: string;
  /** Scopes to ask for (within the registration's ceiling); all granted ones by default. */
  scopes?: string[];
  fetch?: FetchLike;
  /** Aborted when the client closes. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * DPoP-bound tokens for one agent key. Tokens are cached and renewed when less than
 * `accessTokenRefreshMarginMs` is left; renewal is single-flight (any number of concurrent
 * requests share one token request) and tries the refresh token first, then a new
 * client_credentials grant (the key can always mint a new token; a refresh token can be lost).
 */
export class DpopAuth implements Authenticator {
  private token: TokenSet | null = null;
  private renewal: Promise<TokenSet> | null = null;
  /** DPoP-Nonce per origin (RFC 9449 §8): the latest one each server sent. */
  private readonly nonces = new Map<string, string>();
  private readonly fetchImpl: FetchLike;
  readonly tokenEndpoint: string;

  constructor(private readonly options: DpopAuthOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.tokenEndpoint = `${options.baseUrl.replace(/\/+$/, "")}/oauth/token`;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /** The agent's key: it signs escrow terms (docs/escrow.md) as well as proofs and assertions. */
  get key(): AgentKey {
    return this.options.key;
  }

  async headers(request: { method: string; url: string }): Promise<Record<string, string>> {
    const token = await this.accessToken();
    return { authorization: `DPoP ${token.accessToken}`, dpop: await this.proof(request.method, request.url, token.accessToken) };
  }

  async onUnauthorized(error: APIError, context: UnauthorizedContext & { url: string }): Promise<boolean> {
    if (error.code === "use_dpop_nonce") {
      // RFC 9449 §8: the server wants its nonce in the proof; the retry carries it.
      const nonce = error.headers.get("dpop-nonce");
      if (!nonce) return false;
      this.nonces.set(new URL(context.url).origin, nonce);
      return true;
    }
    // A proof problem is not the token's fault, and a token refresh would not fix it.
    if (error.code === "invalid_dpop_proof") return false;
    // The token was refused (expired early, signing key changed, server restarted with another
    // store...). If another request already replaced it, just retry with the new one; otherwise
    // force one renewal, shared with every request that hits the same 401.
    const current = this.token;
    const sentToken = context.sentHeaders.authorization?.replace(/^DPoP /, "");
    if (current && sentToken === current.accessToken) this.token = { ...current, expiresAtMs: Number.NEGATIVE_INFINITY };
    await this.accessToken();
    return true;
  }

  /** The current access token, renewing it first when it is missing or near its end. */
  async accessToken(): Promise<TokenSet> {
    const token = this.token;
    if (token && Date.now() < token.expiresAtMs - accessTokenRefreshMarginMs) return token;
    this.renewal ??= this.renew().finally(() => {
      this.renewal = null;
    });
    return this.renewal;
  }

  private async renew(): Promise<TokenSet> {
    const refreshToken = this.token?.refreshToken;
    if (refreshToken) {
      try {
        // Never retried blindly: a refresh token is single use, and replaying one whose answer
        // was lost would look like theft and revoke the whole family (SPEC 2.2).
        return this.keep(await this.grant({ grant_type: "refresh_token", refresh_token: refreshToken }, 1));
      } catch (error) {
        if (error instanceof APIError && error.code === "invalid_client") throw error;
        // invalid_grant, a lost answer, a 5xx: fall through to a fresh grant with the key.
      }
    }
    const params: Record<string, string> = { grant_type: "client_credentials" };
    if (this.options.scopes?.length) params.scope = this.options.scopes.join(" ");
    return this.keep(await this.grant(params, attemptsMax));
  }

  private keep(token: TokenSet): TokenSet {
    this.token = token;
    return token;
  }

  /** A DPoP proof (RFC 9449 §4.2) for one request; `htu` is the URL without query and fragment. */
  async proof(method: string, url: string, accessToken: string | null): Promise<string> {
    const target = new URL(url);
    const payload: Record<string, unknown> = {
      jti: crypto.randomUUID(),
      htm: method.toUpperCase(),
      htu: `${target.origin}${target.pathname}`,
      iat: Math.floor(Date.now() / 1000),
    };
    if (accessToken !== null) payload.ath = await sha256Base64Url(accessToken);
    const nonce = this.nonces.get(target.origin);
    if (nonce !== undefined) payload.nonce = nonce;
    return signJws(this.options.key, { typ: "dpop+jwt", jwk: this.options.key.publicJwk }, payload);
  }

  /** A private_key_jwt client assertion (RFC 7523 §3), single use, short-lived. */
  private async assertion(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { clientId } = this.options;
    return signJws(this.options.key, { typ: "JWT" }, { iss: clientId, sub: clientId, aud: this.tokenEndpoint, jti: crypto.randomUUID(), iat: now, exp: now + clientAssertionLifetimeSeconds });
  }

  /**
   * One token request. Each attempt signs a new assertion and proof (both are single use), so
   * attempts are safe to repeat for client_credentials. Retries: 429/5xx/network up to `attempts`,
   * plus one for a `use_dpop_nonce` answer.
   */
  private async grant(params: Record<string, string>, attempts: number): Promise<TokenSet> {
    const origin = new URL(this.tokenEndpoint).origin;
    let nonceRetried = false;
    for (let attempt = 0; ; attempt++) {
      const form = new URLSearchParams({
        ...params,
        client_id: this.options.clientId,
        client_assertion_type: jwtBearerAssertionType,
        client_assertion: await this.assertion(),
      });
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? requestTimeoutDefaultMs);
      const signal = this.options.signal ? AbortSignal.any([timeout, this.options.signal]) : timeout;
      let response: Response;
      let body: unknown;
      try {
        response = await this.fetchImpl(this.tokenEndpoint, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", dpop: await this.proof("POST", this.tokenEndpoint, null) },
          body: form.toString(),
          signal,
        });
        body = await response.json().catch(() => null);
      } catch (cause) {
        if (this.options.signal?.aborted || attempt + 1 >= attempts) throw new ConnectionError(`token request failed: POST ${this.tokenEndpoint}`, { cause });
        await sleep(backoffDelay(attempt));
        continue;
      }
      const nonce = response.headers.get("dpop-nonce");
      if (nonce) this.nonces.set(origin, nonce);
      if (response.ok) return this.tokenSetOf(body, response);
      const error = APIError.from(response.status, body, response.headers);
      if (error.code === "use_dpop_nonce" && nonce && !nonceRetried) {
        nonceRetried = true;
        attempt--;
        continue;
      }
      if ((response.status === 429 || response.status >= 500) && attempt + 1 < attempts) {
        await sleep(Math.max(backoffDelay(attempt), Math.min(error.retryAfter ?? 0, 60) * 1000));
        continue;
      }
      // The token endpoint answers 400/401 invalid_client for a revoked or unknown client:
      // to the caller that is an authentication failure whatever the status.
      if (error.code === "invalid_client" && !(error instanceof AuthenticationError)) throw new AuthenticationError(401, body, response.headers);
      throw error;
    }
  }

  private tokenSetOf(body: unknown, response: Response): TokenSet {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.access_token !== "string" || typeof b.expires_in !== "number" || String(b.token_type).toLowerCase() !== "dpop") {
      throw new APIError(response.status, { code: "invalid_token_response", detail: "the token endpoint answered without a DPoP access token" }, response.headers);
    }
    const lifetimeSeconds = Math.max(0, Math.min(b.expires_in, accessTokenLifetimeSecondsMax));
    return {
      accessToken: b.access_token,
      refreshToken: typeof b.refresh_token === "string" ? b.refresh_token : null,
      expiresAtMs: Date.now() + lifetimeSeconds * 1000,
      scope: typeof b.scope === "string" ? b.scope : "",
    };
  }
}
