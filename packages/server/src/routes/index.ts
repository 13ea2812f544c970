/** Every route module, in the order they are registered. One file per resource. */
import { accountRoutes } from "./accounts.js";
import { agentRoutes } from "./agents.js";
import { apiKeyRoutes } from "./api-keys.js";
import { balanceRoutes } from "./balance.js";
import type { RouteModule } from "./context.js";
import { credentialBindingRoutes } from "./credential-bindings.js";
import { eventRoutes } from "./events.js";
import { journalRoutes } from "./journal.js";
import { oauthRoutes } from "./oauth.js";
import { personalAccessTokenRoutes } from "./personal-access-tokens.js";
import { principalRoutes } from "./principal.js";
import { registrationTicketRoutes } from "./registration-tickets.js";
import { registrationRoutes } from "./registrations.js";
import { transferRoutes } from "./transfers.js";
import { webhookEndpointRoutes } from "./webhook-endpoints.js";
import { wellKnownRoutes } from "./well-known.js";
import { payeeRoutes } from "./payees.js";
import { policyRoutes } from "./policies.js";
import { paymentIntentRoutes } from "./payment-intents.js";
import { approvalRoutes } from "./approvals.js";
import { transactionRoutes } from "./transactions.js";
import { railRoutes } from "./rails.js";
import { chatRoutes } from "./chat.js";
import { conversationRoutes } from "./conversations.js";
import { serviceRoutes } from "./services.js";
import { serviceRequestRoutes } from "./service-requests.js";
import { spendAuthorizationRoutes } from "./spend-authorizations.js";
import { capabilityRoutes } from "./capabilities.js";
import { mcpRoutes } from "./mcp.js";
import { escrowIntentRoutes } from "./escrow-intents.js";
import { signingKeyRoutes } from "./signing-keys.js";
import { consoleRoutes } from "./console.js";
import { teamRoutes } from "./teams.js";

export const routeModules: RouteModule[] = [
  accountRoutes,
  transferRoutes,
  eventRoutes,
  journalRoutes,
  personalAccessTokenRoutes,
  agentRoutes,
  balanceRoutes,
  registrationTicketRoutes,
  registrationRoutes,
  credentialBindingRoutes,
  apiKeyRoutes,
  principalRoutes,
  oauthRoutes,
  wellKnownRoutes,
  webhookEndpointRoutes,
  payeeRoutes,
  policyRoutes,
  paymentIntentRoutes,
  approvalRoutes,
  transactionRoutes,
  railRoutes,
  chatRoutes,
  conversationRoutes,
  serviceRoutes,
  serviceRequestRoutes,
  spendAuthorizationRoutes,
  capabilityRoutes,
  escrowIntentRoutes,
  signingKeyRoutes,
  teamRoutes,
  mcpRoutes,
  consoleRoutes,
];
