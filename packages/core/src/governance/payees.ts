/**
 * Payees (SPEC 1 `pay_`): beneficiaries an agent may pay, with aliases it may use in plain words
 * ("Bob"). Each payee has a ledger account (kind `payee`) in its currency: the sandbox rail moves
 * money there, and its balance is what the tenant has paid the payee. Deleting a payee hides it
 * from lookups and refuses new payments; its account and history stay.
 */
import { newId } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { createAccount } from "../ledger/ledger.js";
import { importPublicJwk, type PublicJwk } from "../identity/jose.js";
import { payeeMatchesMax } from "../limits.js";
import type { StoreReader } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { StoredRecord } from "./records.js";
import { loadRecord, recordStamp, saveRecord } from "./store.js";

export const railNames = ["sandbox", "webhook"] as const;
export type RailName = (typeof railNames)[number];

export interface PayeeBody {
  name: string;
  aliases: string[];
  currency: string;
  account_id: string;
  rail: RailName;
  /** Rail-specific details: the sandbox reads `outcome` and `delay_ms`; the webhook rail passes them to the executor. */
  rail_details: Record<string, unknown>;
  metadata: Record<string, string> | null;
  status: "active" | "deleted";
  /** The key that signs escrow evidence (Ed25519 or P-256 public JWK), and its RFC 7638 thumbprint. */
  evidence_public_key?: PublicJwk | null;
  evidence_key_thumbprint?: string | null;
}
export type PayeeRecord = StoredRecord<PayeeBody>;

/** How names are compared: Unicode-normalised, trimmed, case-folded, inner spaces collapsed. */
export function nameKey(name: string): string {
  return name.normalize("NFKC").trim().toLowerCase().replace(/\s+/g, " ");
}

export function payeeView(payee: PayeeRecord) {
  return {
    object: "payee" as const, ...recordStamp(payee, toRfc3339), ...payee.body,
    evidence_public_key: payee.body.evidence_public_key ?? null, evidence_key_thumbprint: payee.body.evidence_key_thumbprint ?? null,
  };
}

/** The evidence key fields of a payee from a submitted JWK (null clears them); `invalid_public_key` otherwise. */
function evidenceKeyFields(jwk: unknown): Result<{ evidence_public_key: PublicJwk | null; evidence_key_thumbprint: string | null }> {
  if (jwk === null) return ok({ evidence_public_key: null, evidence_key_thumbprint: null });
  const imported = importPublicJwk(jwk);
  if (!imported.ok) return imported;
  return ok({ evidence_public_key: imported.value.jwk, evidence_key_thumbprint: imported.value.thumbprint });
}

export interface PayeeInput {
  name: string;
  aliases?: string[];
  currency: string;
  rail?: RailName;
  railDetails?: Record<string, unknown>;
  metadata?: Record<string, string> | null;
  evidencePublicKey?: unknown;
}

/** Event: `payee.created` (after the payee account's `account.created`). */
export async function createPayee(context: WriteContext, input: PayeeInput): Promise<Result<PayeeRecord>> {
  const id = newId("pay", context.nowMs);
  const evidenceKey = evidenceKeyFields(input.evidencePublicKey ?? null);
  if (!evidenceKey.ok) return evidenceKey;
  const account = await createAccount(context, { currency: input.currency, kind: "payee", name: input.name, metadata: { payee_id: id } });
  if (!account.ok) return account;
  const payee: PayeeRecord = {
    tenantId: context.tenantId, kind: "payee", id, agentId: null, status: "active", refId: null, dueAtMs: null,
    createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      name: input.name, aliases: input.aliases ?? [], currency: input.currency, account_id: account.value.id,
      rail: input.rail ?? "sandbox", rail_details: input.railDetails ?? {}, metadata: input.metadata ?? null, status: "active",
      ...evidenceKey.value,
    },
  };
  await saveRecord(context.tx, payee, true);
  await context.tx.setRecordNames(context.tenantId, "payee", id, [payee.body.name, ...payee.body.aliases].map(nameKey));
  await appendEvent(context, "payee.created", { payee: payeeView(payee) });
  return ok(payee);
}

/** Changes name, aliases, rail or details, metadata. Event: `payee.updated`. */
export async function updatePayee(
  context: WriteContext,
  payeeId: string,
  changes: { name?: string; aliases?: string[]; rail?: RailName; railDetails?: Record<string, unknown>; metadata?: Record<string, string> | null; evidencePublicKey?: unknown },
): Promise<Result<PayeeRecord>> {
  const existing = await loadRecord<PayeeBody>(context.tx, context.tenantId, "payee", payeeId);
  if (!existing || existing.body.status === "deleted") return fail("not_found", `payee ${payeeId} not found`);
  const evidenceKey = changes.evidencePublicKey === undefined ? null : evidenceKeyFields(changes.evidencePublicKey);
  if (evidenceKey && !evidenceKey.ok) return evidenceKey;
  const body: PayeeBody = {
    ...existing.body,
    name: changes.name ?? existing.body.name,
    aliases: changes.aliases ?? existing.body.aliases,
    rail: changes.rail ?? existing.body.rail,
    rail_details: changes.railDetails ?? existing.body.rail_details,
    metadata: changes.metadata === undefined ? existing.body.metadata : changes.metadata,
    ...(evidenceKey ? evidenceKey.value : {}),
  };
  const payee: PayeeRecord = { ...existing, updatedAtMs: context.nowMs, body };
  await saveRecord(context.tx, payee, false);
  await context.tx.setRecordNames(context.tenantId, "payee", payeeId, [body.name, ...body.aliases].map(nameKey));
  await appendEvent(context, "payee.updated", { payee: payeeView(payee) });
  return ok(payee);
}

