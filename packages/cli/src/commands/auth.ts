/**
 * `bursar auth agent --ticket <t>`: registers this host as an agent (key made here, written to
 * the credential store the SDK reads). `bursar auth status`: what the store holds and whether the
 * server accepts it.
 */
import { register, type AgentScope, type Principal } from "@bursar/sdk";
import { Option, type Command } from "commander";
import { fields, print } from "../output.js";
import { action, agentClient, apiCommand, credentialStore, ownerClient, ownerToken, selfCommand, type CommonOptions } from "./context.js";

export function authCommands(program: Command): void {
  const auth = program.command("auth").description("Credentials of this host");

  apiCommand(auth, "agent", "Register this host as an agent with a registration ticket")
    .addOption(new Option("--ticket <ticket>", "the one-time ticket (bursar-reg_…)").env("BURSAR_REGISTRATION_TICKET").makeOptionMandatory())
    .option("--scopes <list>", "scopes to ask for, within the ticket's ceiling (default: all of it)")
    .option("--algorithm <alg>", "ES256 (P-256) or EdDSA (Ed25519)", "ES256")
    .action(
      action(async (options: CommonOptions & { ticket: string; scopes?: string; algorithm: string }) => {
        if (options.algorithm !== "ES256" && options.algorithm !== "EdDSA") throw new Error("--algorithm is ES256 or EdDSA");
        const store = credentialStore(options);
        const registered = await register({
          ticket: options.ticket,
          baseUrl: options.apiUrl,
          store,
          algorithm: options.algorithm,
          scopes: options.scopes ? (options.scopes.split(/[ ,]+/).filter(Boolean) as AgentScope[]) : undefined,
        });
        const dir = await store.directory();
        print(options.json, { ...registered, config_dir: dir }, () =>
          fields({ client_id: registered.clientId, agent_id: registered.agentId, tenant_id: registered.tenantId, scopes: registered.scopes, fingerprint: registered.fingerprint, api_url: registered.baseUrl, stored_in: dir }),
        );
      }),
    );

  apiCommand(auth, "status", "Show the stored agent credentials and the owner token, checked against the server")
    .action(
      action(async (options: CommonOptions) => {
        const store = credentialStore(options);
        const credentials = await store.load();
        let agent: (Record<string, unknown> & { principal: Principal | null; error: string | null }) | null = null;
        if (credentials) {
          const client = agentClient(options);
          const principal = await client.principal.get().catch((error: Error) => error);
          agent = {
            client_id: credentials.clientId,
            agent_id: credentials.agentId,
            tenant_id: credentials.tenantId,
            api_url: options.apiUrl ?? credentials.baseUrl,
            algorithm: credentials.algorithm,
            principal: principal instanceof Error ? null : principal,
            error: principal instanceof Error ? principal.message : null,
          };
          await client.close();
        }
        let owner: { principal: Principal | null; error: string | null } | null = null;
        if (ownerToken(options)) {
          const principal = await ownerClient(options).principal.get().catch((error: Error) => error);
          owner = { principal: principal instanceof Error ? null : principal, error: principal instanceof Error ? principal.message : null };
        }
        const result = { config_dir: await store.directory(), agent, owner };
        print(options.json, result, () => {
          let text = `credential store  ${result.config_dir}\n\n`;
          if (agent) {
            text += "agent\n" + indent(fields({ client_id: agent.client_id, agent_id: agent.agent_id, tenant: agent.tenant_id, api_url: agent.api_url, key: agent.algorithm, status: agent.error ? `refused: ${agent.error}` : "ok", scopes: agent.principal?.scopes })) + "\n";
          } else text += `agent             not registered (${selfCommand()} auth agent --ticket …)\n\n`;
          if (owner) text += "owner\n" + indent(fields({ principal: owner.principal?.principal_id, tenant: owner.principal?.tenant_id, status: owner.error ? `refused: ${owner.error}` : "ok" }));
          else text += "owner             no token (--token or BURSAR_TOKEN)\n";
          return text;
        });
        if (agent?.error || owner?.error) process.exitCode = 1;
      }),
    );
}

function indent(text: string): string {
  return text.split("\n").map((line) => (line ? `  ${line}` : line)).join("\n");
}
