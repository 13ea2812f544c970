/**
 * Services (SPEC 1, 2.4): priced operations an agent may call through governance. Each operation
 * has a price in minor units and a currency, and an input JSON Schema its payload must match.
 *
 * Two kinds:
 * - `builtin`: the `sandbox` service, defined here, pure and deterministic (no I/O): `echo` and
 *   `quote` answer in the write that holds the money; `slow` runs after the commit and finishes
 *   after a configured delay (a demo of the `running` answer).
 * - `http`: services a tenant registers. Bursar POSTs the payload as JSON to the operation's URL
 *   after the commit (packages/server/src/services), and captures the price on a 2xx answer.
 *
 * Where the money goes: every service has a ledger account per currency it charges in (kind
 * `payee`, metadata `service_id`), created with the service (the sandbox's on first use). A
 * request holds the price from the agent's wallet towards that account; success posts the hold,
 * anything else voids it. The account's balance is what the tenant's agents paid the service.
 */
import { appendEvent, type WriteContext } from "../journal/events.js";
import { newId } from "../ids.js";
import { createAccount } from "../ledger/ledger.js";
import { currencyExponent, formatMinor } from "../money.js";
import { servicesPerTenantMax } from "../limits.js";
import type { StoreReader } from "../ports.js";
import { fail, invariant, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import type { StoredRecord } from "./records.js";
import { listRecordsOf, loadRecord, saveRecord } from "./store.js";

export type JsonSchema = Record<string, unknown>;
/** How an operation runs: in the write (`inline`), after it (`async`), or over HTTP (`http`). */
export type OperationExecution = "inline" | "async" | "http";

export interface ServiceOperation {
  name: string;
  description: string | null;
  /** Price in minor units of `currency`. */
  price: number;
  currency: string;
  input_schema: JsonSchema;
  /** Where Bursar POSTs the payload (http services); null for built-in operations. */
  url: string | null;
  /** Time one call may take; null for the server's default (`serviceCallTimeoutMs`). */
  timeout_ms: number | null;
}

export interface ServiceBody {
  name: string;
  description: string | null;
  kind: "builtin" | "http";
  operations: ServiceOperation[];
  /** The ledger account that receives payments, per currency. */
  account_ids: Record<string, string>;
  /** Bumped on every change: compiled input schemas are cached under it. */
  version: number;
  metadata: Record<string, string> | null;
  status: "active" | "deleted";
}
export type ServiceRecord = StoredRecord<ServiceBody>;

/** The name and id of the built-in sandbox service; tenants cannot use the name. */
export const sandboxServiceName = "sandbox";
export const sandboxServiceId = "svc_sandbox";

/** Currencies `sandbox.quote` converts between, as units per 1 GBP times 10^6 (fixed, fictional). */
const sandboxRatesPerMillion: Readonly<Record<string, bigint>> = { GBP: 1_000_000n, EUR: 1_170_000n, USD: 1_270_000n, JPY: 190_000_000n };

const sandboxOperations: ServiceOperation[] = [
  {
    name: "echo", description: "Returns the payload as it was sent.", price: 100, currency: "GBP", url: null, timeout_ms: null,
    input_schema: { type: "object", maxProperties: 20 },
  },
  {
    name: "quote", description: "Converts an amount in minor units between GBP, EUR, USD and JPY at fixed sandbox rates.", price: 250, currency: "GBP", url: null, timeout_ms: null,
    input_schema: {
      type: "object",
      required: ["amount", "from", "to"],
      additionalProperties: false,
      properties: {
        amount: { type: "integer", minimum: 1, maximum: 1_000_000_000_000 },
        from: { enum: Object.keys(sandboxRatesPerMillion) },
        to: { enum: Object.keys(sandboxRatesPerMillion) },
      },
    },
  },
  {
    name: "slow", description: "Answers `running` at once and finishes after a short delay (poll the request).", price: 50, currency: "GBP", url: null, timeout_ms: null,
    input_schema: { type: "object", additionalProperties: false, properties: { message: { type: "string", maxLength: 200 } } },
  },
];

/** The built-in service; its account ids are per tenant (see `tenantSandbox`). */
export const sandboxService: ServiceRecord = {
  tenantId: "", kind: "service", id: sandboxServiceId, agentId: null, status: "active", refId: null, dueAtMs: null, createdAtMs: 0, updatedAtMs: 0,
  body: {
    name: sandboxServiceName, description: "Built-in demo operations: pure, deterministic, no network.", kind: "builtin",
    operations: sandboxOperations, account_ids: {}, version: 1, metadata: null, status: "active",
  },
};

/** How a sandbox operation runs. */
export function sandboxExecution(operation: string): OperationExecution {
  return operation === "slow" ? "async" : "inline";
}

/**
 * Runs a sandbox operation on a payload that matched its schema. Pure: the same input gives the
 * same result.
 * @example runSandboxOperation("quote", { amount: 10000, from: "GBP", to: "USD" }) // { ..., quoted_amount: 12700 }
 */
export function runSandboxOperation(operation: string, payload: unknown): unknown {
  if (operation === "echo") return { echo: payload };
  if (operation === "slow") {
    const message = (payload as { message?: string }).message ?? null;
    return { message, completed: true };
  }
  invariant(operation === "quote", `sandbox operation ${operation}`);
  const { amount, from, to } = payload as { amount: number; from: string; to: string };
  const scale = (currency: string) => 10n ** BigInt(currencyExponent(currency));
  // amount / 10^e(from) / rate(from) * rate(to) * 10^e(to), rounded half up, in integers.
  const numerator = BigInt(amount) * sandboxRatesPerMillion[to]! * scale(to);
  const denominator = sandboxRatesPerMillion[from]! * scale(from);
  const quoted = (2n * numerator + denominator) / (2n * denominator);
  const rate = (sandboxRatesPerMillion[to]! * 1_000_000n) / sandboxRatesPerMillion[from]!;
  return { from, to, amount, quoted_amount: Number(quoted), rate: `${rate / 1_000_000n}.${String(rate % 1_000_000n).padStart(6, "0")}` };
}

export function serviceView(service: ServiceRecord) {
  const builtin = service.body.kind === "builtin";
  return {
    object: "service" as const,
    id: service.id,
    name: service.body.name,
    description: service.body.description,
    kind: service.body.kind,
    operations: service.body.operations.map((operation) => ({
      ...operation,
      price_display: formatMinor(operation.price, operation.currency),
      execution: builtin ? sandboxExecution(operation.name) : ("http" as OperationExecution),
    })),
    account_ids: service.body.account_ids,
    metadata: service.body.metadata,
    status: service.body.status,
    created_at: builtin ? null : toRfc3339(service.createdAtMs),
    updated_at: builtin ? null : toRfc3339(service.updatedAtMs),
  };
}

/** The built-in service as one tenant sees it: with the accounts its payments went to, once it has any. */
async function tenantSandbox(reader: StoreReader, tenantId: string): Promise<ServiceRecord> {
  const own = await loadRecord<ServiceBody>(reader, tenantId, "service", sandboxServiceId);
  return own ? { ...sandboxService, body: { ...sandboxService.body, account_ids: own.body.account_ids } } : sandboxService;
}

/** The built-in service, then the tenant's active services, oldest first. */
export async function listCatalog(reader: StoreReader, tenantId: string): Promise<ServiceRecord[]> {
  const own = await listRecordsOf<ServiceBody>(reader, tenantId, { kind: "service", status: "active", limit: servicesPerTenantMax });
  return [await tenantSandbox(reader, tenantId), ...own.reverse()];
}

/** A service by `svc_` id or by name: the built-in one, or an active service of the tenant. */
export async function findService(reader: StoreReader, tenantId: string, reference: string): Promise<ServiceRecord | null> {
  if (reference === sandboxServiceName || reference === sandboxServiceId) return tenantSandbox(reader, tenantId);
  if (reference.startsWith("svc_")) {
    const service = await loadRecord<ServiceBody>(reader, tenantId, "service", reference);
    return service && service.body.status === "active" ? service : null;
  }
  const [id] = await reader.findRecordIdsByName(tenantId, "service", reference, 1);
  return id === undefined ? null : findService(reader, tenantId, id);
}

/** What a request calls: the service, the operation, how it runs, and its schema's cache key. */
export interface ResolvedOperation {
  service: ServiceRecord;
  operation: ServiceOperation;
  execution: OperationExecution;
  /** Identifies this version of the operation's schema (compiled schemas are cached under it). */
  schemaKey: string;
}

export function resolvedOperation(tenantId: string, service: ServiceRecord, operationName: string): ResolvedOperation | null {
  const operation = service.body.operations.find((candidate) => candidate.name === operationName);
  if (!operation) return null;
  const builtin = service.body.kind === "builtin";
  return {
    service, operation,
    execution: builtin ? sandboxExecution(operation.name) : "http",
    schemaKey: `${builtin ? "" : tenantId}/${service.id}/${service.body.version}/${operation.name}`,
  };
}

/** Resolves `service` (id or name) and `operation`, or fails with `service_not_found`. */
export async function resolveOperation(reader: StoreReader, tenantId: string, service: string, operation: string): Promise<Result<ResolvedOperation>> {
  const found = await findService(reader, tenantId, service);
  const resolved = found ? resolvedOperation(tenantId, found, operation) : null;
  if (!resolved) return fail("service_not_found", found ? `service ${found.body.name} has no operation ${JSON.stringify(operation)}` : `no service ${JSON.stringify(service)}`);
  return ok(resolved);
}

/**
 * The account that receives a service's payments in `currency`. The sandbox's accounts live in a
 * per-tenant record with the built-in id, made on first use.
 */
export async function serviceAccountId(context: WriteContext, service: ServiceRecord, currency: string): Promise<Result<string>> {
  const own = service.body.kind === "builtin" ? await loadRecord<ServiceBody>(context.tx, context.tenantId, "service", service.id) : service;
  const existing = own?.body.account_ids[currency];
  if (existing) return ok(existing);
  const account = await createAccount(context, { currency, kind: "payee", name: `service ${service.body.name}`, metadata: { service_id: service.id } });
  if (!account.ok) return account;
  if (own) {
    await saveRecord(context.tx, { ...own, body: { ...own.body, account_ids: { ...own.body.account_ids, [currency]: account.value.id } } }, false);
  } else {
    // The tenant's record of the built-in service: status `builtin`, so it never lists as its own.
    await saveRecord(context.tx, { ...sandboxService, tenantId: context.tenantId, status: "builtin", createdAtMs: context.nowMs, updatedAtMs: context.nowMs, body: { ...sandboxService.body, account_ids: { [currency]: account.value.id } } }, true);
  }
  return ok(account.value.id);
}

export interface ServiceInput {
  name: string;
  description?: string | null;
  operations: Array<Omit<ServiceOperation, "description" | "timeout_ms"> & { description?: string | null; timeout_ms?: number | null }>;
  metadata?: Record<string, string> | null;
}

function checkOperations(operations: ServiceInput["operations"]): Result<ServiceOperation[]> {
  const names = new Set<string>();
  for (const [index, operation] of operations.entries()) {
    if (names.has(operation.name)) return fail("validation_failed", `operations.${index}: two operations are called ${operation.name}`);
    names.add(operation.name);
    if (operation.url === null) return fail("validation_failed", `operations.${index}: an HTTP operation needs a url`);
  }
  return ok(operations.map((operation) => ({ ...operation, description: operation.description ?? null, timeout_ms: operation.timeout_ms ?? null })));
}

/** Opens the accounts a service needs for its operations' currencies. */
async function ensureAccounts(context: WriteContext, serviceId: string, name: string, operations: ServiceOperation[], accountIds: Record<string, string>): Promise<Result<Record<string, string>>> {
  const accounts = { ...accountIds };
  for (const currency of new Set(operations.map((operation) => operation.currency))) {
    if (accounts[currency]) continue;
    const account = await createAccount(context, { currency, kind: "payee", name: `service ${name}`, metadata: { service_id: serviceId } });
    if (!account.ok) return account;
    accounts[currency] = account.value.id;
  }
  return ok(accounts);
}

async function nameIsFree(context: WriteContext, name: string, serviceId: string | null): Promise<boolean> {
  if (name === sandboxServiceName) return false;
  const ids = await context.tx.findRecordIdsByName(context.tenantId, "service", name, 2);
  return ids.every((id) => id === serviceId);
}

/**
 * Registers an HTTP service (its URLs and schemas already checked by the caller) and opens its
 * ledger accounts. Event: `service.created`.
 */
export async function createService(context: WriteContext, input: ServiceInput): Promise<Result<ServiceRecord>> {
  const operations = checkOperations(input.operations);
  if (!operations.ok) return operations;
  const existing = await listRecordsOf<ServiceBody>(context.tx, context.tenantId, { kind: "service", status: "active", limit: servicesPerTenantMax });
  if (existing.length >= servicesPerTenantMax) return fail("limit_exceeded", `at most ${servicesPerTenantMax} services per tenant`);
  if (!(await nameIsFree(context, input.name, null))) return fail("service_name_taken", `a service is already called ${input.name}`);
  const id = newId("svc", context.nowMs);
  const accounts = await ensureAccounts(context, id, input.name, operations.value, {});
  if (!accounts.ok) return accounts;
  const service: ServiceRecord = {
    tenantId: context.tenantId, kind: "service", id, agentId: null, status: "active", refId: null, dueAtMs: null, createdAtMs: context.nowMs, updatedAtMs: context.nowMs,
    body: {
      name: input.name, description: input.description ?? null, kind: "http", operations: operations.value, account_ids: accounts.value,
      version: 1, metadata: input.metadata ?? null, status: "active",
    },
  };
  await saveRecord(context.tx, service, true);
  await context.tx.setRecordNames(context.tenantId, "service", id, [input.name]);
  await appendEvent(context, "service.created", { service: serviceView(service) });
  return ok(service);
}

async function loadOwnService(context: WriteContext, serviceId: string): Promise<Result<ServiceRecord>> {
  const service = await loadRecord<ServiceBody>(context.tx, context.tenantId, "service", serviceId);
  if (!service || service.body.status !== "active" || service.body.kind !== "http") return fail("not_found", `service ${serviceId} not found`);
  return ok(service);
}

/**
 * Changes a service. Requests already accepted keep the price they hold; new operations and
 * schemas apply to requests made from now on. Event: `service.updated`.
 */
export async function updateService(context: WriteContext, serviceId: string, changes: Partial<ServiceInput>): Promise<Result<ServiceRecord>> {
  const existing = await loadOwnService(context, serviceId);
  if (!existing.ok) return existing;
  const old = existing.value.body;
  const operations = changes.operations ? checkOperations(changes.operations) : ok(old.operations);
  if (!operations.ok) return operations;
  const name = changes.name ?? old.name;
  if (name !== old.name && !(await nameIsFree(context, name, serviceId))) return fail("service_name_taken", `a service is already called ${name}`);
  const accounts = await ensureAccounts(context, serviceId, name, operations.value, old.account_ids);
  if (!accounts.ok) return accounts;
  const service: ServiceRecord = {
    ...existing.value, updatedAtMs: context.nowMs,
    body: {
      ...old, name, operations: operations.value, account_ids: accounts.value, version: old.version + 1,
      description: changes.description === undefined ? old.description : changes.description,
      metadata: changes.metadata === undefined ? old.metadata : changes.metadata,
    },
  };
  await saveRecord(context.tx, service, false);
  if (name !== old.name) await context.tx.setRecordNames(context.tenantId, "service", serviceId, [name]);
  await appendEvent(context, "service.updated", { service: serviceView(service) });
  return ok(service);
}

/**
 * Removes a service from the catalog. Requests already running finish; waiting ones fail when
 * approved. Its accounts and history stay. Event: `service.deleted`.
 */
export async function deleteService(context: WriteContext, serviceId: string): Promise<Result<ServiceRecord>> {
  const existing = await loadOwnService(context, serviceId);
  if (!existing.ok) return existing;
  const service: ServiceRecord = { ...existing.value, status: "deleted", updatedAtMs: context.nowMs, body: { ...existing.value.body, status: "deleted" } };
  await saveRecord(context.tx, service, false);
  await context.tx.setRecordNames(context.tenantId, "service", serviceId, []);
  await appendEvent(context, "service.deleted", { service: serviceView(service) });
  return ok(service);
}
