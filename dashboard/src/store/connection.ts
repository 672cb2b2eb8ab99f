/**
 * Whether the broker is reachable, from the SDK's socket status and from HTTP requests. The
 * banner shows while it is not; the SDK reconnects on its own and resumes every subscription
 * from its position, so recovery needs nothing from here but noticing it.
 */
import type { Client, Status } from "@kaiten/client";
import { type DashboardStore, patch } from "./state.ts";

/** A first connection slower than this is reported as a problem. */
const SLOW_START_MS = 4_000;

export interface Connection {
  /** An HTTP request reached the broker (true) or could not (false). */
  http(ok: boolean): void;
  stop(): void;
}

export function watchConnection(
  store: DashboardStore,
  client: Client,
  onRecovered: () => void,
  /** Whether a socket is opened at once (the metrics stream); else a slow start is not checked. */
  opensSocket = true,
): Connection {
  let socketsDown = false;
  let httpDown = false;
  let slowStart = false;

  function update(): void {
    const was = store.getState().connection.unreachable;
    const unreachable = socketsDown || httpDown || slowStart;
    if (unreachable === was) return;
    patch(store, "connection", {
      unreachable,
      recoveredAt: unreachable ? null : was ? Date.now() : null,
    });
    if (was && !unreachable) onRecovered();
  }

  function status(s: Status): void {
    patch(store, "connection", {
      state: s.state,
      attempt: s.attempt,
      retryAt: s.delayMs ? Date.now() + s.delayMs : 0,
      error: s.error?.message ?? null,
    });
    socketsDown = s.state === "reconnecting";
    if (s.state === "open") {
      // A socket got through: whatever HTTP said before, the broker is back.
      httpDown = slowStart = false;
      clearTimeout(timer);
    }
    update();
  }

  const timer = setTimeout(() => {
    if (!opensSocket) return;
    slowStart = store.getState().connection.state !== "open";
    update();
  }, SLOW_START_MS);
  const off = client.on("status", status);
  status(client.status);
  return {
    http(ok) {
      if (httpDown === !ok) return;
      httpDown = !ok;
      if (ok) slowStart = false;
      update();
    },
    stop() {
      clearTimeout(timer);
      off();
    },
  };
}
