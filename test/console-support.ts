/** Helpers for the console suites: login links, cookie sessions over plain fetch. */
import { createLoginCode, type Store } from "@bursar/core";
import { client } from "./support.js";

/** Mints a one-time login code for a member, as `bursar serve` does for the demo owner. */
export async function loginCode(store: Store, tenantId: string, userId: string, nowMs = Date.now()): Promise<string> {
  const { code } = await store.write(tenantId, (tx) =>
    createLoginCode({ tx, tenantId, nowMs, actor: { type: "system", id: "test" } }, { userId }),
  );
  return code;
}

/** The `name=value` pair of a Set-Cookie header. */
export function cookiePair(setCookie: string | null): string {
  if (!setCookie) throw new Error("no Set-Cookie header");
  return setCookie.split(";")[0]!;
}

/** A client that sends a session cookie (and, when given, the CSRF token), like a browser would. */
export function sessionClient(baseUrl: string, cookie: string, csrfToken?: string) {
  const api = client(baseUrl);
  const headers = (extra: Record<string, string> = {}) => ({ cookie, ...(csrfToken ? { "x-csrf-token": csrfToken } : {}), ...extra });
  return {
    get: (path: string, extra?: Record<string, string>) => api.get(path, headers(extra)),
    post: (path: string, body?: unknown, extra?: Record<string, string>) => api.post(path, body, headers(extra)),
    call: (method: string, path: string, body?: unknown, extra?: Record<string, string>) => api.call(method, path, body, headers(extra)),
  };
}

/** Signs in with a login code or a PAT; returns the cookie, CSRF token and a session client. */
export async function signIn(baseUrl: string, body: { login_code: string } | { personal_access_token: string }) {
  const response = await client(baseUrl).post("/v1/console/sessions", body);
  if (response.status !== 201) throw new Error(`sign-in failed: ${response.status} ${JSON.stringify(response.body)}`);
  const cookie = cookiePair(response.headers.get("set-cookie"));
  return { cookie, csrf: response.body.csrf_token as string, session: response.body, api: sessionClient(baseUrl, cookie, response.body.csrf_token) };
}
