/**
 * Agents: the list with balances and status; an agent's page with its policy editor and a live
 * dry run (`POST /v1/policy/check`), budgets, credential bindings with revoke, a registration
 * ticket (shown once, with the commands that use it) and recent activity.
 */
import { useEffect, useState } from "preact/hooks";
import type { Account, Agent, ApiKey, ApiKeyUsage, Period, PolicyDecision, RegistrationTicket } from "@bursar/sdk";
import { bursar, errorText, toMinor, type ConsoleSession } from "../api.ts";
import { useLoad } from "../hooks.ts";

/**
 * What is left of each amount limit and budget now. A dry run of the smallest payment (1 minor
 * unit) answers what would remain after it, so what remains now is one more. Nothing is held.
 */
async function limitsLeft(agent: Agent, currency: string): Promise<string> {
  const decision = await bursar.policy.check({ agent_id: agent.id, amount: 1, currency }).catch(() => null);
  if (!decision) return "—";
  const periods = ["daily", "weekly", "monthly", "all_time"];
  const parts = Object.entries(decision.remaining)
    .filter(([key, value]) => value !== null && (periods.includes(key) || key.startsWith("budget_")))
    .map(([key, value]) => `${key.replace("budget_", "budget ").replace("_", " ")}: ${((value! + 1) / 100).toFixed(2)}`);
  return parts.length === 0 ? "no limits" : parts.join(" · ");
}

