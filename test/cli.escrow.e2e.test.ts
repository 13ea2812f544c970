/**
 * `bursar escrow`, `bursar predicates` and `bursar reputation` end to end, by spawning the bin
 * against a real server: the agent creates and funds an intent from a template (signed with its
 * stored key), the payee signs and submits failing then passing evidence from its PEM key with
 * no Bursar credential, and the receipt verifies.
 */
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { cliRunner } from "./cli-support.js";
import { startTestServer, tempDir } from "./support.js";

let server: RunningServer;
const { bursar, json } = cliRunner(() => server.url, "cli-escrow-no-demo");
let setup: SdkAgent;
let asAgent: Record<string, string>;
let asPayee: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer("sqlite");
  setup = await onboardWithSdk(server, { scopes: ["agents:execute", "payees:read", "events:read"], fundMinor: 100_000 });
  asAgent = { BURSAR_CONFIG_DIR: setup.configDir };
  asPayee = { BURSAR_CONFIG_DIR: tempDir("cli-escrow-payee") };
});
afterAll(async () => {
  await setup?.owner.close();
  await server?.close();
});

describe("bursar escrow", () => {
  it("creates from a template, the payee submits signed evidence from a PEM key, and the receipt verifies", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const keyFile = path.join(tempDir("cli-escrow-key"), "payee.pem");
    fs.writeFileSync(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }));
    const payee = await setup.owner.payees.create({ name: "CLI Payee", currency: "GBP", evidence_public_key: publicKey.export({ format: "jwk" }) as Record<string, string> });

    const preview = await json(["predicates", "preview", "http_status", "--param", "status=200"], asAgent);
    expect(preview.summary).toBe("Passes when evidence /payload/status equals 200.");
    const failedTest = await bursar(["predicates", "test", "--predicate", JSON.stringify(preview.predicate), "--payload", '{"status":500}'], asAgent);
    expect(failedTest.code).toBe(5);
    expect(failedTest.stdout).toContain("failed at /root");

    const intent = await json(["escrow", "create", "--payee", payee.id, "--amount", "2500", "--currency", "GBP", "--deadline-in", "3600",
      "--schema", '{"type":"object","required":["status"]}', "--template", "http_status", "--param", "status=200", "--fund"], asAgent);
    expect(intent).toMatchObject({ status: "funded", amount: 2500 });

    const evidence = (payload: string) => ["escrow", "evidence", intent.id, "--key-file", keyFile, "--tenant", setup.tenantId, "--payee", payee.id, "--payload", payload, "--artifact", "digest-1"];
    expect(await json(evidence('{"status":404}'), asPayee)).toMatchObject({ status: "evidence_submitted", last_evaluation: { passed: false } });
    expect(await json(evidence('{"status":200}'), asPayee)).toMatchObject({ status: "released", settlement: { payee_amount: 2500 } });
    expect(await json(["escrow", "get", intent.id], asAgent)).toMatchObject({ status: "released" });
    expect((await json(["escrow", "list"], asAgent)).map((row: any) => row.id)).toContain(intent.id);

    const receipt = await json(["reputation", payee.id], asAgent);
    expect(receipt).toMatchObject({ verified: true, receipt: { counts: { released: 1 } } });
    const human = await bursar(["reputation", payee.id], asAgent);
    expect(human.stdout).toMatch(/verified\s+true/);
  });
});
