/**
 * Tasks end to end over HTTP, on SQLite and PostgreSQL:
 * - the £30 bounty story with an independent CI reporter (a plain HTTP client holding a `ci:write`
 *   service-account key): create → start → submit → failing CI (`fix` offered, `ship` refused) →
 *   fix, new head, a stale report for the old head ignored, passing CI → the assignee's own review
 *   refused, an owner approves → ship → the bounty is in the assignee's wallet; the events arrive
 *   on a webhook endpoint filtered to the task (verified with `standardwebhooks`) and on the SSE
 *   stream with `?task_id=` (read with `eventsource`);
 * - the transition table over HTTP: a task in every status asked every action answers the next
 *   status or 409 `task_transition_not_allowed` with `current_status` and `available_actions`;
 * - cancel refunds; an agent of another tenant (and an agent of this tenant that is no party to
 *   the task) gets 404 on every task route; scopes an agent can never hold.
 */
import { EventSource } from "eventsource";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "@bursar/server";
import { onboard } from "./agents-support.js";
import { checkLedger } from "./books.js";
import { agentClient, expectStatus, putPolicy } from "./payments-support.js";
import { client, createTestTenant, listAll, startTestServer, storeKinds, TestClock } from "./support.js";
import { newHead, readyToShip, taskWorld, walletBalance, type TaskWorld } from "./tasks-support.js";
import { startReceiver, waitFor, type Receiver } from "./webhook-receiver.js";

const taskEventTypes = ["task.created", "task.updated", "task.submitted", "task.ci_updated", "task.reviewed", "task.shipped", "task.blocked", "task.cancelled"];

