/**
 * A tenant for the agent-tool suites (MCP and framework adapters): an agent onboarded with the
 * SDK (its credential store on disk, as `bursar-mcp` reads it), a funded wallet, a payee "Bob"
 * and a policy that holds £200 or more for an owner and caps a payment at £1,000.
 */
import { Bursar } from "@bursar/sdk";
import type { RunningServer } from "@bursar/server";
import { onboardWithSdk, type SdkAgent } from "./sdk-support.js";
import { client } from "./support.js";

export interface ToolTenant extends SdkAgent {
  agent: Bursar;
  bobId: string;
  /** Reads as the owner over plain HTTP, independent of the SDK under test. */
  ownerGet(path: string): Promise<any>;
}

export const approvalThresholdMinor = 20_000;
export const perTransactionMaxMinor = 100_000;

export async function toolTenant(server: RunningServer, fundMinor = 500_000): Promise<ToolTenant> {
  const setup = await onboardWithSdk(server, { scopes: ["agents:execute", "transactions:read", "payees:read"], fundMinor });
  const bob = await setup.owner.payees.create({ name: "Bob", aliases: ["bob"], currency: "GBP" });
  const { object: _o, id: _i, agent_id: _a, is_default: _d, updated_at: _u, ...rules } = await setup.owner.policy.get(setup.agentId);
  // No daily cap: a new agent's default policy has one (docs/concepts.md), and these tests pay more than it allows.
  await setup.owner.policy.update(setup.agentId, { ...rules, approval_threshold_minor: approvalThresholdMinor, per_transaction_max_minor: perTransactionMaxMinor, amount_max_minor: {} });
  const agent = new Bursar({ configDir: setup.configDir });
  const api = client(server.url, setup.ownerToken);
  return {
    ...setup,
    agent,
    bobId: bob.id,
    async ownerGet(path) {
      const response = await api.get(path);
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
  };
}

/** What the agent's wallet holds, as the owner reads it: posted balance and available (less holds). */
export async function walletOf(tenant: ToolTenant): Promise<{ balance: number; available: number }> {
  const { balance, available } = await tenant.ownerGet(`/v1/balance?agent_id=${tenant.agentId}`);
  return { balance, available };
}

/** The owner's list of the agent's payment intents, newest first. */
export async function paymentIntentsOf(tenant: ToolTenant): Promise<any[]> {
  return (await tenant.ownerGet(`/v1/payment-intents?agent_id=${tenant.agentId}&limit=100`)).data;
}
