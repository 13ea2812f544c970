/**
 * The SDK's plain types (types.ts) against the zod wire schemas the server validates and
 * documents with (`@bursar/core` `wire`): assignable both ways, checked by `npm run typecheck`.
 * A field added, removed or retyped on either side fails the build here, not in a user's code.
 */
import type { wire } from "@bursar/core";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type * as T from "./types.ts";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Wire<K extends keyof typeof wire> = (typeof wire)[K] extends z.ZodType ? z.output<(typeof wire)[K]> : never;
type WireInput<K extends keyof typeof wire> = (typeof wire)[K] extends z.ZodType ? z.input<(typeof wire)[K]> : never;

const checks = {
  agent: true as Same<T.Agent, Wire<"agent">>,
  registrationTicket: true as Same<T.RegistrationTicket, Wire<"registrationTicket">>,
  registration: true as Same<T.Registration, Wire<"registration">>,
  credentialBinding: true as Same<T.CredentialBinding, Wire<"credentialBinding">>,
  apiKey: true as Same<T.ApiKey, Wire<"apiKey">>,
  apiKeyUsage: true as Same<T.ApiKeyUsage, Wire<"apiKeyUsage">>,
  principal: true as Same<T.Principal, Wire<"principal">>,
  account: true as Same<T.Account, Wire<"account">>,
  transfer: true as Same<T.Transfer, Wire<"transfer">>,
  balance: true as Same<T.Balance, Wire<"balance">>,
  event: true as Same<T.BursarEvent, Wire<"event">>,
  webhookEndpoint: true as Same<T.WebhookEndpoint, Wire<"webhookEndpoint">>,
  webhookEndpointWithSecret: true as Same<T.WebhookEndpointWithSecret, Wire<"webhookEndpointWithSecret">>,
  webhookDelivery: true as Same<T.WebhookDelivery, Wire<"webhookDelivery">>,
  authority: true as Same<T.JournalAuthority, Wire<"authority">>,
  checkpoint: true as Same<T.JournalCheckpoint, Wire<"checkpoint">>,
  entry: true as Same<T.JournalEntry, Wire<"entry">>,
  inclusionProof: true as Same<T.InclusionProof, Wire<"inclusionProof">>,
  consistencyProof: true as Same<T.ConsistencyProof, Wire<"consistencyProof">>,
  policy: true as Same<T.Policy, Wire<"policyView">>,
  decision: true as Same<T.PolicyDecision, Wire<"decision">>,
  budget: true as Same<T.Budget, Wire<"budget">>,
  budgetList: true as Same<T.BudgetList, Wire<"budgetList">>,
  payee: true as Same<T.Payee, Wire<"payee">>,
  escrowIntent: true as Same<T.EscrowIntent, Wire<"escrowIntent">>,
  escrowCapability: true as Same<T.EscrowCapability, Wire<"escrowCapability">>,
  predicatePreview: true as Same<T.PredicatePreview, Wire<"predicatePreview">>,
  predicateTest: true as Same<T.PredicateTestResult, Wire<"predicateTest">>,
  reputationReceipt: true as Same<T.SignedReputationReceipt, Wire<"reputationReceipt">>,
  signingKey: true as Same<T.SigningKey, Wire<"signingKey">>,
  railConfig: true as Same<T.RailConfig, Wire<"railConfig">>,
  team: true as Same<T.Team, Wire<"team">>,
  teamAllocation: true as Same<T.TeamAllocation, Wire<"allocationEvent">>,
  budgetRequest: true as Same<T.BudgetRequest, Wire<"budgetRequest">>,
  paymentIntent: true as Same<T.PaymentIntent, Wire<"paymentIntent">>,
  approval: true as Same<T.Approval, Wire<"approval">>,
  transaction: true as Same<T.Transaction, Wire<"transaction">>,
  chatResponse: true as Same<T.ChatResponse, Wire<"chatResponse">>,
  trigger: true as Same<T.Trigger, Wire<"trigger">>,
  triggerWithSecret: true as Same<T.TriggerWithSecret, Wire<"triggerWithSecret">>,
  triggerFire: true as Same<T.TriggerFire, Wire<"triggerFire">>,
  createTrigger: true as Same<T.TriggerCreateParams, WireInput<"createTriggerBody">>,
  updateTrigger: true as Same<T.TriggerUpdateParams, WireInput<"updateTriggerBody">>,
  usage: true as Same<T.Usage, Wire<"usage">>,
  usageQuery: true as Same<T.UsageParams, WireInput<"usageQuery">>,
  agentHealth: true as Same<T.AgentHealth, Wire<"agentHealth">>,
  cloneAgent: true as Same<T.AgentCloneParams | undefined, WireInput<"cloneAgentBody">>,
  chatApprovalResolution: true as Same<T.ChatApprovalResolution, Wire<"chatApprovalResolution">>,
  chatApprovalResolve: true as Same<T.ChatApprovalResolveParams, WireInput<"chatApprovalResolveBody">>,
  conversationSummary: true as Same<T.ConversationSummary, Wire<"conversationSummary">>,
  conversation: true as Same<T.Conversation, Wire<"conversation">>,
  service: true as Same<T.Service, Wire<"service">>,
  serviceRequest: true as Same<T.ServiceRequest, Wire<"serviceRequest">>,
  spendAuthorization: true as Same<T.SpendAuthorization, Wire<"spendAuthorization">>,
  capability: true as Same<T.Capability, Wire<"capability">>,
  capabilityWithToken: true as Same<T.CapabilityWithToken, Wire<"capabilityWithToken">>,
  // Request bodies: what the SDK lets a caller send is what the server accepts.
  createServiceRequest: true as Same<T.ServiceRequestCreateParams, WireInput<"createServiceRequestBody">>,
  chat: true as Same<T.ChatParams, WireInput<"chatBody">>,
  policyRules: true as Same<T.PolicyRules, WireInput<"policy">>,
  policyCheck: true as Same<T.PolicyCheckParams, WireInput<"policyCheckBody">>,
  budgets: true as Same<T.BudgetsParams, WireInput<"budgetsBody">>,
  createPayee: true as Same<T.PayeeCreateParams, WireInput<"createPayeeBody">>,
  updatePayee: true as Same<T.PayeeUpdateParams, WireInput<"updatePayeeBody">>,
  createPaymentIntent: true as Same<T.PaymentIntentCreateParams, WireInput<"createPaymentIntentBody">>,
  createAgent: true as Same<T.AgentCreateParams, WireInput<"createAgentBody">>,
  updateAgent: true as Same<T.AgentUpdateParams, WireInput<"updateAgentBody">>,
  createTicket: true as Same<T.RegistrationTicketCreateParams, WireInput<"createTicketBody">>,
  createApiKey: true as Same<T.ApiKeyCreateParams, WireInput<"createApiKeyBody">>,
  createAccount: true as Same<T.AccountCreateParams, WireInput<"createAccountBody">>,
  deposit: true as Same<T.DepositParams, WireInput<"depositBody">>,
  transfer_body: true as Same<T.TransferCreateParams, WireInput<"transferBody">>,
  createWebhookEndpoint: true as Same<T.WebhookEndpointCreateParams, WireInput<"createWebhookEndpointBody">>,
  updateWebhookEndpoint: true as Same<T.WebhookEndpointUpdateParams, WireInput<"updateWebhookEndpointBody">>,
  authorizeSpend: true as Same<T.SpendAuthorizeParams, WireInput<"authorizeSpendBody">>,
  completeSpend: true as Same<T.SpendCompleteParams, WireInput<"completeSpendBody">>,
  createCapability: true as Same<T.CapabilityCreateParams, WireInput<"createCapabilityBody">>,
  task: true as Same<T.Task, Wire<"task">>,
  taskCiStatus: true as Same<T.TaskCiStatus, Wire<"taskCiStatus">>,
  ciReport: true as Same<T.CiReport, Wire<"ciReportAnswer">>,
  taskReviewFeedback: true as Same<T.TaskReviewFeedback, Wire<"taskReviewFeedback">>,
  createTask: true as Same<T.TaskCreateParams, WireInput<"createTaskBody">>,
  updateTask: true as Same<T.TaskUpdateParams, WireInput<"updateTaskBody">>,
  submitTask: true as Same<T.TaskSubmitParams, WireInput<"submitTaskBody">>,
  shipTask: true as Same<T.TaskShipParams, WireInput<"shipTaskBody">>,
  blockTask: true as Same<T.TaskBlockParams, WireInput<"blockTaskBody">>,
  reportCi: true as Same<T.CiReportParams, WireInput<"ciReportBody">>,
  reviewTask: true as Same<T.TaskReviewParams, WireInput<"reviewTaskBody">>,
} satisfies Record<string, true>;

describe("types.ts mirrors the wire schemas", () => {
  it("is checked by the type checker (this only keeps the table alive)", () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
  });
});
