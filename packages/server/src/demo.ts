/**
 * The demo tenant `bursar serve` creates on first start, so that a newcomer has something to try.
 * Its owner token is printed once and kept in `<data dir>/demo-owner-token` (mode 0600) — a
 * convenience of the embedded default only, never done with PostgreSQL.
 */
import fs from "node:fs";
import path from "node:path";
import { createAccount, createTenant, deposit, invariant, type Clock, type Store } from "@bursar/core";

export interface DemoTenant {
  tenantId: string;
  ownerToken: string;
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
  const walletAccountId = await store.write(tenantId, async (tx) => {
    const context = { tx, tenantId, nowMs: clock.nowMs(), actor: { type: "user", id: created.owner.id } as const };
    const wallet = await createAccount(context, { currency: "GBP", kind: "wallet", name: "Demo wallet" });
    invariant(wallet.ok, "demo wallet created");
    const funded = await deposit(context, { accountId: wallet.value.id, amountMinor: 100_000, reference: "demo funding" });
    invariant(funded.ok, "demo wallet funded");
    return wallet.value.id;
  });
  const tokenFile = path.join(dataDir, "demo-owner-token");
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(tokenFile, created.ownerToken + "\n", { mode: 0o600 });
  return { tenantId, ownerToken: created.ownerToken, walletAccountId, tokenFile };
}
