/**
 * `/v1/escrow-intents`: money held for a payee's work, released on payee-signed evidence
 * (docs/escrow.md). The paying agent creates (the SDK signs the terms with the agent's key),
 * funds and releases; owners refund, split and dispute; the payee signs evidence (`signEvidence`)
 * and submits it. `predicates` dry-runs the rule language; `reputation` fetches and verifies a
 * payee's signed receipt.
 */
import { ConfigError } from "../errors.ts";
import { escrowTerms, signEscrowTerms, verifyReputationReceipt, type SignedEvidence } from "../escrow.ts";
import type { AgentKey } from "../jose.ts";
import type { Page } from "../pagination.ts";
import type { EscrowCapability, EscrowIntent, Payee, PredicatePreview, PredicateTestResult, Principal, SignedReputationReceipt, SigningKey } from "../types.ts";
import { Resource, segment, type CallOptions, type Requester } from "./resource.ts";

/** The agent key and binding id the client signs with, or null for bearer (owner) credentials. */
export type EscrowSigner = () => Promise<{ keyId: string; key: AgentKey } | null>;

export interface EscrowCreateParams {
  /** `int_…`: the idempotency key and part of the signed terms; generated when absent (and reused on retries). */
  id?: string;
  payee_id: string;
  /** The payee's evidence key thumbprint; read from the payee when absent (needs `payees:read`). */
  payee_key_thumbprint?: string;
  amount: number;
  currency: string;
  /** RFC 3339, signed as given. */
  deadline: string;
  evidence_schema: Record<string, unknown>;
  predicate: Record<string, unknown>;
  allowed_operations?: string[];
  release_mode?: "auto" | "confirm";
  cost_path?: string | null;
  description?: string | null;
  metadata?: Record<string, string> | null;
  /** Fund in the same request. */
  fund?: boolean;
  /** Owners: the paying agent; then pass `signature` and `signing_key_id` made with that agent's key. */
  agent_id?: string;
  signature?: string;
  signing_key_id?: string;
}

export interface EscrowListParams {
  limit?: number;
  cursor?: string;
  agent_id?: string;
  status?: string;
}

