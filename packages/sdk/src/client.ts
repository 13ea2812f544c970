/**
 * `new Bursar(options?)`: the client. Credentials, in order: `apiKey`, `token` (owner PAT),
 * `clientId` with `privateKey` or `privateKeyPath` (agent, DPoP), `BURSAR_API_KEY` (unless a
 * `configDir` or `credentialStore` is named), then the credential store that `register()` and
 * `bursar auth agent` write (`BURSAR_CONFIG_DIR`, default `~/.bursar`). Stores are read on the
 * first request, so the constructor never does I/O.
 */
import { BearerAuth, DpopAuth, type Authenticator } from "./auth.ts";
import { FileCredentialStore, type AgentCredentials, type CredentialStore } from "./credential-store.ts";
import { defaultBaseUrl, envVar } from "./env.ts";
import { ConfigError } from "./errors.ts";
import { agentKeyFromCryptoKeys, importPrivateKeyPem, type AgentKey, type CryptoKey, type CryptoKeyPair, type JsonWebKey } from "./jose.ts";
import { unauthorizedRetriesMax } from "./limits.ts";
import { Accounts } from "./resources/accounts.ts";
import { Agents } from "./resources/agents.ts";
import { ApiKeys } from "./resources/api-keys.ts";
import { BalanceResource } from "./resources/balance.ts";
import { CredentialBindings } from "./resources/credential-bindings.ts";
import { Events } from "./resources/events.ts";
import { Journal } from "./resources/journal.ts";
import { PersonalAccessTokens } from "./resources/personal-access-tokens.ts";
import { PrincipalResource } from "./resources/principal.ts";
import { RegistrationTickets } from "./resources/registration-tickets.ts";
import type { Requester } from "./resources/resource.ts";
import { Transfers } from "./resources/transfers.ts";
import { Payees } from "./resources/payees.ts";
import { Chat, Conversations } from "./resources/chat.ts";
import { ServiceRequests, Services } from "./resources/services.ts";
import { Approvals, PaymentIntents, Transactions } from "./resources/payments.ts";
import { Budgets, PolicyResource } from "./resources/policy.ts";
import { WebhookEndpoints } from "./resources/webhook-endpoints.ts";
import { SpendAuthorizations } from "./resources/spend.ts";
import { EscrowIntents, Predicates, Reputation, SigningKeys } from "./resources/escrow.ts";
import { Tasks } from "./resources/tasks.ts";
import { Capabilities } from "./resources/capabilities.ts";
import { Triggers } from "./resources/triggers.ts";
import { UsageResource } from "./resources/usage.ts";
import { BudgetRequests, Teams } from "./resources/teams.ts";
import { Transport, type FetchLike, type RequestOptions } from "./transport.ts";

export interface BursarOptions {
  /** Default: the stored credentials' URL, then `BURSAR_API_URL`, then `http://127.0.0.1:7420`. */
  baseUrl?: string;
  /** An API key (`bsk_…`), sent as a bearer token. */
  apiKey?: string;
  /** A personal access token (`bpat_…`) for owner calls, sent as a bearer token. */
  token?: string;
  /** Another way to authenticate, e.g. `SessionAuth` (a console session in a browser). */
  auth?: Authenticator;
  /** An agent's client_id (`cb_…`), with `privateKey` or `privateKeyPath`. */
  clientId?: string;
  /** PKCS#8 PEM, a private CryptoKey (with `publicKey`), a CryptoKeyPair, or an `AgentKey`. */
  privateKey?: string | CryptoKey | CryptoKeyPair | AgentKey;
  /** The public key of a non-extractable private CryptoKey. */
  publicKey?: CryptoKey | JsonWebKey;
  /** A PKCS#8 PEM file. */
  privateKeyPath?: string;
  /** Scopes agent tokens ask for (within the registration's); all by default. */
  scopes?: string[];
  /** The credential directory (default `BURSAR_CONFIG_DIR`, then `~/.bursar`). */
  configDir?: string;
  /** Another credential store (clustered hosts). */
  credentialStore?: CredentialStore;
  /** Journal trust: a verifier key from a source you trust (see `Journal`). */
  journalVerifierKey?: string;
  /** Replace `fetch` (proxies, instrumentation, tests). */
  fetch?: FetchLike;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
}

interface Resolved {
  transport: Transport;
  auth: Authenticator;
}

function isAgentKey(value: unknown): value is AgentKey {
  return typeof value === "object" && value !== null && "publicJwk" in value && "privateKey" in value && "thumbprint" in value;
}