describe.each(storeKinds)("tasks over HTTP (%s)", (kind) => {
  let server: RunningServer;
  let world: TaskWorld;
  let receiver: Receiver;
  let ownerToken: string;

  beforeAll(async () => {
    server = await startTestServer(kind, { config: { allowPrivateWebhookTargets: true, webhookRetryBaseMs: 40, webhookPollIntervalMs: 30 } });
    const tenant = await createTestTenant(server.store);
    ownerToken = tenant.token;
    world = await taskWorld(server.url, tenant.token);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it("runs the £30 bounty story: failing CI offers fix and refuses ship, a stale report is ignored, self-review is refused, ship pays the assignee once", async () => {
    const { owner, creator, assignee, ci, creatorAgent, assigneeAgent } = world;
    const creatorBefore = await walletBalance(owner, creatorAgent.walletAccountId);
    const assigneeBefore = await walletBalance(owner, assigneeAgent.walletAccountId);
    const other = expectStatus(await creator.post("/v1/tasks", { title: "Another task", assignee_agent_id: assigneeAgent.agentId }), 201);

    const created = expectStatus(
      await creator.post("/v1/tasks", {
        title: "Fix the invoice rounding bug", acceptance_criteria: ["totals match the ledger"], priority: "high",
        assignee_agent_id: assigneeAgent.agentId, bounty: { amount: 3000, currency: "GBP" }, labels: ["billing"],
      }),
      201,
    );
    expect(created).toMatchObject({ status: "todo", available_actions: ["start", "block", "cancel", "report_ci"], bounty: { amount: 3000, amount_display: "30.00", status: "held", payer_agent_id: creatorAgent.agentId } });
    expect(created.bounty.escrow_intent_id).toBe(`int_${created.id}`);
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(creatorBefore - 3000);
    const id = created.id as string;

    // Listen from here: a webhook endpoint for this task only, and the stream from the start of the journal, filtered to it.
    const endpoint = expectStatus(await owner.post("/v1/webhook-endpoints", { url: receiver.url, event_types: ["task.*"], task_ids: [id] }), 201);
    expect(endpoint.task_ids).toEqual([id]);
    const streamed: any[] = [];
    const source = new EventSource(`${server.url}/v1/events/stream?after_seq=0&task_id=${id}`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), authorization: `Bearer ${ownerToken}` } }),
    });
    for (const type of [...taskEventTypes, "transfer.created", "escrow_intent.released"]) source.addEventListener(type, (message) => streamed.push(JSON.parse(message.data)));

    const headOne = newHead();
    expectStatus(await assignee.post(`/v1/tasks/${id}/start`), 200);
    const submitted = expectStatus(await assignee.post(`/v1/tasks/${id}/submit`, { summary: "Round per line", head_sha: headOne, checks: ["unit", "lint"], artifacts: [{ type: "pull_request", url: "https://github.com/acme/books/pull/43" }] }), 200);
    expect(submitted).toMatchObject({ status: "in_review", head_sha: headOne, ci_status: "pending" });

    const failing = expectStatus(await ci.post(`/v1/tasks/${id}/ci-reports`, { head_sha: headOne, checks: [{ name: "unit", status: "passed", duration_ms: 1200 }, { name: "lint", status: "failed", failure: "src/invoice.ts:12 no-unused-vars" }] }), 201);
    expect(failing).toMatchObject({ stale: false, ci_status: { overall_status: "failed", summary: { total: 2, passed: 1, failed: 1 }, failures: [{ name: "lint", failure: "src/invoice.ts:12 no-unused-vars" }] } });
    const afterFailure = expectStatus(await assignee.get(`/v1/tasks/${id}`), 200);
    expect(afterFailure.available_actions).toContain("fix");
    expect(afterFailure.available_actions).not.toContain("ship");
    const refusedShip = await assignee.post(`/v1/tasks/${id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: headOne }, { "idempotency-key": `ship-${id}-early` });
    expect(refusedShip.status).toBe(409);
    expect(refusedShip.body).toMatchObject({ code: "task_transition_not_allowed", current_status: "in_review", available_actions: afterFailure.available_actions });

    expectStatus(await assignee.post(`/v1/tasks/${id}/fix`), 200);
    const headTwo = newHead();
    expectStatus(await assignee.post(`/v1/tasks/${id}/submit`, { summary: "Lint fixed", head_sha: headTwo, checks: ["unit", "lint"] }), 200);
    // A late report for the old head: recorded, ignored.
    const stale = expectStatus(await ci.post(`/v1/tasks/${id}/ci-reports`, { head_sha: headOne, checks: [{ name: "unit", status: "passed" }, { name: "lint", status: "passed" }] }), 201);
    expect(stale).toMatchObject({ stale: true, ci_status: { head_sha: headTwo, overall_status: "pending", stale_reports: 1 } });
    expect(expectStatus(await owner.get(`/v1/tasks/${id}/ci-status`), 200)).toMatchObject({ head_sha: headTwo, overall_status: "pending", checks: [] });
    // Only one of the required checks: still pending.
    expectStatus(await ci.post(`/v1/tasks/${id}/ci-reports`, { head_sha: headTwo, checks: [{ name: "unit", status: "passed" }] }), 201);
    expect(expectStatus(await owner.get(`/v1/tasks/${id}/ci-status`), 200)).toMatchObject({ overall_status: "pending", missing_checks: ["lint"] });
    const passing = expectStatus(await ci.post(`/v1/tasks/${id}/ci-reports`, { head_sha: headTwo, checks: [{ name: "lint", status: "passed" }] }), 201);
    expect(passing.ci_status).toMatchObject({ overall_status: "passed", summary: { total: 2, passed: 2 } });
    expect(expectStatus(await assignee.get(`/v1/tasks/${id}`), 200).available_actions).not.toContain("ship");

    // The assignee may not review its own work, whatever it sends; an owner approves.
    const selfReview = await assignee.post(`/v1/tasks/${id}/reviews`, { outcome: "approved", summary: "LGTM" });
    expect(selfReview.status).toBe(403);
    expect(selfReview.body.code).toBe("self_review_forbidden");
    const reviewed = expectStatus(await owner.post(`/v1/tasks/${id}/reviews`, { outcome: "approved", summary: "Good", comments: [{ body: "nice test", severity: "note" }] }), 200);
    expect(reviewed.available_actions).toContain("ship");
    expect(expectStatus(await assignee.get(`/v1/tasks/${id}/review-feedback`), 200)).toMatchObject({ latest_decision: { outcome: "approved", head_sha: headTwo }, must_fix: [] });

    // Ship needs an Idempotency-Key and the current head.
    expect((await assignee.post(`/v1/tasks/${id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: headTwo })).body.code).toBe("validation_failed");
    const wrongHead = await assignee.post(`/v1/tasks/${id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: headOne }, { "idempotency-key": `ship-${id}-old` });
    expect(wrongHead.status).toBe(409);
    expect(wrongHead.body).toMatchObject({ code: "task_head_mismatch", current_status: "in_review" });
    const shipped = expectStatus(await assignee.post(`/v1/tasks/${id}/ship`, { mode: "merge_and_deploy", target_environment: "production", expected_head_sha: headTwo }, { "idempotency-key": `ship-${id}` }), 200);
    expect(shipped).toMatchObject({ status: "done", available_actions: [], bounty: { status: "released", paid_amount: 3000 }, shipped: { head_sha: headTwo, mode: "merge_and_deploy" } });
    expect(await walletBalance(owner, assigneeAgent.walletAccountId)).toBe(assigneeBefore + 3000);
    const escrow = expectStatus(await owner.get(`/v1/escrow-intents/${created.bounty.escrow_intent_id}`), 200);
    expect(escrow).toMatchObject({ status: "released", signature: { key_id: expect.stringMatching(/^bursar\/ten_/) }, settlement: { payee_amount: 3000 } });
    // The payer of record is the creator; what it signed is re-verifiable with the journal authority's key.
    expect(escrow.terms).toMatchObject({ payer_agent_id: creatorAgent.agentId, amount: 3000, currency: "GBP" });

    const expectedTypes = ["task.submitted", "task.ci_updated", "task.reviewed", "task.shipped"];
    await waitFor(() => expectedTypes.every((type) => receiver.received.some((r) => JSON.parse(r.body).type === type)), 10_000, "task webhooks");
    const webhook = new Webhook(endpoint.secret);
    for (const received of receiver.received) {
      const event = webhook.verify(received.body, received.headers) as any;
      expect(event.data.task.id).toBe(id);
      expect(event.type.startsWith("task.")).toBe(true);
    }
    const shippedHook = receiver.received.map((r) => JSON.parse(r.body)).find((event) => event.type === "task.shipped");
    expect(shippedHook.data).toMatchObject({ previous_status: "in_review", available_actions: [], changed_fields: expect.arrayContaining(["status", "bounty", "shipped"]) });

    await waitFor(() => streamed.some((event) => event.type === "task.shipped"), 10_000, "the stream's task.shipped");
    source.close();
    expect(streamed.map((event) => event.type)).toEqual(["task.created", "task.updated", "task.submitted", "task.ci_updated", "task.updated", "task.submitted", "task.ci_updated", "task.ci_updated", "task.reviewed", "task.shipped"]);
    for (const event of streamed) expect(event.data.task.id).toBe(id);
    expect(streamed.some((event) => event.data.task.id === other.id)).toBe(false);
    await checkLedger(owner);
  });

  it("cancel refunds a held bounty to the payer; a task without an assignee holds nothing until then", async () => {
    const { owner, creator, creatorAgent, assigneeAgent } = world;
    const before = await walletBalance(owner, creatorAgent.walletAccountId);
    const unassigned = expectStatus(await creator.post("/v1/tasks", { title: "Later", bounty: { amount: 500, currency: "GBP" } }), 201);
    expect(unassigned.bounty).toMatchObject({ status: "unassigned", escrow_intent_id: null });
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before);
    const task = expectStatus(await creator.post("/v1/tasks", { title: "Called off", assignee_agent_id: assigneeAgent.agentId, bounty: { amount: 700, currency: "GBP" } }), 201);
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before - 700);
    const assigneeCancel = await world.assignee.post(`/v1/tasks/${task.id}/cancel`, {});
    expect([403, 404]).toContain(assigneeCancel.status);
    const cancelled = expectStatus(await creator.post(`/v1/tasks/${task.id}/cancel`, { reason: "not needed" }), 200);
    expect(cancelled).toMatchObject({ status: "cancelled", bounty: { status: "refunded", paid_amount: 0 }, available_actions: [] });
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before);
    const again = await creator.post(`/v1/tasks/${task.id}/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "task_transition_not_allowed", current_status: "cancelled", available_actions: [] });
  });

  it("assigns a task later (its bounty held then, once), and changes what it says; only its creator or an owner may", async () => {
    const { owner, creator, creatorAgent, assigneeAgent } = world;
    const before = await walletBalance(owner, creatorAgent.walletAccountId);
    const task = expectStatus(await creator.post("/v1/tasks", { title: "Unassigned", bounty: { amount: 600, currency: "GBP" } }), 201);
    // The assignee-to-be holds no tasks:write, and is no party to the task yet.
    expect((await world.assignee.call("PATCH", `/v1/tasks/${task.id}`, { assignee_agent_id: assigneeAgent.agentId })).body.code).toBe("insufficient_scope");
    const assigned = expectStatus(await creator.call("PATCH", `/v1/tasks/${task.id}`, { assignee_agent_id: assigneeAgent.agentId, priority: "critical" }), 200);
    expect(assigned).toMatchObject({ assignee_agent_id: assigneeAgent.agentId, priority: "critical", bounty: { status: "held", escrow_intent_id: `int_${task.id}` } });
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before - 600);
    const updated = (await listAll(owner, "/v1/events?type=task.updated")).find((event) => event.data.task.id === task.id);
    expect(updated.data.changed_fields).toEqual(["priority", "assignee_agent_id", "bounty"]);
    // Assigned once: another assignment is a refused transition; the assignee may not edit it.
    const again = await owner.call("PATCH", `/v1/tasks/${task.id}`, { assignee_agent_id: creatorAgent.agentId });
    expect(again.body).toMatchObject({ code: "task_transition_not_allowed", current_status: "todo" });
    expect((await world.assignee.call("PATCH", `/v1/tasks/${task.id}`, { title: "mine now" })).body.code).toBe("insufficient_scope");
    expect(expectStatus(await owner.call("PATCH", `/v1/tasks/${task.id}`, { title: "Renamed" }), 200).title).toBe("Renamed");
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before - 600);
  });

  it("a bounty whose funding needs approval: ship waits for it; approved, ship pays; cancelled while pending, the hold is released", async () => {
    const { owner, creator, creatorAgent, assigneeAgent } = world;
    await putPolicy(owner, creatorAgent.agentId, { approval_threshold_minor: 2000 });
    const before = await walletBalance(owner, creatorAgent.walletAccountId);
    const task = expectStatus(await creator.post("/v1/tasks", { title: "Approve me", assignee_agent_id: assigneeAgent.agentId, bounty: { amount: 2500, currency: "GBP" } }), 201);
    expect(task.bounty.status).toBe("pending_approval");
    const head = newHead();
    expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/start`), 200);
    expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/submit`, { summary: "s", head_sha: head }), 200);
    expectStatus(await world.ci.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: head, checks: [{ name: "unit", status: "passed" }] }), 201);
    const reviewed = expectStatus(await owner.post(`/v1/tasks/${task.id}/reviews`, { outcome: "approved", summary: "ok" }), 200);
    expect(reviewed.available_actions).not.toContain("ship");
    const early = await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `ship-${task.id}-early` });
    expect(early.body).toMatchObject({ code: "task_transition_not_allowed", detail: expect.stringContaining("approval") });
    const [approval] = (await listAll(owner, "/v1/approvals?status=pending")).filter((row) => row.subject_id === task.bounty.escrow_intent_id);
    expectStatus(await owner.post(`/v1/approvals/${approval.id}/approve`), 200);
    expect(expectStatus(await owner.get(`/v1/tasks/${task.id}`), 200)).toMatchObject({ bounty: { status: "held" }, available_actions: expect.arrayContaining(["ship"]) });
    const shipped = expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `ship-${task.id}` }), 200);
    expect(shipped.bounty).toMatchObject({ status: "released", paid_amount: 2500 });

    const pending = expectStatus(await creator.post("/v1/tasks", { title: "Called off before approval", assignee_agent_id: assigneeAgent.agentId, bounty: { amount: 2200, currency: "GBP" } }), 201);
    expect(pending.bounty.status).toBe("pending_approval");
    const cancelled = expectStatus(await creator.post(`/v1/tasks/${pending.id}/cancel`, {}), 200);
    expect(cancelled.bounty).toMatchObject({ status: "refunded", paid_amount: 0 });
    const [closed] = (await listAll(owner, "/v1/approvals")).filter((row) => row.subject_id === pending.bounty.escrow_intent_id);
    expect(closed.status).toBe("cancelled");
    expect(expectStatus(await owner.get(`/v1/accounts/${creatorAgent.walletAccountId}`), 200)).toMatchObject({ balance: before - 2500, debits_pending: 0 });
    await putPolicy(owner, creatorAgent.agentId, {});
    await checkLedger(owner);
  });

  it("refuses a bounty the payer's policy denies, writing nothing; a predicate that fails on the ship refuses the ship", async () => {
    const { owner, creator, creatorAgent, assigneeAgent } = world;
    await putPolicy(owner, creatorAgent.agentId, { per_transaction_max_minor: 1000 });
    const tasksBefore = (await listAll(owner, "/v1/tasks")).length;
    const denied = await creator.post("/v1/tasks", { title: "Too dear", assignee_agent_id: assigneeAgent.agentId, bounty: { amount: 5000, currency: "GBP" } });
    expect(denied.status).toBe(422);
    expect(denied.body.code).toBe("bounty_denied");
    expect((await listAll(owner, "/v1/tasks")).length).toBe(tasksBefore);
    await putPolicy(owner, creatorAgent.agentId, {});
    // An owner cannot make an agent pay from another agent's wallet by impersonation: the payer is named, and an agent can only name itself.
    const borrowed = await creator.post("/v1/tasks", { title: "x", assignee_agent_id: assigneeAgent.agentId, bounty: { amount: 100, currency: "GBP", payer_agent_id: assigneeAgent.agentId } });
    expect(borrowed.status).toBe(404);

    const predicate = { version: 1, root: { op: "any", over: { ptr: "/artifacts" }, where: { op: "eq", left: { item: "/sha256" }, right: { const: "report-digest" } } } };
    const task = expectStatus(await creator.post("/v1/tasks", { title: "Needs the report", assignee_agent_id: assigneeAgent.agentId, review_required: false, bounty: { amount: 400, currency: "GBP", predicate } }), 201);
    const head = newHead();
    await readyToShip(world, task, head, { review: false });
    const refused = await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `ship-${task.id}` });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe("bounty_predicate_failed");
    expect(expectStatus(await owner.get(`/v1/tasks/${task.id}`), 200)).toMatchObject({ status: "in_review", bounty: { status: "held" } });
    // A review asks for the report; resubmitted with it (same head, so CI stands), it ships and pays.
    expectStatus(await owner.post(`/v1/tasks/${task.id}/reviews`, { outcome: "changes_requested", summary: "attach the report", comments: [{ body: "attach it", severity: "must_fix" }] }), 200);
    expect(expectStatus(await world.assignee.get(`/v1/tasks/${task.id}/review-feedback`), 200).must_fix).toHaveLength(1);
    expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/fix`), 200);
    expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/submit`, { summary: "with report", head_sha: head, checks: ["unit"], artifacts: [{ type: "doc", url: "https://example.com/report.pdf", sha256: "report-digest" }] }), 200);
    const assigneeBefore = await walletBalance(owner, assigneeAgent.walletAccountId);
    const shipped = expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `ship-${task.id}-2` }), 200);
    expect(shipped.bounty).toMatchObject({ status: "released", paid_amount: 400 });
    expect(await walletBalance(owner, assigneeAgent.walletAccountId)).toBe(assigneeBefore + 400);
  });

  it("answers the transition table over HTTP: each status × each action → the next status, or 409 with current_status and available_actions", async () => {
    const actors = () => ({
      start: [world.assignee, "start", undefined],
      submit: [world.assignee, "submit", { summary: "s", head_sha: newHead() }],
      fix: [world.assignee, "fix", undefined],
      ship: [world.assignee, "ship", null],
      block: [world.assignee, "block", { reason: "stuck" }],
      resolve_blocker: [world.assignee, "resolve-blocker", undefined],
      cancel: [world.creator, "cancel", {}],
      review: [world.owner, "reviews", { outcome: "changes_requested", summary: "more" }],
      report_ci: [world.ci, "ci-reports", null],
    }) as Record<string, [any, string, unknown]>;
    const expected: Record<string, Record<string, string>> = {
      todo: { start: "in_progress", submit: "409", fix: "409", ship: "409", block: "blocked", resolve_blocker: "409", cancel: "cancelled", review: "409", report_ci: "todo" },
      in_progress: { start: "409", submit: "in_review", fix: "409", ship: "409", block: "blocked", resolve_blocker: "409", cancel: "cancelled", review: "409", report_ci: "in_progress" },
      in_review: { start: "409", submit: "409", fix: "409", ship: "409", block: "blocked", resolve_blocker: "409", cancel: "cancelled", review: "in_review", report_ci: "in_review" },
      blocked: { start: "409", submit: "409", fix: "409", ship: "409", block: "409", resolve_blocker: "in_progress", cancel: "cancelled", review: "409", report_ci: "blocked" },
      done: { start: "409", submit: "409", fix: "409", ship: "409", block: "409", resolve_blocker: "409", cancel: "409", review: "409", report_ci: "409" },
      cancelled: { start: "409", submit: "409", fix: "409", ship: "409", block: "409", resolve_blocker: "409", cancel: "409", review: "409", report_ci: "409" },
    };
    const available: Record<string, string[]> = {
      todo: ["start", "block", "cancel", "report_ci"],
      in_progress: ["submit", "block", "cancel", "report_ci"],
      in_review: ["block", "cancel", "review", "report_ci"],
      blocked: ["resolve_blocker", "cancel", "report_ci"],
      done: [],
      cancelled: [],
    };
    async function taskIn(status: string): Promise<{ id: string; head: string }> {
      const task = expectStatus(await world.creator.post("/v1/tasks", { title: `table ${status}`, assignee_agent_id: world.assigneeAgent.agentId }), 201);
      const head = newHead();
      const go = async (api: any, path: string, body?: unknown) => expectStatus(await api.post(`/v1/tasks/${task.id}/${path}`, body), 200);
      if (status === "todo") return { id: task.id, head };
      if (status === "cancelled") return (await go(world.creator, "cancel", {}), { id: task.id, head });
      await go(world.assignee, "start");
      if (status === "in_progress") return { id: task.id, head };
      if (status === "blocked") return (await go(world.assignee, "block", { reason: "x" }), { id: task.id, head });
      await go(world.assignee, "submit", { summary: "s", head_sha: head, checks: ["unit"] });
      if (status === "in_review") return { id: task.id, head };
      expectStatus(await world.ci.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: head, checks: [{ name: "unit", status: "passed" }] }), 201);
      expectStatus(await world.owner.post(`/v1/tasks/${task.id}/reviews`, { outcome: "approved", summary: "ok" }), 200);
      expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `table-${task.id}` }), 200);
      return { id: task.id, head };
    }
    for (const [status, row] of Object.entries(expected)) {
      for (const [action, next] of Object.entries(row)) {
        const task = await taskIn(status);
        const [api, path, fixedBody] = actors()[action]!;
        const body = action === "ship" ? { mode: "merge", target_environment: "production", expected_head_sha: task.head } : action === "report_ci" ? { head_sha: task.head, checks: [{ name: "unit", status: "running" }] } : fixedBody;
        const response = await api.post(`/v1/tasks/${task.id}/${path}`, body, { "idempotency-key": `${task.id}-${action}` });
        const label = `${status} × ${action}: ${JSON.stringify(response.body)}`;
        if (next === "409") {
          expect(response.status, label).toBe(409);
          expect(response.body, label).toMatchObject({ code: "task_transition_not_allowed", current_status: status, available_actions: available[status] });
        } else {
          expect([200, 201], label).toContain(response.status);
          const after = expectStatus(await world.owner.get(`/v1/tasks/${task.id}`), 200);
          expect(after.status, label).toBe(next);
        }
      }
    }
  }, 120_000);

  it("an agent of another tenant, and an agent of this tenant that is no party to the task, get 404 on every task route", async () => {
    const task = expectStatus(await world.creator.post("/v1/tasks", { title: "Private", assignee_agent_id: world.assigneeAgent.agentId }), 201);
    const otherTenant = await createTestTenant(server.store, "Other");
    const otherOwner = client(server.url, otherTenant.token);
    const outsiderAgent = await onboard(server.url, otherOwner, { scopes: ["agents:execute", "tasks:write", "events:read"] });
    const outsider = await agentClient(server.url, outsiderAgent);
    const outsiderCi = client(server.url, expectStatus(await otherOwner.post("/v1/api-keys", { name: "ci", scopes: ["ci:write"] }), 201).key);
    const bystanderAgent = await onboard(server.url, world.owner, { scopes: ["agents:execute", "tasks:write", "events:read"] });
    const bystander = await agentClient(server.url, bystanderAgent);
    const head = newHead();
    const routes: Array<[string, string, unknown]> = [
      ["GET", "", undefined], ["PATCH", "", { title: "mine" }], ["GET", "/ci-status", undefined], ["GET", "/review-feedback", undefined],
      ["POST", "/start", {}], ["POST", "/submit", { summary: "x" }], ["POST", "/fix", {}], ["POST", "/block", { reason: "x" }],
      ["POST", "/resolve-blocker", {}], ["POST", "/cancel", {}], ["POST", "/reviews", { outcome: "approved", summary: "x" }],
      ["POST", "/ship", { mode: "merge", target_environment: "production", expected_head_sha: head }],
    ];
    for (const api of [outsider, bystander, otherOwner]) {
      for (const [method, suffix, body] of routes) {
        const response = await api.call(method, `/v1/tasks/${task.id}${suffix}`, body, { "idempotency-key": `probe-${Math.random()}` });
        expect(response.status, `${method} ${suffix}: ${JSON.stringify(response.body)}`).toBe(404);
        expect(response.body.code).toBe("not_found");
      }
    }
    for (const api of [outsiderCi]) {
      const response = await api.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: head, checks: [{ name: "unit", status: "passed" }] });
      expect(response.status).toBe(404);
    }
    expect((await outsider.get("/v1/tasks")).body.data).toEqual([]);
    expect((await outsider.get("/v1/tasks/mine")).body.data).toEqual([]);
    expect((await otherOwner.get("/v1/tasks")).body.data).toEqual([]);
    // An agent assigning to another tenant's agent: not found.
    expect((await outsider.post("/v1/tasks", { title: "x", assignee_agent_id: world.assigneeAgent.agentId })).status).toBe(404);
    const mine = expectStatus(await world.assignee.get("/v1/tasks/mine"), 200);
    expect(mine.data.some((row: any) => row.id === task.id)).toBe(true);
    // A task list is a record list: it says the journal position it was read at (stream from it to miss nothing).
    const journalSize = expectStatus(await world.owner.get("/v1/journal/checkpoint"), 200).tree_size;
    expect(mine.journal_seq).toBeGreaterThan(0);
    expect(mine.journal_seq).toBeLessThanOrEqual(journalSize);
    expect(expectStatus(await world.owner.get("/v1/tasks"), 200).journal_seq).toBeGreaterThanOrEqual(journalSize);
  });

  it("never lets an agent credential hold ci:write or reviews:write, and the assignee cannot report its own CI", async () => {
    const agent = await onboard(server.url, world.owner, { scopes: ["agents:execute"] });
    const minted = await world.owner.post("/v1/registration-tickets", { agent_id: agent.agentId, scopes: ["agents:execute", "ci:write"] });
    expect(minted.status).toBe(422);
    const key = await world.owner.post("/v1/api-keys", { name: "x", agent_id: world.assigneeAgent.agentId, scopes: ["ci:write"] });
    expect(key.body.code).toBe("owner_only_scope");
    const task = expectStatus(await world.creator.post("/v1/tasks", { title: "CI", assignee_agent_id: world.assigneeAgent.agentId }), 201);
    const own = await world.assignee.post(`/v1/tasks/${task.id}/ci-reports`, { head_sha: newHead(), checks: [{ name: "unit", status: "passed" }] });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe("insufficient_scope");
    // Malformed CI input is a 4xx with a stable code, never a 5xx.
    for (const body of [{ head_sha: "not-hex", checks: [{ name: "u", status: "passed" }] }, { head_sha: newHead(), checks: [] }, { head_sha: newHead(), checks: [{ name: "u", status: "green" }] }, "{"]) {
      const response = await world.ci.post(`/v1/tasks/${task.id}/ci-reports`, body);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
    }
  });
});

