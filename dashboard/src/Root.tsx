import { App } from "./App.tsx";
import { SignIn } from "./components/Auth.tsx";
import { useDash } from "./hooks.ts";

/** The sign-in screen until a session starts; then the app, mounted afresh per session. */
export function Root() {
  const mode = useDash((s) => s.auth.mode);
  const signedIn = useDash((s) => s.auth.who !== null);
  const session = useDash((s) => s.auth.session);
  if (mode === "off" || (mode === "jwt" && signedIn)) return <App key={session} />;
  return <SignIn />;
}
