/**
 * Puts the dashboard together: the store, signing in, and per signed-in session one SDK
 * client and the feeds that fill the store. This is the framework-free core; React only
 * reads `store` and calls `actions` (those of the current session) and `auth`.
 */
import { type Client, createClient, type WebSocketClass } from "@kaiten/client";
import { createApi } from "./api.ts";
import { authActions, denied } from "./auth.ts";
import { watchConnection } from "./connection.ts";
import { groupActions } from "./groups.ts";
import { startMetrics } from "./metrics.ts";
import { produceAction } from "./produce.ts";
import { currentRoute, navigate, watchHistory } from "./route.ts";
import { createDashboardStore, type DashboardStore, initialState, patch } from "./state.ts";
import { tailActions } from "./tail.ts";
import { topicActions } from "./topics.ts";

export interface DashboardOptions {
  /** The broker's HTTP address. Default: the page's origin (the Worker serves both) */
  url?: string;
  /** Default: globalThis.WebSocket */
  WebSocket?: WebSocketClass;
}

export type Dashboard = ReturnType<typeof createDashboard>;
type Session = ReturnType<typeof startSession>;

export function createDashboard(o: DashboardOptions = {}) {
  const url = o.url ?? location.origin;
  const store: DashboardStore = createDashboardStore(url, currentRoute());
  let session: Session | undefined;
  const stopSession = () => {
    session?.close();
    session = undefined;
  };
  const auth = authActions(store, url, {
    start(token) {
      stopSession();
      // A new session starts from an empty dashboard: nothing seen with another token stays.
      const { route, auth: signedIn } = store.getState();
      store.setState({ ...initialState(url, route), auth: signedIn });
      session = startSession(store, url, o, token, (why) => auth.expired(why));
    },
    stop: stopSession,
  });
  const stopHistory = watchHistory(store);
  auth.probe();
  return {
    store,
    auth,
    /** The current session's actions: only read while signed in (the app is not shown otherwise). */
    get actions(): Session["actions"] {
      return (session as Session).actions;
    },
    async close() {
      auth.stop();
      stopHistory();
      await session?.close();
    },
  };
}

const REFUSED = new Set(["UNAUTHENTICATED", "TOKEN_EXPIRED"]);

/** One SDK client and every feed, with one token (null: auth off). */
function startSession(
  store: DashboardStore,
  url: string,
  o: DashboardOptions,
  token: string | null,
  expired: (why: string) => void,
) {
  const client: Client = createClient({
    url,
    ...(o.WebSocket ? { WebSocket: o.WebSocket } : {}),
    ...(token ? { token } : {}),
    // An operator watching a restart wants the page back within seconds, not the SDK's 15 s cap.
    maxDelayMs: 4_000,
  });
  // A token that cannot read the broker's own metrics stream gets no charts, and no socket:
  // then a first connection that never opens is no sign of an unreachable broker.
  const noMetrics = denied(store.getState().auth, "subscribe", "__metrics");
  const connection = watchConnection(store, client, () => topics.load(), !noMetrics);
  const api = createApi(url, (ok) => connection.http(ok), { token, onUnauthorized: expired });
  const topics = topicActions(store, api);
  const groups = groupActions(store, api, !noMetrics);
  const tail = tailActions(store, client);
  if (noMetrics) patch(store, "metrics", { error: `No live metrics: ${noMetrics}` });
  const stops = [
    noMetrics
      ? () => {}
      : startMetrics(store, client, api, {
          newTopic: () => topics.loadSoon(),
          group: (v) => groups.observe(v),
        }),
    () => connection.stop(),
    () => tail.stop(),
    // A socket closed for a refused or expired token (§15.4) signs out like an HTTP 401.
    client.on("status", (s) => {
      if (s.error && REFUSED.has(s.error.code)) expired(s.error.message);
    }),
  ];
  topics.load();
  return {
    actions: {
      navigate: (href: string) => navigate(store, href),
      topics,
      groups,
      tail,
      produce: produceAction(store, client),
    },
    async close() {
      for (const stop of stops) stop();
      await client.close();
    },
  };
}
