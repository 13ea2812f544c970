/**
 * The rail contract (rails.contract.ts) run against every rail, on every store: the sandbox rail
 * in process, and the webhook rail against a real executor process on loopback.
 */
import { expect } from "vitest";
import { railContract, type RailUnderTest } from "./rails.contract.js";
import { expectStatus } from "./payments-support.js";
import { startExecutor, type Executor } from "./rails-support.js";
import { storeKinds } from "./support.js";

const sandbox: RailUnderTest = {
  name: "sandbox",
  async setUp() {},
  // Silence: the longest delay a sandbox payee may ask for, far longer than the test; the
  // server's close() aborts it.
  payeeFields: (behaviour) => ({ rail_details: behaviour === "fail" ? { outcome: "fail" } : behaviour === "silent" ? { delay_ms: 60_000 } : {} }),
  async accepted() {},
  async tearDown() {},
};

function webhook(): RailUnderTest {
  let executor: Executor | null = null;
  return {
    name: "webhook",
    // The executor listens on 127.0.0.1: an explicit opt-in, as in any local set-up.
    serverConfig: { allowPrivateWebhookTargets: true },
    async setUp(owner) {
      executor = await startExecutor();
      const configured = expectStatus(await owner.call("PUT", "/v1/rails/webhook", { url: executor.url }), 200);
      expect(configured.secret).toMatch(/^whsec_/);
      await executor.setSecret(configured.secret);
    },
    payeeFields: (behaviour) => ({ rail_details: { executor: behaviour } }),
    // The executor answered 202 to payment.execute, and will not call back.
    accepted: (server) => server.rails.drain(),
    async tearDown() {
      await executor?.close();
    },
  };
}

for (const kind of storeKinds) {
  railContract(kind, sandbox);
  railContract(kind, webhook());
}
