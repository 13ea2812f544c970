/**
 * Rail test support: a real executor process for the webhook rail (test/rail-executor.ts), and
 * callbacks signed with the independent `standardwebhooks` package.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { killHard, repoRoot } from "./support.js";

export interface Executor {
  /** The URL that receives `payment.execute`. */
  url: string;
  process: ChildProcess;
  /** Sets the rail secret the executor verifies and signs with. */
  setSecret(secret: string): Promise<void>;
  /** What it received and the callbacks it made. */
  log(): Promise<{ executed: Array<{ webhook_id: string; verified: boolean; message: any }>; callbacks: Array<{ transaction_id: string; status: string; answered: number | null }> }>;
  close(): Promise<void>;
}

/** Spawns the executor on a random loopback port. */
export async function startExecutor(): Promise<Executor> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "test/rail-executor.ts")], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`executor did not start: ${stderr}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening (\d+)\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`executor exited with ${code}: ${stderr}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/execute`,
    process: child,
    async setSecret(secret) {
      const response = await fetch(`${base}/control/secret`, { method: "POST", body: JSON.stringify({ secret }) });
      if (response.status !== 200) throw new Error(`executor refused the secret: ${response.status}`);
    },
    async log() {
      return (await fetch(`${base}/control/log`)).json() as Promise<any>;
    },
    close: () => killHard(child),
  };
}

/** Headers and body of a callback signed with `secret` at `date` (default now), as an executor sends it. */
export function signedCallback(secret: string, body: Record<string, unknown> | string, options: { id?: string; date?: Date } = {}) {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const id = options.id ?? `cb_${Math.random().toString(36).slice(2)}`;
  const date = options.date ?? new Date();
  return {
    payload,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(date.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, date, payload),
    },
  };
}

/** POSTs a raw callback; answers status and parsed body. */
export async function postCallback(baseUrl: string, payload: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/v1/rails/webhook/callbacks`, { method: "POST", headers, body: payload });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body };
}
