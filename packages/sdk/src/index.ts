/**
 * @bursar/sdk — the TypeScript client of Bursar.
 *
 * @example
 * import { Bursar, register } from "@bursar/sdk";
 * await register({ ticket: process.env.BURSAR_REGISTRATION_TICKET });
 * const bursar = new Bursar();
 * console.log(await bursar.balance.get());
 */
export * from "./errors.ts";
export { Bursar } from "./client.ts";
export type { BursarOptions } from "./client.ts";
export { register } from "./register.ts";
export type { RegisterOptions, RegisterResult } from "./register.ts";
export { FileCredentialStore, configDirectory } from "./credential-store.ts";
export type { AgentCredentials, CredentialStore, JournalTrust } from "./credential-store.ts";
export { BearerAuth, DpopAuth, SessionAuth } from "./auth.ts";
export type { Authenticator, DpopAuthOptions } from "./auth.ts";
export { generateAgentKey, importPrivateKeyPem, exportPrivateKeyPem, agentKeyFromCryptoKeys, jwkThumbprint } from "./jose.ts";
export type { AgentKey, CryptoKey, CryptoKeyPair, JsonWebKey, PublicJwk, SigningAlgorithm } from "./jose.ts";
export { verifyWebhook, parseWebhookEvent, signWebhook } from "./webhooks.ts";
export type { VerifyWebhookOptions, WebhookHeaders } from "./webhooks.ts";
export { Transport, backoffDelay } from "./transport.ts";
export type { AuthHook, FetchLike, RequestOptions, TransportOptions, UnauthorizedContext } from "./transport.ts";
export { Page } from "./pagination.ts";
export { canonicalJson } from "./canonical.ts";
export { canonicalDigest, escrowTerms, signEscrowTerms, signEvidence, verifyReputationReceipt } from "./escrow.ts";
export type { EscrowTermsInput, EvidenceInput, SignedEvidence } from "./escrow.ts";
export { submitEscrowEvidence } from "./resources/escrow.ts";
export type { EscrowCreateParams, EscrowListParams } from "./resources/escrow.ts";
export type { CallOptions } from "./resources/resource.ts";
export type { EventStreamParams } from "./resources/events.ts";
export type { SpendGuardCompletion, SpendGuardOptions, SpendGuardResult, SpendWaitOptions, SpendWaitResult } from "./resources/spend.ts";
export type { BudgetRequestFromDenialParams, Denial } from "./resources/teams.ts";
export type { JournalOptions, VerifiedCheckpoint, InclusionResult } from "./resources/journal.ts";
export type * from "./types.ts";
export * as limits from "./limits.ts";
export { eventTypes, isEventType } from "./events.ts";
