import { describe, expect, it } from "vitest";
import { SessionAuth } from "./auth.ts";

describe("SessionAuth", () => {
  it("sends the CSRF token on mutations only, and nothing that could leak the session", async () => {
    const auth = new SessionAuth("csrf-1");
    expect(await auth.headers({ method: "GET" })).toEqual({});
    expect(await auth.headers({ method: "HEAD" })).toEqual({});
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) expect(await auth.headers({ method })).toEqual({ "x-csrf-token": "csrf-1" });
    auth.setCsrfToken(null);
    expect(await auth.headers({ method: "POST" })).toEqual({});
    expect(await auth.onUnauthorized()).toBe(false);
  });
});
