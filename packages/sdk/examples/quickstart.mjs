import fs from "node:fs";
import { Bursar, register } from "@bursar/sdk";

// 1. The owner (the demo token `npm start` saved) creates an agent, funds its wallet, sets its
//    policy (payments of £200 or more wait for approval) and mints a registration ticket.
const owner = new Bursar({ token: fs.readFileSync(".bursar/demo-owner-token", "utf8").trim() });
const agent = await owner.agents.create({ name: "Invoice bot" });
await owner.accounts.deposit(agent.wallet_account_id, { amount: 100_000 }); // £1,000.00, in minor units
// A new agent is spend-limited (100.00 a payment, 250.00 a day) until its owner sets a policy:
// change only the fields that differ (JSON Merge Patch).
await owner.policy.patch(agent.id, { per_transaction_max_minor: 100_000, amount_max_minor: { daily: 200_000 }, approval_threshold_minor: 20_000 });
const { ticket } = await owner.registrationTickets.create({
  agent_id: agent.id,
  scopes: ["agents:execute", "transactions:read", "events:read", "payees:read"],
});

// 2. On the agent's host: register with the ticket. The private key is made here and stays here.
await register({ ticket, configDir: ".bursar-agent" }); // default: BURSAR_CONFIG_DIR, else ~/.bursar

// 3. The agent pays Bob (the demo payee) through governance.
const bursar = new Bursar({ configDir: ".bursar-agent" });
const coffee = await bursar.paymentIntents.create({ payee: "Bob", amount: 450, currency: "GBP", reference: "Coffee" });
console.log(`coffee: ${coffee.execution_status}`);
const invoice = await bursar.paymentIntents.create({ payee: "Bob", amount: 50_000, currency: "GBP", reference: "April invoice" });
console.log(`invoice: ${invoice.approval_status}, ${invoice.reason_codes.join(", ")}`);

// 4. The owner approves; the payment executes on the sandbox rail.
await owner.approvals.approve(invoice.approval_id, { note: "invoice checked" });
for await (const transaction of await bursar.transactions.list()) {
  console.log(`paid ${transaction.amount_display} ${transaction.currency} to ${transaction.creditor.name} (${transaction.reference})`);
}
const balance = await bursar.balance.get();
console.log(`${agent.name} has ${balance.balance_display} ${balance.currency} left`);

// 5. Anyone with events:read checks the books without trusting the server.
const checkpoint = await bursar.journal.checkpoint();
const { event } = await bursar.journal.verifyInclusion({ seq: (await bursar.events.list({ limit: 1 })).data[0].seq });
console.log(`journal of ${checkpoint.treeSize} entries verified; ${event.type} is in it`);
await bursar.close();
await owner.close();
