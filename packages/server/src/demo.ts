/**
 * The demo tenant `bursar serve` creates on first start, so that a newcomer has something to try.
 * Its owner token is printed once and kept in `<data dir>/demo-owner-token` (mode 0600) — a
 * convenience of the embedded default only, never done with PostgreSQL.
 *
 * Everything is made in the first start's writes and never again: a restart finds the tenant
 * (`demo.json`) and seeds nothing, so nothing is duplicated. A data directory made before the
 * demo team existed keeps what it has.
 */
import fs from "node:fs";
import path from "node:path";
import { addTeamMember, createAgent, createLoginCode, createPayee, createTeam, createTenant, defaultPolicy, deposit, invariant, setAllocation, setPolicy, sha256Hex, type Clock, type Store } from "@bursar/core";

export interface DemoTenant {
  tenantId: string;
  ownerToken: string;
  agentId: string;
  walletAccountId: string;
  tokenFile: string;
}

/** What `demo.json` in the data directory keeps, so every start can print the try-it lines. */
interface DemoFile {
  tenant_id: string;
  agent_id: string;
  wallet_account_id: string;
}

/**
 * The demo tenant: created (with `created: true`, and its owner token) if the store has no
 * tenant yet; else the one an earlier start created in this data directory (`created: false`,
 * no token: it is in `tokenFile`); else null (tenants made otherwise, e.g. `bursar init`).
 */
export async function ensureDemoTenant(store: Store, dataDir: string, clock: Clock): Promise<(DemoTenant & { created: boolean }) | null> {
  const tokenFile = path.join(dataDir, "demo-owner-token");
  const demoFile = path.join(dataDir, "demo.json");
  if ((await store.read.countTenants()) > 0) {
    let kept: DemoFile;
    try {
      kept = JSON.parse(fs.readFileSync(demoFile, "utf8")) as DemoFile;
    } catch {
      return null;
    }
    if (!(await store.read.getTenant(kept.tenant_id)) || !fs.existsSync(tokenFile)) return null;
    return { tenantId: kept.tenant_id, agentId: kept.agent_id, walletAccountId: kept.wallet_account_id, ownerToken: "", tokenFile, created: false };
  }
  const created = await store.write(null, (tx) =>
    createTenant(tx, { name: "Demo", ownerName: "Demo owner", nowMs: clock.nowMs() }),
  );
  const tenantId = created.tenant.id;
  // An agent with £1,000, a payee it may call "Bob", and a policy: payments of £200 or more wait
  // for the owner's approval; spend authorizations of `openai.*` are capped at £5 each, £50 a day;
  // and a team whose pool the agent draws on.
  const agent = await store.write(tenantId, async (tx) => {
    const context = { tx, tenantId, nowMs: clock.nowMs(), actor: { type: "user", id: created.owner.id } as const };
    const agent = await createAgent(context, { name: "Demo agent", currency: "GBP" });
    invariant(agent.ok, "demo agent created");
    const funded = await deposit(context, { accountId: agent.value.walletAccountId, amountMinor: 100_000, reference: "demo funding" });
    invariant(funded.ok, "demo wallet funded");
    invariant((await createPayee(context, { name: "Bob Smith", aliases: ["Bob"], currency: "GBP" })).ok, "demo payee created");
    // The demo's own policy, set as an owner would (a new agent's default allows only 100.00 a
    // payment and 250.00 a day): up to £1,000 a payment and £2,000 a day, £200 or more approved,
    // and openai.* calls capped at £5 each and £50 a day.
    const demoPolicy = {
      ...defaultPolicy("GBP"),
      per_transaction_max_minor: 100_000,
      amount_max_minor: { daily: 200_000 },
      approval_threshold_minor: 20_000,
      operation_limits: { "openai.*": { per_call_max_minor: 500, daily_max_minor: 5_000 } },
    };
    invariant((await setPolicy(context, agent.value.id, demoPolicy)).ok, "demo policy set");
    // A team with a £10,000 monthly pool, managed by the owner, the agent a member with £2,500 of
    // it a month (docs/teams.md): the console and `GET /v1/teams/{id}` show pool, allocated,
    // spent, held and remaining.
    const team = await createTeam(context, { name: "Demo team", description: "The demo agent's team", manager_ids: [created.owner.id], pools: [{ period: "monthly", currency: "GBP", amount: 1_000_000 }] });
    invariant(team.ok, "demo team created");
    invariant((await addTeamMember(context, team.value.id, agent.value.id)).ok, "demo agent joined the team");
    invariant((await setAllocation(context, team.value.id, { agent_id: agent.value.id, period: "monthly", currency: "GBP", amount: 250_000 })).ok, "demo allocation set");
    return (await tx.getAgent(tenantId, agent.value.id)) ?? agent.value;
  });
  const walletAccountId = agent.walletAccountId;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(tokenFile, created.ownerToken + "\n", { mode: 0o600 });
  const kept: DemoFile = { tenant_id: tenantId, agent_id: agent.id, wallet_account_id: walletAccountId };
  fs.writeFileSync(demoFile, JSON.stringify(kept, null, 2) + "\n", { mode: 0o600 });
  return { tenantId, ownerToken: created.ownerToken, agentId: agent.id, walletAccountId, tokenFile, created: true };
}

/**
 * A one-time console login link for the demo owner (the owner of the token in
 * `<data dir>/demo-owner-token`), minted on every start: `<base>/console/login#code=…`. The code
 * is in the fragment, so it never reaches a server log or a Referer header. Null when there is no
 * demo owner (PostgreSQL, `--no-demo`, or the token was revoked).
 */
export async function demoLoginLink(store: Store, dataDir: string, baseUrl: string, clock: Clock): Promise<{ url: string; expiresAtMs: number } | null> {
  const tokenFile = path.join(dataDir, "demo-owner-token");
  if (!fs.existsSync(tokenFile)) return null;
  const token = fs.readFileSync(tokenFile, "utf8").trim();
  const row = await store.read.findPersonalAccessTokenByHash(sha256Hex(token));
  if (!row || row.revokedAtMs !== null) return null;
  const { code, expiresAtMs } = await store.write(row.tenantId, (tx) =>
    createLoginCode({ tx, tenantId: row.tenantId, nowMs: clock.nowMs(), actor: { type: "system", id: "bursar serve" } }, { userId: row.userId }),
  );
  return { url: `${baseUrl.replace(/\/+$/, "")}/console/login#code=${code}`, expiresAtMs };
}