function randomIntentId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return `int_${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export class EscrowIntents extends Resource {
  constructor(client: Requester, private readonly signer: EscrowSigner) {
    super(client);
  }

  /**
   * Creates an escrow intent, signing its terms with this agent's key (docs/escrow.md).
   * @example
   * const intent = await bursar.escrow.create({ payee_id, amount: 5_000, currency: "GBP", deadline, evidence_schema, predicate, fund: true });
   */
  async create(params: EscrowCreateParams, options?: CallOptions): Promise<EscrowIntent> {
    const id = params.id ?? randomIntentId();
    const { fund, ...rest } = params;
    let signature = params.signature;
    let signingKeyId = params.signing_key_id;
    const payeeKeyThumbprint = params.payee_key_thumbprint ?? (await this.getJson<Payee>(`/v1/payees/${segment(params.payee_id)}`, undefined, options)).evidence_key_thumbprint;
    if (!payeeKeyThumbprint) throw new ConfigError(`payee ${params.payee_id} has no evidence key`);
    if (signature === undefined) {
      const signer = await this.signer();
      if (!signer) throw new ConfigError("escrow.create signs with an agent key: use an agent client, or pass signature and signing_key_id");
      const principal = await this.getJson<Principal>("/v1/auth/principal", undefined, options);
      const terms = await escrowTerms({
        tenantId: principal.tenant_id, intentId: id, payerAgentId: principal.agent_id!, payeeId: params.payee_id, payeeKeyThumbprint,
        amount: params.amount, currency: params.currency, deadline: params.deadline, releaseMode: params.release_mode ?? "auto",
        costPath: params.cost_path ?? null, evidenceSchema: params.evidence_schema, predicate: params.predicate, allowedOperations: params.allowed_operations ?? [],
      });
      signature = await signEscrowTerms(signer.key, terms);
      signingKeyId = signer.keyId;
    }
    return this.postJson("/v1/escrow-intents", {
      ...rest, id, payee_key_thumbprint: payeeKeyThumbprint, signature, signing_key_id: signingKeyId, ...(fund === undefined ? {} : { fund }),
    }, options);
  }
  get(id: string, options?: CallOptions): Promise<EscrowIntent> {
    return this.getJson(`/v1/escrow-intents/${segment(id)}`, undefined, options);
  }
  list(params: EscrowListParams = {}, options?: CallOptions): Promise<Page<EscrowIntent>> {
    return this.paginate("/v1/escrow-intents", { ...params }, options);
  }
  /** The payer's policy decides and the amount is held in escrow (`funded`), or waits for an owner, or stays `open` denied. */
  fund(id: string, options?: CallOptions): Promise<EscrowIntent> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/fund`, {}, options);
  }
  /** Pays what the escrow holds to the payee (the payer or an owner). */
  release(id: string, options?: CallOptions): Promise<EscrowIntent> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/release`, {}, options);
  }
  /** Owners: pays it back to the payer. */
  refund(id: string, options?: CallOptions): Promise<EscrowIntent> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/refund`, {}, options);
  }
  /** Owners: `payeeAmount` to the payee, the rest back, in one batch. */
  split(id: string, payeeAmount: number, options?: CallOptions): Promise<EscrowIntent> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/split`, { payee_amount: payeeAmount }, options);
  }
  /** Owners: holds it for a decision (release, refund or split). */
  dispute(id: string, reason?: string, options?: CallOptions): Promise<EscrowIntent> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/dispute`, { reason: reason ?? null }, options);
  }
  /** The capability token of a funded intent's work: present it as `capability_token` on `spend.authorize` to draw on the escrow. */
  capability(id: string, options?: CallOptions): Promise<EscrowCapability> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/capability`, {}, options);
  }
  /** Submits signed evidence (`signEvidence`); a failing predicate answers the intent with `last_evaluation`. */
  submitEvidence(id: string, evidence: SignedEvidence, options?: CallOptions): Promise<EscrowIntent> {
    return this.postJson(`/v1/escrow-intents/${segment(id)}/evidence`, evidence, options);
  }
}

export class Predicates extends Resource {
  /** A named template (`http_status`, `webhook_event`, `artifact_present`, `cost_within_amount`, `always`) as its AST and summary. */
  preview(template: string, parameters: Record<string, unknown> = {}, options?: CallOptions): Promise<PredicatePreview> {
    return this.postJson("/v1/predicates/preview", { template, parameters }, options);
  }
  /** Evaluates a predicate on evidence (and validates it against a schema), with no side effects. */
  test(params: { predicate: Record<string, unknown>; evidence: { payload: unknown; artifacts?: unknown[]; submitted_at?: string }; evidence_schema?: Record<string, unknown>; amount?: number; currency?: string; deadline?: string }, options?: CallOptions): Promise<PredicateTestResult> {
    return this.postJson("/v1/predicates/test", params, options);
  }
}

export class Reputation extends Resource {
  /**
   * A payee's signed reputation receipt, verified with the tenant's Ed25519 key before it is
   * returned: `publicKey` (base64, raw 32 bytes) when you hold it (pin it: then the server is not
   * trusted for the key), else the one `GET /v1/journal/authority` states. Needs `payees:read`
   * (the authority's public key is readable by any credential of the tenant).
   * Throws `ConfigError` when the signature does not verify.
   */
  async get(payeeId: string, options: CallOptions & { publicKey?: string } = {}): Promise<SignedReputationReceipt & { verified: true }> {
    const signed = await this.getJson<SignedReputationReceipt>(`/v1/payees/${segment(payeeId)}/reputation`, undefined, options);
    const publicKey = options.publicKey ?? (await this.getJson<{ public_key: string }>("/v1/journal/authority", undefined, options)).public_key;
    if (!(await verifyReputationReceipt(signed, publicKey))) throw new ConfigError("the reputation receipt's signature does not verify with the tenant's key");
    return { ...signed, verified: true };
  }
}

/**
 * Submits signed evidence without a Bursar credential (a payee is outside the tenant): a plain
 * POST; the signature is the credential. Throws with the problem's code when refused.
 */
export async function submitEscrowEvidence(baseUrl: string, intentId: string, evidence: SignedEvidence, fetchImpl: typeof fetch = fetch): Promise<EscrowIntent> {
  const response = await fetchImpl(`${baseUrl.replace(/\/+$/, "")}/v1/escrow-intents/${segment(intentId)}/evidence`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(evidence),
  });
  const body = (await response.json()) as EscrowIntent & { code?: string; detail?: string };
  if (!response.ok) throw new ConfigError(`evidence refused (${response.status} ${body.code ?? ""}): ${body.detail ?? ""}`);
  return body;
}

/** `/v1/signing-keys` (owners): public keys an owner signs escrow terms with for a paying agent. */
export class SigningKeys extends Resource {
  /** @example const key = await owner.signingKeys.create({ public_key_jwk: ownerKey.publicJwk, name: "treasury" }); */
  create(params: { public_key_jwk: Record<string, string>; name?: string | null }, options?: CallOptions): Promise<SigningKey> {
    return this.postJson("/v1/signing-keys", params, options);
  }
  list(params: { limit?: number; cursor?: string; status?: string } = {}, options?: CallOptions): Promise<Page<SigningKey>> {
    return this.paginate("/v1/signing-keys", { ...params }, options);
  }
  get(id: string, options?: CallOptions): Promise<SigningKey> {
    return this.getJson(`/v1/signing-keys/${segment(id)}`, undefined, options);
  }
  /** It signs nothing new; what it signed stays verifiable. */
  revoke(id: string, options?: CallOptions): Promise<SigningKey> {
    return this.deleteJson(`/v1/signing-keys/${segment(id)}`, options);
  }
}
