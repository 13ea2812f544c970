/**
 * The owner console in a real browser (Debian's Chromium driven by playwright-core) against a
 * real server, one browser and one server for the whole file, steps in order:
 * sign in with the printed link (which then fails on second use); an agent's payment above the
 * threshold appears in the inbox without a reload, is approved and executes; another is
 * rejected; a policy is edited with the live dry run; a ticket minted in the console registers
 * an agent through the SDK; a revoked binding makes the agent's next call fail; the journal
 * verifies in the browser and a tampered checkpoint is refused; a viewer sees no approve button
 * and the API refuses the viewer's approve. Security: a cross-site form post is refused, a payee
 * named like markup renders as text, the CSP holds (no violation on any screen), sign-out
 * revokes. Escrow: an intent's state, evidence attempts and settlement, owner actions from the API's
 * available_actions with a confirmation, and a payee's reputation receipt verified in the browser.
 * Budget requests appear live beside approvals and on their team's page and are decided there (a
 * viewer sees no decide button and the API refuses it); tasks are listed live, reviewed and shipped
 * from a task's page; triggers are created (secret once), fired, disabled and deleted.
 * Every screen passes axe-core (no serious or critical violation) and is saved as a
 * screenshot in test-results/console/.
 */
import { execSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import axe from "axe-core";
import { Bursar, generateAgentKey, register, signEvidence, signWebhook, submitEscrowEvidence } from "@bursar/sdk";
import { demoLoginLink, ensureDemoTenant, type DemoTenant, type RunningServer } from "@bursar/server";
import { systemClock } from "@bursar/core";
import { client, repoRoot, startTestServer, tempDir } from "./support.js";
import { putPolicy } from "./payments-support.js";
import { newHead, taskWorld } from "./tasks-support.js";

const chromiumPath = process.env.BURSAR_CHROMIUM ?? "/usr/bin/chromium";
const shots = path.join(repoRoot, "test-results/console");

/** DEVELOPERS' flags: no network chatter, no GPU, no sandbox in the CI container. */
const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** True when packages/console/dist is missing or older than a console or SDK source file (a test must not drive yesterday's build). */
function consoleBuildIsStale(): boolean {
  const built = path.join(repoRoot, "packages/console/dist/index.html");
  if (!fs.existsSync(built)) return true;
  const builtMs = fs.statSync(built).mtimeMs;
  const sources = path.join(repoRoot, "packages/console");
  const newer = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? newer(full) : fs.statSync(full).mtimeMs > builtMs;
    });
  return newer(path.join(sources, "src")) || newer(path.join(repoRoot, "packages/sdk/src")) || fs.statSync(path.join(sources, "index.html")).mtimeMs > builtMs;
}

