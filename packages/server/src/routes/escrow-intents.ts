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
  describePredicate,
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
import { inputSchemaProblem, validatePayload } from "../services/schemas.js";
import type { RouteModule } from "./context.js";
import { actingAgent, orProblem } from "./context.js";
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
});

/** An evidence schema is compiled by ajv: refuse one that does not compile or nests too deep. */
function evidenceSchemaProblem(schema: Record<string, unknown>): string | null {
  const depth = (value: unknown, level: number): number => {
    if (level > 64 || typeof value !== "object" || value === null) return level;
    let deepest = level;
    for (const inner of Object.values(value)) deepest = Math.max(deepest, depth(inner, level + 1));
    return deepest;
  };
  if (depth(schema, 0) > 12) return "the schema nests more than 12 levels";
  return inputSchemaProblem(schema);
}

export const escrowIntentRoutes: RouteModule = (app, deps) => {
  const { mutate, store, clock } = deps;

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
        body: wire.createEscrowIntentBody,
        response: { 201: wire.escrowIntent },
      },
      config,
    },
    async (request, reply) => {
      const body = request.body;
      const agent = await actingAgent(store, request, body.agent_id);
      const key = await signingKey(request, agent.id, body.signing_key_id);
      const schemaProblem = evidenceSchemaProblem(body.evidence_schema);
      if (schemaProblem) throw new ProblemError("evidence_schema_invalid", schemaProblem, { errors: [{ path: "evidence_schema", code: "evidence_schema_invalid", detail: schemaProblem }] });
      return mutate(
        request,
        reply,
        async (context) => {
          const created = await createEscrowIntent(context, agent, {
            intentId: body.id, payeeId: body.payee_id, payeeKeyThumbprint: body.payee_key_thumbprint, amountMinor: body.amount,
            currency: body.currency, deadline: body.deadline, releaseMode: body.release_mode, costPath: body.cost_path,
            evidenceSchema: body.evidence_schema, predicate: body.predicate, allowedOperations: body.allowed_operations,
            description: body.description ?? null, metadata: body.metadata ?? null, signature: body.signature, key,
          });
          if (!created.ok || !body.fund || created.value.body.status !== "open") return created;
          return fundEscrowIntent(context, created.value.id, null);
        },
        (intent) => ({ status: 201, body: escrowIntentView(intent) }),
      );
    },
  );

  app.post(
    "/v1/escrow-intents/:id/fund",
    {
      schema: { tags, summary: "Fund: the payer's policy decides and the amount is held in escrow", params: wire.idParam, response: { 200: wire.escrowIntent } },
      config,
    },
    async (request, reply) =>
      mutate(request, reply, (context) => fundEscrowIntent(context, request.params.id, request.principal.agentId), (intent) => ({ status: 200, body: escrowIntentView(intent) })),
  );

  const decide = (request: FastifyRequest, reply: FastifyReply, intentId: string, decision: EscrowDecision) =>
    mutate(request, reply, (context) => decideEscrowIntent(context, intentId, request.principal.agentId, decision), (intent) => ({ status: 200, body: escrowIntentView(intent) }));
  app.post(
    "/v1/escrow-intents/:id/release",
    { schema: { tags, summary: "Release: pay what the escrow holds to the payee (the payer or an owner)", params: wire.idParam, response: { 200: wire.escrowIntent } }, config },
    async (request, reply) => decide(request, reply, request.params.id, { action: "release" }),
  );
  app.post(
    "/v1/escrow-intents/:id/refund",
    { schema: { tags, summary: "Refund: pay what the escrow holds back to the payer (owners)", params: wire.idParam, response: { 200: wire.escrowIntent } }, config },
    async (request, reply) => decide(request, reply, request.params.id, { action: "refund" }),
  );
  app.post(
    "/v1/escrow-intents/:id/split",
    { schema: { tags, summary: "Split: pay payee_amount to the payee and refund the rest, in one batch (owners)", params: wire.idParam, body: wire.splitEscrowBody, response: { 200: wire.escrowIntent } }, config },
    async (request, reply) => decide(request, reply, request.params.id, { action: "split", payeeAmountMinor: request.body.payee_amount }),
  );
  app.post(
    "/v1/escrow-intents/:id/dispute",
    { schema: { tags, summary: "Dispute before release; an owner then releases, refunds or splits (owners)", params: wire.idParam, body: wire.disputeEscrowBody, response: { 200: wire.escrowIntent } }, config },
    async (request, reply) => decide(request, reply, request.params.id, { action: "dispute", reason: request.body.reason ?? null }),
  );

  app.post(
    "/v1/escrow-intents/:id/capability",
    {
      schema: {
        tags,
        summary: "The capability token of a funded intent's work: spend authorizations presenting it draw on the escrow",
        params: wire.idParam,
        response: { 200: wire.escrowCapability },
      },
      config: { ...config, secretFields: ["token"] },
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
          "Authenticated by the payee's signature over the evidence binding only (docs/escrow.md). Errors: evidence_signature_invalid (401), evidence_stale (422: submitted_at outside ±5 minutes), evidence_invalid (422, per-field errors), escrow_not_funded / escrow_expired / escrow_disputed / escrow_already_settled / evidence_attempts_exhausted / evidence_already_accepted (409). A failing predicate answers 200 with last_evaluation; the same signed body again answers the intent as it is.",
        params: wire.idParam,
        body: wire.submitEvidenceBody,
        response: { 200: wire.escrowIntent },
      },
      // Public: the payee is outside Bursar and has no credential; its signature is the credential.
      config: { public: true },
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
      return escrowIntentView(orProblem(result));
    },
  );

  app.post(
    "/v1/predicates/preview",
    { schema: { tags: ["predicates"], summary: "Expand a named template to its predicate AST, with a plain-English summary", body: wire.predicatePreviewBody, response: { 200: wire.predicatePreview } }, config },
    async (request) => {
      const expanded = orProblem(expandTemplate(request.body.template, request.body.parameters));
      return { predicate: expanded.predicate as unknown as Record<string, unknown>, cost_path: expanded.cost_path, summary: expanded.summary };
    },
  );

  app.post(
    "/v1/predicates/test",
    { schema: { tags: ["predicates"], summary: "Validate evidence against a schema and evaluate a predicate on it; no side effects", body: wire.predicateTestBody, response: { 200: wire.predicateTest } }, config },
    async (request) => {
      const body = request.body;
      const predicate = orProblem(parsePredicate(body.predicate));
      let errors: FieldError[] = [];
      if (body.evidence_schema) {
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
    { schema: { tags: ["payees"], summary: "A payee's escrow record, signed with the tenant's journal key (verifiable offline)", params: wire.idParam, response: { 200: wire.reputationReceipt } }, config: { scopes: ["payees:read"] } },
    async (request) => {
      const tenant = await store.read.getTenant(request.principal.tenantId);
      if (!tenant) throw new ProblemError("not_found", "no such tenant");
      return orProblem(await payeeReputation(store.read, tenant, request.params.id, clock.nowMs()));
    },
  );

  reads(app, deps);
};
