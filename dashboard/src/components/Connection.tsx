import { useEffect, useState } from "react";
import { useDash } from "../hooks.ts";

const LABEL = {
  open: "Live",
  connecting: "Connecting",
  reconnecting: "Reconnecting",
  closed: "Closed",
};

/** The header's pill: the state of the SDK's sockets at a glance. */
export function ConnectionPill() {
  const c = useDash((s) => s.connection);
  const tone = c.unreachable ? "bad" : c.state === "open" ? "good" : "wait";
  const label = c.unreachable ? "Offline" : LABEL[c.state];
  return (
    <span
      className={`pill pill-${tone}`}
      data-testid="connection-status"
      data-state={c.unreachable ? "offline" : c.state}
    >
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

/** Re-renders every `ms` while `on`, for countdowns. */
function useTick(on: boolean, ms: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [on, ms]);
  return now;
}

/** Says clearly when the broker is unreachable, and briefly that it is back. */
export function ConnectionBanner() {
  const c = useDash((s) => s.connection);
  const recent = c.recoveredAt !== null && Date.now() - c.recoveredAt < 4_000;
  const now = useTick(c.unreachable || recent, 500);
  if (c.unreachable) {
    const wait = Math.max(0, Math.ceil((c.retryAt - now) / 1000));
    return (
      <div className="banner banner-bad" role="alert" data-testid="connection-banner">
        <strong>Cannot reach the broker at {c.url}.</strong>{" "}
        <span>
          {c.state === "reconnecting" && c.retryAt > now
            ? `Retrying in ${wait} s (attempt ${c.attempt}).`
            : "Retrying…"}{" "}
          The dashboard resumes on its own, from where each stream left off.
        </span>
      </div>
    );
  }
  if (c.recoveredAt !== null && now - c.recoveredAt < 4_000) {
    return (
      <div className="banner banner-good" role="status" data-testid="connection-recovered">
        Reconnected to the broker. Streams resumed where they left off.
      </div>
    );
  }
  return null;
}
