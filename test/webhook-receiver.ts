/**
 * A real HTTP receiver on loopback for webhook tests. It records every request (headers and raw
 * body) and answers as told: `fail(n)` answers 500 to the next n requests, `hang(n)` never
 * answers the next n (the sender must time out), `gone()` answers 410.
 */
import http from "node:http";

export interface Received {
  headers: Record<string, string>;
  body: string;
  answered: number | "hung";
}

export interface Receiver {
  url: string;
  received: Received[];
  fail(count: number): void;
  hang(count: number): void;
  gone(on: boolean): void;
  /** Answers every request with a 307 to `location` (set null to stop). */
  redirect(location: string | null): void;
  /** Requests that got a 2xx, by webhook-id. */
  deliveredIds(): Set<string>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let failures = 0;
  let hangs = 0;
  let goneMode = false;
  let redirectTo: string | null = null;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, String(value)]));
      const record: Received = { headers, body: Buffer.concat(chunks).toString("utf8"), answered: 200 };
      received.push(record);
      if (hangs > 0) {
        hangs--;
        record.answered = "hung";
        return; // never answers; the socket is destroyed on close()
      }
      if (redirectTo) {
        record.answered = 307;
        response.writeHead(307, { location: redirectTo }).end();
        return;
      }
      const status = goneMode ? 410 : failures > 0 ? 500 : 200;
      if (failures > 0 && !goneMode) failures--;
      record.answered = status;
      response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    received,
    fail: (count) => (failures = count),
    hang: (count) => (hangs = count),
    gone: (on) => (goneMode = on),
    redirect: (location) => (redirectTo = location),
    deliveredIds: () => new Set(received.filter((r) => r.answered === 200).map((r) => r.headers["webhook-id"]!)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
