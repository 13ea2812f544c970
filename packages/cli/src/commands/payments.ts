/**
 * `bursar transactions`, `bursar payment-intents [create]`, `bursar approvals list|approve|reject`.
 * Reads work for the stored agent or an owner (an owner token wins when one is given or found);
 * deciding an approval needs the owner.
 */
import type { Command } from "commander";
import type { Approval, PaymentIntent, Transaction } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { action, agentClient, anyClient, apiCommand, ownerClient, type CommonOptions } from "./context.js";

type ListOptions = CommonOptions & { limit?: number; agent?: string; status?: string };

const listOptions = (command: Command) =>
  command.option("--limit <n>", "how many (newest first)", Number).option("--agent <id>", "owners: one agent's").option("--status <status>", "only this status");

const intentRow = (intent: PaymentIntent) => ({
  id: intent.id,
  amount: intent.amount_display === null ? "-" : `${intent.amount_display} ${intent.currency}`,
  approval: intent.approval_status,
  execution: intent.execution_status,
  reasons: intent.reason_codes,
  created_at: intent.created_at,
});
const transactionRow = (transaction: Transaction) => ({
  id: transaction.id,
  amount: `${transaction.amount_display} ${transaction.currency}`,
  to: transaction.creditor.name,
  status: transaction.status,
  reference: transaction.reference,
  created_at: transaction.created_at,
});
const approvalRow = (approval: Approval) => ({
  id: approval.id,
  amount: `${approval.amount_display} ${approval.currency}`,
  for: approval.subject_id,
  agent: approval.agent_id,
  status: approval.status,
  reasons: approval.reason_codes,
  expires_at: approval.expires_at,
});

export function paymentCommands(program: Command): void {
  listOptions(apiCommand(program, "transactions", "List executed payments")).action(
    action(async (options: ListOptions) => {
      const page = await anyClient(options).transactions.list({ limit: options.limit, agent_id: options.agent, status: options.status });
      print(options.json, page.data, () => table(page.data.map(transactionRow)));
    }),
  );

  const intents = program.command("payment-intents").description("Payment intents: list, or create one as the stored agent");
  listOptions(apiCommand(intents, "list", "List payment intents")).action(
    action(async (options: ListOptions) => {
      const page = await anyClient(options).paymentIntents.list({ limit: options.limit, agent_id: options.agent, status: options.status });
      print(options.json, page.data, () => table(page.data.map(intentRow)));
    }),
  );
  apiCommand(intents, "create", "Pay a payee as the stored agent (decided by its policy)")
    .requiredOption("--payee <name>", "a payee's id, name or alias")
    .requiredOption("--amount <minor>", "amount in minor units (50000 = 500.00)", Number)
    .requiredOption("--currency <code>", "ISO 4217 code")
    .option("--reference <text>", "what the payment is for")
    .action(
      action(async (options: CommonOptions & { payee: string; amount: number; currency: string; reference?: string }) => {
        const intent = await agentClient(options).paymentIntents.create({ payee: options.payee, amount: options.amount, currency: options.currency, reference: options.reference });
        print(options.json, intent, () => fields({ ...intentRow(intent), approval_id: intent.approval_id, next: intent.available_actions }));
      }),
    );

  const approvals = program.command("approvals").description("Human decisions payments wait on");
  listOptions(apiCommand(approvals, "list", "List approvals (--status pending)")).action(
    action(async (options: ListOptions) => {
      const page = await anyClient(options).approvals.list({ limit: options.limit, agent_id: options.agent, status: options.status });
      print(options.json, page.data, () => table(page.data.map(approvalRow)));
    }),
  );
  for (const verdict of ["approve", "reject"] as const) {
    apiCommand(approvals, verdict, verdict === "approve" ? "Approve (owner): the payment proceeds" : "Reject (owner): the payment is cancelled, its money released")
      .argument("<approval_id>")
      .option("--note <text>", "why")
      .action((id: string, options: CommonOptions & { note?: string }, command: Command) =>
        action(async () => {
          const owner = ownerClient(options);
          const approval = verdict === "approve" ? await owner.approvals.approve(id, { note: options.note }) : await owner.approvals.reject(id, { note: options.note });
          print(options.json, approval, () => fields(approvalRow(approval)));
        })(options, command),
      );
  }
}
