/** Every route module, in the order they are registered. One file per resource. */
import { accountRoutes } from "./accounts.js";
import type { RouteModule } from "./context.js";
import { eventRoutes } from "./events.js";
import { journalRoutes } from "./journal.js";
import { personalAccessTokenRoutes } from "./personal-access-tokens.js";
import { transferRoutes } from "./transfers.js";
import { webhookEndpointRoutes } from "./webhook-endpoints.js";

export const routeModules: RouteModule[] = [accountRoutes, transferRoutes, eventRoutes, journalRoutes, personalAccessTokenRoutes, webhookEndpointRoutes];
