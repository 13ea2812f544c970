/**
 * Scale-out: two server processes on one PostgreSQL schema and one Redis share the DPoP replay
 * cache, the client-assertion replay cache, the rate-limit windows and the token-signing key.
 * A proof accepted by process 1 is refused by process 2. Runs when BURSAR_TEST_DATABASE_URL is
 * set (Redis at BURSAR_TEST_REDIS_URL, default redis://127.0.0.1:6379).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@bursar/core";
import { loadConfig, startServer, type RunningServer } from "@bursar/server";
import { awayFromMinuteBoundary, clientAssertion, dpopProof, onboard, postForm, type Onboarded } from "./agents-support.js";
import { client, createTestTenant, postgresUrl, tempDir } from "./support.js";

const redisUrl = process.env.BURSAR_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Both processes sit behind one public URL, as behind a load balancer: proofs name it. */
const publicBaseUrl = "http://bursar.test";

describe.runIf(postgresUrl)("replay and rate-limit state shared through Redis", () => {
  const servers: RunningServer[] = [];
  let agent: Onboarded;
  let token: string;

  beforeAll(async () => {
    const shared = {
      dataDir: tempDir("unused"),
      databaseUrl: postgresUrl,
      databaseSchema: `t_${newId("req").slice(4).toLowerCase()}`,
      host: "127.0.0.1",
      port: 0,
      logLevel: "silent",
      sweepIntervalMs: 3_600_000,
      publicBaseUrl,
      redisUrl,
      // A prefix per run: runs sharing the Redis cannot see each other's keys.
      redisKeyPrefix: `bursar-test-${newId("req")}:`,
    };
    servers.push(await startServer(loadConfig(shared)));
    servers.push(await startServer(loadConfig(shared)));
    const owner = client(servers[0]!.url, (await createTestTenant(servers[0]!.store)).token);
    agent = await onboard(servers[0]!.url, owner);
    const granted = await postForm(`${servers[0]!.url}/oauth/token`, {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: clientAssertion(agent.key, agent.clientId, publicBaseUrl),
    });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    token = granted.body.access_token;
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  const balance = (server: RunningServer, proof: string) =>
    fetch(`${server.url}/v1/balance`, { headers: { authorization: `DPoP ${token}`, dpop: proof } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } }));

  it("refuses on process 2 a proof process 1 accepted", async () => {
    const proof = dpopProof(agent.key, { htm: "GET", htu: `${publicBaseUrl}/v1/balance`, accessToken: token });
    expect((await balance(servers[0]!, proof)).status).toBe(200);
    const replayed = await balance(servers[1]!, proof);
    expect({ status: replayed.status, code: replayed.body.code }).toEqual({ status: 401, code: "invalid_dpop_proof" });
    // Process 2 verifies the token process 1 issued (one signing key per store).
    expect((await balance(servers[1]!, dpopProof(agent.key, { htm: "GET", htu: `${publicBaseUrl}/v1/balance`, accessToken: token }))).status).toBe(200);
  });

  it("refuses on process 1 a client assertion process 2 accepted", async () => {
    const form = {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: clientAssertion(agent.key, agent.clientId, publicBaseUrl),
    };
    expect((await postForm(`${servers[1]!.url}/oauth/token`, form)).status).toBe(200);
    const replayed = await postForm(`${servers[0]!.url}/oauth/token`, form);
    expect({ status: replayed.status, error: replayed.body.error }).toEqual({ status: 401, error: "invalid_client" });
  });

  it("counts one rate-limit window across both processes", async () => {
    const owner = client(servers[0]!.url, (await createTestTenant(servers[0]!.store, "limits")).token);
    const key = (await owner.post("/v1/api-keys", { name: "shared", scopes: ["agents:config"], rate_limit_per_minute: 2 })).body.key;
    await awayFromMinuteBoundary();
    expect((await client(servers[0]!.url, key).get("/v1/agents")).status).toBe(200);
    expect((await client(servers[1]!.url, key).get("/v1/agents")).status).toBe(200);
    const third = await client(servers[0]!.url, key).get("/v1/agents");
    expect({ status: third.status, code: third.body.code }).toEqual({ status: 429, code: "rate_limited" });
  });
});
