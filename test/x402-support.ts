/**
 * x402 parties outside Bursar, as real local HTTP servers speaking x402 v2 (coinbase/x402
 * `specs/transports-v2/http.md`, facilitator API): a **resource server** that answers `402` with a
 * base64 JSON `PAYMENT-REQUIRED`, takes a `PAYMENT-SIGNATURE` payload, has a **stub facilitator**
 * verify and settle it (`POST /verify`, `POST /settle`) and answers `200` with `PAYMENT-RESPONSE`
 * (or `402` again when settlement fails). The wire format is written here by hand, not with
 * `@x402/core`'s encoders, so the client under test and these servers agree only through the spec.
 *
 * The "chain" is the facilitator's script: a payload is valid when it carries the signature the
 * test's scheme client writes; a settlement succeeds (with a transaction hash, and an `amount` when
 * told to settle less) or fails as the test says.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export const testNetwork = "eip155:84532";
export const testAsset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
export const testSignature = "0xsigned-by-the-test-scheme";

export interface Offer {
  network?: string;
  asset?: string;
  /** Atomic units, as the requirement states them. */
  amount: string;
  scheme?: string;
}

export interface SettleScript {
  /** Settle fails with this reason (the resource answers 402 again). */
  failWith?: string;
  /** Settles less than required (as `upto` does), in atomic units. */
  settleAmount?: string;
}

export interface X402Servers {
  resourceUrl(path?: string): string;
  /** Each request the resource received, with the payload it carried (decoded) if any. */
  requests: { path: string; payload: any | null }[];
  facilitatorCalls: { path: string; body: any }[];
  offers: Offer[];
  settle: SettleScript;
  transactions: string[];
  close(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");
const unb64 = (value: string) => JSON.parse(Buffer.from(value, "base64").toString("utf8"));

async function bodyOf(request: http.IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return parts.length === 0 ? null : JSON.parse(Buffer.concat(parts).toString("utf8"));
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export async function startX402Servers(payTo = "0x00000000000000000000000000000000000b0b00"): Promise<X402Servers> {
  const state: Omit<X402Servers, "resourceUrl" | "close"> = { requests: [], facilitatorCalls: [], offers: [{ amount: "1250000" }], settle: {}, transactions: [] };

  const facilitator = http.createServer(async (request, response) => {
    const body = await bodyOf(request);
    state.facilitatorCalls.push({ path: request.url ?? "", body });
    const json = (status: number, value: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    const payer = body?.paymentPayload?.payload?.from ?? null;
    if (request.url === "/verify") {
      const valid = body?.paymentPayload?.payload?.signature === testSignature && body?.paymentPayload?.accepted?.amount === body?.paymentRequirements?.amount;
      return json(200, valid ? { isValid: true, payer } : { isValid: false, invalidReason: "invalid_payload", payer });
    }
    if (request.url === "/settle") {
      const network = body?.paymentRequirements?.network;
      if (state.settle.failWith) return json(200, { success: false, errorReason: state.settle.failWith, payer, transaction: "", network });
      const transaction = `0x${(state.transactions.length + 1).toString(16).padStart(64, "a")}`;
      state.transactions.push(transaction);
      return json(200, { success: true, payer, transaction, network, ...(state.settle.settleAmount ? { amount: state.settle.settleAmount } : {}) });
    }
    if (request.url === "/supported") return json(200, { kinds: [{ x402Version: 2, scheme: "exact", network: testNetwork }], extensions: [], signers: {} });
    json(404, { error: "not found" });
  });
  const facilitatorUrl = await listen(facilitator);

  const callFacilitator = async (path: string, body: unknown) => {
    const response = await fetch(`${facilitatorUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return response.json() as Promise<any>;
  };

  let resourceBase = "";
  const resource = http.createServer(async (request, response) => {
    const path = request.url ?? "/";
    const header = request.headers["payment-signature"];
    const payload = typeof header === "string" ? unb64(header) : null;
    state.requests.push({ path, payload });
    const accepts = state.offers.map((offer) => ({
      scheme: offer.scheme ?? "exact",
      network: offer.network ?? testNetwork,
      asset: offer.asset ?? testAsset,
      amount: offer.amount,
      payTo,
      maxTimeoutSeconds: 120,
      extra: { name: "USDC", version: "2" },
    }));
    const paymentRequired = (error?: string) => ({ x402Version: 2, ...(error ? { error } : {}), resource: { url: `${resourceBase}${path}`, description: "a forecast", mimeType: "application/json" }, accepts });
    const refuse = (error?: string) =>
      response.writeHead(402, { "content-type": "application/json", "payment-required": b64(paymentRequired(error)) }).end(JSON.stringify({}));
    if (!payload) return refuse();
    const offered = accepts.find((requirement) => JSON.stringify(requirement) === JSON.stringify(payload.accepted));
    if (payload.x402Version !== 2 || !offered) return refuse("invalid_payment_requirements");
    const verified = await callFacilitator("/verify", { x402Version: 2, paymentPayload: payload, paymentRequirements: offered });
    if (!verified.isValid) return refuse(verified.invalidReason ?? "invalid_payload");
    const settled = await callFacilitator("/settle", { x402Version: 2, paymentPayload: payload, paymentRequirements: offered });
    if (!settled.success) return refuse(settled.errorReason ?? "settlement_failed");
    response.writeHead(200, { "content-type": "application/json", "payment-response": b64(settled) }).end(JSON.stringify({ forecast: "fog" }));
  });
  resourceBase = await listen(resource);

  return {
    ...state,
    get offers() {
      return state.offers;
    },
    set offers(value: Offer[]) {
      state.offers = value;
    },
    get settle() {
      return state.settle;
    },
    set settle(value: SettleScript) {
      state.settle = value;
    },
    resourceUrl: (path = "/forecast") => `${resourceBase}${path}`,
    close: async () => {
      await close(resource);
      await close(facilitator);
    },
  };
}
