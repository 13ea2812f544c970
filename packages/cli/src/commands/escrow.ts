/**
 * `bursar escrow create|get|list|fund|release|refund|split|dispute|capability|evidence`,
 * `bursar predicates preview|test` and `bursar reputation` (docs/escrow.md). `escrow create`
 * signs the terms with the stored agent's key; `escrow evidence` signs as the payee, with the
 * payee's own evidence key (a PKCS#8 PEM file), and needs no Bursar credential. JSON options take
 * inline JSON or `@file`.
 */
import fs from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import { importPrivateKeyPem, signEvidence, submitEscrowEvidence, type EscrowIntent } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { action, agentClient, anyClient, apiCommand, exitCodes, ownerClient, UsageError, type CommonOptions } from "./context.js";

function wholeNumber(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError("Expected a whole number.");
  return Number(value);
}

/** Inline JSON, or `@path` to read it from a file. */
function jsonValue(value: string): unknown {
  const text = value.startsWith("@") ? fs.readFileSync(value.slice(1), "utf8") : value;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidArgumentError("Expected JSON (or @file holding JSON).");
  }
}

/** `key=value` pairs for template parameters; values are JSON when they parse, else strings. */
function parameter(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("Expected key=value.");
  const raw = value.slice(at + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { ...previous, [value.slice(0, at)]: parsed };
}

const intentRow = (intent: EscrowIntent) => ({
  id: intent.id,
  payee: intent.payee_id,
  amount: `${intent.amount_display} ${intent.currency}`,
  status: intent.status,
  releasable: intent.releasable_amount,
  deadline: intent.deadline,
});
const intentFields = (intent: EscrowIntent) =>
  fields({
    ...intentRow(intent),
    decision: intent.decision,
    reasons: intent.reason_codes,
    approval_id: intent.approval_id,
    attempts_remaining: intent.attempts_remaining,
    last_evaluation: intent.last_evaluation ? `${intent.last_evaluation.passed ? "passed" : `failed at ${intent.last_evaluation.failing_node}: ${intent.last_evaluation.reason}`}` : null,
    settlement: intent.settlement ? `${intent.settlement.outcome}: ${intent.settlement.payee_amount} to the payee, ${intent.settlement.refund_amount} refunded` : null,
    next: intent.available_actions,
  });

type CreateOptions = CommonOptions & {
  id?: string; payee: string; amount: number; currency: string; deadline?: string; deadlineIn?: number; schema: Record<string, unknown>;
  predicate?: Record<string, unknown>; template?: string; param?: Record<string, unknown>; operations?: string; releaseMode?: "auto" | "confirm";
  costPath?: string; description?: string; fund?: boolean;
};

export function escrowCommands(program: Command): void {
  const escrow = program.command("escrow").description("Escrow intents: money held for a payee's work, released on signed evidence");
  apiCommand(escrow, "create", "Create an escrow intent, signed with the stored agent's key")
    .option("--id <int_…>", "your id (the idempotency key); generated when absent")
    .requiredOption("--payee <id>", "the payee (pay_…), which has an evidence key")
    .requiredOption("--amount <minor>", "minor units (5000 = 50.00)", wholeNumber)
    .requiredOption("--currency <code>", "ISO 4217 code")
    .option("--deadline <rfc3339>", "when the money goes back if not released")
    .option("--deadline-in <seconds>", "or: this many seconds from now", wholeNumber)
    .requiredOption("--schema <json>", "the evidence JSON Schema (or @file)", jsonValue)
    .option("--predicate <json>", "the predicate AST (or @file)", jsonValue)
    .option("--template <name>", "or: a named template (http_status, webhook_event, artifact_present, cost_within_amount, always)")
    .option("--param <key=value>", "a template parameter (repeatable)", parameter)
    .option("--operations <list>", "what the work may spend on through the intent's capability, comma-separated")
    .addOption(new Option("--release-mode <mode>", "auto on a passing predicate, or confirm by an owner").choices(["auto", "confirm"]))
    .option("--cost-path <pointer>", "where the evidence reports the cost: release pays min(cost, amount)")
    .option("--description <text>")
    .option("--fund", "fund it in the same request")
    .action(
      action(async (options: CreateOptions) => {
        const bursar = agentClient(options);
        if ((options.predicate === undefined) === (options.template === undefined)) throw new UsageError("give exactly one of --predicate or --template");
        let predicate = options.predicate;
        let costPath = options.costPath ?? null;
        if (options.template) {
          const preview = await bursar.predicates.preview(options.template, options.param ?? {});
          predicate = preview.predicate;
          costPath ??= preview.cost_path;
        }
        const deadline = options.deadline ?? (options.deadlineIn !== undefined ? new Date(Date.now() + options.deadlineIn * 1000).toISOString() : undefined);
        if (!deadline) throw new UsageError("give --deadline or --deadline-in");
        const intent = await bursar.escrow.create({
          id: options.id, payee_id: options.payee, amount: options.amount, currency: options.currency, deadline, evidence_schema: options.schema,
          predicate: predicate!, allowed_operations: options.operations ? options.operations.split(",").map((op) => op.trim()) : [],
          release_mode: options.releaseMode, cost_path: costPath, description: options.description, fund: options.fund,
        });
        print(options.json, intent, () => intentFields(intent));
      }),
    );

  apiCommand(escrow, "list", "List escrow intents, newest first")
    .option("--limit <n>", "how many", wholeNumber)
    .option("--status <status>", "only this status")
    .action(
      action(async (options: CommonOptions & { limit?: number; status?: string }) => {
        const page = await anyClient(options).escrow.list({ limit: options.limit, status: options.status });
        print(options.json, page.data, () => table(page.data.map(intentRow)));
      }),
    );

  const byId = (name: string, description: string, run: (id: string, options: CommonOptions & Record<string, unknown>) => Promise<EscrowIntent>) =>
    apiCommand(escrow, name, description)
      .argument("<intent_id>")
      .action((id: string, options: CommonOptions & Record<string, unknown>, command: Command) =>
        action(async () => {
          const intent = await run(id, options);
          print(options.json, intent, () => intentFields(intent));
        })(options, command),
      );
  byId("get", "Show an escrow intent", (id, options) => anyClient(options).escrow.get(id));
  byId("fund", "Fund it: the policy decides and the amount is held in escrow", (id, options) => anyClient(options).escrow.fund(id));
  byId("release", "Pay what the escrow holds to the payee", (id, options) => anyClient(options).escrow.release(id));
  byId("refund", "Owners: pay it back to the payer", (id, options) => ownerClient(options).escrow.refund(id));
  byId("split", "Owners: part to the payee, the rest back", (id, options) => ownerClient(options).escrow.split(id, options.payeeAmount as number))
    .requiredOption("--payee-amount <minor>", "minor units to the payee", wholeNumber);
  byId("dispute", "Owners: hold it for a decision", (id, options) => ownerClient(options).escrow.dispute(id, options.reason as string | undefined))
    .option("--reason <text>");

  apiCommand(escrow, "capability", "The capability token of a funded intent's work (spend authorizations draw on the escrow)")
    .argument("<intent_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const capability = await agentClient(options).escrow.capability(id);
        print(options.json, capability, () => fields({ ...capability }));
      })(options, command),
    );

  apiCommand(escrow, "evidence", "As the payee: sign evidence with the payee's key and submit it (no Bursar credential needed)")
    .argument("<intent_id>")
    .requiredOption("--key-file <pem>", "the payee's evidence private key, PKCS#8 PEM (Ed25519 or P-256)")
    .requiredOption("--tenant <id>", "the intent's tenant (ten_…)")
    .requiredOption("--payee <id>", "the payee (pay_…)")
    .requiredOption("--payload <json>", "the evidence payload (or @file)", jsonValue)
    .option("--artifact <sha256>", "an artifact digest (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .action((id: string, options: CommonOptions & { keyFile: string; tenant: string; payee: string; payload: unknown; artifact?: string[] }, command: Command) =>
      action(async () => {
        const key = await importPrivateKeyPem(fs.readFileSync(options.keyFile, "utf8"));
        const body = await signEvidence(key, { tenantId: options.tenant, intentId: id, payeeId: options.payee, payload: options.payload, artifacts: (options.artifact ?? []).map((sha256) => ({ sha256 })) });
        const intent = await submitEscrowEvidence(options.apiUrl ?? "http://127.0.0.1:7420", id, body);
        print(options.json, intent, () => intentFields(intent));
      })(options, command),
    );

  const predicates = program.command("predicates").description("The predicate language: templates and dry runs");
  apiCommand(predicates, "preview", "Expand a template to its predicate and a plain-English summary")
    .argument("<template>")
    .option("--param <key=value>", "a parameter (repeatable)", parameter)
    .action((template: string, options: CommonOptions & { param?: Record<string, unknown> }, command: Command) =>
      action(async () => {
        const preview = await anyClient(options).predicates.preview(template, options.param ?? {});
        print(options.json, preview, () => `${preview.summary}\n${JSON.stringify(preview.predicate)}`);
      })(options, command),
    );
  apiCommand(predicates, "test", "Evaluate a predicate on evidence (exit 4 when it fails)")
    .requiredOption("--predicate <json>", "the predicate (or @file)", jsonValue)
    .requiredOption("--payload <json>", "the evidence payload (or @file)", jsonValue)
    .option("--schema <json>", "an evidence JSON Schema to validate against (or @file)", jsonValue)
    .option("--amount <minor>", "the intent's amount, for {field: amount}", wholeNumber)
    .action(
      action(async (options: CommonOptions & { predicate: Record<string, unknown>; payload: unknown; schema?: Record<string, unknown>; amount?: number }) => {
        const result = await anyClient(options).predicates.test({ predicate: options.predicate, evidence: { payload: options.payload }, evidence_schema: options.schema, amount: options.amount });
        const outcome = !result.valid ? `invalid: ${result.errors.map((error) => `${error.path} ${error.detail}`).join("; ")}` : result.evaluation!.passed ? "passed" : `failed at ${result.evaluation!.failing_node}: ${result.evaluation!.reason}`;
        print(options.json, result, () => `${outcome}\n${result.summary}`);
        if (!result.valid || !result.evaluation?.passed) process.exitCode = exitCodes.notPassed;
      }),
    );

  apiCommand(program, "reputation", "A payee's signed reputation receipt, verified with the tenant's key")
    .argument("<payee_id>")
    .action((payeeId: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const signed = await anyClient(options).reputation.get(payeeId);
        const { receipt } = signed;
        print(options.json, signed, () => fields({
          payee: receipt.payee_id, settled: receipt.counts.settled, released: receipt.counts.released, refunded: receipt.counts.refunded,
          split: receipt.counts.split, expired: receipt.counts.expired, disputed: receipt.counts.disputed, released_bps: receipt.rates_bps.released,
          median_release_seconds: receipt.time_to_release_seconds.median, journal_seq: receipt.journal_seq, verified: signed.verified,
        }));
      })(options, command),
    );
}
