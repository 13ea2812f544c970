/**
 * `bursar webhooks list|create|deliveries|retry`, `api-keys create|rotate|usage|revoke`,
 * `services`, `service-requests [create|show]`. Webhooks and API keys are the owner's; the
 * service catalog and service requests work for the stored agent or an owner (`--agent`).
 */
import type { Command } from "commander";
import type { AgentScope, Scope, ServiceRequest } from "@bursar/sdk";
import { fields, print, table } from "../output.js";
import { agentForRead } from "./agent-choice.js";
import { parseValue } from "./money.js";
import { action, anyClient, apiCommand, ownerClient, UsageError, type CommonOptions } from "./context.js";

const scopesOf = (text: string): Scope[] => text.split(/[ ,]+/).filter(Boolean) as Scope[];
const whole = (text: string) => {
  const number = Number(text);
  if (!Number.isSafeInteger(number) || number < 0) throw new UsageError(`${text} is not a whole number`);
  return number;
};

const requestRow = (request: ServiceRequest) => ({
  id: request.id,
  call: `${request.service}.${request.operation}`,
  price: `${request.amount_display} ${request.currency}`,
  status: request.status,
  reasons: request.reason_codes,
  created_at: request.created_at,
});

export function adminCommands(program: Command): void {
  const webhooks = program.command("webhooks").description("Webhook endpoints and their deliveries (owner)");
  apiCommand(webhooks, "list", "List webhook endpoints").action(
    action(async (options: CommonOptions) => {
      const page = await ownerClient(options).webhookEndpoints.list();
      print(options.json, page.data, () => table(page.data.map((e) => ({ id: e.id, url: e.url, events: e.event_types.length ? e.event_types : "*", enabled: e.enabled, created_at: e.created_at }))));
    }),
  );
  apiCommand(webhooks, "create", "Subscribe a URL to events; prints the signing secret once")
    .requiredOption("--url <url>", "https URL that receives the events")
    .option("--events <types>", "comma-separated event types or prefix.* (default: all)")
    .option("--description <text>", "what it is for")
    .action(
      action(async (options: CommonOptions & { url: string; events?: string; description?: string }) => {
        const endpoint = await ownerClient(options).webhookEndpoints.create({ url: options.url, event_types: options.events?.split(",").map((type) => type.trim()).filter(Boolean), description: options.description });
        print(options.json, endpoint, () => fields({ id: endpoint.id, url: endpoint.url, events: endpoint.event_types.length ? endpoint.event_types : "*", secret: `${endpoint.secret}  (shown once: keep it to verify signatures)` }));
      }),
    );
  apiCommand(webhooks, "deliveries", "An endpoint's deliveries, newest first, with their attempts")
    .argument("<endpoint_id>")
    .option("--limit <n>", "page size", whole)
    .action((id: string, options: CommonOptions & { limit?: number }, command: Command) =>
      action(async () => {
        const page = await ownerClient(options).webhookEndpoints.deliveries(id, { limit: options.limit });
        print(options.json, page.data, () => table(page.data.map((d) => ({ id: d.id, event: d.event_type, status: d.status, attempts: d.attempt_count, last_status: d.attempts.at(-1)?.status_code ?? null, next_attempt_at: d.next_attempt_at }))));
      })(options, command),
    );
  apiCommand(webhooks, "retry", "Attempt a delivery again now")
    .argument("<endpoint_id>")
    .argument("<delivery_id>")
    .action((id: string, deliveryId: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const delivery = await ownerClient(options).webhookEndpoints.retryDelivery(id, deliveryId);
        print(options.json, delivery, () => fields({ id: delivery.id, event: delivery.event_type, status: delivery.status, attempts: delivery.attempt_count, next_attempt_at: delivery.next_attempt_at }));
      })(options, command),
    );

  const apiKeys = program.command("api-keys").description("Scoped, rate-limited API keys (owner)");
  apiCommand(apiKeys, "list", "List API keys (never their secrets)").action(
    action(async (options: CommonOptions) => {
      const page = await ownerClient(options).apiKeys.list();
      print(options.json, page.data, () => table(page.data.map((k) => ({ id: k.id, name: k.name, agent: k.agent_id, scopes: k.scopes, status: k.status, last_used_at: k.last_used_at }))));
    }),
  );
  apiCommand(apiKeys, "create", "Create an API key; prints it once")
    .requiredOption("--name <name>", "what it is for")
    .requiredOption("--scopes <list>", "comma-separated scopes, e.g. agents:execute,transactions:read")
    .option("--agent <id>", "bind the key to an agent (it then acts as that agent)")
    .option("--rate-limit <n>", "requests per minute", whole)
    .action(
      action(async (options: CommonOptions & { name: string; scopes: string; agent?: string; rateLimit?: number }) => {
        const key = await ownerClient(options).apiKeys.create({ name: options.name, scopes: scopesOf(options.scopes) as AgentScope[], agent_id: options.agent, rate_limit_per_minute: options.rateLimit });
        print(options.json, key, () => fields({ id: key.id, key: `${key.key}  (shown once)`, agent: key.agent_id, scopes: key.scopes, rate_limit_per_minute: key.rate_limit_per_minute }));
      }),
    );
  apiCommand(apiKeys, "rotate", "A new secret now; the old one works for --grace seconds (default 0)")
    .argument("<key_id>")
    .option("--grace <seconds>", "how long the old secret keeps working", whole)
    .action((id: string, options: CommonOptions & { grace?: number }, command: Command) =>
      action(async () => {
        const key = await ownerClient(options).apiKeys.rotate(id, { grace_period_seconds: options.grace });
        print(options.json, key, () => fields({ id: key.id, key: `${key.key}  (shown once)`, rotated_from: key.rotated_from_id, scopes: key.scopes }));
      })(options, command),
    );
  apiCommand(apiKeys, "usage", "Accepted and denied requests of a key")
    .argument("<key_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const usage = await ownerClient(options).apiKeys.usage(id);
        print(options.json, usage, () => fields({ id: usage.id, accepted: usage.accepted, denied: usage.denied_total, denied_by_reason: usage.denied, last_used_at: usage.last_used_at }));
      })(options, command),
    );
  apiCommand(apiKeys, "revoke", "Revoke a key at once")
    .argument("<key_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const key = await ownerClient(options).apiKeys.revoke(id);
        print(options.json, key, () => fields({ id: key.id, name: key.name, status: key.status, revoked_at: key.revoked_at }));
      })(options, command),
    );

  apiCommand(program, "services", "The service catalog: operations and their prices").action(
    action(async (options: CommonOptions) => {
      const services = await anyClient(options).services.list();
      const rows = services.flatMap((service) => service.operations.map((operation) => ({ call: `${service.name}.${operation.name}`, price: `${operation.price_display} ${operation.currency}`, description: operation.description })));
      print(options.json, services, () => table(rows));
    }),
  );

  const requests = program.command("service-requests").description("Governed, priced calls of service operations");
  apiCommand(requests, "list", "List service requests, newest first")
    .option("--limit <n>", "page size", whole)
    .option("--agent <id>", "owners: one agent's")
    .option("--status <status>", "only this status")
    .action(
      action(async (options: CommonOptions & { limit?: number; agent?: string; status?: string }) => {
        const page = await anyClient(options).serviceRequests.list({ limit: options.limit, agent_id: options.agent, status: options.status });
        print(options.json, page.data, () => table(page.data.map(requestRow)));
      }),
    );
  apiCommand(requests, "create", "Call an operation under the agent's policy: bursar service-requests create sandbox.echo --payload '{\"a\":1}'")
    .argument("<service.operation>")
    .option("--payload <json>", "the operation's input (JSON)", "{}")
    .option("--agent <id>", "owners: the agent to act for (default: the only agent)")
    .action((call: string, options: CommonOptions & { payload: string; agent?: string }, command: Command) =>
      action(async () => {
        const [service, operation] = call.split(".");
        if (!service || !operation) throw new UsageError(`${call}: name the call as service.operation (bursar services lists them)`);
        const client = anyClient(options);
        const agentId = await agentForRead(options, client);
        const request = await client.serviceRequests.createAndWait({ service, operation, payload: parseValue(options.payload), agent_id: options.agent ?? (agentId ?? undefined) });
        print(options.json, request, () => fields({ ...requestRow(request), result: request.result ?? null, next: request.available_actions }));
      })(options, command),
    );
  apiCommand(requests, "show", "Show a service request")
    .argument("<request_id>")
    .action((id: string, options: CommonOptions, command: Command) =>
      action(async () => {
        const request = await anyClient(options).serviceRequests.get(id);
        print(options.json, request, () => fields({ ...requestRow(request), result: request.result ?? null }));
      })(options, command),
    );
}
