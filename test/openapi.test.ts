/**
 * The API reference as a reader meets it: every operation has a summary, a description, an
 * example request (a curl sample, and the body's example), its error responses with their
 * `code` values, and its security schemes; streams are `text/event-stream`; the document passes
 * Spectral's OpenAPI ruleset with the repository's `.spectral.yaml` without a single finding.
 * (That the documented codes include every code a route answers during the suite is checked at
 * the end of each run: test/global-setup.ts.)
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { documentedCodes, openApiDocument, type OpenApiDocument } from "./openapi-support.js";
import { repoRoot, tempDir } from "./support.js";

const run = promisify(execFile);
let document: OpenApiDocument;
beforeAll(async () => {
  document = await openApiDocument();
});

const operations = () =>
  Object.entries(document.paths).flatMap(([route, methods]) => Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${route}`, operation })));

describe("the OpenAPI document", () => {
  it("describes every operation, with an example request and no bare default response", () => {
    const problems: string[] = [];
    for (const { key, operation } of operations()) {
      if (!operation.summary) problems.push(`${key}: no summary`);
      const described = String(operation.description ?? "").split("**Who:**")[0]!.trim();
      if (described.length < 20) problems.push(`${key}: no description`);
      const sample = operation["x-codeSamples"]?.[0]?.source as string | undefined;
      if (!sample?.startsWith("curl ")) problems.push(`${key}: no curl example`);
      const json = operation.requestBody?.content?.["application/json"];
      if (json && json.example === undefined) problems.push(`${key}: no request body example`);
      if (json && !sample?.includes(" -d '")) problems.push(`${key}: the curl example sends no body`);
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (response.description === "Default Response") problems.push(`${key}: ${status} is a bare Default Response`);
      }
    }
    expect(problems).toEqual([]);
    expect(document.info.title).toBe("Bursar API");
  });

  it("lists each operation's error responses as problems with their codes, from the one status table", () => {
    const codes = documentedCodes(document);
    const create = document.paths["/v1/payment-intents"]!.post!;
    expect(codes.get("POST /v1/payment-intents")).toEqual(new Set([
      ...["unauthorized", "invalid_token", "insufficient_scope", "rate_limited", "invalid_dpop_proof", "use_dpop_nonce", "not_ready"],
      ...["invalid_idempotency_key", "idempotency_key_payload_mismatch", "idempotency_key_in_use"],
      // A console session's write without its CSRF token (docs/console.md).
      "csrf_check_failed",
      ...["validation_failed", "malformed_json", "json_too_deep", "json_forbidden_key", "body_too_large", "unsupported_media_type", "bad_request", "invalid_unicode"],
      ...["payee_not_found", "payee_ambiguous", "currency_mismatch", "unknown_currency", "rail_not_configured", "agent_disabled", "not_found", "internal_error"],
    ]));
    expect(create.responses["422"].content["application/problem+json"].schema.properties.code.enum).toEqual(["currency_mismatch", "payee_ambiguous", "payee_not_found", "rail_not_configured", "unknown_currency"]);
    expect(create.responses["422"].description).toContain("`payee_not_found`: No payee by that name or id");
    // OAuth endpoints answer RFC 6749 errors, not problems.
    const token = document.paths["/oauth/token"]!.post!;
    expect(token.responses["400"].content["application/json"].schema.properties.error.enum).toContain("invalid_grant");
    expect(token.responses["401"].content["application/json"].schema.properties.error.enum).toEqual(["invalid_client"]);
    // What the edge refuses before OAuth runs (a body too large, the source rate limit) is a problem.
    expect(token.responses["413"].content["application/problem+json"].schema.properties.code.enum).toEqual(["body_too_large"]);
    expect(token.responses["429"].content["application/problem+json"].schema.properties.code.enum).toEqual(["rate_limited"]);
  });

  it("declares DPoP (with its proof header), owner tokens and API keys, and uses them per route", () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.agentToken).toMatchObject({ type: "http", scheme: "DPoP" });
    expect(schemes.dpopProof).toMatchObject({ type: "apiKey", in: "header", name: "DPoP" });
    expect(schemes.ownerToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    // An agent may pay: DPoP token and proof together, or a bearer credential.
    expect(document.paths["/v1/payment-intents"]!.post!.security).toEqual([{ agentToken: [], dpopProof: [] }, { ownerToken: [] }, { apiKey: [] }]);
    expect(document.paths["/v1/payment-intents"]!.post!["x-required-scopes"]).toEqual(["agents:execute"]);
    // Deciding approvals is owner-only: no agent scheme offered.
    expect(document.paths["/v1/approvals/{id}/approve"]!.post!.security).toEqual([{ ownerToken: [] }, { apiKey: [] }]);
    // Public routes say so.
    expect(document.paths["/v1/registrations"]!.post!.security).toEqual([]);
    expect(document.paths["/healthz"]!.get!.security).toEqual([]);
  });

  it("documents the streams as text/event-stream with their event types", () => {
    for (const route of ["/v1/events/stream", "/v1/chat/stream"]) {
      const operation = document.paths[route]!.get ?? document.paths[route]!.post;
      const ok = operation.responses["200"];
      expect(Object.keys(ok.content)).toEqual(["text/event-stream"]);
      expect(ok.content["text/event-stream"].example).toMatch(/^(event|retry|id):/m);
    }
    const chat = document.paths["/v1/chat/stream"]!.post!.responses["200"].description as string;
    for (const event of ["conversation", "text_delta", "tool_started", "tool_completed", "tool_failed", "approval_required", "reply", "error", "done"]) expect(chat).toContain(`\`${event}\``);
  });

  it("enumerates the decision vocabularies: reason codes, available actions, remaining", () => {
    const decision = document.paths["/v1/policy/check"]!.post!.responses["200"].content["application/json"].schema;
    expect(decision.properties.reason_codes.items.enum).toEqual(expect.arrayContaining(["approval_threshold_reached", "daily_amount_limit_exceeded", "payee_blocked", "insufficient_funds"]));
    expect(decision.properties.available_actions.items.enum).toEqual(expect.arrayContaining(["request_approval", "lower_amount", "fund_wallet", "retry_after_window"]));
    expect(Object.keys(decision.properties.remaining.properties)).toEqual(expect.arrayContaining(["per_transaction", "daily", "daily_count", "budget_monthly"]));
  });

  it("passes Spectral's OpenAPI ruleset (.spectral.yaml) without a finding", async () => {
    const file = path.join(tempDir("openapi"), "openapi.json");
    fs.writeFileSync(file, JSON.stringify(document));
    const spectral = path.join(repoRoot, "node_modules/.bin/spectral");
    // --fail-severity hint: a hint fails too; the JSON output lists every finding.
    const result = await run(spectral, ["lint", file, "--ruleset", path.join(repoRoot, ".spectral.yaml"), "--format", "json", "--fail-severity", "hint", "--quiet"], { cwd: repoRoot }).catch((error: { stdout: string; code: number }) => error);
    const findings = JSON.parse(result.stdout || "[]") as Array<{ code: string; message: string; path: string[] }>;
    expect(findings.map((finding) => `${finding.code} ${finding.path.join(".")}: ${finding.message}`)).toEqual([]);
    expect((result as { code?: number }).code ?? 0).toBe(0);
  }, 60_000);
});
