import { useEffect, useState } from "preact/hooks";
import { acceptInvite, errorText, signIn, type ConsoleSession } from "../api.ts";

/** The code from `#code=…`, removed from the address bar at once (it is single use anyway). */
function codeFromFragment(): string | null {
  const match = /(?:^#|&)code=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname);
  return decodeURIComponent(match[1]!);
}

export function LoginScreen({ onSignedIn }: { onSignedIn: (session: ConsoleSession) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [token, setToken] = useState("");
  useEffect(() => {
    const code = codeFromFragment();
    if (code === null) return;
    setBusy(true);
    signIn({ login_code: code }).then(onSignedIn, (failure: unknown) => {
      setBusy(false);
      setError(errorText(failure));
    });
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn({ personal_access_token: token.trim() }));
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>Sign in to Bursar</h1>
      {busy && <p aria-live="polite">Signing in…</p>}
      {error && <p class="error" role="alert" data-testid="login-error">{error}</p>}
      <p>Open the one-time link <code>npm start</code> printed, or exchange a personal access token for a session.</p>
      <form onSubmit={submit}>
        <label for="pat">Personal access token</label>
        <input id="pat" type="password" autocomplete="off" value={token} onInput={(event) => setToken((event.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy || token.trim() === ""}>Sign in</button>
      </form>
    </main>
  );
}

export function InviteScreen({ onSignedIn }: { onSignedIn: (session: ConsoleSession) => void }) {
  const [code] = useState(() => codeFromFragment());
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      onSignedIn(await acceptInvite({ code: code ?? "", name: name.trim() }));
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <main class="login">
      <h1>Join a Bursar tenant</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {code === null ? <p>This invite link has no code.</p> : (
        <form onSubmit={submit}>
          <label for="name">Your name</label>
          <input id="name" value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} />
          <button type="submit" disabled={name.trim() === ""}>Accept the invite</button>
        </form>
      )}
    </main>
  );
}
