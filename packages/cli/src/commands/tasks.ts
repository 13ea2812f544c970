/**
 * `bursar tasks mine|show|start|submit|ship|review|ci` (docs/tasks.md): the assignee's side of a
 * task from the stored agent credential (or an owner's with `--token`), reviews by an owner, and
 * CI: `ci <id>` shows the current head's checks, and with `--head` and `--check name=status` posts
 * a report (the token is then a CI service-account key with `ci:write`).
 */
import fs from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { CiCheckStatus, Task, TaskArtifactType } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { action, agentClient, anyClient, apiCommand, exitCodes, ownerClient, type CommonOptions } from "./context.js";

const checkStatuses: readonly CiCheckStatus[] = ["queued", "running", "passed", "failed", "cancelled", "skipped"];
const artifactTypes: readonly TaskArtifactType[] = ["pull_request", "commit", "doc", "ci_run", "other"];

/** The assignee (the stored agent), or an owner when `--token` names one. */
const worker = (options: CommonOptions) => (options.token ? ownerClient(options) : agentClient(options));

const taskRow = (task: Task) => ({
  id: task.id,
  title: task.title,
  status: task.status,
  priority: task.priority,
  bounty: task.bounty ? `${task.bounty.amount_display} ${task.bounty.currency} (${task.bounty.status})` : null,
  next: task.available_actions.join(","),
});
const taskFields = (task: Task) =>
  fields({
    ...taskRow(task),
    assignee: task.assignee_agent_id,
    head: task.head_sha,
    ci: task.ci_status,
    review: task.review_status,
    blocker: task.blocker ? `${task.blocker.reason}${task.blocker.action_required ? ` (needs: ${task.blocker.action_required})` : ""}` : null,
    due: task.due_at,
    next: task.available_actions,
  });

function check(value: string, previous: Array<{ name: string; status: CiCheckStatus }> = []) {
  const at = value.lastIndexOf("=");
  const status = value.slice(at + 1) as CiCheckStatus;
  if (at <= 0 || !checkStatuses.includes(status)) throw new InvalidArgumentError(`Expected name=status, status one of ${checkStatuses.join(", ")}.`);
  return [...previous, { name: value.slice(0, at), status }];
}

function artifact(value: string, previous: Array<{ type: TaskArtifactType; url: string }> = []) {
  const at = value.indexOf("=");
  const type = value.slice(0, at) as TaskArtifactType;
  if (at <= 0 || !artifactTypes.includes(type)) throw new InvalidArgumentError(`Expected type=url, type one of ${artifactTypes.join(", ")}.`);
  return [...previous, { type, url: value.slice(at + 1) }];
}

export function taskCommands(program: Command): void {
  const tasks = program.command("tasks").description("Tasks: delegated work with CI, review, ship and an escrowed bounty");

  apiCommand(tasks, "mine", "The stored agent's tasks (assigned to it), newest first")
    .option("--status <status>", "only this status")
    .action(
      action(async (options: CommonOptions & { status?: Task["status"] }) => {
        const page = await agentClient(options).tasks.mine({ status: options.status });
        print(options.json, page.data, () => table(page.data.map(taskRow)));
      }),
    );

  const byId = (name: string, description: string, run: (id: string, options: CommonOptions & Record<string, unknown>) => Promise<Task>) =>
    apiCommand(tasks, name, description)
      .argument("<task_id>")
      .action((id: string, options: CommonOptions & Record<string, unknown>, command: Command) =>
        action(async () => {
          const task = await run(id, options);
          print(options.json, task, () => taskFields(task));
        })(options, command),
      );

  byId("show", "Show a task and what can be done to it now", (id, options) => anyClient(options).tasks.get(id));
  byId("start", "Start a todo task", (id, options) => worker(options).tasks.start(id));
  byId("submit", "Submit the work for review", (id, options) =>
    worker(options).tasks.submit(id, {
      summary: options.summary as string, head_sha: options.head as string | undefined, checks: (options.require as string[] | undefined) ?? [],
      artifacts: (options.artifact as Array<{ type: TaskArtifactType; url: string }> | undefined) ?? [],
    }),
  )
    .requiredOption("--summary <text>", "what was done")
    .option("--head <sha>", "the commit submitted")
    .option("--require <check>", "a CI check that must pass (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--artifact <type=url>", "pull_request=…, commit=…, doc=…, ci_run=…, other=… (repeatable)", artifact);
  byId("ship", "Ship: in_review → done, releasing the bounty (one Idempotency-Key for every retry)", (id, options) =>
    worker(options).tasks.ship(id, { mode: options.mode as "merge", target_environment: options.environment as string, expected_head_sha: options.head as string }, { idempotencyKey: (options.idempotencyKey as string | undefined) ?? `ship-${id}-${options.head as string}` }),
  )
    .requiredOption("--head <sha>", "the head you expect to ship (refused when the task's differs)")
    .addOption(new Option("--mode <mode>").choices(["merge", "deploy", "merge_and_deploy"]).default("merge"))
    .option("--environment <name>", "the target environment", "production")
    .option("--idempotency-key <key>", "default: ship-<task>-<head>, the same on every retry");
  byId("review", "Review the current head (an owner with reviews:write, or the task's reviewer agent)", (id, options) =>
    anyClient(options).tasks.review(id, {
      outcome: options.changesRequested ? "changes_requested" : "approved", summary: options.summary as string,
      comments: ((options.mustFix as string[] | undefined) ?? []).map((body) => ({ body, severity: "must_fix" as const })),
    }),
  )
    .requiredOption("--summary <text>", "the review")
    .option("--changes-requested", "request changes (default: approve)")
    .option("--must-fix <comment>", "a must-fix comment (repeatable)", (value: string, previous: string[] = []) => [...previous, value]);

  apiCommand(tasks, "ci", "Show the current head's CI; with --head and --check, post a report (a ci:write key as --token)")
    .argument("<task_id>")
    .option("--head <sha>", "the head the report is for")
    .option("--check <name=status>", "a check and its status (repeatable)", check)
    .option("--checks-file <json>", "or: the checks as a JSON array file")
    .action((id: string, options: CommonOptions & { head?: string; check?: Array<{ name: string; status: CiCheckStatus }>; checksFile?: string }, command: Command) =>
      action(async () => {
        if (options.head) {
          const checks = options.checksFile ? JSON.parse(fs.readFileSync(options.checksFile, "utf8")) : (options.check ?? []);
          const report = await ownerClient(options).tasks.reportCi(id, { head_sha: options.head, checks });
          print(options.json, report, () => fields({ report: report.id, head: report.head_sha, stale: report.stale, overall: report.ci_status.overall_status }));
          return;
        }
        const status = await anyClient(options).tasks.ciStatus(id);
        print(options.json, status, () =>
          `${fields({ head: status.head_sha, overall: status.overall_status, missing: status.missing_checks, stale_reports: status.stale_reports })}\n${table(status.checks.map((c) => ({ name: c.name, status: c.status, failure: c.failure ?? null })))}`,
        );
        if (status.overall_status === "failed") process.exitCode = exitCodes.notPassed;
      })(options, command),
    );
}