/** Marks a payee deleted and forgets its names. Event: `payee.deleted`. */
export async function deletePayee(context: WriteContext, payeeId: string): Promise<Result<PayeeRecord>> {
  const existing = await loadRecord<PayeeBody>(context.tx, context.tenantId, "payee", payeeId);
  if (!existing || existing.body.status === "deleted") return fail("not_found", `payee ${payeeId} not found`);
  const payee: PayeeRecord = { ...existing, status: "deleted", updatedAtMs: context.nowMs, body: { ...existing.body, status: "deleted" } };
  await saveRecord(context.tx, payee, false);
  await context.tx.setRecordNames(context.tenantId, "payee", payeeId, []);
  await appendEvent(context, "payee.deleted", { payee: payeeView(payee) });
  return ok(payee);
}

/** The active payees a name or alias matches (at most `payeeMatchesMax`). */
export async function findPayees(reader: StoreReader, tenantId: string, name: string): Promise<PayeeRecord[]> {
  const ids = await reader.findRecordIdsByName(tenantId, "payee", nameKey(name), payeeMatchesMax);
  const payees = await Promise.all(ids.map((id) => loadRecord<PayeeBody>(reader, tenantId, "payee", id)));
  return payees.filter((payee): payee is PayeeRecord => payee !== null && payee.body.status === "active");
}

/**
 * Resolves what an agent called a payee: a `pay_` id, or a name or alias matching exactly one
 * active payee. Fails with `payee_not_found` or `payee_ambiguous` (naming the candidates).
 */
export async function resolvePayee(reader: StoreReader, tenantId: string, reference: string): Promise<Result<PayeeRecord>> {
  if (reference.startsWith("pay_")) {
    const payee = await loadRecord<PayeeBody>(reader, tenantId, "payee", reference);
    if (payee && payee.body.status === "active") return ok(payee);
    return fail("payee_not_found", `no payee ${reference}`);
  }
  const matches = await findPayees(reader, tenantId, reference);
  if (matches.length === 1) return ok(matches[0]!);
  if (matches.length === 0) return fail("payee_not_found", `no payee is called ${JSON.stringify(reference)}`);
  const names = matches.map((payee) => `${payee.body.name} (${payee.id})`).join(", ");
  return fail("payee_ambiguous", `${JSON.stringify(reference)} matches several payees: ${names}`);
}

/**
 * The payee Bursar keeps for an agent (tasks' bounties pay through it): its account is the
 * agent's wallet, so what is paid to it lands in the wallet; it has no names (it is never found by
 * a name an agent types, only by id), `refId` is the agent, and its evidence key is the one the
 * caller gives (the tenant's task key, docs/tasks.md). Created on first use, in the caller's write.
 * Event: `payee.created`.
 */
export async function agentPayee(context: WriteContext, agent: { id: string; name: string; walletAccountId: string }, walletCurrency: string, evidenceKey: PublicJwk): Promise<PayeeRecord> {
  const existing = await findAgentPayee(context.tx, context.tenantId, agent.id);
  if (existing) return existing;
  const fields = evidenceKeyFields(evidenceKey);
  if (!fields.ok) throw new Error(`the task key does not import: ${fields.detail}`);
  const payee: PayeeRecord = {
    tenantId: context.tenantId, kind: "payee", id: newId("pay", context.nowMs), agentId: null, status: "active", refId: agent.id, dueAtMs: null,
    createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      name: `agent ${agent.name}`, aliases: [], currency: walletCurrency, account_id: agent.walletAccountId, rail: "sandbox", rail_details: {},
      metadata: { agent_id: agent.id }, status: "active", ...fields.value,
    },
  };
  await saveRecord(context.tx, payee, true);
  await appendEvent(context, "payee.created", { payee: payeeView(payee) });
  return payee;
}

/** The payee Bursar keeps for `agentId`, when it exists. */
export async function findAgentPayee(reader: StoreReader, tenantId: string, agentId: string): Promise<PayeeRecord | null> {
  const [payee] = await reader.listRecords(tenantId, { kind: "payee", refId: agentId, limit: 1 });
  return (payee as PayeeRecord | undefined) ?? null;
}
