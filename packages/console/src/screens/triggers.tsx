/**
 * Triggers (issue 15): an external system's signed event bound to a governed action of one
 * agent (a payment intent or a service request, from a payload template with `{{field}}`
 * placeholders). Owners list them (live over `trigger.*`), create one (its `whsec_` signing
 * secret is shown once, here, and never again), disable or re-enable it, delete it after a
 * confirmation, and read its recent fires with the governed outcome of each (executed, waiting
 * for approval, blocked by policy, failed) and what it made.
 */
import { useMemo, useState } from "preact/hooks";
import type { Trigger, TriggerFire, TriggerOperation } from "@bursar/sdk";
import { bursar, errorText, type ConsoleSession } from "../api.ts";
import { useLiveList, useLoad } from "../hooks.ts";

const exampleTemplate: Record<TriggerOperation, string> = {
  "payment_intents.create": JSON.stringify({ payee: "{{supplier}}", amount: "{{amount_minor}}", currency: "GBP", reference: "{{invoice}}" }, null, 2),
  "service_requests.create": JSON.stringify({ service: "{{service}}", operation: "{{operation}}", input: { text: "{{text}}" } }, null, 2),
};

async function loadTriggers(): Promise<{ value: Trigger[]; journalSeq: number | null }> {
  const page = await bursar.triggers.list({ limit: 100 });
  return { value: page.data, journalSeq: page.journalSeq };
}

function fireLink(fire: TriggerFire) {
  if (fire.payment_intent_id) return <a href="/console/payments">{fire.payment_intent_id}</a>;
  if (fire.service_request_id) return <code>{fire.service_request_id}</code>;
  return "—";
}

function Fires({ trigger }: { trigger: Trigger }) {
  const fires = useLoad(() => bursar.triggers.fires(trigger.id, { limit: 20 }).then((page) => page.data), [trigger.id, trigger.last_fired_at]);
  if (fires.error) return <p class="error" role="alert">{fires.error}</p>;
  const rows = fires.data ?? [];
  return (
    <table data-testid="trigger-fires">
      <caption>Recent fires of {trigger.name}</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Message</th><th scope="col">Outcome</th><th scope="col">Made</th><th scope="col">Why</th></tr></thead>
      <tbody>
        {rows.map((fire) => (
          <tr key={fire.id} data-testid="trigger-fire" data-outcome={fire.outcome}>
            <td>{fire.created_at}</td><td><code>{fire.webhook_id}</code></td>
            <td data-testid="trigger-fire-outcome">{fire.outcome.replace(/_/g, " ")}</td>
            <td>{fireLink(fire)}{fire.approval_id ? <> · <a href="/console/approvals">approval {fire.approval_id}</a></> : null}</td>
            <td>{fire.error ? `${fire.error.code}: ${fire.error.detail}` : fire.reason_codes.join(", ")}</td>
          </tr>
        ))}
        {!fires.loading && rows.length === 0 && <tr><td colSpan={5}>No fires yet.</td></tr>}
      </tbody>
    </table>
  );
}

function Row({ trigger, agentName, canManage, onMessage }: { trigger: Trigger; agentName: string; canManage: boolean; onMessage: (text: string) => void }) {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (what: "disable" | "enable" | "delete") => {
    setError(null);
    try {
      if (what === "delete") await bursar.triggers.delete(trigger.id);
      else await bursar.triggers.update(trigger.id, { status: what === "disable" ? "disabled" : "active" });
      setConfirming(false);
      onMessage(`Trigger ${trigger.name} ${what === "delete" ? "deleted" : what === "disable" ? "disabled" : "enabled"}.`);
    } catch (failure) {
      setError(`Not done: ${errorText(failure)}`);
    }
  };
  return (
    <>
      <tr data-testid="trigger" data-trigger-id={trigger.id} data-status={trigger.status}>
        <td data-testid="trigger-name">{trigger.name}</td>
        <td><a href={`/console/agents/${encodeURIComponent(trigger.agent_id)}`}>{agentName}</a></td>
        <td><code>{trigger.operation}</code></td>
        <td>{trigger.status}</td>
        <td>{trigger.last_fired_at ?? "never"}</td>
        <td>
          <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? "Hide fires" : "Show fires"}</button>
          {canManage && trigger.status !== "deleted" && (
            confirming ? (
              <span role="group" aria-label={`Confirm deleting ${trigger.name}`} data-testid="trigger-confirm">
                {" "}Delete {trigger.name}? Its fires stay; later fires answer 404.{" "}
                <button type="button" class="reject" onClick={() => act("delete")}>Confirm delete</button>
                <button type="button" onClick={() => setConfirming(false)}>Back</button>
              </span>
            ) : (
              <>
                {" "}
                <button type="button" onClick={() => act(trigger.status === "active" ? "disable" : "enable")}>{trigger.status === "active" ? "Disable" : "Enable"}</button>
                <button type="button" class="reject" onClick={() => setConfirming(true)}>Delete…</button>
              </>
            )
          )}
          {error && <p class="error" role="alert">{error}</p>}
        </td>
      </tr>
      {open && <tr><td colSpan={6}><Fires trigger={trigger} /></td></tr>}
    </>
  );
}

