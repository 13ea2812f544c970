/**
 * Onboarding an agent host with a registration ticket (SPEC 2.1): the key pair is made here, the
 * public half is sent with the ticket, the private half never leaves the host. The answer's
 * client_id and the key go into the credential store, where `new Bursar()` and the CLI find them.
 */
import { FileCredentialStore, type AgentCredentials, type CredentialStore } from "./credential-store.ts";
import { defaultBaseUrl, envVar } from "./env.ts";
import { APIError, RegistrationError } from "./errors.ts";
import { exportPrivateKeyPem, generateAgentKey, type SigningAlgorithm } from "./jose.ts";
import { Transport, type FetchLike } from "./transport.ts";
import type { AgentScope, Registration } from "./types.ts";

export interface RegisterOptions {
  /** The one-time ticket (`bursar-reg_…`); default `BURSAR_REGISTRATION_TICKET`. */
  ticket?: string;
  /** Default `BURSAR_API_URL`, then `http://127.0.0.1:7420`. */
  baseUrl?: string;
  /** The credential directory; default `BURSAR_CONFIG_DIR`, then `~/.bursar`. */
  configDir?: string;
  /** Where to write the private key (PKCS#8 PEM, 0600); default `<configDir>/<client_id>.key.pem`. */
  keyPath?: string;
  /** Another credential store (clustered hosts); `configDir` is then ignored. */
  store?: CredentialStore;
  /** Scopes to ask for, within the ticket's ceiling; the whole ceiling by default. */
  scopes?: AgentScope[];
  /** Key algorithm; ES256 (P-256) by default. */
  algorithm?: SigningAlgorithm;
  /** Descriptive metadata kept with the binding (host name, version...). */
  clientMetadata?: Record<string, unknown>;
  fetch?: FetchLike;
}

export interface RegisterResult {
  clientId: string;
  agentId: string;
  tenantId: string;
  scopes: string[];
  fingerprint: string;
  algorithm: SigningAlgorithm;
  baseUrl: string;
}

/**
 * Registers this host as the agent the ticket names, and saves the credentials.
 *
 * @example
 * // BURSAR_REGISTRATION_TICKET=bursar-reg_… BURSAR_API_URL=http://127.0.0.1:7420
 * const { clientId } = await register();
 * const bursar = new Bursar(); // finds the credentials register() saved
 */
export async function register(options: RegisterOptions = {}): Promise<RegisterResult> {
  const ticket = options.ticket ?? envVar("BURSAR_REGISTRATION_TICKET");
  if (!ticket) throw new RegistrationError("missing_ticket", "pass { ticket } or set BURSAR_REGISTRATION_TICKET");
  const baseUrl = (options.baseUrl ?? envVar("BURSAR_API_URL") ?? defaultBaseUrl).replace(/\/+$/, "");
  const store = options.store ?? new FileCredentialStore({ dir: options.configDir });
  const algorithm = options.algorithm ?? "ES256";
  // Extractable only so that it can be written to the store, once, below.
  const key = await generateAgentKey(algorithm, { extractable: true });
  const transport = new Transport({ baseUrl, fetch: options.fetch });
  let registration: Registration;
  try {
    registration = await transport.request<Registration>("POST", "/v1/registrations", {
      body: { ticket, public_key_jwk: key.publicJwk, requested_scopes: options.scopes, client_metadata: options.clientMetadata },
    });
  } catch (error) {
    if (error instanceof APIError) {
      const hint =
        error.code === "ticket_already_consumed"
          ? " (if an earlier attempt's answer was lost, its registration stands but its key is gone: ask the owner for a new ticket and revoke the orphan binding)"
          : "";
      throw new RegistrationError(error.code, `registration refused: ${error.detail}${hint}`, { cause: error });
    }
    throw new RegistrationError("registration_failed", `registration failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await transport.close();
  }
  if (registration.fingerprint !== key.thumbprint) {
    throw new RegistrationError("fingerprint_mismatch", "the server registered another key than the one sent");
  }
  const credentials: AgentCredentials = {
    clientId: registration.client_id,
    baseUrl,
    algorithm,
    scopes: registration.scopes,
    agentId: registration.agent_id,
    tenantId: registration.tenant_id,
    fingerprint: registration.fingerprint,
    createdAt: new Date().toISOString(),
    privateKeyPem: await exportPrivateKeyPem(key),
    keyPath: options.keyPath,
  };
  await store.save(credentials);
  return {
    clientId: registration.client_id,
    agentId: registration.agent_id,
    tenantId: registration.tenant_id,
    scopes: registration.scopes,
    fingerprint: registration.fingerprint,
    algorithm,
    baseUrl,
  };
}
