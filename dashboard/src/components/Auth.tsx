/**
 * Signing in (store/auth.ts): the sign-in screen, who is signed in with which rights, and a
 * notice that cannot be missed when the broker checks no tokens at all.
 */
import { type FormEvent, type ReactNode, useState } from "react";
import { useAuth, useDash } from "../hooks.ts";

/** Shown until a session starts: the broker's auth mode decides what it says. */
export function SignIn() {
  const a = useDash((s) => s.auth);
  const url = useDash((s) => s.connection.url);
  if (a.mode === "checking")
    return <Screen title="Connecting…">Asking the broker at {url}.</Screen>;
  if (a.mode === "unreachable")
    return <Screen title="Cannot reach the broker">Retrying {url}…</Screen>;
  if (a.mode === "unconfigured")
    return (
      <Screen title="The broker is not configured">
        <p className="form-error" role="alert">
          {a.error}
        </p>
      </Screen>
    );
  return (
    <Screen title="Sign in">
      <p className="muted">
        This broker checks tokens. Paste a JWT whose <code>scope</code> grants what you want to do.
        It is kept for this browser tab only (sessionStorage).
      </p>
      <TokenForm />
    </Screen>
  );
}

function Screen({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="signin" data-testid="sign-in">
      <h1>{title}</h1>
      {children}
    </main>
  );
}

function TokenForm() {
  const auth = useAuth();
  const a = useDash((s) => s.auth);
  const [token, setToken] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    auth.signIn(token);
  };
  return (
    <form className="form" onSubmit={submit}>
      <label className="field">
        <span>Token</span>
        <textarea
          value={token}
          rows={5}
          spellCheck={false}
          placeholder="eyJhbGciOi…"
          onChange={(e) => setToken(e.target.value)}
        />
      </label>
      <div className="form-foot">
        <button type="submit" className="btn btn-primary" disabled={!token.trim() || a.busy}>
          {a.busy ? "Checking…" : "Sign in"}
        </button>
        {a.error && (
          <span className="form-error" role="alert">
            {a.error}
          </span>
        )}
      </div>
    </form>
  );
}

/** The sidebar's account: subject, rights, expiry, sign out; or "auth off". */
export function WhoAmI() {
  const auth = useAuth();
  const a = useDash((s) => s.auth);
  if (a.mode === "off")
    return (
      <span className="pill pill-wait" data-testid="auth-off-pill">
        Auth off
      </span>
    );
  if (!a.who) return null;
  const rights = a.who.scope.split(" ").filter(Boolean);
  return (
    <div className="who" data-testid="who">
      <div>
        Signed in as <strong data-testid="who-subject">{a.who.subject ?? "(no subject)"}</strong>
      </div>
      <ul className="rights" aria-label="Rights" data-testid="who-rights">
        {rights.map((r) => (
          <li key={r}>
            <code>{r}</code>
          </li>
        ))}
      </ul>
      {a.who.expiresAt !== null && (
        <div className="muted">Until {new Date(a.who.expiresAt).toLocaleTimeString()}</div>
      )}
      <button type="button" className="btn btn-ghost" onClick={() => auth.signOut()}>
        Sign out
      </button>
    </div>
  );
}

/** Auth "off": everyone who can reach the broker may do everything. Said at the top of every page. */
export function AuthOffNotice() {
  const off = useDash((s) => s.auth.mode === "off");
  if (!off) return null;
  return (
    <div className="banner banner-warn" role="status" data-testid="auth-off">
      <strong>Auth is off.</strong> Anyone who can reach this broker can read, write and delete
      every topic. Set <code>KAITEN_AUTH</code> to <code>jwt</code> before exposing it.
    </div>
  );
}
