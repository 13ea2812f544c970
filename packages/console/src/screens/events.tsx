/** Events and audit: the journal as an audit log, filtered by type, agent and time, with a live tail. */
import { useState } from "preact/hooks";
import type { BursarEvent } from "@bursar/sdk";
import { bursar } from "../api.ts";
import { useLiveEvents, useLoad } from "../hooks.ts";

export function EventsScreen() {
  const [type, setType] = useState("");
  const [agentId, setAgentId] = useState("");
  const [since, setSince] = useState("");
  const [tail, setTail] = useState<BursarEvent[]>([]);
  const filter = type.trim() === "" ? undefined : type.trim();
  const events = useLoad(() => bursar.events.list({ type: filter, agent_id: agentId.trim() || undefined, limit: 100 }).then((page) => page.data), [filter, agentId]);
  useLiveEvents(filter ? [filter] : ["*"], (event) => {
    if (agentId.trim() && event.agent_id !== agentId.trim()) return;
    setTail((previous) => [event, ...previous].slice(0, 100));
  });
  const sinceMs = since ? Date.parse(since) : NaN;
  const known = new Set((events.data ?? []).map((event) => event.id));
  const rows = [...tail.filter((event) => !known.has(event.id)), ...(events.data ?? [])].filter((event) => Number.isNaN(sinceMs) || Date.parse(event.created_at) >= sinceMs);
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Events</h1>
      <div class="filters">
        <label>Type <input placeholder="payment_intent.*" value={type} onChange={(event) => setType((event.target as HTMLInputElement).value)} /></label>
        <label>Agent <input placeholder="agt_…" value={agentId} onChange={(event) => setAgentId((event.target as HTMLInputElement).value)} /></label>
        <label>Since <input type="datetime-local" value={since} onChange={(event) => setSince((event.target as HTMLInputElement).value)} /></label>
      </div>
      {events.error && <p class="error" role="alert">{events.error}</p>}
      <table data-testid="events">
        <thead><tr><th scope="col">Seq</th><th scope="col">Type</th><th scope="col">Agent</th><th scope="col">Actor</th><th scope="col">Time</th><th scope="col">Data</th></tr></thead>
        <tbody>
          {rows.map((event) => (
            <tr key={event.id}>
              <td>{event.seq}</td><td><code>{event.type}</code></td><td>{event.agent_id ?? ""}</td>
              <td>{event.actor ? `${event.actor.type} ${event.actor.id}` : ""}</td><td>{event.created_at}</td>
              <td><code class="data">{JSON.stringify(event.data)}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
