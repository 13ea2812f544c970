import { describe, expect, it } from "vitest";
import { memberScopes, roleScopes } from "./roles.js";
import { allScopes } from "../scopes.js";
import { csrfTokenFor, parseConsoleSecret, secretMatches } from "./sessions.js";
import { sha256Hex } from "../hash.js";

describe("member roles", () => {
  // role, may approve, may configure agents, may administer the tenant (all writes)
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

  it("every member reads everything a route guards (agents, policies, the ledger), an unknown role nothing", () => {
    for (const role of ["owner", "admin", "approver", "viewer"]) expect(roleScopes(role, "read"), role).toEqual([...allScopes]);
    expect(roleScopes("retired-role", "read")).toEqual([]);
  });

  it("narrows a credential's own scopes by the role, for writes and reads apart", () => {
    expect(memberScopes("viewer", { write: allScopes })).toEqual({ scopes: ["transactions:read", "events:read", "payees:read", "budgets:read"], readScopes: [...allScopes] });
    // A narrow PAT stays narrow on reads too; unknown strings grant nothing.
    expect(memberScopes("owner", { write: ["events:read", "bogus:scope"] })).toEqual({ scopes: ["events:read"], readScopes: ["events:read"] });
    // A session's reading scopes are its own list; an old session without one reads with its scopes.
    expect(memberScopes("approver", { write: ["approvals:write"], read: ["agents:config", "approvals:write"] })).toEqual({ scopes: ["approvals:write"], readScopes: ["agents:config", "approvals:write"] });
    expect(memberScopes("viewer", { write: ["approvals:write", "events:read"] }).scopes).toEqual(["events:read"]);
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
