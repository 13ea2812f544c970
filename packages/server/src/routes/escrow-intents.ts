/**
 * `/v1/escrow-intents`: money held for a payee's work, released on payee-signed evidence
 * (docs/escrow.md). The paying agent (scope `agents:execute`; owners name it with `agent_id`)
 * creates and funds; evidence is posted by the payee, authenticated by its signature only; owners
 * refund, split and dispute; the payer or an owner releases. `/v1/predicates/*` are dry runs of
 * the predicate language, and `/v1/payees/{id}/reputation` a signed receipt of a payee's record.
 */
import {
  checkEvidenceSignature,
  createEscrowIntent,
  decideEscrowIntent,
  escrowIntentView,
  evaluatePredicate,
  expandTemplate,
  fundEscrowIntent,
  importPublicJwk,
  issueEscrowCapability,
  loadRecord,
  parsePredicate,
  payeeReputation,
  predicateBodyJsonDepthMax,
  describePredicate,
  escrowEvidenceSchemaDepthMax,
  submitEscrowEvidence,
  wire,
  type EscrowDecision,
  type EscrowIntentBody,
  type FieldError,
  type PrincipalKey,
  type SigningKeyBody,
} from "@bursar/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ProblemError } from "../http/problem.js";
import { inputSchemaProblem, unsafeSchemaPattern, validatePayload } from "../services/schemas.js";
import type { RouteModule } from "./context.js";
import { actingAgentId, forActingAgent, orProblem } from "./context.js";
import { recordReadRoutes } from "./records.js";

const tags = ["escrow intents"];
const config = { scopes: ["agents:execute"] } as const;
const evidenceActor = { type: "system", id: "payee_evidence" } as const;

const reads = recordReadRoutes<EscrowIntentBody>({
  path: "/v1/escrow-intents",
  kind: "escrow_intent",
  noun: "escrow intent",
  tag: tags[0]!,
  scope: "agents:execute",
  view: escrowIntentView,
  schema: wire.escrowIntent,
  listDescription: "Escrow intents, newest first; filter by `agent_id` (the payer) and `status`. An agent sees the intents it pays for.",
  getDescription: "One escrow intent: its signed terms and principal signature (re-verifiable), the funding hold, evidence attempts and their predicate results, and how it settled.",
  listExample: "status=funded",
});

/**
 * ReDoS: the payer's evidence schema runs on the payee's payload, so every `pattern` must run on
 * the linear-time engine (services/schemas.ts); refused with the pattern's path.
 */
function refuseUnsafePatterns(schema: Record<string, unknown>): void {
  const unsafe = unsafeSchemaPattern(schema);
  if (!unsafe) return;
  const path = `evidence_schema.${unsafe.path}`;
  throw new ProblemError("schema_pattern_unsafe", `${path}: ${unsafe.detail}`, { errors: [{ path, code: "schema_pattern_unsafe", detail: unsafe.detail }] });
}

/** An evidence schema is compiled by ajv: refuse one that does not compile or nests too deep. */
function evidenceSchemaProblem(schema: Record<string, unknown>): string | null {
  const depth = (value: unknown, level: number): number => {
    if (level > 64 || typeof value !== "object" || value === null) return level;
    let deepest = level;
    for (const inner of Object.values(value)) deepest = Math.max(deepest, depth(inner, level + 1));
    return deepest;
  };
  if (depth(schema, 0) > escrowEvidenceSchemaDepthMax) return `the schema nests more than ${escrowEvidenceSchemaDepthMax} levels`;
  return inputSchemaProblem(schema);
}

