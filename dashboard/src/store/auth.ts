/**
 * Signing in (docs/PROTOCOL.md §15). `GET /v1` says whether the broker checks tokens; with
 * "jwt" the dashboard asks for one, checks it with `GET /v1/auth` (which also says who it
 * is and its rights) and keeps it in sessionStorage only: gone when the tab closes. Any 401
 * later (HTTP, or a socket closed for an expired or refused token) signs out again.
 */
import { type DashboardStore, patch } from "./state.ts";

/** `GET /v1/auth`: who the token is, and its rights as a `scope` string. */
export interface Who {
  subject: string | null;
  admin: boolean;
  scope: string;
  /** ms since the epoch; null: never. */
  expiresAt: number | null;
}

export interface AuthState {
  /** From `GET /v1`; "unconfigured": jwt without keys (503); "unreachable": no answer yet. */
  mode: "checking" | "off" | "jwt" | "unconfigured" | "unreachable";
  token: string | null;
  who: Who | null;
  /** Counts sign-ins: the app below is mounted afresh for each. */
  session: number;
  busy: boolean;
  error: string | null;
}

export const initialAuth: AuthState = {
  mode: "checking",
  token: null,
  who: null,
  session: 0,
  busy: false,
  error: null,
};

/** sessionStorage only, never localStorage: a token must not outlive the browser session. */
const KEY = "kaiten.token";

export type AuthActions = ReturnType<typeof authActions>;

/** `start(token)` begins a session of the dashboard (SDK client, feeds); `stop()` ends it. */
export function authActions(
  store: DashboardStore,
  url: string,
  session: { start(token: string | null): void; stop(): void },
) {
  const base = url.replace(/\/?$/, "/");
  const get = (path: string, token?: string) =>
    fetch(new URL(path, base), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  let retry: ReturnType<typeof setTimeout> | undefined;

  async function probe(): Promise<void> {
    try {
      const res = await get("v1");
      const body = await res.json();
      if (res.status === 503)
        return patch(store, "auth", { mode: "unconfigured", error: message(body) });
      if (body.auth === "off") {
        patch(store, "auth", { mode: "off", session: store.getState().auth.session + 1 });
        return session.start(null);
      }
      patch(store, "auth", { mode: "jwt" });
      const saved = sessionStorage.getItem(KEY);
      if (saved) await signIn(saved);
    } catch {
      patch(store, "auth", { mode: "unreachable" });
      retry = setTimeout(probe, 2_000);
    }
  }

  async function signIn(token: string): Promise<void> {
    token = token.trim();
    patch(store, "auth", { busy: true, error: null });
    try {
      const res = await get("v1/auth", token);
      const body = await res.json();
      if (!res.ok) {
        sessionStorage.removeItem(KEY);
        return patch(store, "auth", { busy: false, error: `Not signed in: ${message(body)}` });
      }
      sessionStorage.setItem(KEY, token);
      const { subject, admin, scope, expiresAt } = body as Who;
      patch(store, "auth", {
        busy: false,
        token,
        who: { subject, admin, scope, expiresAt },
        session: store.getState().auth.session + 1,
      });
      session.start(token);
    } catch (error) {
      patch(store, "auth", { busy: false, error: `Cannot reach the broker (${error})` });
    }
  }

  function signOut(error: string | null = null): void {
    session.stop();
    sessionStorage.removeItem(KEY);
    patch(store, "auth", { token: null, who: null, error });
  }

  return {
    probe,
    signIn,
    signOut,
    /** A 401 from anywhere: the token expired or was refused; back to the sign-in screen. */
    expired(why: string): void {
      if (store.getState().auth.mode === "jwt" && store.getState().auth.who)
        signOut(`Signed out: ${why}. Sign in again.`);
    },
    stop(): void {
      clearTimeout(retry);
    },
  };
}

function message(body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return e ? `${e.code}: ${e.message}` : "unexpected answer";
}

export type Right = "produce" | "subscribe" | "create" | "admin";

/**
 * Why the signed-in token may not take an action, or null when it may. A mirror of the
 * broker's rules (edge/src/core/auth/rights.ts) to disable buttons; the broker decides.
 * Without `topic`, any pattern for the right will do (a form before its topic is chosen).
 */
export function denied(auth: AuthState, right: Right, topic?: string): string | null {
  if (auth.mode === "off" || auth.who?.admin) return null;
  if (!auth.who) return "Sign in first.";
  if (right === "admin") return "Needs the admin right, which this token does not have.";
  const patterns = auth.who.scope
    .split(" ")
    .filter((s) => s.startsWith(`${right}:`))
    .map((s) => s.slice(right.length + 1));
  if (topic ? patterns.some((p) => matches(p, topic)) : patterns.length) return null;
  return topic
    ? `This token has no ${right} right on “${topic}”.`
    : `This token has no ${right} right.`;
}

/** `*` matches any run of characters; everything else is literal. */
function matches(pattern: string, name: string): boolean {
  const re = pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${re.join(".*")}$`).test(name);
}