export function TriggersScreen({ session }: { session: ConsoleSession }) {
  const canManage = session.scopes.includes("agents:config");
  const triggers = useLiveList(loadTriggers, ["trigger.*"], []);
  const agents = useLoad(() => bursar.agents.list({ limit: 100 }).then((page) => page.data).catch(() => []), []);
  const agentName = useMemo(() => new Map((agents.data ?? []).map((agent) => [agent.id, agent.name])), [agents.data]);
  const [agentId, setAgentId] = useState("");
  const [name, setName] = useState("");
  const [operation, setOperation] = useState<TriggerOperation>("payment_intents.create");
  const [template, setTemplate] = useState(exampleTemplate["payment_intents.create"]);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const rows = (triggers.data ?? []).filter((trigger) => trigger.status !== "deleted");

  const create = async (event: Event) => {
    event.preventDefault();
    setFormError(null);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(template) as Record<string, unknown>;
    } catch {
      setFormError("The payload template is not JSON.");
      return;
    }
    try {
      const created = await bursar.triggers.create({ agent_id: agentId || (agents.data ?? [])[0]?.id || "", name: name.trim(), operation, payload_template: payload });
      setSecret(created.secret ? { name: created.name, secret: created.secret } : null);
      setName("");
      setMessage(`Trigger ${created.name} created.`);
      triggers.reload();
    } catch (failure) {
      setFormError(`Not created: ${errorText(failure)}`);
    }
  };

  return (
    <section aria-labelledby="triggers-title">
      <h1 id="triggers-title">Triggers</h1>
      <p class="hint">An external system's signed event (Standard Webhooks) runs a governed action of an agent: the agent's policy decides it as any other. {triggers.connected ? "Live." : ""}</p>
      {message && <p role="status" data-testid="trigger-message">{message}</p>}
      {secret && (
        <div class="card" data-testid="trigger-secret-card">
          <p><strong>Signing secret of {secret.name}</strong>, shown once: give it to the sending system now.</p>
          <p><code data-testid="trigger-secret">{secret.secret}</code></p>
          <button type="button" onClick={() => setSecret(null)}>I have stored it</button>
        </div>
      )}
      {triggers.error && <p class="error" role="alert">{triggers.error}</p>}
      {!triggers.loading && rows.length === 0 && <p data-testid="triggers-empty">No triggers.</p>}
      <table data-testid="triggers">
        <caption>Triggers</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Agent</th><th scope="col">Operation</th><th scope="col">Status</th><th scope="col">Last fired</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {rows.map((trigger) => <Row key={trigger.id} trigger={trigger} agentName={agentName.get(trigger.agent_id) ?? trigger.agent_id} canManage={canManage} onMessage={(text) => { setMessage(text); triggers.reload(); }} />)}
        </tbody>
      </table>
      {canManage ? (
        <form onSubmit={create} class="card" aria-labelledby="trigger-new-title">
          <h2 id="trigger-new-title">New trigger</h2>
          <p><label>Agent{" "}
            <select value={agentId} onChange={(event) => setAgentId((event.target as HTMLSelectElement).value)}>
              {(agents.data ?? []).map((agent) => <option key={agent.id} value={agent.id}>{agent.name}</option>)}
            </select>
          </label></p>
          <p><label>Trigger name <input required value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} /></label></p>
          <p><label>Operation{" "}
            <select value={operation} onChange={(event) => { const next = (event.target as HTMLSelectElement).value as TriggerOperation; setOperation(next); setTemplate(exampleTemplate[next]); }}>
              <option value="payment_intents.create">payment_intents.create</option>
              <option value="service_requests.create">service_requests.create</option>
            </select>
          </label></p>
          <p><label>Payload template (JSON; <code>{"{{field}}"}</code> is filled from the event)<br />
            <textarea rows={6} cols={60} value={template} onInput={(event) => setTemplate((event.target as HTMLTextAreaElement).value)} />
          </label></p>
          <button type="submit">Create trigger</button>
          {formError && <p class="error" role="alert" data-testid="trigger-form-error">{formError}</p>}
        </form>
      ) : <p class="hint">Your role can see triggers but not change them.</p>}
    </section>
  );
}
