/** Webhooks: endpoints (add one, its secret shown once), their deliveries with attempts, and retry. */
import { useState } from "preact/hooks";
import { bursar, errorText, type ConsoleSession } from "../api.ts";
import { useLoad } from "../hooks.ts";

function Deliveries({ endpointId, canAdmin }: { endpointId: string; canAdmin: boolean }) {
  const deliveries = useLoad(() => bursar.webhookEndpoints.deliveries(endpointId, { limit: 20 }).then((page) => page.data), [endpointId]);
  const [message, setMessage] = useState<string | null>(null);
  const retry = async (id: string) => {
    try {
      await bursar.webhookEndpoints.retryDelivery(endpointId, id);
      setMessage(`Delivery ${id} queued again.`);
    } catch (error) {
      setMessage(errorText(error));
    }
    deliveries.reload();
  };
  return (
    <>
      {message && <p role="status">{message}</p>}
      <table>
        <caption>Deliveries</caption>
        <thead><tr><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Action</th></tr></thead>
        <tbody>
          {(deliveries.data ?? []).map((delivery) => (
            <tr key={delivery.id}>
              <td><code>{delivery.id}</code></td><td>{delivery.event_type}</td><td>{delivery.status}</td><td>{delivery.attempt_count}</td>
              <td>{canAdmin && <button type="button" onClick={() => retry(delivery.id)}>Retry</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function WebhooksScreen({ session }: { session: ConsoleSession }) {
  const canAdmin = session.scopes.includes("tenant:admin");
  const endpoints = useLoad(() => bursar.webhookEndpoints.list({ limit: 100 }).then((page) => page.data));
  const [open, setOpen] = useState<string | null>(null);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("*");
  const [created, setCreated] = useState<{ id: string; secret: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const add = async (event: Event) => {
    event.preventDefault();
    try {
      const endpoint = await bursar.webhookEndpoints.create({ url: url.trim(), event_types: types.split(",").map((type) => type.trim()).filter(Boolean) });
      setCreated({ id: endpoint.id, secret: endpoint.secret });
      setError(null);
      setUrl("");
    } catch (failure) {
      setError(errorText(failure));
    }
    endpoints.reload();
  };
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      {endpoints.error && <p class="error" role="alert">{endpoints.error}</p>}
      {canAdmin && (
        <form class="filters" onSubmit={add}>
          <label>URL <input type="url" value={url} onInput={(event) => setUrl((event.target as HTMLInputElement).value)} /></label>
          <label>Event types <input value={types} onInput={(event) => setTypes((event.target as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={url.trim() === ""}>Add endpoint</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {created && <div class="secret" data-testid="webhook-secret"><p>Endpoint {created.id} added. Its signing secret, shown once:</p><pre><code>{created.secret ?? ""}</code></pre></div>}
      {!endpoints.loading && (endpoints.data ?? []).length === 0 && !endpoints.error && <p>No webhook endpoints yet.</p>}
      <ul class="cards">
        {(endpoints.data ?? []).map((endpoint) => (
          <li key={endpoint.id} class="card">
            <h2>{endpoint.url}</h2>
            <p>{endpoint.enabled ? "enabled" : `disabled (${endpoint.disabled_reason ?? ""})`} · events {endpoint.event_types.join(", ")} · <code>{endpoint.id}</code></p>
            <button type="button" onClick={() => setOpen(open === endpoint.id ? null : endpoint.id)}>{open === endpoint.id ? "Hide deliveries" : "Show deliveries"}</button>
            {open === endpoint.id && <Deliveries endpointId={endpoint.id} canAdmin={canAdmin} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