describe("a task's bounty past its due time", () => {
  const clock = new TestClock(Date.now());
  let server: RunningServer;
  let world: TaskWorld;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { clock });
    world = await taskWorld(server.url, (await createTestTenant(server.store)).token);
  });
  afterAll(async () => server?.close());

  it("is refunded to the payer by the deadline sweep; the task can still ship, paying nothing", async () => {
    const { owner, creator, creatorAgent, assigneeAgent } = world;
    const before = await walletBalance(owner, creatorAgent.walletAccountId);
    const task = expectStatus(await creator.post("/v1/tasks", { title: "Due soon", assignee_agent_id: assigneeAgent.agentId, due_at: new Date(clock.nowMs() + 30_000).toISOString(), bounty: { amount: 800, currency: "GBP" } }), 201);
    expect(task.bounty.status).toBe("held");
    const head = newHead();
    await readyToShip(world, task, head);
    clock.advance(29_000);
    expect((await server.sweeper.sweepOnce()).expiredEscrowIntents).toBe(0);
    clock.advance(1_000);
    expect((await server.sweeper.sweepOnce()).expiredEscrowIntents).toBe(1);
    expect(expectStatus(await owner.get(`/v1/tasks/${task.id}`), 200).bounty).toMatchObject({ status: "expired", paid_amount: 0 });
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before);
    const assigneeBefore = await walletBalance(owner, assigneeAgent.walletAccountId);
    const shipped = expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `ship-${task.id}` }), 200);
    expect(shipped).toMatchObject({ status: "done", bounty: { status: "expired", paid_amount: 0 } });
    expect(await walletBalance(owner, assigneeAgent.walletAccountId)).toBe(assigneeBefore);
    await checkLedger(owner);
  });

  it("expires inside a ship that comes after the deadline, before any sweep: the ship pays nothing and the payer gets it back", async () => {
    const { owner, creator, creatorAgent, assigneeAgent } = world;
    const before = await walletBalance(owner, creatorAgent.walletAccountId);
    const task = expectStatus(await creator.post("/v1/tasks", { title: "Late", assignee_agent_id: assigneeAgent.agentId, due_at: new Date(clock.nowMs() + 20_000).toISOString(), bounty: { amount: 900, currency: "GBP" } }), 201);
    const head = newHead();
    await readyToShip(world, task, head);
    clock.advance(21_000);
    const assigneeBefore = await walletBalance(owner, assigneeAgent.walletAccountId);
    const shipped = expectStatus(await world.assignee.post(`/v1/tasks/${task.id}/ship`, { mode: "merge", target_environment: "production", expected_head_sha: head }, { "idempotency-key": `ship-${task.id}` }), 200);
    expect(shipped).toMatchObject({ status: "done", bounty: { status: "expired", paid_amount: 0 } });
    expect(await walletBalance(owner, assigneeAgent.walletAccountId)).toBe(assigneeBefore);
    expect(await walletBalance(owner, creatorAgent.walletAccountId)).toBe(before);
    await checkLedger(owner);
  });
});
