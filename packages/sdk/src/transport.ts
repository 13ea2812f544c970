import { APIError, ConnectionError, TimeoutError } from "./errors.ts";
import {
  retryDelayBaseMs,
  requestTimeoutDefaultMs,
  attemptsMax,
  retryDelayMaxMs,
  retryAfterWaitMaxMs,
} from "./limits.ts";

/** What the transport tells `onUnauthorized` about the refused attempt. */
export interface UnauthorizedContext {
  /** The headers the refused attempt carried (so auth can tell a stale token from a current one). */
  sentHeaders: Record<string, string>;
  /** 401 retries this call already made. */
  retries: number;
  /** The request URL. */
  url: string;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
/** Returns the auth headers for one attempt (a DPoP proof is per attempt, so this runs every time). */
export type AuthHook = (req: { method: string; url: string }) => Promise<Record<string, string>> | Record<string, string>;

export interface TransportOptions {
  baseUrl: string;
  fetch?: FetchLike;
  auth?: AuthHook;
  /** Called on a 401; resolve true to retry the request (after refreshing credentials). */
  onUnauthorized?: (error: APIError, context: UnauthorizedContext) => Promise<boolean> | boolean;
  /** 401 retries per call that `onUnauthorized` may ask for (default 1). */
  unauthorizedRetriesMax?: number;
  timeoutMs?: number;
  maxAttempts?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  idempotencyKey?: string;
}

const MUTATING = new Set(["POST", "PATCH", "DELETE"]);

function retryableStatus(status: number, code: string | undefined): boolean {
  if (status === 408 || status === 429 || status >= 500) return true;
  return status === 409 && code === "idempotency_key_in_use";
}

/** Full jitter: uniform in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(retryDelayMaxMs, retryDelayBaseMs * 2 ** attempt));
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal = new AbortController().signal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The one place every SDK request goes through. */
export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly opts: TransportOptions;
  private readonly closer = new AbortController();

  constructor(opts: TransportOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  url(path: string, query?: RequestOptions["query"]): string {
    const u = new URL(this.baseUrl + (path.startsWith("/") ? path : `/${path}`));
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.execute(method, path, options, false);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Opens a streaming response (Server-Sent Events) with the same auth, retries and error mapping
   * as `request`; the timeout covers the wait for the response headers only, never the body.
   */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return this.execute(method, path, options, true);
  }

  private async execute(method: string, path: string, options: RequestOptions, streaming: boolean): Promise<Response> {
    const m = method.toUpperCase();
    const url = this.url(path, options.query);
    const idempotencyKey = MUTATING.has(m) ? (options.idempotencyKey ?? crypto.randomUUID()) : undefined;
    const maxAttempts = this.opts.maxAttempts ?? attemptsMax;
    const unauthorizedRetriesMax = this.opts.unauthorizedRetriesMax ?? 1;
    const callerSignal = options.signal;
    const waitSignal = callerSignal ? AbortSignal.any([callerSignal, this.closer.signal]) : this.closer.signal;
    let unauthorizedRetries = 0;

    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | null = null;
      let lastError: Error;
      try {
        const { res, sentHeaders } = await this.attempt(m, url, options, idempotencyKey, streaming);
        if (res.ok) return res;
        const body: unknown = await res.json().catch(() => null);
        const err = APIError.from(res.status, body, res.headers);
        if (
          res.status === 401 &&
          unauthorizedRetries < unauthorizedRetriesMax &&
          this.opts.onUnauthorized &&
          (await this.opts.onUnauthorized(err, { sentHeaders, retries: unauthorizedRetries, url }))
        ) {
          unauthorizedRetries++;
          attempt--;
          continue;
        }
        if (!retryableStatus(res.status, err.code)) throw err;
        lastError = err;
        if (err.retryAfter !== null) retryAfterMs = Math.min(retryAfterWaitMaxMs, err.retryAfter * 1000);
      } catch (e) {
        if (e instanceof APIError || e instanceof TimeoutError) throw e;
        if (e instanceof ConnectionError) {
          if (callerSignal?.aborted || this.closer.signal.aborted) throw e;
          lastError = e;
        } else throw e;
      }
      if (attempt + 1 >= maxAttempts) throw lastError;
      const delay = Math.max(retryAfterMs ?? 0, backoffDelay(attempt));
      try {
        await sleep(delay, waitSignal);
      } catch {
        throw new ConnectionError("request aborted", { cause: waitSignal.reason });
      }
    }
  }

  private async attempt(
    method: string,
    url: string,
    o: RequestOptions,
    idempotencyKey: string | undefined,
    streaming: boolean,
  ): Promise<{ res: Response; sentHeaders: Record<string, string> }> {
    const headers: Record<string, string> = { accept: "application/json", ...o.headers };
    if (o.body !== undefined) headers["content-type"] = "application/json";
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    Object.assign(headers, await this.opts.auth?.({ method, url }));
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs ?? requestTimeoutDefaultMs;
    // A stream must outlive the timeout: it bounds the wait for headers only, then is cleared.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new TimeoutError(`request timed out: ${method} ${url}`)), timeoutMs);
    const signals = [timeout.signal, this.closer.signal];
    if (o.signal) signals.push(o.signal);
    const signal = AbortSignal.any(signals);
    try {
      const res = await this.fetchImpl(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal,
      });
      if (streaming && res.ok) clearTimeout(timer);
      else {
        // Read the whole body under the timeout, so a stalled body cannot hang the call.
        const text = await res.text();
        clearTimeout(timer);
        return { res: new Response(res.status === 204 || res.status === 304 ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers }), sentHeaders: headers };
      }
      return { res, sentHeaders: headers };
    } catch (e) {
      clearTimeout(timer);
      if (timeout.signal.aborted && !o.signal?.aborted && !this.closer.signal.aborted) {
        throw new TimeoutError(`request timed out: ${method} ${url}`, { cause: e });
      }
      if (o.signal?.aborted || this.closer.signal.aborted) {
        throw new ConnectionError(`request aborted: ${method} ${url}`, { cause: e });
      }
      throw new ConnectionError(`connection failed: ${method} ${url}`, { cause: e });
    }
  }

  /** The abort signal of the client: aborted by close(). */
  get closedSignal(): AbortSignal {
    return this.closer.signal;
  }

  /** Aborts every in-flight request and any later one. */
  close(): Promise<void> {
    this.closer.abort(new ConnectionError("client closed"));
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
