/**
 * Console sessions, CSRF and member roles over real HTTP, on every store: the login link is
 * single use and short lived, the cookie's flags, CSRF on every cookie-authenticated mutation,
 * sign-out revokes, PAT exchange narrows to the token, and each role's scopes are enforced by the
 * API (a viewer never approves, an approver never edits policy, a removed member's tokens die).
 * Also the console's static answers: CSP, caching, and a URL for every screen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { consoleLoginCodeLifetimeSecondsMax, eventCatalog } from "@bursar/core";
import http from "node:http";
import { client, createTestTenant, killHard, listAll, spawnServer, startTestServer, storeKinds, tempDir, type TestTenant } from "./support.js";
import { expectStatus, fundedAgent, putPolicy, agentClient, createPayee } from "./payments-support.js";
import { cookiePair, loginCode, sessionClient, signIn } from "./console-support.js";
import { openApiDocument } from "./openapi-support.js";

describe.each(storeKinds)("console sessions and members (%s)", (kind) => {
  let server: RunningServer;
  let tenant: TestTenant;
  let owner: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startTestServer(kind);
    tenant = await createTestTenant(server.store);
    owner = client(server.url, tenant.token);
  });
  afterAll(async () => server?.close());

  it("a login link signs in once: the cookie is httpOnly, SameSite=Strict, not Secure on loopback; a replay is refused", async () => {
    const code = await loginCode(server.store, tenant.tenantId, tenant.ownerId);
    const first = await client(server.url).post("/v1/console/sessions", { login_code: code });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ object: "console_session", tenant_id: tenant.tenantId, member: { id: tenant.ownerId, role: "owner" } });
    expect(first.headers.get("cache-control")).toBe("no-store");
    const setCookie = first.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^bursar_session=bcs\./);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain("Secure");
    const replay = await client(server.url).post("/v1/console/sessions", { login_code: code });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe("invalid_login_code");
    const session = sessionClient(server.url, cookiePair(setCookie));
    expect(expectStatus(await session.get("/v1/auth/principal"), 200)).toMatchObject({ principal_type: "user", principal_id: tenant.ownerId });
  });

  it("a login link expires, and a forged or foreign one is refused the same way", async () => {
    const code = await loginCode(server.store, tenant.tenantId, tenant.ownerId, Date.now() - (consoleLoginCodeLifetimeSecondsMax + 1) * 1000);
    expect((await client(server.url).post("/v1/console/sessions", { login_code: code })).body.code).toBe("invalid_login_code");
    const fresh = await loginCode(server.store, tenant.tenantId, tenant.ownerId);
    const forged = fresh.slice(0, -4) + (fresh.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const bad of [forged, "bcl.nonsense", fresh.replace(tenant.tenantId, "ten_00000000000000000000000000")]) {
      const answer = await client(server.url).post("/v1/console/sessions", { login_code: bad });
      expect(answer.status, bad).toBe(401);
      expect(answer.body.code).toBe("invalid_login_code");
    }
    expect((await client(server.url).post("/v1/console/sessions", { login_code: fresh })).status).toBe(201);
  });

  it("the cookie is Secure with the __Host- prefix when the request is not to loopback", async () => {
    const code = await loginCode(server.store, tenant.tenantId, tenant.ownerId);
    // fetch cannot set Host; a raw request can (what a proxy in front of Bursar forwards).
    const url = new URL(server.url);
    const body = JSON.stringify({ login_code: code });
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.request({ host: url.hostname, port: url.port, path: "/v1/console/sessions", method: "POST", headers: { host: "bursar.example.com", "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, resolve);
      request.on("error", reject);
      request.end(body);
    });
    answer.resume();
    expect(answer.statusCode).toBe(201);
    const setCookie = String(answer.headers["set-cookie"]?.[0]);
    expect(setCookie).toMatch(/^__Host-bursar_session=bcs\./);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
  });

  it("every cookie-authenticated mutation needs the CSRF token and a same-site origin; reads do not", async () => {
    const { cookie, csrf, api } = await signIn(server.url, { login_code: await loginCode(server.store, tenant.tenantId, tenant.ownerId) });
    const noCsrf = sessionClient(server.url, cookie);
    expect((await noCsrf.get("/v1/agents")).status).toBe(200);
    const refused = await noCsrf.post("/v1/agents", { name: "forged" });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("csrf_check_failed");
    expect((await sessionClient(server.url, cookie, "wrong").post("/v1/agents", { name: "forged" })).body.code).toBe("csrf_check_failed");
    expect((await api.post("/v1/agents", { name: "forged" }, { origin: "https://evil.example" })).body.code).toBe("csrf_check_failed");
    expect((await api.post("/v1/agents", { name: "forged" }, { "sec-fetch-site": "cross-site" })).body.code).toBe("csrf_check_failed");
    // A cross-site HTML form: urlencoded body, foreign Origin, no CSRF header.
    const form = await fetch(`${server.url}/v1/agents`, { method: "POST", headers: { cookie, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" }, body: "name=forged" });
    expect(form.status).toBe(403);
    const made = await api.post("/v1/agents", { name: "made in the console" }, { origin: server.url, "sec-fetch-site": "same-origin" });
    expect(made.status).toBe(201);
    // The token can be fetched again after a reload, only with the cookie.
    expect(expectStatus(await noCsrf.get("/v1/console/session"), 200).csrf_token).toBe(csrf);
    expect((await owner.get("/v1/console/session")).status).toBe(404);
    const agents = expectStatus(await owner.get("/v1/agents?limit=100"), 200).data.map((agent: any) => agent.name);
    expect(agents).not.toContain("forged");
  });

  it("sign-in itself refuses a cross-site request (login CSRF)", async () => {
    const code = await loginCode(server.store, tenant.tenantId, tenant.ownerId);
    const answer = await client(server.url).post("/v1/console/sessions", { login_code: code }, { origin: "https://evil.example" });
    expect(answer.status).toBe(403);
    expect((await client(server.url).post("/v1/console/sessions", { login_code: code })).status).toBe(201);
  });

  it("sign-out revokes the session at once", async () => {
    const { cookie, api } = await signIn(server.url, { login_code: await loginCode(server.store, tenant.tenantId, tenant.ownerId) });
    const out = await api.call("DELETE", "/v1/console/session");
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    const after = await sessionClient(server.url, cookie).get("/v1/agents");
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("invalid_token");
  });

  it("a PAT is exchanged for a session holding no more than the token", async () => {
    const narrow = expectStatus(await owner.post("/v1/personal-access-tokens", { name: "read only", scopes: ["events:read"] }), 201);
    const { session, api } = await signIn(server.url, { personal_access_token: narrow.token });
    expect(session.scopes).toEqual(["events:read"]);
    expect((await api.get("/v1/events")).status).toBe(200);
    expect((await api.get("/v1/agents")).status).toBe(403);
    expect((await client(server.url).post("/v1/console/sessions", { personal_access_token: "bpat_nope" })).status).toBe(401);
  });

  it("roles map to scopes the API enforces: a viewer never approves, an approver never edits policy", async () => {
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    await createPayee(owner, "Carol");
    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 1_000 });
    const agent = await agentClient(server.url, onboarded);
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "Carol", amount: 5_000, currency: "GBP", reference: "roles" }), 201);
    expect(intent.approval_id).toBeTruthy();

    const asOwner = await signIn(server.url, { login_code: await loginCode(server.store, tenant.tenantId, tenant.ownerId) });
    const join = async (role: string, name: string) => {
      const invite = expectStatus(await asOwner.api.post("/v1/members/invites", { role }), 201);
      expect(invite.url).toMatch(/\/console\/invite#code=bci\./);
      const accepted = await client(server.url).post("/v1/console/invites/accept", { code: invite.code, name });
      expect(accepted.status).toBe(201);
      expect((await client(server.url).post("/v1/console/invites/accept", { code: invite.code, name })).body.code).toBe("invalid_login_code");
      const cookie = cookiePair(accepted.headers.get("set-cookie"));
      return { member: accepted.body.member, api: sessionClient(server.url, cookie, accepted.body.csrf_token) };
    };
    const viewer = await join("viewer", "Vera Viewer");
    const approver = await join("approver", "Abe Approver");
    expect(viewer.member.scopes).not.toContain("approvals:write");

    const viewerApprove = await viewer.api.post(`/v1/approvals/${intent.approval_id}/approve`, {});
    expect(viewerApprove.status).toBe(403);
    expect(viewerApprove.body.code).toBe("insufficient_scope");
    expect((await viewer.api.get("/v1/approvals?status=pending")).status).toBe(200);
    expect((await approver.api.call("PUT", `/v1/agents/${onboarded.agentId}/policy`, { currency: "GBP" })).status).toBe(403);
    expect((await approver.api.post("/v1/members/invites", { role: "owner" })).status).toBe(403);
    expect(expectStatus(await approver.api.post(`/v1/approvals/${intent.approval_id}/approve`, { note: "fine" }), 200).status).toBe("approved");

    const members = expectStatus(await viewer.api.get("/v1/members"), 200).data;
    expect(members.map((member: any) => member.role)).toEqual(expect.arrayContaining(["owner", "viewer", "approver"]));
  });

  it("a viewer and an approver read every route; a viewer's every write is 403, an approver's every write but a decision is too", async () => {
    const document = await openApiDocument();
    const onboarded = await fundedAgent(server.url, owner, 100_000);
    await createPayee(owner, "Dan");
    await putPolicy(owner, onboarded.agentId, { approval_threshold_minor: 1_000 });
    const agent = await agentClient(server.url, onboarded);
    const intent = expectStatus(await agent.post("/v1/payment-intents", { payee: "Dan", amount: 5_000, currency: "GBP", reference: "sweep" }), 201);
    const asOwner = await signIn(server.url, { login_code: await loginCode(server.store, tenant.tenantId, tenant.ownerId) });
    const join = async (role: string, name: string) => {
      const invite = expectStatus(await asOwner.api.post("/v1/members/invites", { role }), 201);
      const accepted = await client(server.url).post("/v1/console/invites/accept", { code: invite.code, name });
      expect(accepted.status).toBe(201);
      const cookie = cookiePair(accepted.headers.get("set-cookie"));
      return Object.assign(sessionClient(server.url, cookie, accepted.body.csrf_token), { cookie });
    };
    const members = { viewer: await join("viewer", "Sweep Viewer"), approver: await join("approver", "Sweep Approver") };
    // Every operation a member credential could be refused by scope (public ones need none; `[]` ones check in the handler).
    const operations = Object.entries(document.paths).flatMap(([route, methods]) =>
      Object.entries<any>(methods).filter(([, operation]) => (operation["x-required-scopes"] ?? []).length > 0).map(([method, operation]) => ({ method: method.toUpperCase(), route, scopes: operation["x-required-scopes"] as string[] })));
    // Path parameters: a real agent where the route reads an agent, else a well-formed id nobody has.
    const pathOf = (route: string) => route.replace(/\{id\}/, route.startsWith("/v1/agents/") ? onboarded.agentId : "zzz_01M8TJYB42SWS6AAAAAAAAAAAA").replace(/\{[^}]+\}/g, "zzz_01M8TJYB42SWS6AAAAAAAAAAAA");
    const reads = operations.filter((operation) => operation.method === "GET");
    const writes = operations.filter((operation) => operation.method !== "GET" && operation.route !== "/v1/policy/check");
    expect(reads.length).toBeGreaterThan(40);
    expect(writes.length).toBeGreaterThan(50);
    for (const [role, api] of Object.entries(members)) {
      for (const read of reads) {
        // Streams are read for their status only (an open stream never ends by itself).
        const answer = read.route.endsWith("/stream")
          ? await fetch(server.url + pathOf(read.route), { headers: { cookie: api.cookie }, signal: AbortSignal.timeout(5_000) }).then(async (response) => (await response.body?.cancel(), { status: response.status, body: null as any }), () => ({ status: 0, body: null as any }))
          : await api.get(pathOf(read.route));
        expect(answer.status === 403 ? answer.body?.code ?? "insufficient_scope" : null, `${role} GET ${read.route}: ${JSON.stringify(answer.body)}`).not.toBe("insufficient_scope");
        expect(answer.status, `${role} GET ${read.route}`).toBeLessThan(500);
      }
      for (const write of writes) {
        const answer = await api.call(write.method, pathOf(write.route), {});
        // An approver writes decisions, and the teams naming them as manager (issue 15).
        const decides = role === "approver" && write.scopes.every((scope) => scope === "approvals:write" || scope === "teams:manage" || scope.endsWith(":read"));
        if (decides) expect(answer.status, `${role} ${write.method} ${write.route}`).not.toBe(403);
        else expect(answer.body?.code, `${role} ${write.method} ${write.route}`).toBe("insufficient_scope");
      }
      // Reads that prove it saw the real thing: the agent, its policy, the ledger; and the dry run (a safe POST).
      expect(expectStatus(await api.get(`/v1/agents/${onboarded.agentId}/policy`), 200).approval_threshold_minor).toBe(1_000);
      expect(expectStatus(await api.get("/v1/agents?limit=100"), 200).data.map((row: any) => row.id)).toContain(onboarded.agentId);
      expect(expectStatus(await api.get("/v1/accounts?limit=100"), 200).data.length).toBeGreaterThan(0);
      expect(expectStatus(await api.post("/v1/policy/check", { agent_id: onboarded.agentId, amount: 500, currency: "GBP", payee: "Dan" }), 200).decision).toBe("allow");
    }
    // The approver decides; the viewer could not (its approve above was refused by scope).
    expect(expectStatus(await members.approver.post(`/v1/approvals/${intent.approval_id}/approve`, { note: "sweep" }), 200).status).toBe("approved");
    expect(expectStatus(await owner.get(`/v1/agents/${onboarded.agentId}/policy`), 200).approval_threshold_minor).toBe(1_000);
  });

  it("a role change ends the member's sessions and narrows their tokens; removal kills both; the last owner stays", async () => {
    const asOwner = await signIn(server.url, { login_code: await loginCode(server.store, tenant.tenantId, tenant.ownerId) });
    const invite = expectStatus(await asOwner.api.post("/v1/members/invites", { role: "admin" }), 201);
    const accepted = await client(server.url).post("/v1/console/invites/accept", { code: invite.code, name: "Ada Admin" });
    const admin = sessionClient(server.url, cookiePair(accepted.headers.get("set-cookie")), accepted.body.csrf_token);
    const adminId = accepted.body.member.id;
    const token = expectStatus(await admin.post("/v1/personal-access-tokens", { name: "admin cli" }), 201).token;
    const adminPat = client(server.url, token);
    expect((await adminPat.get("/v1/agents")).status).toBe(200);
    // An admin never touches an owner.
    expect((await admin.call("DELETE", `/v1/members/${tenant.ownerId}`)).body.code).toBe("member_role_forbidden");
    expect((await admin.call("PATCH", `/v1/members/${tenant.ownerId}`, { role: "viewer" })).body.code).toBe("member_role_forbidden");

    expect(expectStatus(await asOwner.api.call("PATCH", `/v1/members/${adminId}`, { role: "viewer" }), 200).role).toBe("viewer");
    expect((await admin.get("/v1/agents")).status).toBe(401);
    // The token is narrowed to a viewer's: it still reads, and never writes.
    expect((await adminPat.get("/v1/agents")).status).toBe(200);
    expect((await adminPat.post("/v1/agents", { name: "demoted" })).body.code).toBe("insufficient_scope");
    expect((await adminPat.get("/v1/events")).status).toBe(200);

    expect(expectStatus(await asOwner.api.call("DELETE", `/v1/members/${adminId}`), 200).status).toBe("removed");
    expect((await adminPat.get("/v1/events")).status).toBe(401);
    expect((await client(server.url).post("/v1/console/sessions", { personal_access_token: token })).status).toBe(401);

    const last = await asOwner.api.call("DELETE", `/v1/members/${tenant.ownerId}`);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe("last_owner");
    expect((await asOwner.api.call("PATCH", `/v1/members/${tenant.ownerId}`, { role: "admin" })).body.code).toBe("last_owner");
  });

  it("journals every sign-in, invite and member change with a registered schema, and never a secret", async () => {
    const events = await listAll(owner, "/v1/events");
    const consoleEvents = events.filter((event: any) => event.type.startsWith("console.") || event.type.startsWith("user."));
    expect(new Set(consoleEvents.map((event: any) => event.type))).toEqual(new Set(["user.created", "user.role_changed", "user.removed", "console.login_code.created", "console.invite.created", "console.session.created", "console.session.revoked"]));
    for (const event of consoleEvents) {
      const parsed = eventCatalog[event.type]!.safeParse(event.data);
      expect(parsed.success, `${event.type}: ${JSON.stringify(event.data)}`).toBe(true);
      expect(JSON.stringify(event.data)).not.toMatch(/bc[lsi]\.ten_|secret_hash|csrf/);
    }
  });
});

describe("the console's static answers", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => server?.close());

  it("serves the app with a strict CSP, no inline script, and immutable hashed assets", async () => {
    const page = await fetch(`${server.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const script = await fetch(server.url + asset);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("content-type")).toContain("javascript");
    // Every screen has a URL: unknown console paths answer the app.
    for (const screen of ["/console/approvals", "/console/agents/agt_x", "/console/journal", "/console/login"]) {
      const answer = await fetch(server.url + screen);
      expect(answer.status, screen).toBe(200);
      expect(await answer.text()).toBe(html);
    }
    expect((await fetch(`${server.url}/console/assets/missing.js`)).status).toBe(404);
    // No request path reaches the file system: a traversal gets the app, never a file.
    const traversal = await fetch(`${server.url}/console/..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(200);
    expect(await traversal.text()).toBe(html);
  });
});

describe("bursar serve", () => {
  it("prints a one-time console login link first, on every start", async () => {
    const dataDir = tempDir("console-serve");
    const started = await spawnServer({ BURSAR_DATA_DIR: dataDir }, { demo: true });
    try {
      const lines = started.stdout().split("\n");
      const listening = lines.findIndex((line) => line.includes("listening on"));
      expect(listening).toBeGreaterThanOrEqual(0);
      expect(lines[listening + 1]).toMatch(/^Open the owner console: http:\/\/\S+\/console\/login#code=/);
      const link = /(http:\/\/\S+\/console\/login#code=(\S+))/.exec(started.stdout());
      expect(link, started.stdout()).not.toBeNull();
      expect(link![1]!.startsWith(`${started.url}/console/login#code=bcl.`)).toBe(true);
      const first = await client(started.url).post("/v1/console/sessions", { login_code: link![2] });
      expect(first.status).toBe(201);
      expect(first.body.member.role).toBe("owner");
      expect((await client(started.url).post("/v1/console/sessions", { login_code: link![2] })).status).toBe(401);
      expect((await fetch(`${started.url}/console`)).status).toBe(200);
    } finally {
      await killHard(started.process);
    }
  });
});

describe("console sessions behind a proxy", () => {
  it("accept the configured public origin and refuse others", async () => {
    const server = await startTestServer("sqlite", { config: { publicBaseUrl: "https://bursar.example.com" } });
    try {
      const tenant = await createTestTenant(server.store);
      const { api } = await signIn(server.url, { login_code: await loginCode(server.store, tenant.tenantId, tenant.ownerId) });
      expect((await api.post("/v1/agents", { name: "via proxy" }, { origin: "https://bursar.example.com" })).status).toBe(201);
      expect((await api.post("/v1/agents", { name: "elsewhere" }, { origin: "https://example.com" })).body.code).toBe("csrf_check_failed");
    } finally {
      await server.close();
    }
  });
});
