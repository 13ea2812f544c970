/**
 * The console's one API client: `@bursar/sdk` in the browser, authenticated by the session
 * cookie (the browser sends it; script never sees it) and the session's CSRF token.
 */
import { Bursar, SessionAuth, type CredentialStore, type JournalTrust } from "@bursar/sdk";

export interface Member {
  id: string;
  name: string;
  email: string | null;
  role: "owner" | "admin" | "approver" | "viewer";
  scopes: string[];
  status: "active" | "removed";
}

export interface ConsoleSession {
  id: string;
  tenant_id: string;
  csrf_token: string;
  scopes: string[];
  member: Member;
  expires_at: string;
}

/** The last journal checkpoint this browser verified, per log, in local storage. */
const trustKey = (origin: string) => `bursar.journal.trust.${origin}`;
export const browserTrustStore: Required<Pick<CredentialStore, "loadJournalTrust" | "saveJournalTrust">> & CredentialStore = {
  async load() {
    return null;
  },
  async save() {
    throw new Error("the console keeps no agent credentials");
  },
  async loadJournalTrust(origin: string): Promise<JournalTrust | null> {
    const text = localStorage.getItem(trustKey(origin));
    return text === null ? null : (JSON.parse(text) as JournalTrust);
  },
  async saveJournalTrust(origin: string, trust: JournalTrust): Promise<void> {
    localStorage.setItem(trustKey(origin), JSON.stringify(trust));
  },
};

export const auth = new SessionAuth(null);

/** A fresh client (the journal verifier remembers trust per client, so the journal screen makes its own). */
export function makeClient(): Bursar {
  return new Bursar({ baseUrl: location.origin, auth, credentialStore: browserTrustStore, maxAttempts: 2 });
}

export const bursar = makeClient();

/** The current session, or null when signed out. */
export async function loadSession(): Promise<ConsoleSession | null> {
  try {
    const session = await bursar.request<ConsoleSession>("GET", "/v1/console/session");
    auth.setCsrfToken(session.csrf_token);
    return session;
  } catch {
    return null;
  }
}

export async function signIn(body: { login_code: string } | { personal_access_token: string }): Promise<ConsoleSession> {
  const session = await bursar.request<ConsoleSession>("POST", "/v1/console/sessions", { body });
  auth.setCsrfToken(session.csrf_token);
  return session;
}

export async function acceptInvite(body: { code: string; name: string }): Promise<ConsoleSession> {
  const session = await bursar.request<ConsoleSession>("POST", "/v1/console/invites/accept", { body });
  auth.setCsrfToken(session.csrf_token);
  return session;
}

export async function signOut(): Promise<void> {
  await bursar.request("DELETE", "/v1/console/session");
  auth.setCsrfToken(null);
}

/** A human message of an API error. */
export function errorText(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { detail?: string; message?: string; code?: string };
    return e.detail ?? e.message ?? e.code ?? String(error);
  }
  return String(error);
}

/** `500.00 GBP` from an amount and its display string. */
export function money(amount: { amount_display?: string; amount?: number; currency?: string } | null | undefined): string {
  if (!amount) return "";
  return `${amount.amount_display ?? amount.amount ?? ""} ${amount.currency ?? ""}`.trim();
}

/** Minor units from "12.50" (2-decimal currencies; the console's forms are GBP/EUR/USD). */
export function toMinor(text: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}