describe.skipIf(!fs.existsSync(chromiumPath))("the owner console in Chromium", () => {
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoTenant;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let owner: ReturnType<typeof client>;
  let agent: Bursar;
  let agentDir: string;
  /** A funded escrow intent the escrow step leaves open, for the viewer's step. */
  let openEscrowId: string;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  function watch(target: Page): void {
    target.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    target.on("pageerror", (error) => pageErrors.push(String(error)));
  }

  async function screen(target: Page, name: string): Promise<void> {
    await target.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  }

  /** axe-core on the page as it is: no serious or critical violation. */
  async function accessible(target: Page, name: string): Promise<void> {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await target.evaluate(axe.source);
    const violations = await target.evaluate(async () => {
      const browser = globalThis as any;
      const result = await (browser.axe as typeof axe).run(browser.document, { resultTypes: ["violations"] });
      return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
    });
    expect(violations, name).toEqual([]);
  }

  async function goto(target: Page, pathname: string, heading: string | RegExp): Promise<void> {
    await target.goto(server.url + pathname);
    await target.getByRole("heading", { level: 1, name: heading }).waitFor();
  }

  beforeAll(async () => {
    if (consoleBuildIsStale()) execSync("npm run build -w @bursar/console", { cwd: repoRoot, stdio: "ignore" });
    fs.mkdirSync(shots, { recursive: true });
    dataDir = tempDir("console-e2e");
    // Private webhook targets: the test's own receiver on loopback (an explicit, test-only opt-in).
    server = await startTestServer("sqlite", { config: { dataDir, allowPrivateWebhookTargets: true } });
    // What `bursar serve` does on a fresh data directory.
    demo = (await ensureDemoTenant(server.store, dataDir, systemClock))!;
    owner = client(server.url, demo.ownerToken);
    agentDir = tempDir("console-agent");
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // A step that waits longer than this is broken; fail fast and keep the suite's time bounded.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    watch(page);
  });

  afterAll(async () => {
    await agent?.close();
    await browser?.close();
    await server?.close();
  });

  it("signs in with the printed one-time link; the link fails on second use", async () => {
    const link = (await demoLoginLink(server.store, dataDir, server.url, systemClock))!;
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/login#code=bcl\./);
    await page.goto(link.url);
    await page.getByRole("heading", { level: 1, name: "Approvals" }).waitFor();
    expect(page.url()).toBe(`${server.url}/console/approvals`);
    await expect(page.getByTestId("member").textContent()).resolves.toBe("Demo owner");
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === "bursar_session")!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false, path: "/" });
    // The page's script cannot read it.
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).toBe("");

    const other = await browser.newContext();
    const again = await other.newPage();
    await again.goto(link.url);
    await again.getByTestId("login-error").waitFor();
    expect(await again.getByTestId("login-error").textContent()).toContain("already used");
    await screen(again, "login-replayed");
    await accessible(again, "login");
    await other.close();
  });

  it("mints a registration ticket; the SDK registers an agent with it", async () => {
    await goto(page, "/console/agents", "Agents");
    await page.getByRole("link", { name: "Demo agent" }).click();
    await page.getByRole("heading", { level: 1, name: "Demo agent" }).waitFor();
    await page.getByRole("button", { name: "Mint a registration ticket" }).click();
    const command = await page.getByTestId("ticket-value").textContent();
    const ticket = /--ticket (bursar-reg_\S+)/.exec(command ?? "")?.[1];
    expect(ticket, command ?? "").toBeTruthy();
    const registered = await register({ ticket, baseUrl: server.url, configDir: agentDir });
    expect(registered.agentId).toBe(demo.agentId);
    agent = new Bursar({ configDir: agentDir, baseUrl: server.url });
    expect((await agent.balance.get()).balance).toBe(100_000);
    await page.reload();
    await page.getByTestId("binding").first().waitFor();
    expect(await page.getByTestId("binding").count()).toBe(1);
  });

  it("a payment above the threshold appears in the inbox without a reload; approving it executes it", async () => {
    await goto(page, "/console/approvals", "Approvals");
    await page.getByText("Live: new approvals appear").waitFor();
    await page.getByTestId("inbox-empty").waitFor();
    const intent = await agent.paymentIntents.create({ payee: "Bob", amount: 50_000, currency: "GBP", reference: "April invoice" });
    expect(intent.approval_status).toBe("pending_approval");
    const card = page.locator(`[data-approval-id="${intent.approval_id}"]`);
    await card.waitFor();
    expect(await card.getByTestId("approval-amount").textContent()).toBe("500.00 GBP");
    expect(await card.getByTestId("approval-payee").textContent()).toBe("Bob Smith");
    expect(await card.getByTestId("approval-reasons").textContent()).toContain("approval_threshold_reached");
    expect(await card.getByTestId("approval-expiry").textContent()).toMatch(/\d+h \d+m|\d+m \d+s/);
    await screen(page, "approvals");
    await accessible(page, "approvals");
    await card.getByLabel("Note").fill("April invoice checked");
    await card.getByRole("button", { name: "Approve" }).click();
    await page.getByTestId("decision-message").filter({ hasText: "Approved" }).waitFor();
    await expect.poll(async () => (await owner.get(`/v1/payment-intents/${intent.id}`)).body.execution_status, { timeout: 10_000 }).toBe("completed");
    const approval = (await owner.get(`/v1/approvals/${intent.approval_id}`)).body;
    expect(approval).toMatchObject({ status: "approved", note: "April invoice checked", decided_by: { type: "user" } });
    const spend = await owner.post("/v1/spend/authorizations", { agent_id: demo.agentId, operation: "openai.chat", amount: 300, currency: "GBP" });
    expect(spend.status).toBe(201);
    await goto(page, "/console/payments", "Payments");
    await page.locator(`[data-intent-id="${intent.id}"][data-execution="completed"]`).waitFor();
    await page.getByTestId("spend-authorization").filter({ hasText: "openai.chat" }).waitFor();
    await screen(page, "payments");
    await accessible(page, "payments");
  });

  it("an approval raised between reading the list and opening the stream appears; rejects it with a note, and approves one from the keyboard", async () => {
    // The race, forced: the inbox's first list answer is held back until the agent has raised a
    // new approval, so the answer the page gets predates it, and the stream opens only after.
    // The stream starts from the list's journal_seq, so it replays the approval (the inbox
    // re-reads no list by timer: only the stream can make the card appear).
    let intent: Awaited<ReturnType<typeof agent.paymentIntents.create>> | undefined;
    let listedAtSeq: number | undefined;
    let streamedFrom: string | null | undefined;
    await page.route(/\/v1\/approvals\?/, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      listedAtSeq = body.journal_seq;
      intent = await agent.paymentIntents.create({ payee: "Bob", amount: 30_000, currency: "GBP", reference: "May invoice" });
      await route.fulfill({ response, json: body });
    }, { times: 1 });
    const onRequest = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname === "/v1/events/stream" && url.searchParams.get("type")?.includes("approval.") && streamedFrom === undefined) streamedFrom = url.searchParams.get("after_seq");
    };
    page.on("request", onRequest);
    await goto(page, "/console/approvals", "Approvals");
    await expect.poll(() => intent).toBeDefined();
    const card = page.locator(`[data-approval-id="${intent!.approval_id}"]`);
    await card.waitFor();
    page.off("request", onRequest);
    expect(streamedFrom).toBe(String(listedAtSeq));
    expect(typeof listedAtSeq).toBe("number");
    await card.waitFor();
    await card.getByLabel("Note").fill("not ours");
    await card.getByRole("button", { name: "Reject" }).click();
    await page.getByTestId("decision-message").filter({ hasText: "Rejected" }).waitFor();
    const approval = (await owner.get(`/v1/approvals/${intent!.approval_id}`)).body;
    expect(approval).toMatchObject({ status: "rejected", note: "not ours" });
    expect((await owner.get(`/v1/payment-intents/${intent!.id}`)).body.approval_status).toBe("rejected");

    // Keyboard: `a` approves the selected approval.
    const third = await agent.paymentIntents.create({ payee: "Bob", amount: 21_000, currency: "GBP", reference: "June invoice" });
    await page.locator(`[data-approval-id="${third.approval_id}"]`).waitFor();
    await page.getByRole("heading", { level: 1, name: "Approvals" }).click();
    await page.keyboard.press("a");
    await page.getByTestId("decision-message").filter({ hasText: `Approved ${third.approval_id}` }).waitFor();
    expect((await owner.get(`/v1/approvals/${third.approval_id}`)).body.status).toBe("approved");
  });

  it("edits a policy with the live dry run", async () => {
    await goto(page, `/console/agents/${demo.agentId}`, "Demo agent");
    await page.getByTestId("dry-run-amount").fill("250");
    await page.getByTestId("dry-run-payee").fill("Bob");
    await page.locator('[data-testid="dry-run-result"][data-decision="approval_required"]').waitFor();
    const editor = page.getByTestId("policy-json");
    await expect.poll(async () => (await editor.inputValue()).includes("approval_threshold_minor")).toBe(true);
    const rules = JSON.parse(await editor.inputValue());
    expect(rules.approval_threshold_minor).toBe(20_000);
    await editor.fill(JSON.stringify({ ...rules, approval_threshold_minor: 100_000 }, null, 2));
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByTestId("policy-saved").filter({ hasText: "Policy saved." }).waitFor();
    // The dry run answers for the policy now in force.
    await page.getByTestId("dry-run-amount").fill("250.00");
    await page.locator('[data-testid="dry-run-result"][data-decision="allow"]').waitFor();
    expect((await owner.get(`/v1/agents/${demo.agentId}/policy`)).body.approval_threshold_minor).toBe(100_000);
    // Budgets beside the policy.
    const budgets = page.locator('section[aria-labelledby="budgets-title"]');
    await budgets.getByLabel("Amount (GBP)").fill("900");
    await budgets.getByRole("button", { name: "Set budget" }).click();
    await budgets.getByText("monthly: 900.00 GBP").waitFor();
    expect((await owner.get(`/v1/agents/${demo.agentId}/budgets`)).body.data.filter((budget: any) => budget.status === "active")).toMatchObject([{ period: "monthly", amount: 90_000 }]);
    await screen(page, "agent");
    await accessible(page, "agent");
  });

  it("revokes a binding: the agent's next call fails", async () => {
    await goto(page, `/console/agents/${demo.agentId}`, "Demo agent");
    const binding = page.getByTestId("binding").first();
    await binding.getByRole("button", { name: "Revoke" }).click();
    await page.locator('[data-testid="binding"]', { hasText: "revoked" }).waitFor();
    await expect(agent.balance.get()).rejects.toMatchObject({ status: 401 });
  });

  it("verifies the journal in the browser, and refuses a tampered checkpoint", async () => {
    await goto(page, "/console/journal", "Journal");
    await page.getByTestId("verify-journal").click();
    const result = page.getByTestId("journal-result");
    await result.waitFor();
    expect(await result.getAttribute("data-ok")).toBe("true");
    expect(await result.textContent()).toContain("trust on first use");
    // More history; the second verification proves the journal only grew.
    await owner.post("/v1/payees", { name: "Dora", currency: "GBP" });
    await page.getByTestId("verify-journal").click();
    await expect.poll(async () => result.textContent()).toContain("consistency proof shows it extends");
    expect(await result.getAttribute("data-ok")).toBe("true");
    const trustedIn = () => page.evaluate(() => Object.entries((globalThis as any).localStorage as Record<string, string>).filter(([key]) => key.startsWith("bursar.journal.trust.")).map(([, value]) => JSON.parse(value).checkpoint.tree_size));
    const trusted = await trustedIn();
    expect(trusted).toHaveLength(1);
    await screen(page, "journal");
    await accessible(page, "journal");

    // A man in the middle rewrites the signed note's root hash (and the field that restates it).
    await owner.post("/v1/payees", { name: "Eve", currency: "GBP" });
    await page.route("**/v1/journal/checkpoint", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      const forged = Buffer.alloc(32, 7).toString("base64");
      const lines = String(body.note).split("\n");
      lines[2] = forged;
      await route.fulfill({ response, json: { ...body, root_hash: forged, note: lines.join("\n") } });
    });
    await page.getByTestId("verify-journal").click();
    await expect.poll(async () => result.getAttribute("data-ok")).toBe("false");
    expect(await result.textContent()).toContain("Refused");
    expect(await trustedIn()).toEqual(trusted);
    await screen(page, "journal-tampered");
    await page.unroute("**/v1/journal/checkpoint");

    // A genuine checkpoint, but a consistency proof that does not hold: refused, trust unchanged.
    await page.route("**/v1/journal/proofs/consistency*", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      await route.fulfill({ response, json: { ...body, proof: body.proof.map(() => Buffer.alloc(32, 9).toString("base64")) } });
    });
    await page.getByTestId("verify-journal").click();
    await expect.poll(async () => result.textContent()).toContain("does not extend the trusted one");
    expect(await result.getAttribute("data-ok")).toBe("false");
    expect(await trustedIn()).toEqual(trusted);
    await page.unroute("**/v1/journal/proofs/consistency*");
    await page.getByTestId("verify-journal").click();
    await expect.poll(async () => result.getAttribute("data-ok")).toBe("true");
  });

  it("renders payee names like markup as text, whether an agent's API call or the form wrote them", async () => {
    const name = `<img src=x onerror="window.__xss=1">`;
    expect((await owner.post("/v1/payees", { name, currency: "GBP" })).status).toBe(201);
    await goto(page, "/console/payees", "Payees");
    const typed = `<script>window.__xss=2</script><b>Bold</b>`;
    await page.getByLabel("Name").fill(typed);
    await page.getByRole("button", { name: "Add payee" }).click();
    await page.getByText("Payee added.").waitFor();
    expect(await page.getByTestId("payee-name").filter({ hasText: "<script>" }).textContent()).toBe(typed);
    expect(await page.locator('[data-testid="payees"] b, [data-testid="payees"] script').count()).toBe(0);
    const cell = page.getByTestId("payee-name").filter({ hasText: "<img" });
    await cell.waitFor();
    expect(await cell.textContent()).toBe(name);
    expect(await page.locator('[data-testid="payees"] img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    await screen(page, "payees");
    await accessible(page, "payees");
  });

  it("every other screen renders, passes axe, and breaks no CSP rule", async () => {
    // A webhook endpoint whose receiver fails, so there is a delivery to retry.
    let received = 0;
    const receiver = http.createServer((_request, response) => {
      received += 1;
      response.statusCode = 500;
      response.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await goto(page, "/console/webhooks", "Webhooks");
    await page.getByLabel("URL").fill(hook);
    await page.getByLabel("Event types").fill("payee.*");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    expect(await page.getByTestId("webhook-secret").textContent()).toMatch(/whsec_/);
    await owner.post("/v1/payees", { name: "Frank", currency: "GBP" });
    // The worker delivers by itself (a committed event wakes it); runOnce only hurries it.
    await expect.poll(async () => {
      await server.webhooks.runOnce();
      return received;
    }, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    // Each screen with what shows it has loaded (the live feeds keep the network busy, so no "idle").
    const screens: Array<[string, string, string, string]> = [
      // £900 monthly budget − £500 and £210 paid − £3 held for the openai.chat spend authorization.
      ["/console/agents", "Agents", "agents", '[data-testid="limits-left"]:has-text("budget monthly: 187.00")'],
      ["/console/ledger", "Ledger", "ledger", '[data-testid="accounts"] tbody tr'],
      ["/console/events", "Events", "events", '[data-testid="events"] tbody tr'],
      ["/console/webhooks", "Webhooks", "webhooks", "text=Show deliveries"],
      ["/console/settings", "Settings", "settings", '[data-testid="members"] tbody tr'],
      ["/console/tasks", "Tasks", "tasks", '[data-testid="tasks-empty"], [data-testid="task"]'],
      ["/console/triggers", "Triggers", "triggers-empty", '[data-testid="triggers-empty"], [data-testid="trigger"]'],
    ];
    for (const [pathname, heading, name, loaded] of screens) {
      await goto(page, pathname, heading);
      await page.locator(loaded).first().waitFor();
      await screen(page, name);
      await accessible(page, name);
    }
    // A deposit into a wallet from the ledger screen.
    await goto(page, "/console/ledger", "Ledger");
    await page.locator('[data-testid="accounts"] tbody tr').first().waitFor();
    const before = (await owner.get(`/v1/accounts/${demo.walletAccountId}`)).body.balance;
    await page.getByLabel("Wallet").selectOption(demo.walletAccountId);
    await page.getByLabel("Amount").fill("10.00");
    await page.getByRole("button", { name: "Deposit (sandbox)" }).click();
    await page.getByText("Deposited.").waitFor();
    expect((await owner.get(`/v1/accounts/${demo.walletAccountId}`)).body.balance).toBe(before + 1_000);
    // Webhooks: the failed delivery, retried from the console.
    await goto(page, "/console/webhooks", "Webhooks");
    await page.getByRole("button", { name: "Show deliveries" }).click();
    const attemptsBefore = received;
    await page.getByRole("button", { name: "Retry" }).first().click();
    await page.getByText(/queued again/).waitFor();
    await expect.poll(async () => {
      await server.webhooks.runOnce();
      return received;
    }, { timeout: 10_000 }).toBeGreaterThan(attemptsBefore);
    receiver.close();
    const response = await page.goto(`${server.url}/console/settings`);
    expect(response!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("escrow: list and intent pages show state, payee, predicate, evidence attempts and settlement; owner actions follow available_actions, each confirmed; the payee's reputation receipt verifies, and a tampered one is refused", async () => {
    // A paying agent of its own (the demo agent's binding was revoked above), registered through the SDK.
    const payer = (await owner.post("/v1/agents", { name: "Escrow agent" })).body;
    await owner.post(`/v1/accounts/${payer.wallet_account_id}/deposits`, { amount: 100_000 });
    const ticket = (await owner.post("/v1/registration-tickets", { agent_id: payer.id, scopes: ["agents:execute", "payees:read", "events:read"] })).body.ticket;
    const payerDir = tempDir("console-escrow-agent");
    await register({ ticket, baseUrl: server.url, configDir: payerDir });
    const payerAgent = new Bursar({ configDir: payerDir, baseUrl: server.url });
    // The payee holds its own evidence key; the owner registers the public half.
    const payeeKey = await generateAgentKey("EdDSA");
    const payee = (await owner.post("/v1/payees", { name: "Report Writer Ltd", currency: "GBP", evidence_public_key: payeeKey.publicJwk })).body;
    const { predicate } = await payerAgent.predicates.preview("http_status", { status: 200 });
    const deadline = new Date(Date.now() + 86_400_000).toISOString();
    const create = (description: string, amount: number) => payerAgent.escrow.create({
      payee_id: payee.id, amount, currency: "GBP", deadline, description, fund: true, predicate,
      evidence_schema: { type: "object", required: ["status"], properties: { status: { type: "integer" } } },
    });
    const evidence = async (intentId: string, status: number) => submitEscrowEvidence(server.url, intentId, await signEvidence(payeeKey, { tenantId: demo.tenantId, intentId, payeeId: payee.id, payload: { status } }));
    const report = await create("Market report", 2_000);
    expect((await evidence(report.id, 503)).status).toBe("evidence_submitted");
    const audit = await create("Security audit", 1_500);
    const logo = await create("Logo design", 1_000);
    expect((await evidence(logo.id, 200)).status).toBe("released");
    const ownerIntent = async (id: string) => (await owner.get(`/v1/escrow-intents/${id}`)).body;

    await goto(page, "/console/escrow", "Escrow");
    const row = (id: string) => page.locator(`[data-testid="escrow-intent"][data-intent-id="${id}"]`);
    await row(logo.id).waitFor();
    expect(await row(report.id).getAttribute("data-status")).toBe("evidence_submitted");
    const reportRow = await row(report.id).textContent();
    for (const shown of ["Market report", "20.00 GBP", "Report Writer Ltd", "Passes when", "0 of 1 passed", deadline]) expect(reportRow).toContain(shown);
    expect(await row(logo.id).textContent()).toContain("released: 10.00 to payee, 0.00 back");
    await screen(page, "escrow");
    await accessible(page, "escrow");

    // The failing attempt and its node; the actions the API offers; cancel sends nothing; a confirmed split.
    await row(report.id).getByRole("link").click();
    await page.getByRole("heading", { level: 1, name: "Market report" }).waitFor();
    const attempt = page.getByTestId("escrow-attempt");
    expect(await attempt.getAttribute("data-passed")).toBe("false");
    expect(await attempt.textContent()).toMatch(/fail\/root/);
    expect(await page.getByTestId("escrow-predicate").textContent()).toBe((await ownerIntent(report.id)).predicate_summary);
    const actions = page.getByTestId("escrow-actions");
    expect(await actions.getByRole("button").allTextContents()).toEqual(["Release…", "Refund…", "Split…", "Dispute…"]);
    await actions.getByRole("button", { name: "Release…" }).click();
    expect(await page.getByTestId("escrow-confirm").textContent()).toContain("Pay 20.00 GBP to Report Writer Ltd");
    await page.getByRole("button", { name: "Cancel" }).click();
    await actions.getByRole("button", { name: "Split…" }).click();
    expect((await ownerIntent(report.id)).status).toBe("evidence_submitted");
    await page.getByTestId("split-payee-amount").fill("12.00");
    await page.getByText("8.00 GBP back to the payer").waitFor();
    await screen(page, "escrow-confirm");
    await accessible(page, "escrow-confirm");
    await page.getByRole("button", { name: "Confirm split" }).click();
    await page.locator('[data-testid="escrow-settlement"][data-outcome="split"]').waitFor();
    expect(await page.getByTestId("settlement-payee").textContent()).toBe("12.00 GBP");
    expect(await page.getByTestId("settlement-refund").textContent()).toBe("8.00 GBP");
    expect(await page.getByTestId("escrow-no-actions").textContent()).toContain("split");
    expect((await ownerIntent(report.id)).settlement).toMatchObject({ outcome: "split", payee_amount: 1_200, refund_amount: 800 });

    // Disputed, only release, refund and split remain; a confirmed refund.
    await goto(page, `/console/escrow/${audit.id}`, "Security audit");
    await actions.getByRole("button", { name: "Dispute…" }).click();
    await page.getByTestId("dispute-reason").fill("work not delivered");
    await page.getByRole("button", { name: "Confirm dispute" }).click();
    await page.locator('[data-testid="escrow-detail"][data-status="disputed"]').waitFor();
    expect(await actions.getByRole("button").allTextContents()).toEqual(["Release…", "Refund…", "Split…"]);
    expect(await ownerIntent(audit.id)).toMatchObject({ status: "disputed", dispute_reason: "work not delivered" });
    await actions.getByRole("button", { name: "Refund…" }).click();
    await page.getByRole("button", { name: "Confirm refund" }).click();
    await page.locator('[data-testid="escrow-settlement"][data-outcome="refunded"]').waitFor();
    expect((await ownerIntent(audit.id)).settlement).toMatchObject({ outcome: "refunded", payee_amount: 0, refund_amount: 1_500 });

    // The released one offers nothing; its payee's receipt verifies with the key this browser pinned (journal step).
    await goto(page, `/console/escrow/${logo.id}`, "Logo design");
    await page.getByTestId("escrow-no-actions").waitFor();
    await page.getByTestId("escrow-payee").click();
    await page.getByRole("heading", { level: 1, name: "Report Writer Ltd" }).waitFor();
    const verdict = page.getByTestId("reputation-verdict");
    await verdict.waitFor();
    expect(await verdict.getAttribute("data-verified")).toBe("true");
    expect(await verdict.getAttribute("data-key")).toBe("pinned");
    expect(await page.getByTestId("reputation-settled").textContent()).toBe("3");
    expect(await page.locator('[data-testid="reputation-counts"] tr[data-outcome="released"]').textContent()).toBe("released133.33%");
    await screen(page, "payee");
    await accessible(page, "payee");
    // A man in the middle improves the payee's record: the signature no longer verifies.
    await page.route("**/v1/payees/*/reputation", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      await route.fulfill({ response, json: { ...body, receipt: { ...body.receipt, counts: { ...body.receipt.counts, released: 3, refunded: 0, split: 0 } } } });
    });
    await page.reload();
    await page.locator('[data-testid="reputation-verdict"][data-verified="false"]').waitFor();
    expect(await verdict.textContent()).toContain("Refused: the signature does not verify");
    await page.unroute("**/v1/payees/*/reputation");
    // Left funded, for the viewer below.
    openEscrowId = (await create("Translation", 500)).id;
    await payerAgent.close();
  });

  it("teams (issue 15): the list and a team's page show managers, pools, allocations and agents", async () => {
    const ownerId = (await owner.get("/v1/auth/principal")).body.principal_id;
    const member = (await owner.post("/v1/agents", { name: "Team agent" })).body;
    const team = (await owner.post("/v1/teams", { name: "Research", manager_ids: [ownerId], pools: [{ period: "monthly", currency: "GBP", amount: 50_000 }] })).body;
    expect((await owner.post(`/v1/teams/${team.id}/members`, { agent_id: member.id })).status).toBe(200);
    expect((await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: member.id, period: "monthly", amount: 10_000 })).status).toBe(200);
    await goto(page, "/console/teams", "Teams");
    const row = page.locator(`[data-testid="team"][data-team-id="${team.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("monthly: 500.00 GBP (100.00 allocated)");
    expect(await row.textContent()).toContain("Demo owner");
    await row.getByRole("link", { name: "Research" }).click();
    await page.getByRole("heading", { level: 1, name: "Research" }).waitFor();
    await page.getByTestId("team-agent").filter({ hasText: "Team agent" }).waitFor();
    expect(await page.getByTestId("team-pool-remaining").textContent()).toBe("500.00");
    expect(await page.getByTestId("team-allocation").textContent()).toContain("100.00 GBP");
    await page.getByTestId("team-allocation").getByRole("link", { name: "Team agent" }).waitFor();
    await screen(page, "team");
    await accessible(page, "team");
  });

  it("budget requests (issue 15): one asked appears live beside approvals and is approved for less; on its team's page another is rejected with a note; the agent's reason renders as text", async () => {
    const ownerId = (await owner.get("/v1/auth/principal")).body.principal_id;
    const member = (await owner.post("/v1/agents", { name: "Budget agent" })).body;
    const team = (await owner.post("/v1/teams", { name: "Operations", manager_ids: [ownerId], pools: [{ period: "monthly", currency: "GBP", amount: 50_000 }] })).body;
    expect((await owner.post(`/v1/teams/${team.id}/members`, { agent_id: member.id })).status).toBe(200);
    expect((await owner.post(`/v1/teams/${team.id}/allocations`, { agent_id: member.id, period: "monthly", amount: 10_000 })).status).toBe(200);
    await goto(page, "/console/approvals", "Approvals");
    const panel = page.getByTestId("budget-requests-panel");
    await panel.getByText("Live.").waitFor();
    // Asked after the page is open: only the live stream can bring it.
    const reason = `<img src=x onerror="window.__xss=3">The April run is larger`;
    const asked = await owner.post("/v1/budget-requests", { agent_id: member.id, amount: 5_000, currency: "GBP", period: "monthly", reason });
    expect(asked.status).toBe(201);
    const card = page.locator(`[data-testid="budget-request"][data-request-id="${asked.body.id}"]`);
    await card.waitFor();
    expect(await card.getByTestId("budget-request-reason").textContent()).toBe(reason);
    expect(await card.getByTestId("budget-request-amount").textContent()).toBe("50.00 GBP");
    expect(await page.locator('[data-testid="budget-requests"] img').count()).toBe(0);
    await card.getByRole("button", { name: "Approve…" }).click();
    await card.getByTestId("budget-approve-amount").fill("25.00");
    await card.getByTestId("budget-decide-note").fill("Half now");
    await card.getByRole("button", { name: "Confirm approve" }).click();
    await page.getByTestId("budget-request-message").filter({ hasText: "Approved 25.00 GBP" }).waitFor();
    expect((await owner.get(`/v1/budget-requests/${asked.body.id}`)).body).toMatchObject({ status: "approved", approved_amount: 2_500, raised: "allocation", note: "Half now" });
    const allocation = (await owner.get(`/v1/teams/${team.id}`)).body.allocations.find((row: any) => row.agent_id === member.id && row.period === "monthly");
    expect(allocation.amount).toBe(12_500);
    await card.waitFor({ state: "detached" });

    const second = (await owner.post("/v1/budget-requests", { agent_id: member.id, amount: 1_000, currency: "GBP", period: "monthly", reason: "Conference tickets" })).body;
    await goto(page, `/console/teams/${team.id}`, "Operations");
    const teamCard = page.locator(`[data-testid="budget-request"][data-request-id="${second.id}"]`);
    await teamCard.waitFor();
    expect(await page.getByTestId("budget-request").count()).toBe(1);
    await teamCard.getByRole("button", { name: "Reject…" }).click();
    await teamCard.getByTestId("budget-decide-note").fill("Not this month");
    await teamCard.getByRole("button", { name: "Confirm reject" }).click();
    await page.getByTestId("budget-request-message").filter({ hasText: "Rejected" }).waitFor();
    expect((await owner.get(`/v1/budget-requests/${second.id}`)).body).toMatchObject({ status: "rejected", approved_amount: null, note: "Not this month" });
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    await screen(page, "team-budget-requests");
    await accessible(page, "team-budget-requests");
  });

  it("tasks (issue 13): the list is live and filters by status; a task's page shows criteria, CI checks, must-fix comments, the bounty's escrow and history; the owner reviews and ships from available_actions, each confirmed", async () => {
    const world = await taskWorld(server.url, demo.ownerToken);
    await goto(page, "/console/tasks", "Tasks");
    await page.getByText("Live.").waitFor();
    const title = `<b>Fix</b> the rounding <script>window.__xss=4</script>`;
    const created = await world.creator.post("/v1/tasks", {
      title, description: "Invoices round per line, then sum.", acceptance_criteria: ["Totals match the ledger", "A regression test"],
      assignee_agent_id: world.assigneeAgent.agentId, bounty: { amount: 3_000, currency: "GBP" },
    });
    expect(created.status).toBe(201);
    const task = created.body;
    const row = page.locator(`[data-testid="task"][data-task-id="${task.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId("task-title").textContent()).toBe(title);
    expect(await page.locator('[data-testid="tasks"] b, [data-testid="tasks"] script').count()).toBe(0);
    await page.getByLabel("Status").selectOption("done");
    await page.getByTestId("tasks-empty").waitFor();
    await page.getByLabel("Status").selectOption("in_review");
    await page.getByTestId("tasks-empty").waitFor();
    // Moved to review by the assignee and CI: the filtered list shows it live.
    const head = newHead();
    expect((await world.assignee.post(`/v1/tasks/${task.id}/start`)).status).toBe(200);
    expect((await world.assignee.post(`/v1/tasks/${task.id}/submit`, { summary: "Round per line", head_sha: head, checks: ["unit"] })).status).toBe(200);
    expect((await world.ci.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: head, checks: [{ name: "unit", status: "passed", duration_ms: 4_000 }] })).status).toBe(201);
    await page.locator(`[data-testid="task"][data-task-id="${task.id}"][data-status="in_review"]`).waitFor();

    await row.getByRole("link").click();
    await page.getByTestId("task-detail").waitFor();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(title);
    expect(await page.getByTestId("task-criteria").textContent()).toContain("A regression test");
    expect(await page.getByTestId("task-ci-status").textContent()).toBe("passed");
    await page.locator('[data-testid="task-check"][data-status="passed"]').filter({ hasText: "unit" }).waitFor();
    expect(await page.getByTestId("task-bounty").textContent()).toContain("30.00 GBP · held");
    expect(await page.getByTestId("task-escrow-link").getAttribute("href")).toBe(`/console/escrow/int_${task.id}`);
    await page.getByTestId("task-event").filter({ hasText: "task.created" }).waitFor();
    expect(await page.getByRole("button", { name: "Ship…" }).count()).toBe(0);
    // Changes requested, with a must-fix comment, from the browser.
    await page.getByRole("button", { name: "Review…" }).click();
    await page.getByTestId("task-review-outcome").selectOption("changes_requested");
    await page.getByTestId("task-review-summary").fill("Close");
    await page.getByTestId("task-review-must-fix").fill("Add a zero-amount case");
    await page.getByRole("button", { name: "Confirm review" }).click();
    await page.getByTestId("task-must-fix").filter({ hasText: "Add a zero-amount case" }).waitFor();
    const feedback = (await owner.get(`/v1/tasks/${task.id}/review-feedback`)).body;
    expect(feedback.must_fix).toEqual([expect.objectContaining({ body: "Add a zero-amount case", severity: "must_fix" })]);
    // The assignee fixes and submits a new head, CI passes: the page follows live, then the owner approves and ships.
    const fixed = newHead();
    expect((await world.assignee.post(`/v1/tasks/${task.id}/fix`)).status).toBe(200);
    expect((await world.assignee.post(`/v1/tasks/${task.id}/submit`, { summary: "With the zero case", head_sha: fixed, checks: ["unit"] })).status).toBe(200);
    expect((await world.ci.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: fixed, checks: [{ name: "unit", status: "passed" }] })).status).toBe(201);
    await page.getByTestId("task-head").filter({ hasText: fixed }).waitFor();
    await page.getByTestId("task-ci-status").filter({ hasText: "passed" }).waitFor();
    await page.getByRole("button", { name: "Review…" }).click();
    await page.getByTestId("task-review-summary").fill("Good");
    await page.getByRole("button", { name: "Confirm review" }).click();
    await page.locator('[data-testid="task-review"][data-outcome="approved"]').waitFor();
    expect((await owner.get(`/v1/tasks/${task.id}`)).body.review_status).toBe("approved");
    expect(await page.locator('[data-testid="task-review"][data-outcome="approved"]').textContent()).toContain("by Demo owner");
    await page.getByRole("button", { name: "Ship…" }).click();
    expect(await page.getByTestId("task-ship-head").textContent()).toBe(fixed);
    await page.getByRole("button", { name: "Confirm ship" }).click();
    await page.getByTestId("task-message").filter({ hasText: "now done" }).waitFor();
    const shipped = (await owner.get(`/v1/tasks/${task.id}`)).body;
    expect(shipped).toMatchObject({ status: "done", shipped: { head_sha: fixed, mode: "merge", target_environment: "production" }, bounty: { status: "released", paid_amount: 3_000 } });
    await page.getByTestId("task-event").filter({ hasText: "task.shipped" }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    await screen(page, "task");
    await accessible(page, "task");
  });

  it("triggers (issue 15): created in the console with its secret shown once; a fire's governed outcome is listed; disabled, then deleted after a confirmation", async () => {
    const target = (await owner.post("/v1/agents", { name: "Trigger agent" })).body;
    await owner.post(`/v1/accounts/${target.wallet_account_id}/deposits`, { amount: 100_000 });
    await putPolicy(owner, target.id, { approval_threshold_minor: 1_000 });
    await goto(page, "/console/triggers", "Triggers");
    await page.getByLabel("Agent").selectOption(target.id);
    await page.getByLabel("Trigger name").fill("Supplier invoices");
    await page.getByRole("button", { name: "Create trigger" }).click();
    const secret = (await page.getByTestId("trigger-secret").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    const trigger = (await owner.get(`/v1/triggers?agent_id=${target.id}`)).body.data[0];
    expect(trigger).toMatchObject({ name: "Supplier invoices", operation: "payment_intents.create", status: "active", payload_template: { payee: "{{supplier}}" } });
    expect(trigger.secret).toBeUndefined();
    // The sending system fires it, signed with the secret: £50 is above the agent's £10 threshold.
    const event = { supplier: "Bob", amount_minor: 5_000, invoice: "INV-7" };
    const body = JSON.stringify(event);
    const fired = await fetch(`${server.url}/v1/triggers/${trigger.id}/fire`, { method: "POST", headers: { "content-type": "application/json", ...(await signWebhook(body, secret, { id: "msg_console_1" })) }, body });
    expect(fired.status).toBe(202);
    const row = page.locator(`[data-testid="trigger"][data-trigger-id="${trigger.id}"]`);
    await row.getByRole("button", { name: "Show fires" }).click();
    await page.locator('[data-testid="trigger-fire"][data-outcome="approval_required"]').waitFor();
    expect(await page.getByTestId("trigger-fire-outcome").first().textContent()).toBe("approval required");
    await screen(page, "triggers");
    await accessible(page, "triggers");
    // The secret is never shown again.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Triggers" }).waitFor();
    await row.waitFor();
    expect(await page.getByTestId("trigger-secret").count()).toBe(0);
    await row.getByRole("button", { name: "Disable" }).click();
    await page.locator(`[data-testid="trigger"][data-trigger-id="${trigger.id}"][data-status="disabled"]`).waitFor();
    expect((await owner.get(`/v1/triggers/${trigger.id}`)).body.status).toBe("disabled");
    await row.getByRole("button", { name: "Delete…" }).click();
    await row.getByRole("button", { name: "Confirm delete" }).click();
    await page.getByTestId("trigger-message").filter({ hasText: "deleted" }).waitFor();
    await row.waitFor({ state: "detached" });
    const gone = await owner.get(`/v1/triggers/${trigger.id}`);
    expect(gone.status === 404 || gone.body.status === "deleted", JSON.stringify(gone.body)).toBe(true);
  });

  it("refuses a cross-site form post: SameSite keeps the cookie home, and CSRF would stop it anyway", async () => {
    // The attacker's site: `localhost` is another site than `127.0.0.1` for the browser.
    const target = `${server.url}/v1/agents`;
    const attacker = http.createServer((_request, response) => {
      response.setHeader("content-type", "text/html");
      response.end(`<!doctype html><form id="f" method="POST" action="${target}" enctype="application/x-www-form-urlencoded"><input name="name" value="evil"></form><script>document.getElementById("f").submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    const port = (attacker.address() as AddressInfo).port;
    try {
      const evil = await context.newPage();
      const posted = evil.waitForResponse((response) => response.url() === target);
      await evil.goto(`http://localhost:${port}/`);
      const answer = await posted;
      expect([401, 403]).toContain(answer.status());
      await evil.close();
    } finally {
      attacker.close();
    }
    const names = (await owner.get("/v1/agents?limit=100")).body.data.map((row: { name: string }) => row.name);
    expect(names).not.toContain("evil");
  });

  it("a viewer sees no approve button, and the API refuses the viewer's approve", async () => {
    await goto(page, "/console/settings", "Settings");
    await page.getByLabel("Invite as").selectOption("viewer");
    await page.getByRole("button", { name: "Create invite link" }).click();
    const inviteUrl = (await page.getByTestId("invite-url").textContent())!;
    expect(inviteUrl).toMatch(/\/console\/invite#code=bci\./);

    // A payment waiting for approval (the new threshold is £1,000), from another agent.
    const other = (await owner.post("/v1/agents", { name: "Second agent" })).body;
    await owner.post(`/v1/accounts/${other.wallet_account_id}/deposits`, { amount: 500_000 });
    await putPolicy(owner, other.id, { approval_threshold_minor: 1_000 });
    const waiting = (await owner.post("/v1/payment-intents", { agent_id: other.id, payee: "Bob", amount: 5_000, currency: "GBP", reference: "viewer test" })).body;
    expect(waiting.approval_id).toBeTruthy();
    const asking = (await owner.post("/v1/budget-requests", { agent_id: other.id, amount: 2_000, currency: "GBP", period: "daily", reason: "A larger day" })).body;
    expect(asking.status).toBe("pending");

    const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const viewer = await viewerContext.newPage();
    watch(viewer);
    await viewer.goto(inviteUrl);
    await viewer.getByLabel("Your name").waitFor();
    await screen(viewer, "invite");
    await accessible(viewer, "invite");
    await viewer.getByLabel("Your name").fill("Vic Viewer");
    await viewer.getByRole("button", { name: "Accept the invite" }).click();
    await viewer.getByRole("heading", { level: 1, name: "Approvals" }).waitFor();
    expect(await viewer.getByTestId("role").textContent()).toBe("viewer");
    const card = viewer.locator(`[data-approval-id="${waiting.approval_id}"]`);
    await card.waitFor();
    expect(await card.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await viewer.getByRole("button", { name: "Approve" }).count()).toBe(0);
    await screen(viewer, "approvals-viewer");
    await accessible(viewer, "approvals-viewer");
    // The API refuses it too, with the viewer's own session and CSRF token.
    const refused = await viewer.evaluate(async (approvalId) => {
      const session: any = await (await fetch("/v1/console/session")).json();
      const answer = await fetch(`/v1/approvals/${approvalId}/approve`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token }, body: "{}" });
      return { status: answer.status, code: ((await answer.json()) as any).code };
    }, waiting.approval_id as string);
    expect(refused).toEqual({ status: 403, code: "insufficient_scope" });
    expect((await owner.get(`/v1/approvals/${waiting.approval_id}`)).body.status).toBe("pending");
    // A pending budget request: the viewer reads it, is offered no decision, and the API refuses one.
    const asked = viewer.locator(`[data-testid="budget-request"][data-request-id="${asking.id}"]`);
    await asked.waitFor();
    expect(await asked.getByRole("button").count()).toBe(0);
    await viewer.getByText("Your role can see budget requests but not decide them.").waitFor();
    const decided = await viewer.evaluate(async (requestId) => {
      const session: any = await (await fetch("/v1/console/session")).json();
      const answer = await fetch(`/v1/budget-requests/${requestId}/approve`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token }, body: "{}" });
      return { status: answer.status, code: ((await answer.json()) as any).code };
    }, asking.id as string);
    expect(decided).toEqual({ status: 403, code: "insufficient_scope" });
    expect((await owner.get(`/v1/budget-requests/${asking.id}`)).body.status).toBe("pending");
    // An open escrow: the viewer reads it, is offered no action, and the API refuses its release.
    await viewer.goto(`${server.url}/console/escrow/${openEscrowId}`);
    await viewer.getByRole("heading", { level: 1, name: "Translation" }).waitFor();
    await viewer.getByText("Your role can see escrow intents but not settle them.").waitFor();
    expect(await viewer.getByTestId("escrow-actions").count()).toBe(0);
    const release = await viewer.evaluate(async (intentId) => {
      const session: any = await (await fetch("/v1/console/session")).json();
      const answer = await fetch(`/v1/escrow-intents/${intentId}/release`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token }, body: "{}" });
      return { status: answer.status, code: ((await answer.json()) as any).code };
    }, openEscrowId);
    expect(release).toEqual({ status: 403, code: "insufficient_scope" });
    expect((await owner.get(`/v1/escrow-intents/${openEscrowId}`)).body.status).toBe("funded");
    await screen(viewer, "escrow-viewer");
    await accessible(viewer, "escrow-viewer");

    // The owner changes the viewer's role: the viewer's session ends; then removes them.
    await goto(page, "/console/settings", "Settings");
    await page.getByLabel("Role of Vic Viewer").selectOption("approver");
    await page.getByTestId("settings-message").filter({ hasText: "Role of Vic Viewer changed." }).waitFor();
    expect(await viewer.evaluate(async () => (await fetch("/v1/approvals")).status)).toBe(401);
    await page.getByRole("row", { name: /Vic Viewer/ }).getByRole("button", { name: "Remove" }).click();
    await page.getByTestId("settings-message").filter({ hasText: "Vic Viewer removed." }).waitFor();
    const members = (await owner.get("/v1/members")).body.data;
    expect(members.find((member: any) => member.name === "Vic Viewer")).toMatchObject({ role: "approver", status: "removed" });
    await viewerContext.close();
  });

  it("budget requests follow the member's role: an approver who manages a team decides its agents' requests and is offered nothing on others", async () => {
    await goto(page, "/console/settings", "Settings");
    await page.getByLabel("Invite as").selectOption("approver");
    await page.getByRole("button", { name: "Create invite link" }).click();
    const inviteUrl = (await page.getByTestId("invite-url").textContent())!;
    const approverContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const approver = await approverContext.newPage();
    watch(approver);
    await approver.goto(inviteUrl);
    await approver.getByLabel("Your name").fill("Mia Manager");
    await approver.getByRole("button", { name: "Accept the invite" }).click();
    await approver.getByRole("heading", { level: 1, name: "Approvals" }).waitFor();
    const mia = (await owner.get("/v1/members")).body.data.find((row: any) => row.name === "Mia Manager" && row.status === "active");
    const member = (await owner.post("/v1/agents", { name: "Managed agent" })).body;
    const team = (await owner.post("/v1/teams", { name: "Field", manager_ids: [mia.id], pools: [{ period: "weekly", currency: "GBP", amount: 20_000 }] })).body;
    expect((await owner.post(`/v1/teams/${team.id}/members`, { agent_id: member.id })).status).toBe(200);
    const theirs = (await owner.post("/v1/budget-requests", { agent_id: member.id, amount: 4_000, currency: "GBP", period: "weekly", reason: "Site visits" })).body;
    const other = (await owner.post("/v1/budget-requests", { agent_id: demo.agentId, amount: 1_000, currency: "GBP", period: "daily", reason: "Not Mia's team" })).body;
    const mine = approver.locator(`[data-testid="budget-request"][data-request-id="${theirs.id}"]`);
    const notMine = approver.locator(`[data-testid="budget-request"][data-request-id="${other.id}"]`);
    await mine.waitFor();
    await notMine.waitFor();
    expect(await notMine.getByRole("button").count()).toBe(0);
    await mine.getByRole("button", { name: "Approve…" }).click();
    await mine.getByRole("button", { name: "Confirm approve" }).click();
    await approver.getByTestId("budget-request-message").filter({ hasText: "Approved 40.00 GBP" }).waitFor();
    expect((await owner.get(`/v1/budget-requests/${theirs.id}`)).body).toMatchObject({ status: "approved", approved_amount: 4_000, decided_by: { type: "user", id: mia.id } });
    expect((await owner.get(`/v1/budget-requests/${other.id}`)).body.status).toBe("pending");
    await screen(approver, "budget-requests-approver");
    await accessible(approver, "budget-requests-approver");
    await approverContext.close();
  });

  it("sign-out revokes the session", async () => {
    await goto(page, "/console/approvals", "Approvals");
    const cookie = (await context.cookies()).find((row) => row.name === "bursar_session")!;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in to Bursar" }).waitFor();
    const replayed = await fetch(`${server.url}/v1/approvals`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    expect(replayed.status).toBe(401);
    await screen(page, "login");
    await accessible(page, "login");
    await goto(page, "/console/approvals", /Bursar console/);
    await screen(page, "signed-out");
    await accessible(page, "signed-out");
  });
});
