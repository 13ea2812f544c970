/**
 * The demo tenant `bursar serve` creates on first start, so that a newcomer has something to try.
 * Its owner token is printed once and kept in `<data dir>/demo-owner-token` (mode 0600) — a
 * convenience of the embedded default only, never done with PostgreSQL.
 */
import fs from "node:fs";
import path from "node:path";
import { createAgent, createPayee, createTenant, defaultPolicy, deposit, invariant, setPolicy, type Clock, type Store } from "@bursar/core";

export interface DemoTenant {
  tenantId: string;
  ownerToken: string;
  agentId: string;
  walletAccountId: string;
  tokenFile: string;
}

/** Creates the demo tenant if the store has no tenant yet; returns it, or null if tenants exist. */
export async function ensureDemoTenant(store: Store, dataDir: string, clock: Clock): Promise<DemoTenant | null> {
  if ((await store.read.countTenants()) > 0) return null;
  const created = await store.write(null, (tx) =>
    createTenant(tx, { name: "Demo", ownerName: "Demo owner", nowMs: clock.nowMs() }),
  );
  const tenantId = created.tenant.id;
  // An agent with £1,000, a payee it may call "Bob", and a policy: payments of £200 or more wait
  // for the owner's approval; spend authorizations of `openai.*` are capped at £5 each, £50 a day.
  const agent = await store.write(tenantId, async (tx) => {
    const context = { tx, tenantId, nowMs: clock.nowMs(), actor: { type: "user", id: created.owner.id } as const };
    const agent = await createAgent(context, { name: "Demo agent", currency: "GBP" });
    invariant(agent.ok, "demo agent created");
    const funded = await deposit(context, { accountId: agent.value.walletAccountId, amountMinor: 100_000, reference: "demo funding" });
    invariant(funded.ok, "demo wallet funded");
    invariant((await createPayee(context, { name: "Bob Smith", aliases: ["Bob"], currency: "GBP" })).ok, "demo payee created");
    invariant((await setPolicy(context, agent.value.id, {
      ...defaultPolicy("GBP"),
      approval_threshold_minor: 20_000,
      operation_limits: { "openai.*": { per_call_max_minor: 500, daily_max_minor: 5_000 } },
    })).ok, "demo policy set");
    return agent.value;
  });
  const walletAccountId = agent.walletAccountId;
  const tokenFile = path.join(dataDir, "demo-owner-token");
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(tokenFile, created.ownerToken + "\n", { mode: 0o600 });
  return { tenantId, ownerToken: created.ownerToken, agentId: agent.id, walletAccountId, tokenFile };
}
