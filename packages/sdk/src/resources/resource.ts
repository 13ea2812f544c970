/**
 * What every resource builds on (STYLE habit 9: one client owns transport; resources only
 * describe endpoints). Adding a resource is a file like agents.ts and one line in client.ts.
 */
import { Page } from "../pagination.ts";
import type { RequestOptions } from "../transport.ts";
import type { PageBody } from "../types.ts";

/** Per-call options every method takes last. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Your idempotency key for a POST/PATCH/DELETE; one is generated (and reused on retries) otherwise. */
  idempotencyKey?: string;
}

/** The client as resources see it. */
export interface Requester {
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  stream(method: string, path: string, options?: RequestOptions): Promise<Response>;
  /** Aborted when the client closes. */
  readonly closedSignal: AbortSignal;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Encodes a path segment (ids are plain, but a caller's string never changes the path). */
export const segment = (id: string): string => encodeURIComponent(id);

export abstract class Resource {
  constructor(protected readonly client: Requester) {}

  protected getJson<T>(path: string, query?: Query, options: CallOptions = {}): Promise<T> {
    return this.client.request<T>("GET", path, { ...options, query });
  }

  protected postJson<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.client.request<T>("POST", path, { ...options, body: body ?? {} });
  }

  protected patchJson<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.client.request<T>("PATCH", path, { ...options, body });
  }

  protected deleteJson<T>(path: string, options: CallOptions = {}): Promise<T> {
    return this.client.request<T>("DELETE", path, options);
  }

  /** A page of a cursor-paginated list, iterable over every later page too. */
  protected paginate<T>(path: string, query: Query = {}, options: CallOptions = {}): Promise<Page<T>> {
    const fetchPage = async (cursor: string | undefined): Promise<Page<T>> =>
      new Page<T>(await this.getJson<PageBody<T>>(path, { ...query, cursor }, options), (next) => fetchPage(next));
    return fetchPage(typeof query.cursor === "string" ? query.cursor : undefined);
  }
}
