/** Wire schemas of identity: agents, registration, credential bindings, API keys, principals. */
import { z } from "zod";
import {
  apiKeyRateLimitPerMinuteMax,
  apiKeyRotationGraceSecondsMax,
  registrationTicketTtlSecondsMax,
  registrationTicketTtlSecondsMin,
} from "../limits.js";
import { agentScopes, allScopes } from "../scopes.js";
import { account } from "./ledger.js";
import { currencyCode, metadata, text, timestamp } from "./common.js";

const scopeList = z.array(z.enum(allScopes)).max(allScopes.length);

export const agent = z.object({
  id: z.string(),
  object: z.literal("agent"),
  name: z.string(),
  description: z.string().nullable(),
  status: z.enum(["active", "disabled"]),
  wallet_account_id: z.string(),
  metadata: z.record(z.string(), z.string()).nullable(),
  team_id: z.string().nullable().describe("The team whose pools its spending counts against (docs/teams.md), or null"),
  parent_agent_id: z.string().nullable().describe("The agent that spawned it, or null for an agent an owner created"),
  spawn_depth: z.number().int().describe("0 for an owner's agent; a spawned agent is its parent's depth + 1 (at most 3)"),
  created_at: timestamp,
  updated_at: timestamp,
});
export type AgentView = z.infer<typeof agent>;

export const createAgentBody = z.object({
  name: text,
  description: text.optional(),
  currency: currencyCode.optional().describe("Currency of the agent's wallet; defaults to GBP"),
  metadata: metadata.optional(),
});

export const updateAgentBody = z.object({
  name: text.optional(),
  description: text.nullable().optional(),
  metadata: metadata.nullable().optional(),
});

export const createTicketBody = z.object({
  agent_id: z.string().min(1).max(64),
  scopes: scopeList.min(1).describe(`The ceiling of what the registration may be granted: agent scopes only (${agentScopes.join(", ")})`),
  expires_in: z.number().int().min(registrationTicketTtlSecondsMin).max(registrationTicketTtlSecondsMax).optional().describe("Seconds; default 900"),
});

export const registrationTicket = z.object({
  id: z.string(),
  object: z.literal("registration_ticket"),
  ticket: z.string().nullable().describe("Shown once; null when an idempotent replay answers"),
  agent_id: z.string(),
  scopes: z.array(z.string()),
  expires_at: timestamp,
  created_at: timestamp,
});

export const registrationBody = z.object({
  ticket: z.string().min(1).max(200),
  public_key_jwk: z.record(z.string(), z.unknown()).describe("Public JWK: EC P-256 (ES256) or OKP Ed25519 (EdDSA)"),
  requested_scopes: scopeList.optional().describe("Defaults to the ticket's ceiling"),
  client_metadata: z.record(z.string(), z.unknown()).optional(),
});

export const registration = z.object({
  client_id: z.string().describe("The credential binding id; the OAuth client_id"),
  fingerprint: z.string().describe("RFC 7638 thumbprint of the registered key"),
  agent_id: z.string(),
  tenant_id: z.string(),
  scopes: z.array(z.string()),
  algorithm: z.enum(["ES256", "EdDSA"]),
  token_endpoint: z.string(),
});

export const credentialBinding = z.object({
  id: z.string(),
  object: z.literal("credential_binding"),
  agent_id: z.string(),
  fingerprint: z.string(),
  algorithm: z.enum(["ES256", "EdDSA"]),
  public_key_jwk: z.record(z.string(), z.string()),
  scopes: z.array(z.string()),
  client_metadata: z.record(z.string(), z.unknown()).nullable(),
  status: z.enum(["active", "revoked"]),
  created_at: timestamp,
  revoked_at: timestamp.nullable(),
});
export type CredentialBindingView = z.infer<typeof credentialBinding>;

export const createApiKeyBody = z.object({
  name: text,
  agent_id: z.string().min(1).max(64).optional().describe("The agent the key acts as; omit for a service account"),
  scopes: scopeList.min(1),
  rate_limit_per_minute: z.number().int().min(1).max(apiKeyRateLimitPerMinuteMax).optional(),
});

export const rotateApiKeyBody = z
  .object({ grace_period_seconds: z.number().int().min(0).max(apiKeyRotationGraceSecondsMax).optional().describe("How long the old key keeps working; default 0") })
  .optional();

export const apiKey = z.object({
  id: z.string(),
  object: z.literal("api_key"),
  key: z.string().nullable().optional().describe("The secret, shown once on creation and rotation"),
  name: z.string(),
  agent_id: z.string().nullable(),
  scopes: z.array(z.string()),
  rate_limit_per_minute: z.number().int(),
  status: z.enum(["active", "expiring", "expired", "revoked"]),
  created_at: timestamp,
  expires_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
  rotated_from_id: z.string().nullable(),
  last_used_at: timestamp.nullable(),
});
export type ApiKeyView = z.infer<typeof apiKey>;

export const apiKeyUsage = z.object({
  id: z.string(),
  object: z.literal("api_key_usage"),
  accepted: z.number().int(),
  denied: z.record(z.string(), z.number().int()).describe("Denied requests by reason code"),
  denied_total: z.number().int(),
  last_used_at: timestamp.nullable(),
});

export const principal = z.object({
  tenant_id: z.string(),
  principal_type: z.enum(["user", "agent", "api_key"]),
  principal_id: z.string(),
  agent_id: z.string().optional(),
  credential_id: z.string(),
  scopes: z.array(z.string()),
});

export const balanceQuery = z.object({ agent_id: z.string().min(1).max(64).optional().describe("Owners: whose balance") });

export const balance = z.object({
  object: z.literal("balance"),
  agent_id: z.string(),
  currency: z.string(),
  balance: z.number().int(),
  balance_display: z.string(),
  available: z.number().int(),
  available_display: z.string(),
  account,
});
