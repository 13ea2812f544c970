/**
 * A fuzz suite over the OpenAPI document (issue 17, "must show"). Every operation the document
 * lists — so every route added later, without touching this file — is sent malformed, oversized,
 * mistyped and non-Unicode input, as an owner (PAT), as an agent (its API key, and its DPoP
 * token) and with no credential, over real HTTP to a real server on a real SQLite file. For every
 * answer it asserts:
 *
 * - no 5xx;
 * - an `X-Request-Id` on every answer, and every error is RFC 9457 problem+json with a stable
 *   snake_case `code` and a `request_id` equal to the header (the OAuth endpoints answer RFC 6749
 *   §5.2 JSON errors instead, `{error, request_id}`, as docs/api-conventions.md says);
 * - nothing written on refusal: the tenant's journal has the same size after any 4xx.
 *
 * Cases come from a seeded generator (mulberry32), so a failure names its seed and case number
 * and replays exactly: `BURSAR_FUZZ_SEED=<seed> npx vitest run test/fuzz.http.test.ts`
 * (`BURSAR_FUZZ_SEED=random` for a fresh seed; the default is fixed, see `seed`).
 * `BURSAR_FUZZ_CASES` changes the count (default 10 500, at least 10 000 in CI).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { dpopProof, getToken, type Onboarded } from "./agents-support.js";
import { createPayee, expectStatus, fundedAgent } from "./payments-support.js";
import { client, createTestTenant, startTestServer } from "./support.js";

const caseCount = Number(process.env.BURSAR_FUZZ_CASES ?? 10_500);
/**
 * The seed: fixed by default, so a CI run is repeatable (the suite's teardown also checks that
 * every error code answered is documented, and a new seed can reach a code no route lists yet);
 * `BURSAR_FUZZ_SEED=random` draws a new one, for hunting.
 */
const seed = process.env.BURSAR_FUZZ_SEED === "random" ? Date.now() % 2 ** 31 : Number(process.env.BURSAR_FUZZ_SEED ?? 11);
/**
 * Wall-clock bound of the whole run. Alone it takes 14-23 s (10 500 cases, 3 lanes, 2 cores);
 * inside the whole suite, with other suites' servers on the same cores, 50-120 s were measured.
 * Past the bound it fails rather than stretch CI without end.
 */
const runTimeMaxMs = 240_000;

/** mulberry32: small, fast, seedable. */
function generator(initial: number) {
  let state = initial >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
type Random = ReturnType<typeof generator>;

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  parameters: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>;
  body: Schema | null;
  form: boolean;
}

/** A marker replaced by a lone surrogate escape after JSON.stringify (which would escape it otherwise). */
const loneMarker = "\u0000LONE\u0000";

/** Strings that have broken parsers, routers, SQL and logs elsewhere. */
const nastyStrings = [
  "", " ", "0", "-1", "null", "true", "[]", "{}", "NaN", "1e309", "%00", "\u0000", "\r\nX-Injected: 1", "' OR 1=1 --", "\"; DROP TABLE agents; --",
  "../../etc/passwd", "%2e%2e%2f", "<script>alert(1)</script>", "${7*7}", "{{7*7}}", "__proto__", "constructor", "\u202e", "\ufeff", "\u{1F916}",
  "Ａ", "ß", "İ", "a".repeat(513), "a".repeat(5000), "tr_" + "x".repeat(70), "acc_01ARZ3NDEKTSV4RRFFQ69G5FAV", "pay_", "conv_1", loneMarker, `x${loneMarker}y`,
];