async function readFile(file: string): Promise<string> {
  const fs = await import("node:fs/promises");
  try {
    return await fs.readFile(file, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read the key file ${file}`, { cause });
  }
}

/**
 * The Bursar API client.
 *
 * @example
 * const bursar = new Bursar(); // an agent registered with register() or `bursar auth agent`
 * const { balance_display, currency } = await bursar.balance.get();
 */
export class Bursar implements Requester {
  readonly agents: Agents;
  readonly registrationTickets: RegistrationTickets;
  readonly credentialBindings: CredentialBindings;
  readonly apiKeys: ApiKeys;
  readonly personalAccessTokens: PersonalAccessTokens;
  readonly principal: PrincipalResource;
  readonly accounts: Accounts;
  readonly transfers: Transfers;
  readonly balance: BalanceResource;
  readonly events: Events;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly journal: Journal;
  readonly payees: Payees;
  readonly policy: PolicyResource;
  readonly budgets: Budgets;
  readonly paymentIntents: PaymentIntents;
  readonly approvals: Approvals;
  readonly transactions: Transactions;
  readonly chat: Chat;
  readonly conversations: Conversations;
  readonly services: Services;
  readonly serviceRequests: ServiceRequests;
  /** Spend authorizations: authorize → execute → complete, and `guard` around a paid call. */
  readonly spend: SpendAuthorizations;
  readonly capabilities: Capabilities;
  readonly escrow: EscrowIntents;
  readonly predicates: Predicates;
  readonly reputation: Reputation;
  readonly signingKeys: SigningKeys;
  readonly triggers: Triggers;
  readonly usage: UsageResource;
  /** Teams, their members, pools and allocations (docs/teams.md). */
  readonly teams: Teams;
  /** An agent's requests for more budget; managers and owners approve or reject. */
  readonly budgetRequests: BudgetRequests;
  readonly tasks: Tasks;

  private readonly options: BursarOptions;
  private resolved: Promise<Resolved> | null = null;
  private readonly closer = new AbortController();
  /** The store in use (explicit, or the default one when credentials came from it). */
  private readonly store: CredentialStore | null;
  private storedCredentials: AgentCredentials | null = null;

  constructor(options: BursarOptions = {}) {
    this.options = options;
    const explicit = options.apiKey ?? options.token ?? options.clientId ?? options.auth;
    this.store = options.credentialStore ?? (options.configDir !== undefined || !explicit ? new FileCredentialStore({ dir: options.configDir }) : null);
    this.agents = new Agents(this);
    this.registrationTickets = new RegistrationTickets(this);
    this.credentialBindings = new CredentialBindings(this);
    this.apiKeys = new ApiKeys(this);
    this.personalAccessTokens = new PersonalAccessTokens(this);
    this.principal = new PrincipalResource(this);
    this.accounts = new Accounts(this);
    this.transfers = new Transfers(this);
    this.payees = new Payees(this);
    this.policy = new PolicyResource(this);
    this.budgets = new Budgets(this);
    this.paymentIntents = new PaymentIntents(this);
    this.approvals = new Approvals(this);
    this.transactions = new Transactions(this);
    this.chat = new Chat(this);
    this.conversations = new Conversations(this);
    this.services = new Services(this);
    this.serviceRequests = new ServiceRequests(this);
    this.spend = new SpendAuthorizations(this);
    this.capabilities = new Capabilities(this);
    this.escrow = new EscrowIntents(this, async () => {
      const { auth } = await this.resolve();
      return auth instanceof DpopAuth ? { keyId: auth.clientId, key: auth.key } : null;
    });
    this.predicates = new Predicates(this);
    this.reputation = new Reputation(this);
    this.signingKeys = new SigningKeys(this);
    this.triggers = new Triggers(this);
    this.usage = new UsageResource(this);
    this.teams = new Teams(this);
    this.budgetRequests = new BudgetRequests(this);
    this.tasks = new Tasks(this);
    this.balance = new BalanceResource(this);
    this.events = new Events(this);
    this.webhookEndpoints = new WebhookEndpoints(this);
    const store = this.store;
    this.journal = new Journal(this, {
      verifierKey: options.journalVerifierKey,
      trustStore: store ?? undefined,
    });
  }

  /** Aborted by `close()`. */
  get closedSignal(): AbortSignal {
    return this.closer.signal;
  }

  /** Which credential mode the client runs in, once resolved (`apiKey`, `token`, `agent`). */
  async authMode(): Promise<"bearer" | "agent"> {
    const { auth } = await this.resolve();
    return auth instanceof DpopAuth ? "agent" : "bearer";
  }

  /** The agent credentials read from the store, when the client uses them. */
  async credentials(): Promise<AgentCredentials | null> {
    await this.resolve();
    return this.storedCredentials;
  }

  async request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    const { transport } = await this.resolve();
    return transport.request<T>(method, path, options);
  }

  async stream(method: string, path: string, options?: RequestOptions): Promise<Response> {
    const { transport } = await this.resolve();
    return transport.stream(method, path, options);
  }

  /** Aborts every in-flight request and stream; the client cannot be used afterwards. */
  async close(): Promise<void> {
    this.closer.abort();
    const resolved = await this.resolved?.catch(() => null);
    await resolved?.transport.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private resolve(): Promise<Resolved> {
    this.resolved ??= this.setUp();
    // A failed set-up (no credentials yet) may succeed later, after register().
    this.resolved.catch(() => {
      this.resolved = null;
    });
    return this.resolved;
  }

  private async setUp(): Promise<Resolved> {
    const o = this.options;
    let baseUrl = o.baseUrl ?? envVar("BURSAR_API_URL");
    let auth: Authenticator;
    // BURSAR_API_KEY stands in for the store only when no store was named explicitly.
    const storeNamed = o.configDir !== undefined || o.credentialStore !== undefined;
    const apiKey = o.apiKey ?? (o.token === undefined && o.clientId === undefined && !storeNamed ? envVar("BURSAR_API_KEY") : undefined);
    if (o.auth !== undefined) {
      auth = o.auth;
    } else if (o.apiKey !== undefined || o.token !== undefined) {
      auth = new BearerAuth((o.apiKey ?? o.token)!);
    } else if (o.clientId !== undefined) {
      baseUrl ??= defaultBaseUrl;
      auth = this.dpop(o.clientId, await this.explicitKey(), baseUrl);
    } else if (apiKey !== undefined) {
      auth = new BearerAuth(apiKey);
    } else {
      const stored = await this.store?.load();
      if (!stored) {
        throw new ConfigError(
          "no credentials: pass { apiKey }, { token } or { clientId, privateKey }, set BURSAR_API_KEY, or register this host first (register({ ticket }) or `bursar auth agent --ticket …`)",
        );
      }
      this.storedCredentials = stored;
      baseUrl = o.baseUrl ?? stored.baseUrl ?? envVar("BURSAR_API_URL");
      const key = await importPrivateKeyPem(stored.privateKeyPem);
      if (key.thumbprint !== stored.fingerprint) throw new ConfigError("the stored key does not match the stored fingerprint");
      auth = this.dpop(stored.clientId, key, baseUrl ?? defaultBaseUrl);
    }
    const transport = new Transport({
      baseUrl: baseUrl ?? defaultBaseUrl,
      fetch: o.fetch,
      timeoutMs: o.timeoutMs,
      maxAttempts: o.maxAttempts,
      auth: (request) => auth.headers(request),
      onUnauthorized: (error, context) => auth.onUnauthorized(error, context),
      unauthorizedRetriesMax,
    });
    if (this.closer.signal.aborted) await transport.close();
    return { transport, auth };
  }

  private dpop(clientId: string, key: AgentKey, baseUrl: string): DpopAuth {
    return new DpopAuth({ clientId, key, baseUrl, scopes: this.options.scopes, fetch: this.options.fetch, signal: this.closer.signal, timeoutMs: this.options.timeoutMs });
  }

  private async explicitKey(): Promise<AgentKey> {
    const { privateKey, publicKey, privateKeyPath } = this.options;
    if (privateKey === undefined) {
      if (privateKeyPath === undefined) throw new ConfigError("clientId needs privateKey or privateKeyPath");
      return importPrivateKeyPem(await readFile(privateKeyPath));
    }
    if (typeof privateKey === "string") return importPrivateKeyPem(privateKey);
    if (isAgentKey(privateKey)) return privateKey;
    if ("privateKey" in privateKey && "publicKey" in privateKey) return agentKeyFromCryptoKeys(privateKey.privateKey, privateKey.publicKey);
    if (publicKey === undefined) throw new ConfigError("a private CryptoKey needs its publicKey (a CryptoKey or a JWK)");
    return agentKeyFromCryptoKeys(privateKey, publicKey);
  }
}
