/**
 * Onboarding without shared secrets (SPEC 2.1): an owner mints a one-time registration ticket for
 * an agent with a scope ceiling; the agent posts its public key with the ticket and gets a
 * credential binding (`cb_…`, the OAuth client_id) at once. The ticket is stored only as its
 * SHA-256 and works once.
 */
import { canonicalJson } from "../canonical.js";
import { sha256Hex } from "../hash.js";
import { newId, newSecret } from "../ids.js";
import { appendEvent, type WriteContext } from "../journal/events.js";
import { clientMetadataBytesMax, registrationTicketTtlSecondsDefault } from "../limits.js";
import type { CredentialBindingRow, RegistrationTicketRow, StoreReader } from "../ports.js";
import { fail, ok, type Result } from "../result.js";
import { toRfc3339 } from "../time.js";
import { importPublicJwk } from "./jose.js";
import { checkAgentScopes, scopesOutside } from "./scopes.js";
import { credentialBindingView } from "./views.js";

/** The prefix of registration tickets. */
export const registrationTicketPrefix = "bursar-reg";

/** Mints a ticket (shown once). Owner-only scopes are refused: the ceiling is agent scopes only. */
export async function createRegistrationTicket(
  context: WriteContext,
  input: { agentId: string; scopes: string[]; expiresInSeconds?: number; createdByUserId: string },
): Promise<Result<{ ticket: string; row: RegistrationTicketRow }>> {
  const scopes = checkAgentScopes(input.scopes);
  if (!scopes.ok) return scopes;
  const agent = await context.tx.getAgent(context.tenantId, input.agentId);
  if (!agent) return fail("not_found", `agent ${input.agentId} not found`);
  if (agent.status !== "active") return fail("agent_disabled", `agent ${input.agentId} is disabled`);
  const ticket = newSecret(registrationTicketPrefix);
  const row: RegistrationTicketRow = {
    id: newId("tkt", context.nowMs),
    tenantId: context.tenantId,
    agentId: agent.id,
    tokenHash: sha256Hex(ticket),
    scopeCeiling: scopes.value,
    createdByUserId: input.createdByUserId,
    createdAtMs: context.nowMs,
    expiresAtMs: context.nowMs + (input.expiresInSeconds ?? registrationTicketTtlSecondsDefault) * 1000,
    consumedAtMs: null,
    bindingId: null,
  };
  await context.tx.insertRegistrationTicket(row);
  await appendEvent(
    context,
    "registration_ticket.created",
    { registration_ticket: { id: row.id, agent_id: row.agentId, scopes: row.scopeCeiling, expires_at: toRfc3339(row.expiresAtMs) } },
    row.agentId,
  );
  return ok({ ticket, row });
}

export interface RegistrationInput {
  ticket: string;
  publicKeyJwk: unknown;
  requestedScopes?: string[];
  clientMetadata?: Record<string, unknown> | null;
}

/** What a registration checked before its write: the ticket, the key and the granted scopes. */
export interface CheckedRegistration {
  ticket: RegistrationTicketRow;
  binding: CredentialBindingRow;
}

/**
 * Checks a registration against committed state, without writing: which tenant the ticket
 * belongs to is only known from the ticket. The write (`completeRegistration`) then consumes the
 * ticket atomically, so two concurrent registrations with one ticket cannot both succeed.
 */
export async function checkRegistration(read: StoreReader, input: RegistrationInput, nowMs: number): Promise<Result<CheckedRegistration>> {
  if (!input.ticket.startsWith(`${registrationTicketPrefix}_`)) return fail("invalid_ticket", "this is not a registration ticket");
  const ticket = await read.findRegistrationTicketByHash(sha256Hex(input.ticket));
  if (!ticket) return fail("invalid_ticket", "the ticket is unknown");
  if (ticket.consumedAtMs !== null) return fail("ticket_already_consumed", "the ticket was used already; ask the owner for a new one");
  if (ticket.expiresAtMs <= nowMs) return fail("ticket_expired", "the ticket expired; ask the owner for a new one");
  const key = importPublicJwk(input.publicKeyJwk);
  if (!key.ok) return key;
  const requested = input.requestedScopes ?? ticket.scopeCeiling;
  const outside = scopesOutside(requested, ticket.scopeCeiling);
  if (outside.length > 0) return fail("scope_exceeds_ticket_ceiling", `the ticket does not allow ${outside.join(", ")}`);
  // Belt and braces: a ceiling can never hold owner-only scopes, but a stored row is not trusted.
  const scopes = checkAgentScopes(requested);
  if (!scopes.ok) return scopes;
  const metadata = input.clientMetadata ?? null;
  if (metadata !== null && Buffer.byteLength(canonicalJson(metadata)) > clientMetadataBytesMax) {
    return fail("limit_exceeded", `client_metadata may hold at most ${clientMetadataBytesMax} bytes`);
  }
  if (await read.findCredentialBindingByThumbprint(key.value.thumbprint)) {
    return fail("public_key_already_in_use", "this public key is registered already; generate a new key pair");
  }
  const binding: CredentialBindingRow = {
    id: newId("cb", nowMs),
    tenantId: ticket.tenantId,
    agentId: ticket.agentId,
    publicKeyJwk: key.value.jwk,
    thumbprint: key.value.thumbprint,
    algorithm: key.value.algorithm,
    scopes: scopes.value,
    clientMetadata: metadata,
    createdAtMs: nowMs,
    revokedAtMs: null,
  };
  return ok({ ticket, binding });
}

/**
 * Consumes the ticket and activates the binding, in the ticket's tenant. The loser of a race for
 * one ticket gets `ticket_already_consumed`; a disabled agent, `agent_disabled`. Event:
 * `credential_binding.registered`.
 */
export async function completeRegistration(context: WriteContext, checked: CheckedRegistration): Promise<Result<CredentialBindingRow>> {
  const { ticket, binding } = checked;
  const agent = await context.tx.getAgent(context.tenantId, ticket.agentId);
  if (!agent || agent.status !== "active") return fail("agent_disabled", `agent ${ticket.agentId} is disabled`);
  const consumed = await context.tx.consumeRegistrationTicket(context.tenantId, ticket.id, binding.id, context.nowMs);
  if (!consumed) return fail("ticket_already_consumed", "the ticket was used already; ask the owner for a new one");
  await context.tx.insertCredentialBinding(binding);
  await appendEvent(context, "credential_binding.registered", { credential_binding: credentialBindingView(binding), registration_ticket_id: ticket.id }, binding.agentId);
  return ok(binding);
}

/**
 * Revokes a binding and every refresh token issued to it. Its access tokens stop working on the
 * next request, because the resource server checks the binding each time. Revoking twice is a
 * no-op. Event: `credential_binding.revoked`.
 */
export async function revokeCredentialBinding(context: WriteContext, bindingId: string): Promise<Result<CredentialBindingRow>> {
  const { tx, tenantId, nowMs } = context;
  // Looked up across tenants by id, so the tenant check is ours: another tenant's binding is "not found".
  const existing = await tx.findCredentialBinding(bindingId);
  if (!existing || existing.tenantId !== tenantId) return fail("not_found", `credential binding ${bindingId} not found`);
  if (existing.revokedAtMs !== null) return ok(existing);
  await tx.revokeCredentialBinding(tenantId, bindingId, nowMs);
  await tx.revokeRefreshTokensOfBinding(tenantId, bindingId, nowMs);
  const revoked = { ...existing, revokedAtMs: nowMs };
  await appendEvent(context, "credential_binding.revoked", { credential_binding: credentialBindingView(revoked) }, existing.agentId);
  return ok(revoked);
}