/** A JSON value of the schema's type (roughly valid: bounds and patterns are only sometimes met). */
function sample(schema: Schema | undefined, random: Random, depth = 0): unknown {
  if (!schema || depth > 6) return random.pick(["x", 1, null, true]);
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return random.pick(schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return sample(random.pick(union), random, depth + 1);
  const type = Array.isArray(schema.type) ? random.pick(schema.type) : schema.type;
  switch (type) {
    case "object": {
      const value: Record<string, unknown> = {};
      for (const [key, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if ((schema.required ?? []).includes(key) || random.chance(0.6)) value[key] = sample(property, random, depth + 1);
      }
      if (schema.additionalProperties && typeof schema.additionalProperties === "object" && random.chance(0.5)) value[`k${random.int(100)}`] = sample(schema.additionalProperties, random, depth + 1);
      return value;
    }
    case "array":
      return Array.from({ length: random.int(Math.min(4, schema.maxItems ?? 4) + 1) }, () => sample(schema.items, random, depth + 1));
    case "integer":
      return random.pick([0, 1, 2, 100, 5000, 50_000, schema.minimum ?? 1, schema.maximum ?? 10, random.int(1_000_000)]);
    case "number":
      return random.pick([0, 1, 1.5, 100, random.next() * 1000]);
    case "boolean":
      return random.chance(0.5);
    case "null":
      return null;
    case "string":
      if (schema.pattern === "^[A-Z]{3}$") return random.pick(["GBP", "USD", "EUR", "JPY", "XXX", "gbp"]);
      return random.chance(0.7) ? random.pick(["Bob", "invoice", "sandbox", "echo", "agents:execute", "x", "GBP", "https://example.com/hook"]) : random.pick(nastyStrings);
    default:
      return random.pick(["x", 1, null, {}, []]);
  }
}

/** Values of the wrong type, or past a bound, for a field. */
function mistyped(random: Random): unknown {
  return random.pick([
    null, true, -1, 0, 1.5, -0, 2 ** 53 + 1, 1e300, "1", "", [], [[[]]], {}, { a: 1 }, "x".repeat(100_000), loneMarker, Array.from({ length: 2000 }, () => 1),
  ]);
}

/** Replaces a random leaf of `value` (or a new key) with `replacement`. */
function mutateLeaf(value: unknown, random: Random, replacement: unknown): unknown {
  if (typeof value !== "object" || value === null) return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0 || random.chance(0.2)) return Array.isArray(value) ? [...value, replacement] : { ...value, [random.pick(["extra", "__proto__", "constructor", "amount", "id"])]: replacement };
  const key = random.pick(keys);
  const copy: any = Array.isArray(value) ? [...value] : { ...value };
  copy[key] = random.chance(0.5) ? mutateLeaf(copy[key], random, replacement) : replacement;
  return copy;
}

function deeplyNested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

interface Body {
  bytes: Buffer | string | undefined;
  contentType: string | undefined;
}

/** The body of one case: one of many ways to be wrong, or (sometimes) plausibly right. */
function bodyFor(operation: Operation, random: Random): Body {
  const json = (value: unknown): Body => ({ bytes: JSON.stringify(value).replaceAll(JSON.stringify(loneMarker).slice(1, -1), "\\ud800"), contentType: "application/json" });
  const base = operation.body ? sample(operation.body, random) : {};
  if (operation.form) {
    return random.pick<() => Body>([
      () => ({ bytes: `grant_type=${random.pick(["client_credentials", "refresh_token", "password", "", "%ED%A0%80"])}&client_id=cb_x&client_assertion=a.b.c&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer`, contentType: "application/x-www-form-urlencoded" }),
      () => ({ bytes: "a=1&a=2", contentType: "application/x-www-form-urlencoded" }),
      () => ({ bytes: Array.from({ length: 40 }, (_, i) => `p${i}=${i}`).join("&"), contentType: "application/x-www-form-urlencoded" }),
      () => ({ bytes: "token=%FF%FE&%%%=1", contentType: "application/x-www-form-urlencoded" }),
      () => json({ grant_type: "client_credentials" }),
      () => ({ bytes: "x".repeat(20_000), contentType: "application/x-www-form-urlencoded" }),
    ])();
  }
  return random.pick<() => Body>([
    () => json(base),
    () => json(base),
    () => json(mutateLeaf(base, random, mistyped(random))),
    () => json(mutateLeaf(base, random, mistyped(random))),
    () => json(mutateLeaf(base, random, loneMarker)),
    () => json(mutateLeaf(base, random, random.pick(nastyStrings))),
    () => json(mutateLeaf(base, random, "x".repeat(random.pick([513, 4001, 70_000])))),
    () => ({ bytes: JSON.stringify(base).slice(0, random.int(20)), contentType: "application/json" }),
    () => ({ bytes: deeplyNested(random.pick([17, 100, 5000])), contentType: "application/json" }),
    () => ({ bytes: '{"__proto__":{"admin":true}}', contentType: "application/json" }),
    () => ({ bytes: '{"a":1,"a":2}', contentType: "application/json" }),
    () => ({ bytes: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), contentType: "application/json" }),
    () => ({ bytes: "", contentType: "application/json" }),
    () => ({ bytes: undefined, contentType: undefined }),
    () => ({ bytes: JSON.stringify(base), contentType: random.pick(["text/plain", "application/xml", "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]) }),
    () => json(random.pick([null, 1, "x", [], [base], true])),
    () => (random.chance(0.1) ? { bytes: `{"a":"${"x".repeat(300 * 1024)}"}`, contentType: "application/json" } : json(base)),
  ])();
}

/** A query string: each documented parameter sometimes, with values valid or not, plus strays. */
function queryFor(operation: Operation, random: Random): string {
  const parts: string[] = [];
  for (const parameter of operation.parameters.filter((p) => p.in === "query")) {
    if (!parameter.required && random.chance(0.5)) continue;
    const value = random.pick([
      () => String(sample(parameter.schema, random)),
      () => random.pick(["", "-1", "0", "1", "100", "101", "1e3", "0x10", "1.5", " 7", "9007199254740993", "99999999999999999999", "abc", "acc_1", "tr_x"]),
      () => random.pick(["%ED%A0%80", "%FF", "%00", "%", "%zz", encodeURIComponent(random.pick(nastyStrings))]),
    ])();
    parts.push(`${encodeURIComponent(parameter.name)}=${value.includes("%") ? value : encodeURIComponent(value)}`);
    if (random.chance(0.05)) parts.push(`${encodeURIComponent(parameter.name)}=1`);
  }
  if (random.chance(0.1)) parts.push(`${random.pick(["unknown", "__proto__", "limit[]", "a.b"])}=${random.pick(["1", "%ED%A0%80", ""])}`);
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/**
 * A path with its parameters filled: garbage mostly, a real id of the fixtures sometimes — never
 * for a DELETE, which would disable the lane's agent or revoke its binding and leave every later
 * agent case a plain 401.
 */
function pathFor(operation: Operation, random: Random, realIds: string[]): string {
  return operation.path.replace(/\{([^}]+)\}/g, () =>
    operation.method !== "DELETE" && random.chance(0.25) ? random.pick(realIds) : encodeURIComponent(random.pick(nastyStrings.filter((text) => !text.includes(loneMarker))) || "x").replace(/%2F/gi, random.pick(["%2F", "/"])),
  );
}

/** One tenant's fixtures: each lane fuzzes its own tenant, so a journal change is its own case's. */
interface Lane {
  tenantId: string;
  ownerToken: string;
  agent: Onboarded;
  agentKey: string;
  agentToken: string;
  realIds: string[];
}

/** Lanes run at once (each sequential in itself): the machine's cores are shared by server and client. */
const laneCount = 3;

describe("fuzz over the OpenAPI document", () => {
  let server: RunningServer;
  let operations: Operation[];
  const lanes: Lane[] = [];

  async function openLane(): Promise<Lane> {
    const tenant = await createTestTenant(server.store);
    const owner = client(server.url, tenant.token);
    const agent = await fundedAgent(server.url, owner, 1_000_000, ["agents:execute", "transactions:read", "events:read", "payees:read", "budgets:read"]);
    const agentKey = expectStatus(await owner.post("/v1/api-keys", { name: "fuzz", agent_id: agent.agentId, scopes: ["agents:execute", "events:read", "payees:read"], rate_limit_per_minute: 100_000 }), 201).key;
    const agentToken = (await getToken(server.url, agent)).body.access_token;
    const payee = await createPayee(owner, "Bob");
    const intent = expectStatus(await owner.post("/v1/payment-intents", { agent_id: agent.agentId, payee: "Bob", amount: 100, currency: "GBP" }), 201);
    return { tenantId: tenant.tenantId, ownerToken: tenant.token, agent, agentKey, agentToken, realIds: [agent.agentId, agent.walletAccountId, payee.id, intent.id, agent.clientId, "svc_sandbox", "sandbox"] };
  }

  beforeAll(async () => {
    // Rate limits off the table (these are not rate-limit tests): limits would turn most cases
    // into 429s and hide what the routes themselves answer.
    server = await startTestServer("sqlite", { config: { rateLimitPerMinute: 10_000_000, sourceRateLimitPerMinute: 10_000_000 } });
    for (let i = 0; i < laneCount; i++) lanes.push(await openLane());
    const document = expectStatus(await client(server.url, lanes[0]!.ownerToken).get("/openapi.json"), 200);
    operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ["get", "post", "put", "patch", "delete"].includes(method))
        .map(([method, operation]) => ({
          method: method.toUpperCase(),
          path,
          parameters: operation.parameters ?? [],
          body: operation.requestBody?.content?.["application/json"]?.schema ?? null,
          form: path.startsWith("/oauth/"),
        })),
    );
  });
  afterAll(() => server.close());

  const credentials = ["owner", "agent_key", "agent_dpop", "none"] as const;

  /** Sends case `index` in `lane` and checks its answer; returns its status. */
  async function runCase(lane: Lane, index: number, random: Random, journal: { size: number }): Promise<number> {
    const operation = operations[index % operations.length]!;
    const credential = credentials[Math.floor(index / operations.length) % credentials.length]!;
    const where = `case ${index} (seed ${seed}): ${credential} ${operation.method} ${operation.path}`;
    const url = `${server.url}${pathFor(operation, random, lane.realIds)}${queryFor(operation, random)}`;
    // fetch sends no body with GET; a DELETE sometimes carries one it should not.
    const none: Body = { bytes: undefined, contentType: undefined };
    const body = operation.method === "GET" ? none : operation.method === "DELETE" ? (random.chance(0.1) ? bodyFor(operation, random) : none) : bodyFor(operation, random);
    const headers: Record<string, string> = {};
    if (body.contentType) headers["content-type"] = body.contentType;
    if (credential === "owner") headers.authorization = `Bearer ${lane.ownerToken}`;
    if (credential === "agent_key") headers.authorization = `Bearer ${lane.agentKey}`;
    if (credential === "agent_dpop") {
      headers.authorization = `DPoP ${lane.agentToken}`;
      headers.dpop = dpopProof(lane.agent.key, { htm: operation.method, htu: url.split("?")[0]!, accessToken: lane.agentToken });
    }
    if (random.chance(0.3)) headers["idempotency-key"] = random.pick([randomUUID(), "", " spaced key ", "k".repeat(300), "ü-key", `fuzz-${random.int(50)}`]);
    if (random.chance(0.05)) headers["x-request-id"] = random.pick(["ok-id", "bad id", "x".repeat(200)]);
    if (random.chance(0.03)) headers["last-event-id"] = random.pick(["evt_x", "1", "x".repeat(100)]);

    let response: Response;
    try {
      response = await fetch(url, { method: operation.method, headers, body: body.bytes, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new Error(`${where}: no answer (${String(error)})`);
    }
    const contentType = response.headers.get("content-type") ?? "";
    // A stream that opened stays open: its head is the answer, its body is not waited for.
    const text = contentType.startsWith("text/event-stream") ? (await response.body?.cancel(), "") : await response.text();

    expect(response.status, `${where}: ${text.slice(0, 300)}`).toBeLessThan(500);
    const requestId = response.headers.get("x-request-id");
    expect(requestId, `${where}: X-Request-Id`).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    if (response.status < 400) {
      journal.size = (await server.store.read.getTenant(lane.tenantId))!.journalSize;
      return response.status;
    }
    let problem: any;
    try {
      problem = JSON.parse(text);
    } catch {
      throw new Error(`${where}: error body is not JSON: ${text.slice(0, 200)}`);
    }
    if (operation.form && contentType.startsWith("application/json")) {
      expect(problem.error, `${where}: OAuth error code`).toMatch(/^[a-z_]+$/);
    } else {
      expect(contentType, `${where}: ${response.status} ${text.slice(0, 200)}`).toMatch(/^application\/problem\+json/);
      expect(problem.code, `${where}: code`).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(problem.status).toBe(response.status);
    }
    expect(problem.request_id, `${where}: request_id`).toBe(requestId);
    const size = (await server.store.read.getTenant(lane.tenantId))!.journalSize;
    if (size !== journal.size) {
      const written = await server.store.read.listEvents(lane.tenantId, { afterSeq: journal.size, limit: 10, ascending: true });
      throw new Error(`${where}: refused with ${response.status} ${problem.code ?? problem.error} but the journal grew by ${size - journal.size} (${written.map((event) => event.type).join(", ")})`);
    }
    return response.status;
  }

  it(`sends ${caseCount} cases to every operation with every kind of credential: no 5xx, problems everywhere, nothing written on refusal (seed ${seed})`, async () => {
    expect(caseCount).toBeGreaterThanOrEqual(process.env.CI ? 10_000 : 1);
    expect(operations.length).toBeGreaterThan(60);
    const statuses = new Map<number, number>();
    const startedMs = Date.now();
    await Promise.all(
      lanes.map(async (lane, laneIndex) => {
        // Each lane has its own generator, so a case replays from the seed whatever the timing.
        const random = generator(seed + laneIndex);
        const journal = { size: (await server.store.read.getTenant(lane.tenantId))!.journalSize };
        for (let index = laneIndex; index < caseCount; index += lanes.length) {
          const status = await runCase(lane, index, random, journal);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (Date.now() - startedMs > runTimeMaxMs) throw new Error(`the fuzz run passed its time bound at case ${index}`);
        }
      }),
    );
    const elapsedMs = Date.now() - startedMs;
    const sent = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    expect(sent).toBe(caseCount);
    console.log(
      `fuzz: ${caseCount} cases over ${operations.length} operations × ${credentials.length} credentials in ${elapsedMs} ms (seed ${seed}); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
    );
    // The generator must not be so wrong that nothing succeeds: some cases reach the handlers.
    expect([...statuses].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThan(caseCount / 50);
  }, 300_000);
});
