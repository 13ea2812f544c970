/** Wire schemas of services (the catalog) and service requests. */
import { z } from "zod";
import { serviceCallTimeoutMsMax, serviceNameLengthMax, serviceOperationsMax, stringLengthMax, webhookUrlLengthMax } from "../limits.js";
import { serviceRequestStatuses } from "../governance/service-requests.js";
import { amountMinor, currencyCode, idCursor, metadata, pageLimit, timestamp } from "./common.js";
import { availableActions, reasonCodes, remaining } from "./governance.js";

const serviceName = z
  .string()
  .regex(new RegExp(`^[a-z][a-z0-9_-]{0,${serviceNameLengthMax - 1}}$`), "lower-case letters, digits, - and _, starting with a letter")
  .describe("An identifier without dots, so `service.operation` is unambiguous in policies");
const description = z.string().max(stringLengthMax).nullable().optional();
const inputSchema = z.record(z.string(), z.unknown()).describe("JSON Schema (draft 2020-12 subset ajv supports) the payload must match");

const operationBody = z
  .object({
    name: serviceName,
    description,
    url: z.string().min(1).max(webhookUrlLengthMax).describe("http or https URL Bursar POSTs the payload to; private and loopback targets are refused"),
    price: amountMinor.describe("Price per call in minor units"),
    currency: currencyCode,
    input_schema: inputSchema,
    timeout_ms: z.number().int().min(100).max(serviceCallTimeoutMsMax).nullable().optional().describe("Time one call may take; default: the server's setting"),
  })
  .strict();

export const createServiceBody = z
  .object({ name: serviceName, description, operations: z.array(operationBody).min(1).max(serviceOperationsMax), metadata: metadata.nullable().optional() })
  .strict();
export const updateServiceBody = z
  .object({ name: serviceName.optional(), description, operations: z.array(operationBody).min(1).max(serviceOperationsMax).optional(), metadata: metadata.nullable().optional() })
  .strict();

export const service = z.object({
  object: z.literal("service"),
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  kind: z.enum(["builtin", "http"]),
  operations: z.array(
    z.object({
      name: z.string(),
      description: z.string().nullable(),
      price: z.number().int(),
      price_display: z.string(),
      currency: z.string(),
      input_schema: z.record(z.string(), z.unknown()),
      url: z.string().nullable(),
      timeout_ms: z.number().int().nullable(),
      execution: z.enum(["inline", "async", "http"]).describe("inline: answered at once; async and http: may answer 202 `running`"),
    }),
  ),
  account_ids: z.record(z.string(), z.string()).describe("The ledger account receiving payments, per currency"),
  metadata: z.record(z.string(), z.string()).nullable(),
  status: z.enum(["active", "deleted"]),
  created_at: timestamp.nullable(),
  updated_at: timestamp.nullable(),
});

export const createServiceRequestBody = z
  .object({
    service: z.string().min(1).max(serviceNameLengthMax).describe("A service name (`sandbox`) or id"),
    operation: z.string().min(1).max(serviceNameLengthMax),
    payload: z.unknown().optional().describe("JSON matching the operation's input schema; default {}"),
    agent_id: z.string().max(64).optional().describe("Owners: the agent to act for"),
  })
  .strict();

export const serviceRequest = z.object({
  object: z.literal("service_request"),
  id: z.string(),
  agent_id: z.string(),
  service: z.string(),
  service_id: z.string(),
  operation: z.string(),
  payload: z.unknown(),
  amount: z.number().int(),
  amount_display: z.string(),
  currency: z.string(),
  status: z.enum(serviceRequestStatuses),
  decision: z.enum(["allow", "approval_required", "deny"]),
  reason_codes: reasonCodes,
  available_actions: availableActions,
  remaining,
  approval_id: z.string().nullable(),
  approval_status: z.enum(["not_required", "pending", "approved", "rejected", "expired"]),
  hold_transfer_id: z.string().nullable(),
  result: z.unknown(),
  failure_reason: z.string().nullable(),
  deadline_at: timestamp.nullable(),
  completed_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const serviceRequestListQuery = z.object({
  limit: pageLimit(),
  cursor: idCursor,
  agent_id: z.string().max(64).optional(),
  status: z.enum(serviceRequestStatuses).optional(),
});
