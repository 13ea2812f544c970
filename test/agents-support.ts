/**
 * Helpers for the identity suites: onboarding an agent over HTTP, and a small hand-rolled signer
 * of client assertions and DPoP proofs that can also make the malformed ones the attack suite
 * needs. The must-show test uses oauth4webapi instead, so a bug shared by this signer and the
 * server cannot hide.
 */
import { createHash, createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { expect } from "vitest";
import { client, type ApiResponse } from "./support.js";

export type Api = ReturnType<typeof client>;
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

export interface KeyPair {
  alg: "ES256" | "EdDSA";
  privateKey: KeyObject;
  publicJwk: Record<string, string>;
}

/** A fresh P-256 (ES256) or Ed25519 (EdDSA) key pair. */
export function newKeyPair(alg: "ES256" | "EdDSA" = "ES256"): KeyPair {
  const { privateKey, publicKey } = alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  return { alg, privateKey, publicJwk: publicKey.export({ format: "jwk" }) as Record<string, string> };
}

/** Signs a compact JWS; `alg` may be overridden to forge headers (`none`, `HS256`). */
export function signJws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyPair): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (header.alg === "none") return `${input}.`;
  if (header.alg === "HS256") return `${input}.${createHmac("sha256", JSON.stringify(key.publicJwk)).update(input).digest("base64url")}`;
  const signature = key.alg === "ES256" ? sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" }) : sign(null, Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const ath = (token: string) => createHash("sha256").update(token).digest("base64url");

/** A DPoP proof (RFC 9449 §4.2); every field can be overridden. */
export function dpopProof(
  key: KeyPair,
  claims: { htm: string; htu: string; accessToken?: string } & Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const { accessToken, ...rest } = claims;
  return signJws(
    { typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk, ...header },
    { jti: randomUUID(), iat: nowSeconds(), ...(accessToken ? { ath: ath(accessToken) } : {}), ...rest },
    key,
  );
}

/** A private_key_jwt client assertion (RFC 7523 §3). */
export function clientAssertion(key: KeyPair, clientId: string, aud: string, overrides: Record<string, unknown> = {}): string {
  const now = nowSeconds();
  return signJws({ alg: key.alg }, { iss: clientId, sub: clientId, aud, jti: randomUUID(), iat: now, exp: now + 60, ...overrides }, key);
}

/** An onboarded agent: its id, wallet, binding and key. */
export interface Onboarded {
  agentId: string;
  walletAccountId: string;
  clientId: string;
  key: KeyPair;
  scopes: string[];
}

export async function createAgent(owner: Api, name = "Agent"): Promise<{ id: string; wallet_account_id: string }> {
  const created = await owner.post("/v1/agents", { name });
  expect(created.status).toBe(201);
  return created.body;
}

export async function mintTicket(owner: Api, agentId: string, scopes: string[] = ["agents:execute", "transactions:read"], extra: Record<string, unknown> = {}): Promise<string> {
  const minted = await owner.post("/v1/registration-tickets", { agent_id: agentId, scopes, ...extra });
  expect(minted.status, JSON.stringify(minted.body)).toBe(201);
  return minted.body.ticket;
}

export async function register(baseUrl: string, ticket: string, key: KeyPair, extra: Record<string, unknown> = {}): Promise<ApiResponse> {
  return client(baseUrl).post("/v1/registrations", { ticket, public_key_jwk: key.publicJwk, ...extra });
}

/** Creates an agent, mints a ticket and registers a fresh key. */
export async function onboard(baseUrl: string, owner: Api, options: { alg?: "ES256" | "EdDSA"; scopes?: string[] } = {}): Promise<Onboarded> {
  const agent = await createAgent(owner);
  const key = newKeyPair(options.alg);
  const registered = await register(baseUrl, await mintTicket(owner, agent.id, options.scopes), key);
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  return { agentId: agent.id, walletAccountId: agent.wallet_account_id, clientId: registered.body.client_id, key, scopes: registered.body.scopes };
}

/** Posts a form to an OAuth endpoint. */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(form).toString() });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/** client_credentials with a fresh assertion; returns the token response. */
export async function getToken(baseUrl: string, agent: Onboarded, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return postForm(
    `${baseUrl}/oauth/token`,
    {
      grant_type: "client_credentials",
      client_id: agent.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: clientAssertion(agent.key, agent.clientId, baseUrl),
      ...extra,
    },
    headers,
  );
}

/** A resource request with `Authorization: DPoP` and the given proof (a fresh valid one by default). */
export async function dpopCall(baseUrl: string, method: string, pathname: string, token: string, key: KeyPair, proof?: string, scheme = "DPoP"): Promise<ApiResponse> {
  const url = baseUrl + pathname;
  const htu = url.split("?")[0]!;
  const response = await fetch(url, {
    method,
    headers: { authorization: `${scheme} ${token}`, dpop: proof ?? dpopProof(key, { htm: method, htu, accessToken: token }) },
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/**
 * Waits out the last seconds of a rate-limit minute, so that a test counting requests within one
 * window cannot straddle two (the windows are fixed, aligned to the minute).
 */
export async function awayFromMinuteBoundary(marginMs = 5000): Promise<void> {
  const leftMs = 60_000 - (Date.now() % 60_000);
  if (leftMs < marginMs) await new Promise((resolve) => setTimeout(resolve, leftMs + 50));
}
