/**
 * Vendors: who an agent pays outside Bursar (an API provider, an MCP tool's owner, an x402
 * resource). Money a spend authorization consumed leaves the agent's wallet for the vendor's
 * ledger account (kind `vendor`, one per currency, created on first use), so the books say where
 * it went even though Bursar did not move it on a rail. A vendor is found by its exact name.
 */
import { createAccount } from "../ledger/ledger.js";
import { newId } from "../ids.js";
import type { WriteContext } from "../journal/events.js";
import { ok, type Result } from "../result.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, saveRecord } from "./store.js";

export interface VendorBody {
  name: string;
  /** The vendor's ledger account per currency. */
  account_ids: Record<string, string>;
}
export type VendorRecord = StoredRecord<VendorBody>;

/** The vendor an operation pays when the caller names none: its first dotted word (`openai.chat` → `openai`). */
export function defaultVendorOf(operation: string): string {
  return operation.split(".")[0]!;
}

/** The vendor's account in `currency`, creating the vendor and the account on first use. */
export async function vendorAccountId(context: WriteContext, name: string, currency: string): Promise<Result<string>> {
  const { tx, tenantId, nowMs } = context;
  const [id] = await tx.findRecordIdsByName(tenantId, "vendor", name, 1);
  const found = id === undefined ? null : await loadRecord<VendorBody>(tx, tenantId, "vendor", id);
  const existing = found?.body.account_ids[currency];
  if (existing) return ok(existing);
  const account = await createAccount(context, { currency, kind: "vendor", name: `vendor ${name}`, metadata: { vendor: name } });
  if (!account.ok) return account;
  if (found) {
    await saveRecord(tx, { ...found, updatedAtMs: nowMs, body: { ...found.body, account_ids: { ...found.body.account_ids, [currency]: account.value.id } } }, false);
    return ok(account.value.id);
  }
  const vendor: VendorRecord = {
    tenantId, kind: "vendor", id: newId("vnd", nowMs), agentId: null, status: "active", refId: null, dueAtMs: null, createdAtMs: nowMs, updatedAtMs: nowMs,
    body: { name, account_ids: { [currency]: account.value.id } },
  };
  await saveRecord(tx, vendor, true);
  await tx.setRecordNames(tenantId, "vendor", vendor.id, [name]);
  return ok(account.value.id);
}
