/** Webhooks: endpoints, their deliveries with attempts, and retry. */
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
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      {endpoints.error && <p class="error" role="alert">{endpoints.error}</p>}
      {!endpoints.loading && (endpoints.data ?? []).length === 0 && !endpoints.error && <p>No webhook endpoints yet (create them with the API or the SDK).</p>}
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
