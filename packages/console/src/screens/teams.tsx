/**
 * Teams (issue 15, read only): the tenant's teams, and one team's page with its managers, its
 * budget pools (amount, allocated, what the members spent and hold over the window, what
 * remains), the allocations carved from them, its agents, and their budget requests (decided
 * there by the team's managers and owners). Changing a team is done through the
 * API (`/v1/teams`) for now. The SDK has no teams resource yet, so these read through its generic
 * request (same session, same CSRF handling).
 */
import { bursar, type ConsoleSession } from "../api.ts";
import { useLoad } from "../hooks.ts";
import { BudgetRequestsPanel } from "./budget-requests.tsx";

interface Pool {
  period: string;
  currency: string;
  amount: number;
  amount_display: string;
  allocated: number;
  spent?: number;
  held?: number;
  remaining?: number;
  remaining_display?: string;
  unallocated?: number;
}

interface Team {
  object: "team";
  id: string;
  name: string;
  description: string | null;
  manager_ids: string[];
  pools: Pool[];
  allocations: Array<{ agent_id: string; period: string; currency: string; amount: number; amount_display: string }>;
  created_at: string;
}

interface TeamAgent {
  id: string;
  name: string;
  status: string;
}

/** `1234` → `12.34` (minor units of a 2-decimal currency). */
function major(minor: number | undefined): string {
  if (minor === undefined) return "—";
  const value = Math.abs(minor);
  return `${minor < 0 ? "-" : ""}${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

function useNames() {
  const members = useLoad(() => bursar.request<{ data: Array<{ id: string; name: string }> }>("GET", "/v1/members").then((page) => page.data).catch(() => []), []);
  const agents = useLoad(() => bursar.agents.list({ limit: 100 }).then((page) => page.data).catch(() => []), []);
  return {
    member: new Map((members.data ?? []).map((member) => [member.id, member.name])),
    agent: new Map((agents.data ?? []).map((agent) => [agent.id, agent.name])),
  };
}

export function TeamsScreen() {
  const teams = useLoad(() => bursar.request<{ data: Team[] }>("GET", "/v1/teams", { query: { limit: 100 } }).then((page) => page.data));
  const names = useNames();
  return (
    <section aria-labelledby="teams-title">
      <h1 id="teams-title">Teams</h1>
      <p class="hint">Agents that share budget pools, with managers who may change them (docs/teams.md). Read only here.</p>
      {teams.error && <p class="error" role="alert">{teams.error}</p>}
      {!teams.loading && (teams.data ?? []).length === 0 && <p data-testid="teams-empty">No teams.</p>}
      <table data-testid="teams">
        <caption>Teams</caption>
        <thead><tr><th scope="col">Team</th><th scope="col">Managers</th><th scope="col">Pools</th><th scope="col">Allocations</th><th scope="col">Created</th></tr></thead>
        <tbody>
          {(teams.data ?? []).map((team) => (
            <tr key={team.id} data-testid="team" data-team-id={team.id}>
              <td><a href={`/console/teams/${encodeURIComponent(team.id)}`}>{team.name}</a></td>
              <td>{team.manager_ids.map((id) => names.member.get(id) ?? id).join(", ") || "none"}</td>
              <td>{team.pools.map((pool) => `${pool.period}: ${pool.amount_display} ${pool.currency} (${major(pool.allocated)} allocated)`).join("; ") || "none"}</td>
              <td>{team.allocations.length}</td>
              <td>{team.created_at}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function TeamScreen({ teamId, session }: { teamId: string; session: ConsoleSession }) {
  const team = useLoad(() => bursar.request<Team>("GET", `/v1/teams/${encodeURIComponent(teamId)}`), [teamId]);
  const agents = useLoad(() => bursar.request<{ data: TeamAgent[] }>("GET", `/v1/teams/${encodeURIComponent(teamId)}/members`).then((page) => page.data), [teamId]);
  const names = useNames();
  if (team.error) return <section><h1>Team</h1><p class="error" role="alert">{team.error}</p></section>;
  if (!team.data) return <section><h1>Team</h1><p>Loading…</p></section>;
  const row = team.data;
  return (
    <section aria-labelledby="team-title">
      <h1 id="team-title">{row.name}</h1>
      <p><a href="/console/teams">All teams</a></p>
      <dl>
        <dt>Team</dt><dd><code>{row.id}</code></dd>
        {row.description && <><dt>Description</dt><dd>{row.description}</dd></>}
        <dt>Managers</dt><dd data-testid="team-managers">{row.manager_ids.map((id) => names.member.get(id) ?? id).join(", ") || "none"}</dd>
      </dl>
      <table data-testid="team-pools">
        <caption>Budget pools (over each period's trailing window)</caption>
        <thead><tr><th scope="col">Period</th><th scope="col">Pool</th><th scope="col">Allocated</th><th scope="col">Unallocated</th><th scope="col">Spent</th><th scope="col">Held</th><th scope="col">Remaining</th></tr></thead>
        <tbody>
          {row.pools.map((pool) => (
            <tr key={`${pool.period}-${pool.currency}`} data-testid="team-pool" data-period={pool.period}>
              <td>{pool.period}</td><td>{pool.amount_display} {pool.currency}</td><td>{major(pool.allocated)}</td><td>{major(pool.unallocated)}</td>
              <td>{major(pool.spent)}</td><td>{major(pool.held)}</td><td data-testid="team-pool-remaining">{pool.remaining_display ?? major(pool.remaining)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table data-testid="team-allocations">
        <caption>Allocations</caption>
        <thead><tr><th scope="col">Agent</th><th scope="col">Period</th><th scope="col">Amount</th></tr></thead>
        <tbody>
          {row.allocations.map((allocation) => (
            <tr key={`${allocation.agent_id}-${allocation.period}-${allocation.currency}`} data-testid="team-allocation">
              <td><a href={`/console/agents/${encodeURIComponent(allocation.agent_id)}`}>{names.agent.get(allocation.agent_id) ?? allocation.agent_id}</a></td>
              <td>{allocation.period}</td><td>{allocation.amount_display} {allocation.currency}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table data-testid="team-agents">
        <caption>Agents</caption>
        <thead><tr><th scope="col">Agent</th><th scope="col">Status</th></tr></thead>
        <tbody>
          {(agents.data ?? []).map((agent) => (
            <tr key={agent.id} data-testid="team-agent"><td><a href={`/console/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</a></td><td>{agent.status}</td></tr>
          ))}
        </tbody>
      </table>
      {agents.error && <p class="error" role="alert">{agents.error}</p>}
      <BudgetRequestsPanel session={session} teamId={row.id} />
    </section>
  );
}
