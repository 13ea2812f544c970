/** The owner console: sign-in, then one screen per URL under /console. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { loadSession, signOut, type ConsoleSession } from "./api.ts";
import { navigate, onLinkClick, usePath } from "./router.ts";
import { LoginScreen, InviteScreen } from "./screens/login.tsx";
import { ApprovalsScreen } from "./screens/approvals.tsx";
import { AgentsScreen, AgentScreen } from "./screens/agents.tsx";
import { PaymentsScreen } from "./screens/payments.tsx";
import { EscrowListScreen, EscrowScreen } from "./screens/escrow.tsx";
import { PayeeScreen } from "./screens/payee.tsx";
import { TeamsScreen, TeamScreen } from "./screens/teams.tsx";
import { LedgerScreen } from "./screens/ledger.tsx";
import { PayeesScreen } from "./screens/payees.tsx";
import { EventsScreen } from "./screens/events.tsx";
import { JournalScreen } from "./screens/journal.tsx";
import { WebhooksScreen } from "./screens/webhooks.tsx";
import { SettingsScreen } from "./screens/settings.tsx";
import { TasksScreen, TaskScreen } from "./screens/tasks.tsx";
import { TriggersScreen } from "./screens/triggers.tsx";
import "./styles.css";

const screens = [
  { path: "/console/approvals", label: "Approvals" },
  { path: "/console/agents", label: "Agents" },
  { path: "/console/teams", label: "Teams" },
  { path: "/console/tasks", label: "Tasks" },
  { path: "/console/triggers", label: "Triggers" },
  { path: "/console/payments", label: "Payments" },
  { path: "/console/escrow", label: "Escrow" },
  { path: "/console/ledger", label: "Ledger" },
  { path: "/console/payees", label: "Payees" },
  { path: "/console/events", label: "Events" },
  { path: "/console/journal", label: "Journal" },
  { path: "/console/webhooks", label: "Webhooks" },
  { path: "/console/settings", label: "Settings" },
];

function Screen({ path, session }: { path: string; session: ConsoleSession }) {
  const agent = /^\/console\/agents\/([^/]+)$/.exec(path);
  if (agent) return <AgentScreen agentId={decodeURIComponent(agent[1]!)} session={session} />;
  const escrow = /^\/console\/escrow\/([^/]+)$/.exec(path);
  if (escrow) return <EscrowScreen intentId={decodeURIComponent(escrow[1]!)} session={session} />;
  const team = /^\/console\/teams\/([^/]+)$/.exec(path);
  if (team) return <TeamScreen teamId={decodeURIComponent(team[1]!)} session={session} />;
  const task = /^\/console\/tasks\/([^/]+)$/.exec(path);
  if (task) return <TaskScreen taskId={decodeURIComponent(task[1]!)} session={session} />;
  const payee = /^\/console\/payees\/([^/]+)$/.exec(path);
  if (payee) return <PayeeScreen payeeId={decodeURIComponent(payee[1]!)} />;
  switch (path) {
    case "/console":
    case "/console/":
    case "/console/approvals":
      return <ApprovalsScreen session={session} />;
    case "/console/agents":
      return <AgentsScreen />;
    case "/console/payments":
      return <PaymentsScreen />;
    case "/console/escrow":
      return <EscrowListScreen />;
    case "/console/teams":
      return <TeamsScreen />;
    case "/console/tasks":
      return <TasksScreen />;
    case "/console/triggers":
      return <TriggersScreen session={session} />;
    case "/console/ledger":
      return <LedgerScreen session={session} />;
    case "/console/payees":
      return <PayeesScreen session={session} />;
    case "/console/events":
      return <EventsScreen />;
    case "/console/journal":
      return <JournalScreen />;
    case "/console/webhooks":
      return <WebhooksScreen session={session} />;
    case "/console/settings":
      return <SettingsScreen session={session} />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>No screen at this address.</p>
        </section>
      );
  }
}

function App() {
  const path = usePath();
  const [session, setSession] = useState<ConsoleSession | null | undefined>(undefined);
  const signingIn = path === "/console/login" || path === "/console/invite";
  useEffect(() => {
    if (!signingIn) loadSession().then(setSession);
  }, [signingIn]);

  if (path === "/console/login") return <LoginScreen onSignedIn={(next) => { setSession(next); navigate("/console/approvals"); }} />;
  if (path === "/console/invite") return <InviteScreen onSignedIn={(next) => { setSession(next); navigate("/console/approvals"); }} />;
  if (session === undefined) return <main class="loading" aria-busy="true"><p>Loading…</p></main>;
  if (session === null) {
    return (
      <main class="signed-out">
        <h1>Bursar console</h1>
        <p>You are signed out.</p>
        <p><a href="/console/login">Sign in</a></p>
      </main>
    );
  }
  const current = path === "/console" || path === "/console/" ? "/console/approvals" : path;
  return (
    <div class="shell" onClick={onLinkClick}>
      <header class="top">
        <a class="brand" href="/console/approvals">Bursar</a>
        <nav aria-label="Screens">
          <ul>
            {screens.map((screen) => (
              <li key={screen.path}>
                <a href={screen.path} aria-current={current.startsWith(screen.path) ? "page" : undefined}>{screen.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span data-testid="member">{session.member.name}</span> <span class="role" data-testid="role">{session.member.role}</span>
          <button type="button" class="link" onClick={async () => { await signOut().catch(() => undefined); setSession(null); navigate("/console/login"); }}>Sign out</button>
        </div>
      </header>
      <main id="content">
        <Screen path={current} session={session} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