export function AgentsScreen() {
  const agents = useLoad(async () => {
    const page = await bursar.agents.list({ limit: 100 });
    return Promise.all(page.data.map(async (agent) => {
      const wallet = await bursar.request<Account>("GET", `/v1/accounts/${agent.wallet_account_id}`).catch(() => null);
      return { agent, wallet, left: await limitsLeft(agent, wallet?.currency ?? "GBP") };
    }));
  });
  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      {agents.error && <p class="error" role="alert">{agents.error}</p>}
      <table data-testid="agents">
        <thead><tr><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Balance</th><th scope="col">Available</th><th scope="col">Left of limits now</th><th scope="col">Id</th></tr></thead>
        <tbody>
          {(agents.data ?? []).map(({ agent, wallet, left }) => (
            <tr key={agent.id}>
              <td><a href={`/console/agents/${agent.id}`}>{agent.name}</a></td>
              <td>{agent.status}</td>
              <td>{wallet ? `${wallet.balance_display} ${wallet.currency}` : "—"}</td>
              <td>{wallet ? `${wallet.available_display} ${wallet.currency}` : "—"}</td>
              <td data-testid="limits-left">{left}</td>
              <td><code>{agent.id}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function PolicyEditor({ agent, canConfigure }: { agent: Agent; canConfigure: boolean }) {
  const policy = useLoad(() => bursar.policy.get(agent.id), [agent.id]);
  const [text, setText] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (!policy.data) return;
    const { object: _object, id: _id, agent_id: _agent, is_default: _default, updated_at: _updated, ...rules } = policy.data;
    setText(JSON.stringify(rules, null, 2));
  }, [policy.data]);
  const save = async () => {
    try {
      const rules = JSON.parse(text) as Parameters<typeof bursar.policy.update>[1];
      await bursar.policy.update(agent.id, rules);
      setSaved("Policy saved.");
      policy.reload();
    } catch (error) {
      setSaved(`Not saved: ${errorText(error)}`);
    }
  };
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Policy</h2>
      {policy.error && <p class="error" role="alert">{policy.error}</p>}
      {policy.data && <p class="hint">{policy.data.is_default ? "The default policy is in force." : `Policy ${policy.data.id}, updated ${policy.data.updated_at}.`}</p>}
      <label for="policy-json">Rules (JSON; amounts in minor units)</label>
      <textarea id="policy-json" data-testid="policy-json" rows={14} value={text} readOnly={!canConfigure} onInput={(event) => setText((event.target as HTMLTextAreaElement).value)} />
      {canConfigure && <button type="button" onClick={save}>Save policy</button>}
      {saved && <p role="status" data-testid="policy-saved">{saved}</p>}
    </section>
  );
}

function DryRun({ agent, currency }: { agent: Agent; currency: string }) {
  const [amount, setAmount] = useState("");
  const [payee, setPayee] = useState("");
  const [result, setResult] = useState<PolicyDecision | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const minor = toMinor(amount);
    if (minor === null || minor <= 0) {
      setResult(null);
      return;
    }
    const timer = setTimeout(() => {
      bursar.policy.check({ agent_id: agent.id, amount: minor, currency, payee: payee.trim() || undefined }).then(
        (decision) => {
          setResult(decision);
          setError(null);
        },
        (failure: unknown) => setError(errorText(failure)),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [amount, payee, agent.id, currency]);
  return (
    <section aria-labelledby="dry-run-title">
      <h2 id="dry-run-title">Dry run</h2>
      <p class="hint">What would happen to a payment by this agent now (nothing is held or paid).</p>
      <div class="filters">
        <label>Amount ({currency}) <input data-testid="dry-run-amount" inputMode="decimal" value={amount} onInput={(event) => setAmount((event.target as HTMLInputElement).value)} /></label>
        <label>Payee <input data-testid="dry-run-payee" value={payee} onInput={(event) => setPayee((event.target as HTMLInputElement).value)} /></label>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {result && (
        <p role="status" data-testid="dry-run-result" data-decision={result.decision}>
          <strong>{result.decision}</strong>
          {result.reason_codes.length > 0 && ` — ${result.reason_codes.join(", ")}`}
          {result.available_actions.length > 0 && ` · next: ${result.available_actions.join(", ")}`}
        </p>
      )}
    </section>
  );
}

function Credentials({ agent, canConfigure }: { agent: Agent; canConfigure: boolean }) {
  const bindings = useLoad(() => bursar.credentialBindings.list({ agent_id: agent.id, limit: 100 }).then((page) => page.data), [agent.id]);
  const [ticket, setTicket] = useState<RegistrationTicket | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mint = async () => {
    try {
      setTicket(await bursar.registrationTickets.create({ agent_id: agent.id, scopes: ["agents:execute", "transactions:read", "payees:read", "events:read"] }));
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  const revoke = async (id: string) => {
    try {
      await bursar.credentialBindings.revoke(id);
    } catch (failure) {
      setError(errorText(failure));
    }
    bindings.reload();
  };
  return (
    <section aria-labelledby="credentials-title">
      <h2 id="credentials-title">Credentials</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {canConfigure && <button type="button" onClick={mint}>Mint a registration ticket</button>}
      {ticket && (
        <div class="secret" data-testid="ticket">
          <p>Shown once: it expires at {ticket.expires_at}. On the agent's host run one of:</p>
          <pre><code data-testid="ticket-value">{`BURSAR_API_URL=${location.origin} npx bursar auth agent --ticket ${ticket.ticket ?? ""}`}</code></pre>
          <pre><code>{`await register({ ticket: "${ticket.ticket ?? ""}", baseUrl: "${location.origin}" })`}</code></pre>
          <button type="button" onClick={() => navigator.clipboard?.writeText(ticket.ticket ?? "")}>Copy the ticket</button>
        </div>
      )}
      <table data-testid="bindings">
        <caption>Credential bindings (registered keys)</caption>
        <thead><tr><th scope="col">Client id</th><th scope="col">Algorithm</th><th scope="col">Scopes</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
        <tbody>
          {(bindings.data ?? []).map((binding) => (
            <tr key={binding.id} data-testid="binding" data-binding-id={binding.id}>
              <td><code>{binding.id}</code></td><td>{binding.algorithm}</td><td>{binding.scopes.join(" ")}</td><td>{binding.status}</td>
              <td>{canConfigure && binding.status === "active" && <button type="button" class="reject" onClick={() => revoke(binding.id)}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Budgets({ agent, currency, canConfigure }: { agent: Agent; currency: string; canConfigure: boolean }) {
  const budgets = useLoad(() => bursar.budgets.list(agent.id).then((list) => list.data.filter((budget) => budget.status === "active")), [agent.id]);
  const [period, setPeriod] = useState<Period>("monthly");
  const [amount, setAmount] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const save = async (event: Event) => {
    event.preventDefault();
    const minor = toMinor(amount);
    if (minor === null || minor <= 0) return setMessage("Give an amount such as 250.00.");
    const others = (budgets.data ?? []).filter((budget) => budget.period !== period).map((budget) => ({ period: budget.period, amount: budget.amount, currency: budget.currency }));
    try {
      await bursar.budgets.set(agent.id, { budgets: [...others, { period, amount: minor, currency }] });
      setMessage("Budgets saved.");
    } catch (error) {
      setMessage(`Not saved: ${errorText(error)}`);
    }
    budgets.reload();
  };
  return (
    <section aria-labelledby="budgets-title">
      <h2 id="budgets-title">Budgets</h2>
      {budgets.error && <p class="error" role="alert">{budgets.error}</p>}
      {(budgets.data ?? []).length === 0 && !budgets.error ? <p>No budgets: only the policy's limits apply.</p> : (
        <ul>{(budgets.data ?? []).map((budget) => <li key={budget.id}>{budget.period}: {budget.amount_display} {budget.currency}</li>)}</ul>
      )}
      {canConfigure && (
        <form class="filters" onSubmit={save}>
          <label>Period{" "}
            <select value={period} onChange={(event) => setPeriod((event.target as HTMLSelectElement).value as Period)}>
              {(["daily", "weekly", "monthly", "all_time"] as const).map((option) => <option key={option} value={option}>{option}</option>)}
            </select>
          </label>
          <label>Amount ({currency}) <input inputMode="decimal" value={amount} onInput={(event) => setAmount((event.target as HTMLInputElement).value)} /></label>
          <button type="submit">Set budget</button>
        </form>
      )}
      {message && <p role="status">{message}</p>}
    </section>
  );
}

function ApiKeys({ agent }: { agent: Agent }) {
  const keys = useLoad(() => bursar.apiKeys.list({ limit: 100 }).then((page) => page.data.filter((key) => key.agent_id === agent.id)), [agent.id]);
  const [usage, setUsage] = useState<Record<string, ApiKeyUsage>>({});
  const [secret, setSecret] = useState<ApiKey | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = async (what: () => Promise<unknown>) => {
    try {
      await what();
    } catch (error) {
      setMessage(errorText(error));
    }
    keys.reload();
  };
  if (keys.error) return null; // Keys need tenant:admin; other roles do not see this section.
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      {message && <p role="status">{message}</p>}
      <button type="button" onClick={() => run(async () => setSecret(await bursar.apiKeys.create({ name: `${agent.name} key`, agent_id: agent.id, scopes: ["agents:execute", "transactions:read"] })))}>Create an API key</button>
      {secret?.key && <pre class="secret"><code>{secret.key}</code></pre>}
      <table>
        <caption>Keys of this agent</caption>
        <thead><tr><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col">Usage</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {(keys.data ?? []).map((key) => (
            <tr key={key.id}>
              <td>{key.name} <code>{key.id}</code></td><td>{key.status}</td><td>{key.scopes.join(" ")}</td><td>{key.last_used_at ?? "never"}</td>
              <td>{usage[key.id] ? `${usage[key.id]!.accepted} accepted, ${usage[key.id]!.denied_total} denied` : <button type="button" onClick={() => run(async () => { const found = await bursar.apiKeys.usage(key.id); setUsage((previous) => ({ ...previous, [key.id]: found })); })}>Usage</button>}</td>
              <td>{key.status === "active" && (
                <>
                  <button type="button" onClick={() => run(async () => setSecret(await bursar.apiKeys.rotate(key.id)))}>Rotate</button>
                  <button type="button" class="reject" onClick={() => run(() => bursar.apiKeys.revoke(key.id))}>Revoke</button>
                </>
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Activity({ agent }: { agent: Agent }) {
  const events = useLoad(() => bursar.events.list({ agent_id: agent.id, limit: 10 }).then((page) => page.data), [agent.id]);
  return (
    <section aria-labelledby="activity-title">
      <h2 id="activity-title">Recent activity</h2>
      <ul>{(events.data ?? []).map((event) => <li key={event.id}><code>{event.type}</code> · {event.created_at}</li>)}</ul>
    </section>
  );
}

export function AgentScreen({ agentId, session }: { agentId: string; session: ConsoleSession }) {
  const canConfigure = session.scopes.includes("agents:config");
  const agent = useLoad(() => bursar.request<Agent>("GET", `/v1/agents/${encodeURIComponent(agentId)}`), [agentId]);
  const wallet = useLoad(async () => (agent.data ? bursar.request<Account>("GET", `/v1/accounts/${agent.data.wallet_account_id}`) : null), [agent.data?.id]);
  if (agent.error) return <section><h1>Agent</h1><p class="error" role="alert">{agent.error}</p></section>;
  if (!agent.data) return <section><h1>Agent</h1><p>Loading…</p></section>;
  const currency = wallet.data?.currency ?? "GBP";
  return (
    <section aria-labelledby="agent-title">
      <h1 id="agent-title">{agent.data.name}</h1>
      <p><code>{agent.data.id}</code> · {agent.data.status} · wallet {wallet.data ? `${wallet.data.balance_display} ${currency} (available ${wallet.data.available_display})` : "…"}</p>
      <div class="columns">
        <PolicyEditor agent={agent.data} canConfigure={canConfigure} />
        <DryRun agent={agent.data} currency={currency} />
      </div>
      <Budgets agent={agent.data} currency={currency} canConfigure={canConfigure} />
      <Credentials agent={agent.data} canConfigure={canConfigure} />
      {session.scopes.includes("tenant:admin") && <ApiKeys agent={agent.data} />}
      <Activity agent={agent.data} />
    </section>
  );
}