export const escrowIntentRoutes: RouteModule = (app, deps) => {
  const { mutate, store, clock, rails } = deps;

  /** The signing key a create request names: a live credential binding of the paying agent. */
  async function signingKey(request: FastifyRequest, agentId: string, named: string | undefined): Promise<PrincipalKey> {
    const own = request.principal.agentId !== null && request.principal.credentialId.startsWith("cb_") ? request.principal.credentialId : undefined;
    const keyId = named ?? own;
    if (keyId === undefined) throw new ProblemError("signing_key_not_found", "name the key that signed with signing_key_id: the payer's credential binding (cb_…) or an owner's signing key (sk_…)");
    if (keyId.startsWith("sk_")) {
      // An owner's key signs only for an owner's request: an agent cannot borrow an owner's assent.
      const key = request.principal.agentId === null ? await loadRecord<SigningKeyBody>(store.read, request.principal.tenantId, "signing_key", keyId) : null;
      if (!key || key.body.status !== "active") throw new ProblemError("signing_key_not_found", `${keyId} is not an active signing key of this tenant's owners`);
      return { id: key.id, jwk: key.body.public_key_jwk, algorithm: key.body.algorithm };
    }
    const binding = await store.read.findCredentialBinding(keyId);
    if (!binding || binding.tenantId !== request.principal.tenantId || binding.agentId !== agentId || binding.revokedAtMs !== null) {
      throw new ProblemError("signing_key_not_found", `${keyId} is not a live credential binding of agent ${agentId}`);
    }
    const imported = importPublicJwk(binding.publicKeyJwk);
    if (!imported.ok) throw new ProblemError("signing_key_not_found", `${keyId} holds no usable key`);
    return { id: binding.id, jwk: imported.value.jwk, algorithm: imported.value.algorithm };
  }

  app.post(
    "/v1/escrow-intents",
    {
      schema: {
        tags,
        summary: "Create an escrow intent signed by the paying agent (optionally funding it)",
        description:
          "Money held for a payee's work, released when the payee submits signed evidence that passes the predicate (docs/escrow.md). The `id` (`int_…`) is chosen by the client and is the idempotency key: the same id with the same signed terms answers the intent, with other terms `escrow_intent_exists`. `signature` is the payer's signature over the terms (`bursar-escrow-intent-v1.` + the digest of their RFC 8785 JSON) with its credential binding, or, for an owner creating for `agent_id`, with an owner's signing key (`sk_…`); the payee must have an evidence key whose thumbprint is `payee_key_thumbprint`. The answer is 201, status `open`, with `terms` and `signature` so anyone can re-verify them; `fund: true` funds it in the same request. Refusals write nothing.",
        body: wire.createEscrowIntentBody,
        response: { 201: wire.escrowIntent },
      },
      config: {
        ...config,
        jsonDepthMax: predicateBodyJsonDepthMax,
        errors: [
          "agent_disabled", "currency_mismatch", "escrow_intent_exists", "evidence_schema_invalid", "not_found", "payee_evidence_key_missing",
          "payee_key_mismatch", "payee_not_found", "predicate_invalid", "principal_signature_invalid", "schema_pattern_unsafe", "signing_key_not_found",
        ],
        example: {
          body: {
            id: "int_report-2026-q2", payee_id: "pay_01JEXAMPLE0000000000000000", payee_key_thumbprint: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
            amount: 5000, currency: "GBP", deadline: "2026-12-31T00:00:00Z", evidence_schema: { type: "object", required: ["status"] },
            predicate: { version: 1, root: { op: "eq", left: { ptr: "/payload/status" }, right: { const: 200 } } }, allowed_operations: ["tools.*"],
            release_mode: "auto", signature: "nosTPUuHrMxbZkax8ye7UlryDHnaikN5JghpKBOIxcDPqqvnHek4gsLR5yoCLos8nNUWoioe-3mXnMni0TyWCA", fund: true,
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const key = await signingKey(request, actingAgentId(request, body.agent_id), body.signing_key_id);
      refuseUnsafePatterns(body.evidence_schema);
      const schemaProblem = evidenceSchemaProblem(body.evidence_schema);
      if (schemaProblem) throw new ProblemError("evidence_schema_invalid", schemaProblem, { errors: [{ path: "evidence_schema", code: "evidence_schema_invalid", detail: schemaProblem }] });
      return mutate(
        request,
        reply,
        forActingAgent(request, body.agent_id, async (context, agent) => {
          const created = await createEscrowIntent(context, agent, {
            intentId: body.id, payeeId: body.payee_id, payeeKeyThumbprint: body.payee_key_thumbprint, amountMinor: body.amount,
            currency: body.currency, deadline: body.deadline, releaseMode: body.release_mode, costPath: body.cost_path,
            evidenceSchema: body.evidence_schema, predicate: body.predicate, allowedOperations: body.allowed_operations,
            description: body.description ?? null, metadata: body.metadata ?? null, signature: body.signature, key,
          });
          if (!created.ok || !body.fund || created.value.body.status !== "open") return created;
          return fundEscrowIntent(context, created.value.id, null);
        }),
        (intent) => ({ status: 201, body: escrowIntentView(intent) }),
      );
    },
  );

  app.post(
    "/v1/escrow-intents/:id/fund",
    {
      schema: {
        tags,
        summary: "Fund: the payer's policy decides and the amount is held in escrow",
        description:
          "The payer's policy decides as for a payment to the payee. `allow` moves the amount from the wallet to the intent's own escrow account (status `funded`); `approval_required` holds it and raises an approval (`subject_type: escrow_intent`) that funds it when approved; `deny` holds nothing and leaves the intent `open` with `decision` and `reason_codes`. The answer is 200 whatever the decision; funding a funded intent answers it as it is.",
        params: wire.idParam,
        response: { 200: wire.escrowIntent },
      },
      config: { ...config, errors: ["agent_disabled", "escrow_already_settled", "escrow_expired"] },
    },
    async (request, reply) =>
      mutate(request, reply, (context) => fundEscrowIntent(context, request.params.id, request.principal.agentId), (intent) => ({ status: 200, body: escrowIntentView(intent) })),
  );

  /** A release or split that starts a payout on an asynchronous rail hands it over once the write has committed (as payments do). */
  const decide = async (request: FastifyRequest, reply: FastifyReply, intentId: string, decision: EscrowDecision) => {
    let dispatch: string[] = [];
    const sent = await mutate(
      request,
      reply,
      (context) => decideEscrowIntent(context, intentId, request.principal.agentId, decision),
      (change) => {
        dispatch = change.dispatch;
        return { status: 200, body: escrowIntentView(change.intent) };
      },
    );
    rails?.dispatch(request.principal.tenantId, dispatch);
    return sent;
  };
  app.post(
    "/v1/escrow-intents/:id/release",
    {
      schema: {
        tags,
        summary: "Release: pay what the escrow holds to the payee (the payer or an owner)",
        description:
          "Pays the escrow account's balance to the payee on the payee's rail (with a `cost_path`, `min(reported cost, balance)` and the rest back to the wallet), releasing any draw still outstanding. A sandbox payee is paid at once (`released`); on the webhook rail the answer is `payout_pending` until the executor reports, and a failed payout puts the money back in escrow and the intent back where it was, the reason in `failed_payouts` (docs/escrow.md \"Payout\"). The payer agent or an owner; also how a `confirm`-mode intent with accepted evidence, or a disputed one, is paid out. Releasing again answers the first result.",
        params: wire.idParam,
        response: { 200: wire.escrowIntent },
      },
      config: { ...config, errors: ["escrow_already_settled", "escrow_expired", "escrow_not_funded", "escrow_payout_pending"] },
    },
    async (request, reply) => decide(request, reply, request.params.id, { action: "release" }),
  );
  app.post(
    "/v1/escrow-intents/:id/refund",
    {
      schema: {
        tags,
        summary: "Refund: pay what the escrow holds back to the payer (owners)",
        description: "Pays the escrow account's balance back to the payer's wallet (status `refunded`). Owners only: an agent's credential gets `escrow_owner_only`. Refunding again answers the first result.",
        params: wire.idParam,
        response: { 200: wire.escrowIntent },
      },
      config: { ...config, errors: ["escrow_already_settled", "escrow_expired", "escrow_not_funded", "escrow_owner_only", "escrow_payout_pending"] },
    },
    async (request, reply) => decide(request, reply, request.params.id, { action: "refund" }),
  );
  app.post(
    "/v1/escrow-intents/:id/split",
    {
      schema: {
        tags,
        summary: "Split: pay payee_amount to the payee and refund the rest, in one batch (owners)",
        description: "Pays `payee_amount` (minor units, at most what the escrow holds) to the payee on the payee's rail and the rest back to the payer's wallet once that payout completes (status `split`; `payout_pending` while the webhook rail runs it, as for a release). Owners only, typically to end a dispute.",
        params: wire.idParam,
        body: wire.splitEscrowBody,
        response: { 200: wire.escrowIntent },
      },
      config: { ...config, errors: ["escrow_already_settled", "escrow_expired", "escrow_not_funded", "escrow_owner_only", "escrow_payout_pending", "split_amount_invalid"], example: { body: { payee_amount: 3000 } } },
    },
    async (request, reply) => decide(request, reply, request.params.id, { action: "split", payeeAmountMinor: request.body.payee_amount }),
  );
  app.post(
    "/v1/escrow-intents/:id/dispute",
    {
      schema: {
        tags,
        summary: "Dispute before release; an owner then releases, refunds or splits (owners)",
        description: "Freezes a funded intent before settlement (status `disputed`): evidence and draws are refused until an owner releases, refunds or splits; undecided, it is refunded 7 days after the later of the deadline and the dispute. Owners only.",
        params: wire.idParam,
        body: wire.disputeEscrowBody,
        response: { 200: wire.escrowIntent },
      },
      config: { ...config, errors: ["escrow_already_settled", "escrow_expired", "escrow_not_funded", "escrow_owner_only", "escrow_payout_pending"], example: { body: { reason: "The report is missing the Q2 figures" } } },
    },
    async (request, reply) => decide(request, reply, request.params.id, { action: "dispute", reason: request.body.reason ?? null }),
  );

  app.post(
    "/v1/escrow-intents/:id/capability",
    {
      schema: {
        tags,
        summary: "The capability token of a funded intent's work: spend authorizations presenting it draw on the escrow",
        description:
          "A capability token (docs/spend.md, with an `escrow_intent_id` claim) for the intent's `allowed_operations`, up to its amount, until its deadline. Spend authorizations presenting it draw on the escrow account instead of the wallet; what they consume is no longer releasable. Asking again answers the same token.",
        params: wire.idParam,
        response: { 200: wire.escrowCapability },
      },
      config: { ...config, errors: ["escrow_already_settled", "escrow_disputed", "escrow_expired", "escrow_not_funded", "escrow_payout_pending"], secretFields: ["token"] },
    },
    async (request, reply) =>
      mutate(
        request,
        reply,
        (context) => issueEscrowCapability(context, request.params.id, request.principal.agentId),
        ({ intent, token }) => ({ status: 200, body: { escrow_intent_id: intent.id, capability_id: intent.body.capability_id!, token } }),
      ),
  );

  app.post(
    "/v1/escrow-intents/:id/evidence",
    {
      schema: {
        tags,
        summary: "The payee submits signed evidence; the predicate decides",
        description:
          "Authenticated by the payee's signature only (the payee has no Bursar credential): it signs the evidence binding `{tenant_id, intent_id, payee_id, payload_sha256, artifact_sha256s, submitted_at}` as `bursar-escrow-evidence-v1.<digest>` with the evidence key the intent was signed for (docs/escrow.md). `submitted_at` must be within 5 minutes of the server's clock and the payload must validate against the intent's `evidence_schema`; then the predicate decides. A pass releases (`auto`) or is kept for a release (`confirm`); a failing predicate answers 200 with `last_evaluation` (the failing node) and the payee may try again, at most 10 times, until the deadline. The same signed body again answers the intent as it is.",
        params: wire.idParam,
        body: wire.submitEvidenceBody,
        response: { 200: wire.escrowIntent },
      },
      // Public: the payee is outside Bursar and has no credential; its signature is the credential.
      config: {
        public: true,
        errors: [
          "escrow_already_settled", "escrow_disputed", "escrow_expired", "escrow_not_funded", "escrow_payout_pending", "evidence_already_accepted", "evidence_attempts_exhausted",
          "evidence_invalid", "evidence_signature_invalid", "evidence_stale",
        ],
        example: {
          body: {
            tenant_id: "ten_01JEXAMPLE0000000000000000", payload: { status: 200 },
            artifacts: [{ sha256: "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg", uri: "https://payee.example/reports/q2.pdf", media_type: "application/pdf" }],
            submitted_at: "2026-12-01T12:00:00Z", signature: "MLaEopfIRPQjipA00YpNl1_lSKO47oFaNE5YRYbbhTSoAZQYL-dfp83Tj1Z11BDyTgAj35A7Hg0gnugkWox-Cw",
          },
        },
      },
    },
    async (request) => {
      const body = request.body;
      const tenant = await store.read.getTenant(body.tenant_id);
      if (!tenant) throw new ProblemError("not_found", `escrow intent ${request.params.id} not found`);
      const submission = { payload: body.payload, artifacts: body.artifacts, submittedAt: body.submitted_at, signature: body.signature };
      // The route is public: check the signature on a read, so forged bodies never take the
      // tenant's write (the write checks it again, on the row it changes).
      const intent = await loadRecord<EscrowIntentBody>(store.read, tenant.id, "escrow_intent", request.params.id);
      if (!intent) throw new ProblemError("not_found", `escrow intent ${request.params.id} not found`);
      orProblem(checkEvidenceSignature(intent, submission));
      const nowMs = clock.nowMs();
      const result = await store.write(tenant.id, (tx) => submitEscrowEvidence({ tx, tenantId: tenant.id, nowMs, actor: evidenceActor }, request.params.id, submission, validatePayload));
      const change = orProblem(result);
      // An auto release that started a payout on an asynchronous rail: hand it over now it is committed.
      rails?.dispatch(tenant.id, change.dispatch);
      return escrowIntentView(change.intent);
    },
  );

  app.post(
    "/v1/predicates/preview",
    {
      schema: {
        tags: ["predicates"],
        summary: "Expand a named template to its predicate AST, with a plain-English summary",
        description:
          "Expands a named template (`http_status`, `webhook_event`, `artifact_present`, `cost_within_amount`, `always`) with its parameters to the predicate v1 AST an escrow intent signs, with the `cost_path` it implies (`cost_within_amount`) and a plain-English summary. No side effects.",
        body: wire.predicatePreviewBody,
        response: { 200: wire.predicatePreview },
      },
      config: { ...config, errors: ["predicate_invalid"], example: { body: { template: "http_status", parameters: { status: [200, 201] } } } },
    },
    async (request) => {
      const expanded = orProblem(expandTemplate(request.body.template, request.body.parameters));
      return { predicate: expanded.predicate as unknown as Record<string, unknown>, cost_path: expanded.cost_path, summary: expanded.summary };
    },
  );

  app.post(
    "/v1/predicates/test",
    {
      schema: {
        tags: ["predicates"],
        summary: "Validate evidence against a schema and evaluate a predicate on it; no side effects",
        description:
          "A dry run of what evidence submission does: validates `evidence.payload` against `evidence_schema` (when given) and, if it validates, evaluates the predicate over `{payload, artifacts, submitted_at}` and the intent fields given (`amount`, `currency`, `deadline`). Answers `{valid, errors, evaluation, summary}`; a failing evaluation names the failing node. Writes nothing.",
        body: wire.predicateTestBody,
        response: { 200: wire.predicateTest },
      },
      config: {
        ...config,
        jsonDepthMax: predicateBodyJsonDepthMax,
        errors: ["evidence_schema_invalid", "predicate_invalid", "schema_pattern_unsafe"],
        example: {
          body: {
            predicate: { version: 1, root: { op: "eq", left: { ptr: "/payload/status" }, right: { const: 200 } } },
            evidence: { payload: { status: 200 }, submitted_at: "2026-12-01T12:00:00Z" },
            evidence_schema: { type: "object", required: ["status"] }, amount: 5000, currency: "GBP", deadline: "2026-12-31T00:00:00Z",
          },
        },
      },
    },
    async (request) => {
      const body = request.body;
      const predicate = orProblem(parsePredicate(body.predicate));
      let errors: FieldError[] = [];
      if (body.evidence_schema) {
        refuseUnsafePatterns(body.evidence_schema);
        const problem = evidenceSchemaProblem(body.evidence_schema);
        if (problem) throw new ProblemError("evidence_schema_invalid", problem);
        errors = validatePayload(`predicate-test:${JSON.stringify(body.evidence_schema)}`, body.evidence_schema, body.evidence.payload) ?? [];
      }
      const nowMs = clock.nowMs();
      const submittedAt = body.evidence.submitted_at ?? new Date(nowMs).toISOString();
      const evaluation = errors.length > 0 ? null : evaluatePredicate(predicate, { payload: body.evidence.payload, artifacts: body.evidence.artifacts, submitted_at: submittedAt }, {
        amount: body.amount ?? 0, currency: body.currency ?? "", deadline: body.deadline ? Date.parse(body.deadline) : 0, submitted_at: Date.parse(submittedAt),
      });
      return { valid: errors.length === 0, errors, evaluation, summary: describePredicate(predicate) };
    },
  );

  app.get(
    "/v1/payees/:id/reputation",
    {
      schema: {
        tags: ["payees"],
        summary: "A payee's escrow record, signed with the tenant's journal key (verifiable offline)",
        description:
          "A reputation receipt over the payee's funded and settled escrow intents (the newest 10 000): counts per outcome, rates in basis points, volume paid per currency and time to release (median, p90), at the tenant's current journal size. `signature` is the journal key's Ed25519 signature over `bursar-reputation-receipt-v1.` + the RFC 8785 JSON of `receipt`; check it with `GET /v1/journal/authority`'s public key.",
        params: wire.idParam,
        response: { 200: wire.reputationReceipt },
      },
      config: { scopes: ["payees:read"] },
    },
    async (request) => {
      const tenant = await store.read.getTenant(request.principal.tenantId);
      if (!tenant) throw new ProblemError("not_found", "no such tenant");
      return orProblem(await payeeReputation(store.read, tenant, request.params.id, clock.nowMs()));
    },
  );

  reads(app, deps);
};
