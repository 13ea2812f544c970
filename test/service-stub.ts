/**
 * A tenant's HTTP service for the service-request suites: a real node:http server on loopback
 * whose paths behave as named. `/gate` holds its answer until the test opens the gate; `/hang`
 * never answers. Every call is recorded.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serviceResultBytesMax } from "@bursar/core";

export interface ServiceCall {
  path: string;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

export interface ServiceStub {
  url: string;
  calls: ServiceCall[];
  /** Lets the calls waiting on `/gate` answer. */
  openGate(): void;
  close(): Promise<void>;
}

export async function startServiceStub(): Promise<ServiceStub> {
  const calls: ServiceCall[] = [];
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
      const path = request.url ?? "/";
      calls.push({ path, body, headers: request.headers });
      const json = (status: number, value: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (path === "/ok") return json(200, { forecast: "sunny", received: body });
      if (path === "/fail") return json(500, { error: "boom" });
      if (path === "/redirect") return response.writeHead(302, { location: "/ok" }).end();
      if (path === "/big") return json(200, { blob: "x".repeat(serviceResultBytesMax) });
      if (path === "/not-json") return response.writeHead(200, { "content-type": "text/plain" }).end("sunny");
      if (path === "/gate") return void gate.then(() => json(200, { released: true }));
      if (path === "/hang") return; // never answers
      json(404, { error: "no such path" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    openGate,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
