/** Settings: members and their roles (invite, change, remove) and personal access tokens. */
import { useState } from "preact/hooks";
import { bursar, errorText, type ConsoleSession, type Member } from "../api.ts";
import { useLoad } from "../hooks.ts";

const roles = ["owner", "admin", "approver", "viewer"] as const;

export function SettingsScreen({ session }: { session: ConsoleSession }) {
  const canAdmin = session.scopes.includes("tenant:admin");
  const members = useLoad(() => bursar.request<{ data: Member[] }>("GET", "/v1/members").then((list) => list.data));
  const [role, setRole] = useState<(typeof roles)[number]>("viewer");
  const [invite, setInvite] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setMessage(done);
    } catch (error) {
      setMessage(errorText(error));
    }
    members.reload();
  };
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {message && <p role="status" data-testid="settings-message">{message}</p>}
      <h2>Members</h2>
      {members.error && <p class="error" role="alert">{members.error}</p>}
      <table data-testid="members">
        <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {(members.data ?? []).map((member) => (
            <tr key={member.id}>
              <td>{member.name}{member.id === session.member.id ? " (you)" : ""}</td>
              <td>
                {canAdmin && member.status === "active" && member.id !== session.member.id ? (
                  <select aria-label={`Role of ${member.name}`} value={member.role} onChange={(event) => act(() => bursar.request("PATCH", `/v1/members/${member.id}`, { body: { role: (event.target as HTMLSelectElement).value } }), `Role of ${member.name} changed.`)}>
                    {roles.map((option) => <option key={option} value={option}>{option}</option>)}
                  </select>
                ) : member.role}
              </td>
              <td>{member.status}</td>
              <td>{canAdmin && member.status === "active" && member.id !== session.member.id && <button type="button" class="reject" onClick={() => act(() => bursar.request("DELETE", `/v1/members/${member.id}`), `${member.name} removed.`)}>Remove</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {canAdmin && (
        <div class="filters">
          <label>Invite as{" "}
            <select value={role} onChange={(event) => setRole((event.target as HTMLSelectElement).value as (typeof roles)[number])}>
              {roles.map((option) => <option key={option} value={option}>{option}</option>)}
            </select>
          </label>
          <button type="button" onClick={() => act(async () => setInvite((await bursar.request<{ url: string }>("POST", "/v1/members/invites", { body: { role } })).url), "Invite created: send the link (shown once).")}>Create invite link</button>
        </div>
      )}
      {invite && <pre class="secret"><code data-testid="invite-url">{invite}</code></pre>}
      <h2>Personal access tokens</h2>
      <p class="hint">A token for the CLI and SDK, with at most your role's scopes.</p>
      {canAdmin && <button type="button" onClick={() => act(async () => setToken((await bursar.personalAccessTokens.create({ name: "console" })).token), "Token created (shown once).")}>Create a token</button>}
      {token && <pre class="secret"><code>{token}</code></pre>}
    </section>
  );
}
