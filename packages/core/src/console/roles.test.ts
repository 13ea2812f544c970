import { describe, expect, it } from "vitest";
import { roleScopes } from "./roles.js";
import { csrfTokenFor, parseConsoleSecret, secretMatches } from "./sessions.js";
import { sha256Hex } from "../hash.js";

describe("member roles", () => {
  // role, may approve, may configure agents, may administer the tenant
  const table: Array<[string, boolean, boolean, boolean]> = [
    ["owner", true, true, true],
    ["admin", true, true, true],
    ["approver", true, false, false],
    ["viewer", false, false, false],
    ["retired-role", false, false, false],
  ];
  it.each(table)("%s: approve %s, configure %s, administer %s", (role, approve, configure, administer) => {
    const scopes = roleScopes(role);
    expect(scopes.includes("approvals:write")).toBe(approve);
    expect(scopes.includes("agents:config")).toBe(configure);
    expect(scopes.includes("tenant:admin")).toBe(administer);
    if (role !== "retired-role") expect(scopes).toEqual(expect.arrayContaining(["transactions:read", "events:read", "payees:read", "budgets:read"]));
  });
});

describe("console secrets", () => {
  const secret = `bcs.ten_01M8TJYB42SWS6AAAAAAAAAAAA.cs_01M8TJYB42SWS6AAAAAAAAAAAA.${"a".repeat(43)}`;
  it("parse only in their exact shape", () => {
    expect(parseConsoleSecret(secret, "bcs")).toEqual({ tenantId: "ten_01M8TJYB42SWS6AAAAAAAAAAAA", id: "cs_01M8TJYB42SWS6AAAAAAAAAAAA" });
    for (const bad of [secret.replace("bcs.", "bcl."), `${secret}.x`, secret.slice(0, -1), secret.replace("ten_", "usr_"), "", "bcs..."]) {
      expect(parseConsoleSecret(bad, "bcs"), bad).toBeNull();
    }
  });
  it("match their stored hash and nothing else; the CSRF token is bound to the session", () => {
    expect(secretMatches(secret, sha256Hex(secret))).toBe(true);
    expect(secretMatches(`${secret}x`, sha256Hex(secret))).toBe(false);
    expect(secretMatches(secret, "00")).toBe(false);
    expect(csrfTokenFor(secret)).not.toBe(csrfTokenFor(secret.replace("a", "b")));
    expect(csrfTokenFor(secret)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
