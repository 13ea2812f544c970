/**
 * A payment executor for the webhook rail, run as its own process by the rail tests (it stands
 * for a tenant's bank connector: outside the system under test). It listens on 127.0.0.1, prints
 * `listening <port>`, verifies each `payment.execute` with the independent `standardwebhooks`
 * package, and acts as the payee's `rail_details.executor` says:
 *
 * | executor            | answer to payment.execute                      | then                                 |
 * |---------------------|------------------------------------------------|--------------------------------------|
 * | `succeed` (default) | 202                                            | signed callback `succeeded`          |
 * | `fail`              | 202                                            | signed callback `failed`             |
 * | `silent`            | 202                                            | nothing (the deadline must settle it) |
 * | `reject`            | 500                                            | nothing                              |
 * | `answer_succeeded`  | 200 `{"status":"succeeded","rail_reference"}` | nothing                              |
 * | `answer_failed`     | 200 `{"status":"failed","reason"}`            | nothing                              |
 *
 * Control (tests only): `POST /control/secret {"secret"}` sets the rail secret it verifies and
 * signs with; `GET /control/log` lists what it received and the callbacks it made.
 *
 * Run: `node --import tsx test/rail-executor.ts`.
 */
import http from "node:http";
import { Webhook } from "standardwebhooks";

interface Executed {
  webhook_id: string;
  verified: boolean;
  message: any;
}
interface Callback {
  transaction_id: string;
  status: string;
  answered: number | null;
}

const executed: Executed[] = [];
const callbacks: Callback[] = [];
let secret: string | null = null;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** Reports an outcome to Bursar, signed like any Standard Webhooks sender would. */
async function callBack(message: any, status: "succeeded" | "failed"): Promise<void> {
  const data = message.data;
  const payload = JSON.stringify({
    tenant_id: data.tenant_id,
    transaction_id: data.transaction_id,
    status,
    ...(status === "succeeded" ? { rail_reference: `exe_${data.transaction_id}` } : { reason: "payee_account_closed" }),
  });
  const id = `cb_${data.transaction_id}`;
  const now = new Date();
  const record: Callback = { transaction_id: data.transaction_id, status, answered: null };
  callbacks.push(record);
  try {
    const response = await fetch(message.callback_url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": new Webhook(secret!).sign(id, now, payload),
      },
      body: payload,
    });
    record.answered = response.status;
  } catch {
    record.answered = 0;
  }
}

const server = http.createServer((request, response) => {
  void (async () => {
    const body = await readBody(request);
    if (request.url === "/control/secret" && request.method === "POST") {
      secret = (JSON.parse(body) as { secret: string }).secret;
      return answer(response, 200, { ok: true });
    }
    if (request.url === "/control/log" && request.method === "GET") return answer(response, 200, { executed, callbacks });
    if (request.url !== "/execute" || request.method !== "POST") return answer(response, 404, { error: "not found" });

    const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, String(value)]));
    let message: any;
    try {
      message = new Webhook(secret ?? "whsec_AAAA").verify(body, headers);
    } catch {
      executed.push({ webhook_id: headers["webhook-id"] ?? "", verified: false, message: null });
      return answer(response, 401, { error: "signature does not verify" });
    }
    executed.push({ webhook_id: headers["webhook-id"]!, verified: true, message });
    const behaviour = String(message.data?.payee?.rail_details?.executor ?? "succeed");
    switch (behaviour) {
      case "reject":
        return answer(response, 500, { error: "executor down" });
      case "answer_succeeded":
        return answer(response, 200, { status: "succeeded", rail_reference: `inline_${message.data.transaction_id}` });
      case "answer_failed":
        return answer(response, 200, { status: "failed", reason: "payee_account_closed" });
      case "silent":
        return answer(response, 202, { accepted: true });
      default:
        // Accept first, pay, then call back: the usual shape of an asynchronous bank transfer.
        response.on("finish", () => void callBack(message, behaviour === "fail" ? "failed" : "succeeded"));
        return answer(response, 202, { accepted: true });
    }
  })().catch(() => answer(response, 500, { error: "executor bug" }));
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening ${address.port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
